// SPDX-License-Identifier: GPL-2.0

//! Memory hotplug: driver-managed memory, memory groups and the `iomem` reservations under them.
//!
//! Each C object gets an owning type whose `Drop` undoes it. Memory that is still added to the
//! system can never be freed by accident: [`AddedMemory`] owns the reservation and both resource
//! names the `iomem` tree points at, and dropping it *leaks* them ("stuck online until reboot")
//! instead of freeing strings the kernel still uses.
//!
//! C headers: [`include/linux/memory_hotplug.h`](srctree/include/linux/memory_hotplug.h),
//! [`include/linux/memory.h`](srctree/include/linux/memory.h),
//! [`include/linux/ioport.h`](srctree/include/linux/ioport.h)

use crate::{
    ffi,
    state::{
        OnlineType,
        Range,
        Zone, //
    },
};
use core::{
    mem::ManuallyDrop,
    ptr::NonNull, //
};
use kernel::{
    error::to_result,
    prelude::*,
    str::CString, //
};

/// Size of a memory block in bytes (`memory_block_size_bytes()`), a power of two.
pub(crate) fn block_size() -> u64 {
    // SAFETY: `memory_block_size_bytes()` has no preconditions.
    let size = unsafe { ffi::memory_block_size_bytes() };
    size as u64
}

/// The system default online type for new memory blocks (`mhp_get_default_online_type()`),
/// i.e. `/sys/devices/system/memory/auto_online_blocks`.
pub(crate) fn default_online_type() -> Result<OnlineType> {
    // SAFETY: `mhp_get_default_online_type()` has no preconditions.
    let raw = unsafe { ffi::mhp_get_default_online_type() };
    OnlineType::from_mmop(raw).ok_or(EINVAL)
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
            unsafe { ffi::kfree(p.as_ptr().cast()) };
        }
    }
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
    pub(crate) fn register_static(nid: c_int, max_pages: u64) -> Result<Self> {
        let max_pages = c_ulong::try_from(max_pages).map_err(|_| EINVAL)?;
        // SAFETY: `memory_group_register_static()` validates its arguments.
        let id = unsafe { ffi::memory_group_register_static(nid, max_pages) };
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
        unsafe { ffi::memory_group_unregister(self.id) };
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
    res: NonNull<ffi::resource>,
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
    /// Reserves `range` under the resource name `name`; [`EBUSY`] if any part is already taken.
    pub(crate) fn request(range: Range, name: &CStr) -> Result<Self> {
        let name = resource_name(name)?;
        // SAFETY: `iomem_resource` is a static that lives forever; `__request_region()` takes
        // the resource lock itself. `name` stays valid for as long as the returned
        // reservation exists, since the reservation owns it.
        let res = unsafe {
            ffi::__request_region(
                &raw mut ffi::iomem_resource,
                range.start,
                range.len(),
                name.as_char_ptr(),
                0,
            )
        };
        let res = NonNull::new(res).ok_or(EBUSY)?;
        // SAFETY: `res` was just allocated and inserted; nobody else owns it. Clearing
        // `IORESOURCE_BUSY` lets `add_memory_driver_managed()` nest below it. Flags inherited
        // from the parent are dropped on purpose: they may break add_memory().
        unsafe { (*res.as_ptr()).flags = ffi::IORESOURCE_SYSTEM_RAM as c_ulong };
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
            ffi::remove_resource(self.res.as_ptr());
            ffi::kfree(self.res.as_ptr().cast());
        }
    }
}

/// Memory added to the system as driver-managed System RAM over a [`Reservation`].
///
/// Dropping it without [`AddedMemory::remove`] or [`offline_and_remove_memory_ranges`] leaks
/// the reservation and both names: the memory stays in the system until reboot, and the `iomem`
/// tree keeps pointing at them.
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
        let ret = unsafe { ffi::kmem_glue_remove_memory(r.start, r.len()) };
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
    pub(crate) fn adopt_stranded(range: Range, name: &CStr, ram_name: &CStr) -> Option<Self> {
        // SAFETY: The strings are valid for the call; the helper only reads the tree.
        let res = unsafe {
            ffi::kmem_glue_find_stranded(
                range.start,
                range.end,
                name.as_char_ptr(),
                ram_name.as_char_ptr(),
            )
        };
        let res = NonNull::new(res)?;
        // SAFETY: `res` is the stranded reservation: only this driver, now probing its device,
        // changes it or its child (see the helper), so both stay valid while they are read.
        let (res_name, child_name) = unsafe {
            let r = res.as_ptr();
            ((*r).name, (*(*r).child).name)
        };
        // SAFETY: `child_name` is the name string of the memory's resource, an allocated object
        // (`kstrdup_const()` of a module string, or a `CString`).
        unsafe { ffi::kmem_glue_kmemleak_not_leak(child_name.cast()) };
        let res_name = NonNull::new(res_name.cast_mut())?;
        // INVARIANT: `res` was requested by `__request_region()` of an earlier kmem instance,
        // that instance is gone, and its name was allocated for it alone (see `Reservation`).
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
pub(crate) fn add_memory_driver_managed(
    group: &MemoryGroup,
    reservation: Reservation,
    name: &CStr,
    memmap_on_memory: bool,
    online_type: OnlineType,
) -> Result<AddedMemory> {
    let mut flags = ffi::MHP_NID_IS_MGID;
    if memmap_on_memory {
        flags |= ffi::MHP_MEMMAP_ON_MEMORY;
    }
    let r = reservation.range();
    let name = resource_name(name)?;
    // SAFETY: `group.id` is a registered group (type invariant), the range is reserved for us,
    // and `name` stays valid for as long as the memory is added: the returned `AddedMemory`
    // owns it and never frees it while the memory is added.
    let ret = unsafe {
        ffi::__add_memory_driver_managed(
            group.id,
            r.start,
            r.len(),
            name.as_char_ptr(),
            flags,
            online_type.as_mmop(),
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
    let page = kernel::page::PAGE_SIZE as u64;
    let n = usize::try_from(range.len() / block)?;
    let mut idx = KVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        idx.push(-1, GFP_KERNEL)?;
    }
    // SAFETY: `idx` has room for `n` values; the range is kmem's memory, whose memmap only kmem
    // removes (the helper follows no pointer in it).
    unsafe {
        ffi::kmem_glue_block_zones(
            (range.start / page) as c_ulong,
            n as c_ulong,
            (block / page) as c_ulong,
            idx.as_mut_ptr(),
        )
    };
    let mut zones = KVec::with_capacity(n, GFP_KERNEL)?;
    for i in idx {
        zones.push((i >= 0).then(|| zone_from_idx(i)), GFP_KERNEL)?;
    }
    Ok(zones)
}

/// The [`Zone`] of a zone index (`enum zone_type`).
pub(crate) fn zone_from_idx(idx: c_int) -> Zone {
    match u32::try_from(idx) {
        Ok(ffi::zone_type_ZONE_NORMAL) => Zone::Normal,
        Ok(ffi::zone_type_ZONE_MOVABLE) => Zone::Movable,
        _ => Zone::Other,
    }
}

/// Offlines and removes all `ranges` in one step (`offline_and_remove_memory_ranges()`, under
/// a single `lock_device_hotplug()`): either every range is removed and the slots are emptied,
/// or none is, every block is back in its previous state, and the slots are unchanged.
///
/// Runs in the caller's context, so a signal aborts a stuck offline (with `-EINTR`). With a
/// `timeout_ms`, so does the passing of that time (see
/// `kmem_glue_offline_remove_timeout()`).
pub(crate) fn offline_and_remove_memory_ranges(
    ranges: &mut [Option<AddedMemory>],
    timeout_ms: Option<u32>,
) -> Result {
    let mut raw = KVec::with_capacity(ranges.len(), GFP_KERNEL)?;
    for m in ranges.iter().flatten() {
        let r = m.range();
        raw.push(
            ffi::range {
                start: r.start,
                end: r.end,
            },
            GFP_KERNEL,
        )?;
    }
    if raw.is_empty() {
        return Ok(());
    }
    let n = c_uint::try_from(raw.len()).map_err(|_| EINVAL)?;
    let ms = timeout_ms.unwrap_or(0);
    // SAFETY: `raw` holds `n` initialised ranges, each added by `add_memory_driver_managed()`
    // and not removed since (type invariant of `AddedMemory`); process context, as required.
    let ret = unsafe { ffi::kmem_glue_offline_remove_timeout(raw.as_ptr(), n, ms) };
    to_result(ret)?;
    for slot in ranges.iter_mut() {
        if let Some(m) = slot.take() {
            m.release();
        }
    }
    Ok(())
}

/// A size rendered by `string_get_size()` in binary units ("64.0 MiB"), for log messages.
pub(crate) struct SizeString([u8; 16]);

impl SizeString {
    /// Renders `bytes`.
    pub(crate) fn new(bytes: u64) -> Self {
        let mut buf = [0u8; 16];
        // SAFETY: `buf` is valid for writes of its length; `string_get_size()` always
        // NUL-terminates within it.
        unsafe {
            ffi::string_get_size(
                bytes,
                1,
                ffi::string_size_units_STRING_UNITS_2,
                buf.as_mut_ptr().cast(),
                buf.len() as c_int,
            )
        };
        Self(buf)
    }
}

impl kernel::fmt::Display for SizeString {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        let n = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
        let s = core::str::from_utf8(&self.0[..n]).map_err(|_| kernel::fmt::Error)?;
        f.write_str(s)
    }
}
