// SPDX-License-Identifier: GPL-2.0

//! The module's debugfs view (`/sys/kernel/debug/kmem/`): one read-only file per bound device
//! (its state, ownership, guard counters, the zone of each block and the last transition's
//! timing) and a `leaked` file listing ranges that an unbind left in the system.
//!
//! Built on [`kernel::debugfs`]; without `CONFIG_DEBUG_FS` every call here does nothing.

#![deny(unsafe_code)]

use crate::{
    globals,
    guard::{
        guard_mode,
        BlockGuard, //
    },
    kernel_ext::mm::memory_hotplug::{
        OnlineType,
        Range, //
    },
    state::{
        Layout,
        Request,
        State, //
    },
};
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
        Atomic,
        Relaxed, //
    },
};

/// `/sys/kernel/debug/kmem/`, owned by the module: dropping it removes the directory.
pub(crate) struct Root {
    _leaked: Pin<KBox<File<()>>>,
}

impl Root {
    /// Creates the directory and its `leaked` file.
    pub(crate) fn new() -> Result<Self> {
        let dir = Dir::new(c"kmem");
        let leaked = KBox::pin_init(
            dir.read_callback_file(c"leaked", (), &show_leaked),
            GFP_KERNEL,
        )?;
        globals::with_debugfs_root(|root| root.dir = Some(dir))?;
        Ok(Self { _leaked: leaked })
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // A `Root` exists only if the globals do.
        let _ = globals::with_debugfs_root(|root| {
            root.dir = None;
            // Free the buffer too: the static outlives the module's last drop.
            root.leaked = KVec::new();
        });
    }
}

fn show_leaked(_: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    globals::with_debugfs_root(|root| {
        for l in root.leaked.iter() {
            writeln!(f, "{}", l.to_str().map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    })
    .unwrap_or(Ok(()))
}

/// The line of the `leaked` list for mapping `i` of device `dev`.
fn leak_line(dev: &CStr, i: usize, r: Range) -> Option<CString> {
    CString::try_from_fmt(fmt!("{} mapping{}: {:#x}-{:#x}", dev, i, r.start, r.end)).ok()
}

/// Records that mapping `i` of device `dev` was left in the system ("stuck online until
/// reboot"); shown until rmmod.
pub(crate) fn record_leak(dev: &CStr, i: usize, r: Range) {
    if let Some(s) = leak_line(dev, i, r) {
        // Best effort: a failed allocation (or no globals) only loses a debug line.
        let _ = globals::with_debugfs_root(|root| root.leaked.push(s, GFP_KERNEL));
    }
}

/// Forgets a range recorded by [`record_leak`]: it was taken over again.
pub(crate) fn forget_leak(dev: &CStr, i: usize, r: Range) {
    if let Some(s) = leak_line(dev, i, r) {
        let _ =
            globals::with_debugfs_root(|root| root.leaked.retain(|l| l.to_bytes() != s.to_bytes()));
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
    globals::with_debugfs_root(|root| {
        let Some(dir) = root.dir.as_ref() else {
            return Ok(None);
        };
        Ok(Some(KBox::pin_init(
            dir.read_callback_file(name, data, show),
            GFP_KERNEL,
        )?))
    })
    .unwrap_or(Ok(None))
}

/// The `state` writes of a device and the last one's outcome and timing.
pub(crate) struct Stats {
    /// Completed writes that changed something.
    transitions: Atomic<u64>,
    /// The last request ([`encode_request`]), its result (0 or -errno), its total time and the
    /// part of it spent inside the memory hotplug calls.
    last_request: Atomic<u32>,
    last_result: Atomic<i32>,
    last_total_ns: Atomic<u64>,
    last_mm_ns: Atomic<u64>,
}

/// 0: none yet; 1: unplugged; 2 + `enum mmop`: an online type.
const fn encode_request(r: Request) -> u32 {
    match r {
        Request::Unplug => 1,
        Request::Plug(t) => 2 + t.as_raw(),
    }
}

/// The name of an [`encode_request`] value.
fn request_name(v: u32) -> &'static str {
    match v {
        0 => "none",
        1 => "unplugged",
        v => OnlineType::from_raw(v - 2).map_or("?", OnlineType::as_str),
    }
}

impl Stats {
    /// No write yet.
    pub(crate) fn new() -> Self {
        Self {
            transitions: Atomic::new(0),
            last_request: Atomic::new(0),
            last_result: Atomic::new(0),
            last_total_ns: Atomic::new(0),
            last_mm_ns: Atomic::new(0),
        }
    }

    /// Records a completed write: `changed` if it did a transition, `errno` its result.
    pub(crate) fn record(&self, request: Request, errno: i32, changed: bool, total: u64, mm: u64) {
        self.last_request.store(encode_request(request), Relaxed);
        self.last_result.store(errno, Relaxed);
        self.last_mm_ns.store(mm, Relaxed);
        self.last_total_ns.store(total, Relaxed);
        if changed {
            self.transitions.fetch_add(1, Relaxed);
        }
    }
}

/// Renders `/sys/kernel/debug/kmem/daxX.Y`.
pub(crate) fn render(
    f: &mut fmt::Formatter<'_>,
    layout: &Layout,
    state: State,
    guard: &BlockGuard,
    stats: &Stats,
) -> fmt::Result {
    writeln!(f, "state: {}", state.as_str())?;
    writeln!(
        f,
        "owned: {} (guard={})",
        if guard.owned() { "yes" } else { "no" },
        guard_mode().as_str()
    )?;
    let c = guard.counters();
    writeln!(
        f,
        "external transitions: allowed {}, refused {}, during a driver transition {}",
        c.allowed, c.refused, c.during_transition
    )?;
    for (i, r) in layout.ranges.iter().enumerate() {
        let Some(r) = r.as_ref().map(|m| m.range()) else {
            writeln!(f, "mapping{}: too small, not used", i)?;
            continue;
        };
        writeln!(f, "mapping{}: {:#x}-{:#x}", i, r.start, r.end)?;
        for block in (r.start >> layout.block_shift)..=(r.end >> layout.block_shift) {
            let zone = guard
                .zone(layout, block)
                .map_or("offline or absent", |z| z.as_str());
            writeln!(f, "  memory{}: {}", block, zone)?;
        }
    }
    let total = stats.last_total_ns.load(Relaxed);
    let mm = stats.last_mm_ns.load(Relaxed);
    writeln!(f, "transitions: {}", stats.transitions.load(Relaxed))?;
    writeln!(
        f,
        "last: request={} result={} total_ns={} mm_ns={} driver_ns={}",
        request_name(stats.last_request.load(Relaxed)),
        stats.last_result.load(Relaxed),
        total,
        mm,
        total.saturating_sub(mm)
    )
}
