// SPDX-License-Identifier: GPL-2.0

//! The module's global objects: the table of memory-block owners, the list of memory types and
//! the debugfs root. They are the module's own (never the abstractions'), initialised once, in
//! module init, in this order, before the driver is registered ([`init`]); every use goes
//! through an accessor that hands them out only once that initialisation has completed.

use crate::kernel_ext::mm::memory_notifier::MemoryCallback;
use crate::kernel_ext::mm::memory_tiers::MemoryTypeList;
use kernel::{
    debugfs::Dir,
    prelude::*,
    rbtree::RBTree,
    str::CString,
    sync::{
        atomic::{
            AtomicFlag,
            Full, //
        },
        Arc,
        SetOnce, //
    },
};

/// An owner of a range of memory blocks in the table of [`crate::owners`]: the range's start
/// (the tree's key is its end) and its callback.
pub(crate) struct Owner {
    pub(crate) start: u64,
    pub(crate) callback: Arc<dyn MemoryCallback>,
}

/// The ranges registered by `owners::BlockRegistration::register`, keyed by their last byte, so
/// that the first entry at or after an address is the only one that can contain it. `None` until
/// the first registration (a tree cannot be built in a `static` initialiser).
pub(crate) type OwnerTree = Option<RBTree<u64, Owner>>;

/// The debugfs root and the list of leaked ranges (see [`crate::debugfs`]).
pub(crate) struct RootInner {
    pub(crate) dir: Option<Dir>,
    pub(crate) leaked: KVec<CString>,
}

impl RootInner {
    /// No directory, nothing leaked.
    const fn new() -> Self {
        Self {
            dir: None,
            leaked: KVec::new(),
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init()` before `READY` is populated; only `with_memory_types()`
    // hands it out, and only once `READY` is populated.
    unsafe(uninit) static MEMORY_TYPES: Mutex<MemoryTypeList> = MemoryTypeList::new();
}

kernel::sync::global_lock! {
    // SAFETY: As for `MEMORY_TYPES`, through `with_owners()`.
    unsafe(uninit) static OWNERS: SpinLock<OwnerTree> = None;
}

kernel::sync::global_lock! {
    // SAFETY: As for `MEMORY_TYPES`, through `with_debugfs_root()`.
    unsafe(uninit) static ROOT: Mutex<RootInner> = RootInner::new();
}

/// Set by the one call of [`init`] that initialises the locks (it guards the initialisation,
/// not their use).
static STARTED: AtomicFlag = AtomicFlag::new(false);

/// Populated once every lock above is initialised.
static READY: SetOnce<()> = SetOnce::new();

/// Initialises the module's globals. Called first in module init; a second call fails with
/// [`EBUSY`] and changes nothing.
pub(crate) fn init() -> Result {
    if STARTED.xchg(true, Full) {
        return Err(EBUSY);
    }
    // SAFETY: The exchange above lets exactly one call reach this point, and no accessor hands
    // out a lock before `READY` is populated below, after these initialisations.
    unsafe { MEMORY_TYPES.init() };
    // SAFETY: As above.
    unsafe { OWNERS.init() };
    // SAFETY: As above.
    unsafe { ROOT.init() };
    READY.populate(());
    Ok(())
}

/// [`ENODEV`] until [`init`] has completed.
fn ready() -> Result {
    READY.as_ref().copied().ok_or(ENODEV)
}

/// Runs `f` on the table of memory-block owners, under its spinlock.
pub(crate) fn with_owners<R>(f: impl FnOnce(&mut OwnerTree) -> R) -> Result<R> {
    ready()?;
    Ok(f(&mut OWNERS.lock()))
}

/// Runs `f` on the module's list of memory types, under its lock.
pub(crate) fn with_memory_types<R>(f: impl FnOnce(&mut MemoryTypeList) -> R) -> Result<R> {
    ready()?;
    Ok(f(&mut MEMORY_TYPES.lock()))
}

/// Runs `f` on the debugfs root and the list of leaked ranges, under their mutex.
pub(crate) fn with_debugfs_root<R>(f: impl FnOnce(&mut RootInner) -> R) -> Result<R> {
    ready()?;
    Ok(f(&mut ROOT.lock()))
}

/// The module's ownership of its memory types: dropping it (at module exit, after every device
/// is unbound) puts every type of the list (`mt_put_memory_types()`); nodes still using one keep
/// their own reference.
pub(crate) struct MemoryTypes(());

impl MemoryTypes {
    /// [`ENODEV`] before [`init`].
    pub(crate) fn new() -> Result<Self> {
        ready()?;
        Ok(Self(()))
    }
}

impl Drop for MemoryTypes {
    fn drop(&mut self) {
        // `new()` succeeded, so the globals exist and this cannot fail.
        let _ = with_memory_types(|list| list.put_all());
    }
}
