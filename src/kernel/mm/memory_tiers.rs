// SPDX-License-Identifier: GPL-2.0

//! Memory tiers: the memory type of the node that kmem memory is onlined into.
//!
//! kmem keeps one `struct memory_dev_type` per abstract distance in a module-wide cache (the C
//! driver's `kmem_memory_types` list) and attaches one to the device's node at probe.
//!
//! C header: [`include/linux/memory-tiers.h`](srctree/include/linux/memory-tiers.h)

use crate::kernel_ext::bindings;
use core::{
    cell::Cell,
    ptr::NonNull, //
};
use kernel::{
    error::from_err_ptr,
    prelude::*,
    sync::atomic::{
        Acquire,
        AtomicFlag,
        Full, //
    },
    types::Opaque, //
};

/// Default abstract distance of a kmem node whose platform driver gave none
/// (`MEMTIER_DEFAULT_DAX_ADISTANCE`).
pub(crate) const DEFAULT_DAX_ADISTANCE: c_int = (bindings::MEMTIER_ADISTANCE_DRAM * 5) as c_int;

/// The head of the module's list of memory types, initialised on first use under the lock.
struct TypeList {
    head: Opaque<kernel::bindings::list_head>,
    initialised: Cell<bool>,
}

// SAFETY: The list is only touched under `MEMORY_TYPES`' mutex.
unsafe impl Send for TypeList {}

impl TypeList {
    const fn new() -> Self {
        Self {
            head: Opaque::uninit(),
            initialised: Cell::new(false),
        }
    }

    /// The list head, initialised if it was not yet. The static never moves.
    ///
    /// Callers hold `MEMORY_TYPES`' lock, which serialises the check and the initialisation.
    fn head(&self) -> *mut kernel::bindings::list_head {
        if !self.initialised.get() {
            // SAFETY: `head` is valid for writes and not yet linked anywhere.
            unsafe { kernel::bindings::INIT_LIST_HEAD(self.head.get()) };
            self.initialised.set(true);
        }
        self.head.get()
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `TypeCache::new()` before first use.
    unsafe(uninit) static MEMORY_TYPES: Mutex<TypeList> = TypeList::new();
}

/// Set once `MEMORY_TYPES` is initialised (it may be initialised only once). Never cleared: the
/// module's statics go away with the module.
static TYPES_READY: AtomicFlag = AtomicFlag::new(false);

/// The module-wide cache of memory types. Dropping it puts every cached type
/// (`mt_put_memory_types()`); nodes still using one keep their own reference.
pub(crate) struct TypeCache(());

impl TypeCache {
    /// Sets up the cache. Created once, in module init, before the driver is registered.
    pub(crate) fn new() -> Result<Self> {
        if !TYPES_READY.xchg(true, Full) {
            // SAFETY: The swap above guarantees this runs exactly once, before any user of
            // `MEMORY_TYPES` (users need a `TypeCache`, which only this function creates).
            unsafe { MEMORY_TYPES.init() };
        }
        Ok(Self(()))
    }
}

impl Drop for TypeCache {
    fn drop(&mut self) {
        let list = MEMORY_TYPES.lock();
        let head = list.head();
        // SAFETY: `head` is an initialised list of types from `mt_find_alloc_memory_type()`,
        // protected by the lock we hold.
        unsafe { bindings::mt_put_memory_types(head) };
    }
}

/// A node's association with a kmem memory type (`init_node_memory_type()`).
///
/// # Invariants
///
/// `mtype` is a memory type from the cache, attached to `node`.
pub(crate) struct NodeMemoryType {
    node: c_int,
    mtype: NonNull<bindings::memory_dev_type>,
}

// SAFETY: The memory-tier calls take `memory_tier_lock` themselves.
unsafe impl Send for NodeMemoryType {}
// SAFETY: `&NodeMemoryType` allows no operation.
unsafe impl Sync for NodeMemoryType {}

impl NodeMemoryType {
    /// Looks up the abstract distance of `node` (default [`DEFAULT_DAX_ADISTANCE`]), finds or
    /// allocates the memory type for it in the module's [`TypeCache`], and attaches it to
    /// `node`. Fails with [`ENODEV`] before the cache exists.
    pub(crate) fn init(node: c_int) -> Result<Self> {
        if !TYPES_READY.load(Acquire) {
            return Err(ENODEV);
        }
        let mut adist = DEFAULT_DAX_ADISTANCE;
        // SAFETY: `adist` is valid for writes; the function only updates it when a platform
        // driver knows better, its return value only says whether it did.
        unsafe { bindings::mt_calc_adistance(node, &mut adist) };
        let mtype = {
            let list = MEMORY_TYPES.lock();
            let head = list.head();
            // SAFETY: `head` is an initialised list protected by the lock we hold.
            from_err_ptr(unsafe { bindings::mt_find_alloc_memory_type(adist, head) })?
        };
        let mtype = NonNull::new(mtype).ok_or(ENOMEM)?;
        // SAFETY: `node` is a valid node id (checked by the caller, `node >= 0`) and `mtype` a
        // live memory type held by the cache.
        unsafe { bindings::init_node_memory_type(node, mtype.as_ptr()) };
        // INVARIANT: `mtype` was just attached to `node`.
        Ok(Self { node, mtype })
    }

    /// Detaches the node's memory type whatever it is (the unbind path of the C driver).
    pub(crate) fn clear(self) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: By the type invariant `node` has a memory type attached by us.
        unsafe { bindings::clear_node_memory_type(this.node, core::ptr::null_mut()) };
    }

    /// Keeps the association forever: memory blocks left on the node may still be onlined.
    pub(crate) fn leak(self) {
        core::mem::forget(self);
    }
}

impl Drop for NodeMemoryType {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `mtype` is attached to `node`.
        unsafe { bindings::clear_node_memory_type(self.node, self.mtype.as_ptr()) };
    }
}
