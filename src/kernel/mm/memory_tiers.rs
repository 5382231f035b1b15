// SPDX-License-Identifier: GPL-2.0

//! Memory tiers: the memory type of the node that kmem memory is onlined into.
//!
//! A driver keeps one `struct memory_dev_type` per abstract distance in a [`MemoryTypeList`] it
//! owns (the C kmem driver's `kmem_memory_types` list) and attaches one to a device's node at
//! probe ([`NodeMemoryType`]).
//!
//! C header: [`include/linux/memory-tiers.h`](srctree/include/linux/memory-tiers.h)

use crate::kernel_ext::bindings;
use core::{
    pin::Pin,
    ptr::NonNull, //
};
use kernel::{
    error::from_err_ptr,
    prelude::*,
    types::Opaque, //
};

/// The abstract distance of DRAM (`MEMTIER_ADISTANCE_DRAM`), the unit drivers scale theirs by.
pub(crate) const ADISTANCE_DRAM: c_int = bindings::MEMTIER_ADISTANCE_DRAM as c_int;

/// A driver's list of memory types, one per abstract distance (the C kmem driver's
/// `kmem_memory_types` list): [`NodeMemoryType::init`] finds or allocates types in it.
///
/// The driver owns the list (for example as the value of a `static` behind its own lock) and
/// passes it by `&mut` reference. The list head is allocated on first use, so that the list can
/// be built in a `static` initialiser and moved freely. Dropping the list, or
/// [`MemoryTypeList::put_all`], puts every type in it (`mt_put_memory_types()`); nodes still
/// using one keep their own reference.
///
/// # Invariants
///
/// `head`, when allocated, is an initialised list head of types returned by
/// `mt_find_alloc_memory_type()` for it.
pub(crate) struct MemoryTypeList {
    head: Option<Pin<KBox<Opaque<kernel::bindings::list_head>>>>,
}

// SAFETY: The list is only reached through `&mut MemoryTypeList`; the types in it are
// reference-counted objects of the memory-tier code, which may be put from any thread.
unsafe impl Send for MemoryTypeList {}

impl Default for MemoryTypeList {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryTypeList {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self { head: None }
    }

    /// The list head, allocated and initialised if it was not yet.
    fn head(&mut self) -> Result<*mut kernel::bindings::list_head> {
        let head = match &self.head {
            Some(head) => head,
            None => {
                let head = KBox::pin_init(
                    Opaque::ffi_init(|p: *mut kernel::bindings::list_head| {
                        // SAFETY: `p` is valid for writes and not linked anywhere yet.
                        unsafe { kernel::bindings::INIT_LIST_HEAD(p) }
                    }),
                    GFP_KERNEL,
                )?;
                // INVARIANT: An initialised, empty list.
                self.head.insert(head)
            }
        };
        Ok(head.get())
    }

    /// Puts every type of the list (`mt_put_memory_types()`); the list is empty afterwards.
    pub(crate) fn put_all(&mut self) {
        if let Some(head) = self.head.take() {
            // SAFETY: `head` is an initialised list of types from `mt_find_alloc_memory_type()`
            // (type invariant), reached through the exclusive reference we hold; it is freed
            // only after the call unlinked and put every type.
            unsafe { bindings::kmem_glue_mt_put_memory_types(head.get()) };
        }
    }
}

impl Drop for MemoryTypeList {
    fn drop(&mut self) {
        self.put_all();
    }
}

/// A node's association with a memory type of a [`MemoryTypeList`] (`init_node_memory_type()`).
///
/// # Invariants
///
/// `mtype` is a memory type held by a [`MemoryTypeList`], passed to `init_node_memory_type()`
/// for `node`: the node's map count includes this object if the node's type is `mtype` (the
/// node had no type, or already `mtype`); a node with another type (a DRAM node's, or another
/// device's of a different abstract distance) kept it and counted nothing for this object.
/// `mtype` is `None` only without `CONFIG_NUMA`, where there are no memory tiers (the stubs
/// return no type and attach nothing).
pub(crate) struct NodeMemoryType {
    node: c_int,
    mtype: Option<NonNull<bindings::memory_dev_type>>,
}

// SAFETY: The memory-tier calls take `memory_tier_lock` themselves.
unsafe impl Send for NodeMemoryType {}
// SAFETY: `&NodeMemoryType` allows no operation.
unsafe impl Sync for NodeMemoryType {}

impl NodeMemoryType {
    /// Computes the abstract distance of `node` (`default_adist` unless a platform driver knows
    /// better: `mt_calc_adistance()`), finds or allocates the memory type for it in `types`, and
    /// attaches it to `node` if the node has no memory type yet (a DRAM node keeps its own).
    ///
    /// [`EINVAL`] for a node id outside `0..MAX_NUMNODES`: C indexes `node_memory_types[]`
    /// with it unchecked.
    pub(crate) fn init(
        node: c_int,
        default_adist: c_int,
        types: &mut MemoryTypeList,
    ) -> Result<Self> {
        if !super::memory_hotplug::node_in_range(node) {
            return Err(EINVAL);
        }
        let mut adist = default_adist;
        // SAFETY: `adist` is valid for writes; the function only updates it when a platform
        // driver knows better, its return value only says whether it did. `node` is in range.
        unsafe { bindings::kmem_glue_mt_calc_adistance(node, &mut adist) };
        let head = types.head()?;
        // SAFETY: `head` is an initialised list, reached through the exclusive reference we
        // hold.
        let mtype = unsafe { bindings::kmem_glue_mt_find_alloc_memory_type(adist, head) };
        // NULL: no memory tiers (the stub without `CONFIG_NUMA`), as the C driver takes it.
        let Some(mtype) = NonNull::new(from_err_ptr(mtype)?) else {
            return Ok(Self { node, mtype: None });
        };
        // SAFETY: `node` is within `0..MAX_NUMNODES` (checked above) and `mtype` a live memory
        // type held by the list.
        unsafe { bindings::kmem_glue_init_node_memory_type(node, mtype.as_ptr()) };
        // INVARIANT: `init_node_memory_type()` counted this object iff the node's type is now
        // `mtype`.
        Ok(Self {
            node,
            mtype: Some(mtype),
        })
    }

    /// Detaches what this object attached, as its `Drop` does. The unbind path of 7.3's C driver
    /// passes NULL to `clear_node_memory_type()` instead, which decrements the node's map count
    /// whatever the node's type is, so also a count this device never had: a DRAM node's (its
    /// type is then gone, and the next device types the node as slow memory), or another
    /// device's of a different abstract distance.
    pub(crate) fn clear(self) {
        // `Drop` does exactly that.
        drop(self);
    }

    /// Keeps the association forever: memory blocks left on the node may still be onlined.
    pub(crate) fn leak(self) {
        core::mem::forget(self);
    }
}

impl Drop for NodeMemoryType {
    fn drop(&mut self) {
        let Some(mtype) = self.mtype else { return };
        // SAFETY: `node` is in range and `mtype` a live type (type invariant). With `mtype`,
        // `clear_node_memory_type()` decrements the node's map count only if the node's type is
        // `mtype`, i.e. exactly the count `init()` took for this object.
        unsafe { bindings::kmem_glue_clear_node_memory_type(self.node, mtype.as_ptr()) };
    }
}

#[kunit_tests(rust_memory_tiers)]
mod tests {
    use super::*;

    /// A node id outside `0..MAX_NUMNODES` is refused before C indexes `node_memory_types[]`
    /// with it, and nothing is allocated for it.
    #[test]
    fn node_ids_are_bounded() {
        let mut list = MemoryTypeList::new();
        let max = kernel::bindings::MAX_NUMNODES as c_int;
        for bad in [-1, max, 1 << 20, c_int::MAX] {
            let r = NodeMemoryType::init(bad, ADISTANCE_DRAM * 5, &mut list);
            assert_eq!(r.err(), Some(EINVAL));
        }
        // Nothing was allocated for them.
        assert!(list.head.is_none());
    }
}
