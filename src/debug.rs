// SPDX-License-Identifier: GPL-2.0

//! The module's debugfs view (`/sys/kernel/debug/kmem/`): one read-only file per bound device
//! and a `leaked` file listing ranges that an unbind left in the system.
//!
//! Built on [`kernel::debugfs`]; without `CONFIG_DEBUG_FS` every call here does nothing.

use core::pin::Pin;
use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    fmt,
    prelude::*,
    str::CString,
    sync::atomic::{
        AtomicFlag,
        Full, //
    },
};

/// The debugfs root and the list of leaked ranges.
struct RootInner {
    dir: Option<Dir>,
    leaked: KVec<CString>,
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `Root::new()` (once, in module init) before first use.
    unsafe(uninit) static ROOT: Mutex<RootInner> = RootInner { dir: None, leaked: KVec::new() };
}

/// Set once `ROOT` is initialised. Never cleared: statics go away with the module.
static READY: AtomicFlag = AtomicFlag::new(false);

/// `/sys/kernel/debug/kmem/`, owned by the module: dropping it removes the directory.
pub(crate) struct Root {
    _leaked: Pin<KBox<File<()>>>,
}

impl Root {
    /// Creates the directory and its `leaked` file.
    pub(crate) fn new() -> Result<Self> {
        if !READY.xchg(true, Full) {
            // SAFETY: The exchange above makes this run exactly once, before any other use of
            // `ROOT` (every other use checks `READY` or needs a `Root`).
            unsafe { ROOT.init() };
        }
        let dir = Dir::new(c"kmem");
        let leaked = KBox::pin_init(
            dir.read_callback_file(c"leaked", (), &show_leaked),
            GFP_KERNEL,
        )?;
        ROOT.lock().dir = Some(dir);
        Ok(Self { _leaked: leaked })
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let mut root = ROOT.lock();
        root.dir = None;
        // Free the buffer too: the static outlives the module's last drop.
        root.leaked = KVec::new();
    }
}

fn show_leaked(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for l in ROOT.lock().leaked.iter() {
        writeln!(f, "{}", l.to_str().map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

/// Records a range left in the system ("stuck online until reboot"); shown until rmmod.
pub(crate) fn record_leak(args: fmt::Arguments<'_>) {
    if !READY.load(kernel::sync::atomic::Acquire) {
        return;
    }
    if let Ok(s) = CString::try_from_fmt(args) {
        // Best effort: a failed allocation only loses a debug line.
        let _ = ROOT.lock().leaked.push(s, GFP_KERNEL);
    }
}

/// Forgets a range recorded by [`record_leak`] (the same text): it was taken over again.
pub(crate) fn forget_leak(args: fmt::Arguments<'_>) {
    if !READY.load(kernel::sync::atomic::Acquire) {
        return;
    }
    if let Ok(s) = CString::try_from_fmt(args) {
        ROOT.lock().leaked.retain(|l| l.to_bytes() != s.to_bytes());
    }
}

/// A read-only file `/sys/kernel/debug/kmem/<name>` rendering `data` with `show`; removed when
/// dropped. `None` when debugfs is not available.
pub(crate) type DeviceFile<T> = Option<Pin<KBox<File<T>>>>;

/// Creates the per-device file.
pub(crate) fn device_file<T, F>(name: &CStr, data: T, show: &'static F) -> Result<DeviceFile<T>>
where
    T: Send + Sync + 'static,
    F: Fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result + Send + Sync,
{
    if !READY.load(kernel::sync::atomic::Acquire) {
        return Ok(None);
    }
    let root = ROOT.lock();
    let Some(dir) = root.dir.as_ref() else {
        return Ok(None);
    };
    Ok(Some(KBox::pin_init(
        dir.read_callback_file(name, data, show),
        GFP_KERNEL,
    )?))
}
