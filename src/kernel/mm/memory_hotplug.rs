// SPDX-License-Identifier: GPL-2.0

//! Memory hotplug: online types, driver-managed memory, memory groups and the `iomem`
//! reservations under them.
//!
//! Each C object gets an owning type whose `Drop` undoes it. Memory that is still added to the
//! system can never be freed by accident: [`AddedMemory`] owns the reservation and both resource
//! names the `iomem` tree points at, and dropping it *leaks* them ("stuck online until reboot")
//! instead of freeing strings the kernel still uses.
//!
//! Without `CONFIG_MEMORY_HOTREMOVE` the removal calls are inline stubs in C that fail with
//! `-EBUSY`; they are reached through C helpers that compile in both configurations, so memory
//! then simply never leaves.
//!
//! C headers: [`include/linux/memory_hotplug.h`](srctree/include/linux/memory_hotplug.h),
//! [`include/linux/memory.h`](srctree/include/linux/memory.h),
//! [`include/linux/ioport.h`](srctree/include/linux/ioport.h)

use crate::kernel_ext::bindings;
use core::{
    mem::ManuallyDrop,
    ptr::NonNull, //
};
use kernel::{
    error::to_result,
    prelude::*,
    str::CString, //
};

/// A physical address range with an inclusive end (`struct range`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    /// First byte.
    pub(crate) start: u64,
    /// Last byte (inclusive).
    pub(crate) end: u64,
}

impl Range {
    /// The number of bytes in the range (`range_len()`).
    pub(crate) const fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Whether the range holds no byte at all (its end is before its start).
    pub(crate) const fn is_empty(&self) -> bool {
        self.end < self.start
    }

    /// Whether the two ranges share at least one byte (`range_overlaps()`).
    pub(crate) const fn overlaps(&self, other: &Range) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// The whole memory blocks of `block` bytes (a power of two) inside the range, as
    /// `memory_block_aligned_range()` computes them; `None` when no whole block fits.
    pub(crate) fn block_aligned(&self, block: u64) -> Option<Range> {
        if self.is_empty() {
            return None;
        }
        let mask = block - 1;
        let start = self.start.checked_add(mask)? & !mask;
        let end_excl = self.end.checked_add(1)? & !mask;
        if end_excl <= start {
            return None;
        }
        Some(Range {
            start,
            end: end_excl - 1,
        })
    }

    /// The C `struct range`.
    fn as_raw(&self) -> kernel::bindings::range {
        kernel::bindings::range {
            start: self.start,
            end: self.end,
        }
    }
}

/// A physical range that its provider hands to the caller for use as System RAM: the only kind
/// of range that [`Reservation::request`] reserves, and so the only memory that
/// [`add_memory_driver_managed`] can add.
///
/// Safe code cannot make one: it is minted by the bus abstraction of a memory provider for the
/// driver bound to the provider's device (a dax device's ranges, for the kmem-type dax driver
/// probing it: see `dax::Device::ranges`), or by [`HotplugRange::new_unchecked`].
///
/// # Invariants
///
/// The range is memory of a device whose provider offers it for hot-add by the driver bound to
/// that device (nothing else maps or uses it while it is not added), and the range is not empty.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HotplugRange(Range);

impl HotplugRange {
    /// Marks `range` as memory for hot-add.
    ///
    /// # Safety
    ///
    /// `range` is not empty and is memory that a provider offers for hot-add as System RAM to
    /// the caller's driver, bound to the provider's device (for example a range of a dax device
    /// whose kmem-type driver is probing it); nothing else uses it while it is not added.
    pub(crate) const unsafe fn new_unchecked(range: Range) -> Self {
        // INVARIANT: The caller's guarantee.
        Self(range)
    }

    /// The range.
    pub(crate) const fn range(&self) -> Range {
        self.0
    }

    /// The whole memory blocks of `block` bytes inside the range ([`Range::block_aligned`]):
    /// part of the same memory, so hot-pluggable too.
    pub(crate) fn block_aligned(&self, block: u64) -> Option<HotplugRange> {
        // INVARIANT: A non-empty sub-range of hot-pluggable memory is hot-pluggable memory.
        self.0.block_aligned(block).map(HotplugRange)
    }
}

/// How memory blocks are onlined (`enum mmop`), as `memoryN/state` and `auto_online_blocks`
/// name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnlineType {
    /// `MMOP_OFFLINE`: blocks are present but offline.
    Offline,
    /// `MMOP_ONLINE`: online, zone chosen by the kernel.
    Online,
    /// `MMOP_ONLINE_KERNEL`: online in `ZONE_NORMAL`.
    OnlineKernel,
    /// `MMOP_ONLINE_MOVABLE`: online in `ZONE_MOVABLE`.
    OnlineMovable,
}

impl OnlineType {
    /// All online types, in `enum mmop` order.
    pub(crate) const ALL: [OnlineType; 4] = [
        OnlineType::Offline,
        OnlineType::Online,
        OnlineType::OnlineKernel,
        OnlineType::OnlineMovable,
    ];

    /// The `enum mmop` value.
    pub(crate) const fn as_raw(self) -> kernel::bindings::mmop {
        match self {
            OnlineType::Offline => kernel::bindings::mmop_MMOP_OFFLINE,
            OnlineType::Online => kernel::bindings::mmop_MMOP_ONLINE,
            OnlineType::OnlineKernel => kernel::bindings::mmop_MMOP_ONLINE_KERNEL,
            OnlineType::OnlineMovable => kernel::bindings::mmop_MMOP_ONLINE_MOVABLE,
        }
    }

    /// Converts an `enum mmop` value; `None` for anything else.
    pub(crate) fn from_raw(value: kernel::bindings::mmop) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_raw() == value)
    }

    /// The name (`mhp_online_type_to_str()`).
    pub(crate) fn as_str(self) -> &'static str {
        // SAFETY: `mhp_online_type_to_str()` has no preconditions: it bounds-checks its argument.
        let name = unsafe { kernel::bindings::mhp_online_type_to_str(self.as_raw() as c_int) };
        if name.is_null() {
            // Only for a value outside `enum mmop`, which `self.as_raw()` never is.
            return "?";
        }
        // SAFETY: For an `enum mmop` value (every `OnlineType` is one) the function returns a
        // NUL-terminated string literal of `online_type_to_str[]`; NULL was handled above.
        let name = unsafe { CStr::from_char_ptr(name) };
        name.to_str().unwrap_or("?")
    }

    /// Parses a name with `sysfs_streq()` rules (`mhp_online_type_from_str()`): one trailing
    /// newline is accepted, and `buf` is read up to its first NUL as in C.
    pub(crate) fn parse(buf: &[u8]) -> Option<Self> {
        // The longest name is 14 bytes; anything that does not fit is no name.
        let mut text = [0u8; 32];
        let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        if n >= text.len() {
            return None;
        }
        text[..n].copy_from_slice(&buf[..n]);
        // SAFETY: `text` is NUL-terminated (its last byte is never written).
        let raw = unsafe { kernel::bindings::mhp_online_type_from_str(text.as_ptr().cast()) };
        Self::from_raw(kernel::bindings::mmop::try_from(raw).ok()?)
    }
}

/// The zone an online memory block belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Zone {
    /// `ZONE_NORMAL`.
    Normal,
    /// `ZONE_MOVABLE`.
    Movable,
    /// Any other zone (hot-added memory never lands there).
    Other,
}

impl Zone {
    /// The zone's name as the kernel prints it.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Zone::Normal => "Normal",
            Zone::Movable => "Movable",
            Zone::Other => "other",
        }
    }

    /// The zone of a zone index (`enum zone_type`).
    pub(crate) fn from_idx(idx: c_int) -> Self {
        match u32::try_from(idx) {
            Ok(kernel::bindings::zone_type_ZONE_NORMAL) => Zone::Normal,
            Ok(kernel::bindings::zone_type_ZONE_MOVABLE) => Zone::Movable,
            _ => Zone::Other,
        }
    }
}

/// Size of a memory block in bytes (`memory_block_size_bytes()`), a power of two.
pub(crate) fn block_size() -> u64 {
    // SAFETY: `memory_block_size_bytes()` has no preconditions.
    let size = unsafe { bindings::memory_block_size_bytes() };
    size as u64
}

/// The system default online type for new memory blocks (`mhp_get_default_online_type()`),
/// i.e. `/sys/devices/system/memory/auto_online_blocks`.
pub(crate) fn default_online_type() -> Result<OnlineType> {
    // SAFETY: `mhp_get_default_online_type()` has no preconditions.
    let raw = unsafe { kernel::bindings::mhp_get_default_online_type() };
    OnlineType::from_raw(raw).ok_or(EINVAL)
}

/// A copy of `name` for a resource to point at.
///
/// The `iomem` tree refers to a resource's name, it does not copy it. Every object that hands a
/// name to C owns its own copy, so that when memory stays added after the driver is gone (its
/// objects are deliberately not freed) the string's only reference is the resource's `name`:
/// it stays reachable, and kmemleak sees no leak.
fn resource_name(name: &CStr) -> Result<CString> {
    Ok(CString::try_from(name)?)
}

/// The name a resource points at: a copy owned here, or the string of a resource left behind
/// by an earlier kmem instance and taken over with it (see [`AddedMemory::adopt_stranded`]).
enum ResName {
    /// A copy owned here: the resource refers to it, nothing reads it.
    Owned { _name: CString },
    /// Freed with `kfree()` once the resource is out of the tree (the reservation's name).
    Adopted(NonNull<c_char>),
    /// Never freed (the name of the added memory, which may be shared): annotated for kmemleak
    /// when adopted.
    Kept,
}

// SAFETY: An adopted name is a heap string that only this object frees; it may be freed from
// any thread.
unsafe impl Send for ResName {}
// SAFETY: `&ResName` gives access to nothing.
unsafe impl Sync for ResName {}

impl Drop for ResName {
    fn drop(&mut self) {
        if let ResName::Adopted(p) = self {
            // Only dropped after `Reservation::drop` took the resource out of the tree.
            // SAFETY: By the invariant of `Reservation`, an adopted name was allocated with
            // `kmalloc()` for that resource alone, which no longer refers to it.
            unsafe { kernel::bindings::kfree(p.as_ptr().cast()) };
        }
    }
}

/// Whether `nid` can index the kernel's per-node tables (`0 <= nid < MAX_NUMNODES`).
pub(crate) fn node_in_range(nid: c_int) -> bool {
    u32::try_from(nid).is_ok_and(|n| n < kernel::bindings::MAX_NUMNODES)
}

/// A static memory group (`memory_group_register_static()`): the device's memory blocks are
/// onlined and offlined as a unit by the auto-movable policy, and their node is implied by it.
///
/// # Invariants
///
/// `id` is a registered memory group id.
pub(crate) struct MemoryGroup {
    id: c_int,
}

impl MemoryGroup {
    /// Registers a static group on `nid` that will span at most `max_pages` pages.
    ///
    /// [`EINVAL`] for a node id outside `0..MAX_NUMNODES` (C checks only `node_possible()`, a
    /// bit test without a bound) or a zero `max_pages`.
    pub(crate) fn register_static(nid: c_int, max_pages: u64) -> Result<Self> {
        let max_pages = c_ulong::try_from(max_pages).map_err(|_| EINVAL)?;
        if !node_in_range(nid) {
            return Err(EINVAL);
        }
        // SAFETY: `nid` is within `0..MAX_NUMNODES` (checked above), so the `node_possible()`
        // bit test of `memory_group_register_static()` stays inside `node_states[]`; the
        // function validates everything else itself.
        let id = unsafe { bindings::memory_group_register_static(nid, max_pages) };
        if id < 0 {
            return Err(Error::from_errno(id));
        }
        // INVARIANT: A non-negative return value is the id of the registered group.
        Ok(Self { id })
    }

    /// Leaves the group registered forever (memory in it stays added until reboot).
    pub(crate) fn leak(self) {
        core::mem::forget(self);
    }
}

impl Drop for MemoryGroup {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `self.id` is registered. If memory blocks still belong
        // to it the call fails with -EBUSY and changes nothing.
        unsafe { bindings::memory_group_unregister(self.id) };
    }
}

/// A region of `iomem_resource` reserved for kmem (`request_mem_region()`), with its flags set
/// to `IORESOURCE_SYSTEM_RAM` and `IORESOURCE_BUSY` clear so that memory hotplug can add a
/// "System RAM (kmem)" child below it.
///
/// This is not [`kernel::io::resource::Region`]: that one releases with `release_mem_region()`,
/// which requires `IORESOURCE_BUSY`; this one is released with `remove_resource()` + `kfree()`.
///
/// # Invariants
///
/// `res` points to a resource allocated by `__request_region()` and inserted in
/// `iomem_resource`, owned by this object, whose name is `name`. An adopted name
/// ([`ResName::Adopted`]) was allocated with `kmalloc()` for this resource alone: both kmem
/// drivers allocate a reservation's name per device (C: `kstrdup(dev_name)`, this one: a
/// [`CString`]).
pub(crate) struct Reservation {
    res: NonNull<kernel::bindings::resource>,
    range: Range,
    /// The resource's name: the resource refers to it. Dropped after the resource is removed.
    _name: ResName,
}

// SAFETY: The resource is only touched through `remove_resource()`, which takes the resource
// lock, so it may be released from any thread.
unsafe impl Send for Reservation {}
// SAFETY: `&Reservation` gives access to nothing but the (immutable) range.
unsafe impl Sync for Reservation {}

impl Reservation {
    /// Reserves the memory of `range` under the resource name `name`; [`EBUSY`] if any part is
    /// already taken.
    ///
    /// Only a [`HotplugRange`] can be reserved: memory its provider offers for hot-add.
    pub(crate) fn request(range: &HotplugRange, name: &CStr) -> Result<Self> {
        let range = range.range();
        let name = resource_name(name)?;
        // SAFETY: `iomem_resource` is a static that lives forever; `__request_region()` takes
        // the resource lock itself. `name` stays valid for as long as the returned
        // reservation exists, since the reservation owns it.
        let res = unsafe {
            kernel::bindings::__request_region(
                &raw mut kernel::bindings::iomem_resource,
                range.start,
                range.len(),
                name.as_char_ptr(),
                0,
            )
        };
        let res = NonNull::new(res).ok_or(EBUSY)?;
        // SAFETY: `res` was just allocated and inserted by `__request_region()`, and only this
        // object frees it. Clearing `IORESOURCE_BUSY` lets `add_memory_driver_managed()` nest
        // below it; flags inherited from the parent are dropped on purpose (they may break
        // add_memory()). The store is not under `resource_lock`: a concurrent walker of the
        // tree may read the old or the new flags of this resource, which C's kmem.c accepts in
        // the same place (`res->flags = IORESOURCE_SYSTEM_RAM;` after `request_mem_region()`);
        // both values describe a resource that nothing may use but its owner.
        unsafe { (*res.as_ptr()).flags = kernel::bindings::IORESOURCE_SYSTEM_RAM as c_ulong };
        // INVARIANT: `res` is a freshly requested resource, owned by the result, named `name`.
        Ok(Self {
            res,
            range,
            _name: ResName::Owned { _name: name },
        })
    }

    /// The reserved range.
    pub(crate) fn range(&self) -> Range {
        self.range
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `res` is an inserted resource owned by `self`; it is
        // removed from the tree and then freed, as `request_mem_region()` allocated it.
        unsafe {
            kernel::bindings::remove_resource(self.res.as_ptr());
            kernel::bindings::kfree(self.res.as_ptr().cast());
        }
    }
}

/// Memory added to the system as driver-managed System RAM over a [`Reservation`].
///
/// Dropping it without [`AddedMemory::remove`] or [`offline_and_remove_memory_ranges`] leaks
/// the reservation and both names: the memory stays in the system until reboot, and the `iomem`
/// tree keeps pointing at them.
///
/// # Invariants
///
/// The reservation's range was added with `__add_memory_driver_managed()` (by this object's
/// creator or by an earlier kmem instance, see [`AddedMemory::adopt_stranded`]) and has not been
/// removed since; the added memory's resource is named `name`.
pub(crate) struct AddedMemory {
    reservation: ManuallyDrop<Reservation>,
    name: ManuallyDrop<ResName>,
}

impl AddedMemory {
    /// The range that was added.
    pub(crate) fn range(&self) -> Range {
        self.reservation.range()
    }

    /// Removes the memory if all of its blocks are offline (`remove_memory()`). Never offlines.
    ///
    /// On failure (`-EBUSY`: some block is online) the memory is handed back unchanged.
    pub(crate) fn remove(self) -> core::result::Result<(), (Self, Error)> {
        let r = self.range();
        // SAFETY: The range was added by `add_memory_driver_managed()` and not removed since
        // (type invariant of `AddedMemory`); `remove_memory()` takes the hotplug locks itself.
        let ret = unsafe { bindings::kmem_glue_remove_memory(r.start, r.len()) };
        match to_result(ret) {
            Ok(()) => {
                self.release();
                Ok(())
            }
            Err(e) => Err((self, e)),
        }
    }

    /// Frees the reservation and the names after the memory was removed.
    fn release(self) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used again and its destructor does not run, so each field
        // is dropped exactly once.
        unsafe {
            ManuallyDrop::drop(&mut this.reservation);
            ManuallyDrop::drop(&mut this.name);
        }
    }
}

impl AddedMemory {
    /// Takes over `range` if an earlier kmem instance left it added when it was unbound or
    /// unloaded while the range was online: a reservation named `name` over exactly `range`,
    /// whose only child is the driver-managed memory named `ram_name` (see
    /// `kmem_glue_find_stranded()`). Nothing in the resource tree changes.
    ///
    /// Removing the result frees the reservation and its name as for memory added here. The
    /// name of the added memory is not freed: the C driver uses one string for all its devices,
    /// which other stranded ranges may still point at; it is annotated for kmemleak instead.
    ///
    /// # Safety
    ///
    /// - `range` is a [`HotplugRange`] of a device that the caller's driver is probing, and
    ///   `name` is that device's name: a reservation over exactly `range` named `name` whose only
    ///   child is driver-managed memory named `ram_name` was then left by an earlier instance of
    ///   a kmem driver for this device, which is gone (a device has one driver at a time);
    /// - that instance allocated the reservation's name with `kmalloc()` for that resource alone
    ///   (C kmem: `kstrdup(dev_name)`; this one: a [`CString`]), so freeing it with the
    ///   reservation is right;
    /// - nothing but the caller adds or removes resources below the reservation while the
    ///   result exists: only memory hotplug of `range` does that, and only a kmem driver bound
    ///   to the device hot-adds its range (`__add_memory_driver_managed()` is exported to the
    ///   module named `kmem` only).
    pub(crate) unsafe fn adopt_stranded(
        range: &HotplugRange,
        name: &CStr,
        ram_name: &CStr,
    ) -> Option<Self> {
        let range = range.range();
        // SAFETY: The strings are valid for the call; the helper only reads the tree.
        let res = unsafe {
            bindings::kmem_glue_find_stranded(
                range.start,
                range.end,
                name.as_char_ptr(),
                ram_name.as_char_ptr(),
            )
        };
        let res = NonNull::new(res)?;
        // SAFETY: `res` is the stranded reservation: by the caller's guarantee only the caller
        // changes it or its child, so both stay valid while they are read.
        let (res_name, child_name) = unsafe {
            let r = res.as_ptr();
            ((*r).name, (*(*r).child).name)
        };
        // SAFETY: `child_name` is the name string of the memory's resource, an allocated object
        // (`kstrdup_const()` of a module string, or a `CString`).
        unsafe { bindings::kmem_glue_kmemleak_not_leak(child_name.cast()) };
        let res_name = NonNull::new(res_name.cast_mut())?;
        // INVARIANT: `res` was requested by `__request_region()` of an earlier kmem instance,
        // that instance is gone, and its name was allocated for it alone (the caller's
        // guarantee; see `Reservation`).
        let reservation = Reservation {
            res,
            range,
            _name: ResName::Adopted(res_name),
        };
        Some(AddedMemory {
            reservation: ManuallyDrop::new(reservation),
            name: ManuallyDrop::new(ResName::Kept),
        })
    }
}

impl Drop for AddedMemory {
    fn drop(&mut self) {
        // The memory is still added: the resource tree refers to the reservation and to both
        // names, so they must outlive this object (and the module). Nothing is freed; the
        // resources and both strings stay reachable from `iomem_resource`.
    }
}

/// Adds `reservation` as driver-managed memory named `name` in memory group `group`, onlined
/// according to `online_type` (`__add_memory_driver_managed()` with `MHP_NID_IS_MGID`).
///
/// On failure the reservation is released and the error returned.
///
/// `#[inline]`: mm exports `__add_memory_driver_managed()` to the module named `kmem` only, and
/// this wrapper must not re-export it. Inline, it is compiled into each caller (the kmem
/// module) and never into the kernel crate, so every other module still fails at modpost; the
/// in-tree gate of `make check` checks that no kernel-crate symbol calls it.
#[inline]
pub(crate) fn add_memory_driver_managed(
    group: &MemoryGroup,
    reservation: Reservation,
    name: &CStr,
    memmap_on_memory: bool,
    online_type: OnlineType,
) -> Result<AddedMemory> {
    let mut flags = bindings::MHP_NID_IS_MGID;
    if memmap_on_memory {
        flags |= bindings::MHP_MEMMAP_ON_MEMORY;
    }
    let r = reservation.range();
    let name = resource_name(name)?;
    // SAFETY: `group.id` is a registered group (type invariant), the range is a reservation of
    // a `HotplugRange` (memory offered for hot-add, reserved for us), and `name` stays valid
    // for as long as the memory is added: the returned `AddedMemory`
    // owns it and never frees it while the memory is added.
    let ret = unsafe {
        kernel::bindings::__add_memory_driver_managed(
            group.id,
            r.start,
            r.len(),
            name.as_char_ptr(),
            flags,
            online_type.as_raw(),
        )
    };
    to_result(ret)?;
    Ok(AddedMemory {
        reservation: ManuallyDrop::new(reservation),
        name: ManuallyDrop::new(ResName::Owned { _name: name }),
    })
}

/// The zone of each memory block of `range` (`None`: offline), for memory added by kmem that no
/// notification was seen for (adopted memory). A block offlined meanwhile may show its old zone;
/// the memory notifier records the change.
pub(crate) fn block_zones(range: Range, block: u64) -> Result<KVec<Option<Zone>>> {
    // `checked_div`: no division-by-zero panic path for a zero `block`.
    let n = usize::try_from(range.len().checked_div(block).ok_or(EINVAL)?)?;
    let mut idx = KVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        idx.push(-1, GFP_KERNEL)?;
    }
    // SAFETY: `idx` has room for `n` values; the range is kmem's memory, whose memmap only kmem
    // removes (the helper follows no pointer in it).
    unsafe {
        bindings::kmem_glue_block_zones(
            (range.start >> kernel::page::PAGE_SHIFT) as c_ulong,
            n as c_ulong,
            (block >> kernel::page::PAGE_SHIFT) as c_ulong,
            idx.as_mut_ptr(),
        )
    };
    let mut zones = KVec::with_capacity(n, GFP_KERNEL)?;
    for i in idx {
        zones.push((i >= 0).then(|| Zone::from_idx(i)), GFP_KERNEL)?;
    }
    Ok(zones)
}

/// Offlines and removes all of `mems` in one step (`offline_and_remove_memory_ranges()`, under
/// a single `lock_device_hotplug()`): either every range is removed and its reservation and
/// names are freed, or none is, every block is back in its previous state, and `mems` is handed
/// back unchanged with the error.
///
/// Runs in the caller's context, so a signal aborts a stuck offline (with `-EINTR`). With a
/// `timeout_ms`, so does the passing of that time (with `-ETIMEDOUT`:
/// `offline_and_remove_memory_ranges_timeout()`).
pub(crate) fn offline_and_remove_memory_ranges(
    mems: KVec<AddedMemory>,
    timeout_ms: Option<u32>,
) -> core::result::Result<(), (KVec<AddedMemory>, Error)> {
    if mems.is_empty() {
        return Ok(());
    }
    let mut raw = match KVec::with_capacity(mems.len(), GFP_KERNEL) {
        Ok(raw) => raw,
        Err(e) => return Err((mems, e.into())),
    };
    for m in mems.iter() {
        // Within the capacity reserved above: cannot fail.
        let _ = raw.push_within_capacity(m.range().as_raw());
    }
    let Ok(n) = c_uint::try_from(raw.len()) else {
        return Err((mems, EINVAL));
    };
    let ms = timeout_ms.unwrap_or(0);
    // SAFETY: `raw` holds `n` initialised ranges, each added by `add_memory_driver_managed()`
    // and not removed since (type invariant of `AddedMemory`); process context, as required.
    let ret = unsafe { bindings::kmem_glue_offline_remove_timeout(raw.as_ptr(), n, ms) };
    if let Err(e) = to_result(ret) {
        return Err((mems, e));
    }
    for m in mems {
        m.release();
    }
    Ok(())
}

#[kunit_tests(rust_memory_hotplug)]
mod tests {
    use super::*;

    #[test]
    fn online_type_names() {
        let names = ["offline", "online", "online_kernel", "online_movable"];
        for (t, name) in OnlineType::ALL.into_iter().zip(names) {
            assert_eq!(t.as_str(), name);
            assert_eq!(OnlineType::parse(name.as_bytes()), Some(t));
        }
    }

    #[test]
    fn online_type_raw_round_trip() {
        for t in OnlineType::ALL {
            assert_eq!(OnlineType::from_raw(t.as_raw()), Some(t));
        }
        assert_eq!(OnlineType::from_raw(4), None);
        assert_eq!(OnlineType::from_raw(u32::MAX), None);
    }

    #[test]
    fn online_type_parse_follows_sysfs_streq() {
        let movable = Some(OnlineType::OnlineMovable);
        assert_eq!(OnlineType::parse(b"online_movable\n"), movable);
        assert_eq!(OnlineType::parse(b"online_movable\0junk"), movable);
        assert_eq!(OnlineType::parse(b"online\n\0"), Some(OnlineType::Online));
        let long = [b'o'; 64];
        for bad in [
            &b""[..],
            b"\n",
            b"online\n\n",
            b"ONLINE",
            b" online",
            b"online_movabl",
            b"unplugged",
            b"on\0line",
            &long,
        ] {
            assert_eq!(OnlineType::parse(bad), None);
        }
    }

    const MIB: u64 = 1 << 20;
    const BLOCK: u64 = 128 * MIB;

    fn r(start: u64, end: u64) -> Range {
        Range { start, end }
    }

    #[test]
    fn block_alignment() {
        let g4 = 4096 * MIB;
        // Already aligned.
        let gib = r(g4, g4 + 1024 * MIB - 1);
        assert_eq!(gib.block_aligned(BLOCK), Some(gib));
        // Exactly one block.
        let one = r(g4, g4 + BLOCK - 1);
        assert_eq!(one.block_aligned(BLOCK), Some(one));
        assert_eq!(one.len(), BLOCK);
        // Start rounded up, end rounded down.
        assert_eq!(
            r(g4 + 1, g4 + 3 * BLOCK + 5).block_aligned(BLOCK),
            Some(r(g4 + BLOCK, g4 + 3 * BLOCK - 1))
        );
        // One byte short of a block.
        assert_eq!(r(g4, g4 + BLOCK - 2).block_aligned(BLOCK), None);
        // Straddles a boundary without holding a whole block.
        assert_eq!(
            r(g4 + BLOCK / 2, g4 + BLOCK + BLOCK / 2).block_aligned(BLOCK),
            None
        );
        // Below the first boundary.
        assert_eq!(r(1, BLOCK - 1).block_aligned(BLOCK), None);
        // The end of the address space does not wrap.
        assert_eq!(r(u64::MAX - BLOCK, u64::MAX).block_aligned(BLOCK), None);
    }

    /// Node ids that would index past the kernel's per-node tables are refused before C sees
    /// them (C's `memory_group_register_static()` tests only `node_possible()`).
    #[test]
    fn node_ids_are_bounded() {
        let max = kernel::bindings::MAX_NUMNODES as c_int;
        assert!(node_in_range(0) && node_in_range(max - 1));
        for bad in [-1, max, max + 1, 1 << 20, c_int::MAX, c_int::MIN] {
            assert!(!node_in_range(bad));
            assert_eq!(MemoryGroup::register_static(bad, 1).err(), Some(EINVAL));
        }
    }

    #[test]
    fn range_overlap() {
        let a = r(100, 199);
        for b in [
            r(100, 199),
            r(0, 100),
            r(199, 300),
            r(150, 150),
            r(0, u64::MAX),
        ] {
            assert!(a.overlaps(&b));
            assert!(b.overlaps(&a));
        }
        assert!(!a.overlaps(&r(0, 99)));
        assert!(!a.overlaps(&r(200, 300)));
    }
}
