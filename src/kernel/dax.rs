// SPDX-License-Identifier: GPL-2.0

//! Abstractions for the dax bus (`/sys/bus/dax`): driver registration and `struct dev_dax`.
//!
//! Follows the `Driver` / `Adapter<T>` / [`driver::Registration`] split of the kernel's bus
//! abstractions (`rust/kernel/auxiliary.rs`). Matching on the dax bus is by driver type and by
//! the bus' `new_id` list, so there is no id table.
//!
//! C headers: [`drivers/dax/bus.h`](srctree/drivers/dax/bus.h),
//! [`drivers/dax/dax-private.h`](srctree/drivers/dax/dax-private.h)

use crate::kernel_ext::{
    bindings,
    device::attribute::AttributeGroups,
    mm::memory_hotplug::{
        AddedMemory,
        HotplugRange,
        Range, //
    },
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    pin::Pin,
    ptr::NonNull, //
};
use kernel::{
    device,
    driver,
    error::{
        from_result,
        to_result, //
    },
    prelude::*,
    sync::aref::AlwaysRefCounted,
    types::{
        ForLt,
        Opaque, //
    },
    ThisModule, //
};

/// The kind of dax driver (`enum dax_driver_type`); it decides which devices match by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DriverType {
    /// `DAXDRV_KMEM_TYPE`: devices of regions marked `IORESOURCE_DAX_KMEM` (hmem, CXL RAM).
    Kmem,
}

impl DriverType {
    const fn as_raw(self) -> bindings::dax_driver_type {
        match self {
            DriverType::Kmem => bindings::dax_driver_type_DAXDRV_KMEM_TYPE,
        }
    }
}

/// A dax bus driver.
pub(crate) trait Driver: 'static {
    /// The driver's per-device data. `Sync`, because sysfs callbacks may run concurrently.
    type Data<'bound>: Send + Sync + 'bound;

    /// The driver type, used by the bus to match devices.
    const TYPE: DriverType;

    /// Device attributes created after a successful probe and removed before unbind (see
    /// [`AttributeGroups`]). Their callbacks read the driver data as `Data<'_>` for the
    /// duration of the call only ([`DataOf`]).
    const DEV_GROUPS: Option<&'static AttributeGroups<DataOf<Self>>> = None;

    /// Binds the driver to `dev`.
    fn probe<'bound>(
        dev: &'bound Device<device::Core<'_>>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound;

    /// Called when `dev` is unbound, before its data is dropped. Implementing it is optional.
    ///
    /// Teardown that cannot fail belongs in the data's `Drop`.
    fn unbind<'bound>(dev: &'bound Device<device::Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let _ = (dev, this);
    }
}

/// The driver data of `T` for any lifetime of a binding: `DataOf<T>::Of<'bound>` is
/// `T::Data<'bound>`, the family that `T`'s attributes read.
pub(crate) struct DataOf<T: ?Sized>(PhantomData<T>);

impl<T: Driver + ?Sized> ForLt for DataOf<T> {
    type Of<'a> = T::Data<'a>;
}

/// An adapter for the registration of dax drivers.
pub(crate) struct Adapter<T: Driver>(T);

// SAFETY:
// - `bindings::dax_device_driver` is a bindgen-generated `repr(C)` struct.
// - `DriverData` is the type that `probe_callback` stores as drvdata.
// - `struct dax_device_driver` embeds a `struct device_driver` at the offset of `drv`.
unsafe impl<T: Driver> driver::DriverLayout for Adapter<T> {
    type DriverType = bindings::dax_device_driver;
    type DriverData<'bound> = T::Data<'bound>;
    const DEVICE_DRIVER_OFFSET: usize = offset_of!(bindings::dax_device_driver, drv);
}

// SAFETY: `unregister` is only called by `driver::Registration` after a successful `register`.
unsafe impl<T: Driver> driver::RegistrationOps for Adapter<T> {
    unsafe fn register(
        ddrv: &Opaque<Self::DriverType>,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result {
        let d = ddrv.get();
        // SAFETY: The driver is not registered yet, so nothing else accesses it. The fields
        // set here are not touched by `driver::Registration` (it only sets `drv.p_cb`).
        unsafe {
            (*d).probe = Some(Self::probe_callback);
            (*d).remove = Some(Self::remove_callback);
            (*d).type_ = T::TYPE.as_raw();
        }
        if let Some(groups) = T::DEV_GROUPS {
            // SAFETY: The driver is not registered yet; `probe_callback` stores a
            // `Pin<KBox<T::Data<'_>>>`, i.e. `DataOf<T>::Of<'_>`, as drvdata before the driver
            // core creates the groups.
            unsafe { groups.attach(&raw mut (*d).drv) };
        }
        // SAFETY: `ddrv` is a valid, pinned `dax_device_driver` (guaranteed by the caller until
        // `unregister`); `name` and `module` are static.
        to_result(unsafe {
            bindings::__dax_driver_register(ddrv.get(), module.as_ptr(), name.as_char_ptr())
        })
    }

    unsafe fn unregister(ddrv: &Opaque<Self::DriverType>) {
        // SAFETY: `ddrv` was registered by `register` (the caller's guarantee).
        unsafe { bindings::dax_driver_unregister(ddrv.get()) }
    }
}

impl<T: Driver> Adapter<T> {
    extern "C" fn probe_callback(ddev: *mut bindings::dev_dax) -> c_int {
        // SAFETY: The dax bus only calls probe with a valid `struct dev_dax`.
        //
        // INVARIANT: `ddev` is valid for the duration of `probe_callback()`.
        let ddev = unsafe { &*ddev.cast::<Device<device::CoreInternal<'_>>>() };

        from_result(|| {
            let data = T::probe(ddev);
            ddev.as_ref().set_drvdata(data)?;
            Ok(0)
        })
    }

    extern "C" fn remove_callback(ddev: *mut bindings::dev_dax) {
        // SAFETY: The dax bus only calls remove with a valid `struct dev_dax`.
        //
        // INVARIANT: `ddev` is valid for the duration of `remove_callback()`.
        let ddev = unsafe { &*ddev.cast::<Device<device::CoreInternal<'_>>>() };

        // SAFETY: `remove_callback` only runs after a successful `probe_callback`, which stored
        // a `Pin<KBox<T::Data<'_>>>` with `set_drvdata()`; it is dropped only after this returns.
        let data = unsafe { ddev.as_ref().drvdata_borrow::<T::Data<'_>>() };

        T::unbind(ddev, data);
    }
}

/// A dax device (`struct dev_dax`).
///
/// # Invariants
///
/// A [`Device`] instance represents a valid `struct dev_dax` created by the C dax bus.
#[repr(transparent)]
pub(crate) struct Device<Ctx: device::DeviceContext = device::Normal>(
    Opaque<bindings::dev_dax>,
    PhantomData<Ctx>,
);

impl<Ctx: device::DeviceContext> Device<Ctx> {
    fn as_raw(&self) -> *mut bindings::dev_dax {
        self.0.get()
    }
}

impl Device<device::Core<'_>> {
    /// The NUMA node the device's memory belongs to (`target_node`); negative when firmware
    /// did not describe it.
    ///
    /// Only available at probe and unbind: it cannot change while a driver is bound.
    pub(crate) fn target_node(&self) -> c_int {
        // SAFETY: By the type invariant `as_raw()` is a valid `dev_dax`; the field is set
        // when the device is created.
        unsafe { (*self.as_raw()).target_node }
    }

    /// Whether the memmap of hot-added memory should be placed on the memory itself.
    pub(crate) fn memmap_on_memory(&self) -> bool {
        // SAFETY: As above; the dax bus refuses to change it while a kmem driver is bound.
        unsafe { (*self.as_raw()).memmap_on_memory }
    }

    /// Whether the device is being deleted (by its provider: a CXL region decommitted, a dax
    /// region's `delete`, the hmem platform device going away), not merely unbound (sysfs
    /// `unbind`, module removal). `device_del()` takes a device off its parent's list of
    /// children before it unbinds the driver; the dax device's own liveness flag cannot tell,
    /// as a device bound to kmem is always "dead" (`kill_dax()`: only device_dax runs it).
    pub(crate) fn is_being_deleted(&self) -> bool {
        extern "C" fn is_child(child: *mut kernel::bindings::device, dev: *mut c_void) -> c_int {
            c_int::from(child.cast::<c_void>() == dev)
        }
        // SAFETY: By the type invariant `as_raw()` is a valid `dev_dax`.
        let dev = unsafe { &raw mut (*self.as_raw()).dev };
        // SAFETY: `dev` is valid (above); its parent is set at creation and outlives it.
        let parent = unsafe { (*dev).parent };
        // Not a child of anything (the dax bus never makes such a device): nothing says it is
        // going away, and an unbind must not unplug on a guess.
        if parent.is_null() {
            return false;
        }
        // SAFETY: `parent` is a valid device (above); the callback only compares pointers, and
        // the children list is walked under its own lock.
        unsafe { kernel::bindings::device_for_each_child(parent, dev.cast(), Some(is_child)) == 0 }
    }

    /// The device that hosts the device's dax region, its parent (`hmem.0`; for CXL the
    /// `dax_regionN` under the CXL `regionN`), and that host's own parent, if any.
    pub(crate) fn region_host(&self) -> Option<(&device::Device, Option<&device::Device>)> {
        // SAFETY: By the type invariant `as_raw()` is a valid `dev_dax`; the dax bus creates
        // every device with its region's host device as parent, set at creation (NULL only
        // for a device the bus did not make, which `is_being_deleted()` allows for too).
        let host = unsafe { (*self.as_raw()).dev.parent };
        if host.is_null() {
            return None;
        }
        // SAFETY: `host` is a valid device (above); its `parent` is set at creation.
        let up = unsafe { (*host).parent };
        // SAFETY: A device holds a reference on its parent, so `host` and a non-NULL `up` are
        // valid devices that outlive `self`.
        unsafe {
            Some((
                device::Device::from_raw(host),
                (!up.is_null()).then(|| device::Device::from_raw(up)),
            ))
        }
    }

    /// Copies the device's physical ranges (`mapping0`, `mapping1`, ...), in order, as memory
    /// that this driver may hot-add.
    ///
    /// Only kmem-type drivers exist ([`DriverType`]): the ranges of a device such a driver is
    /// probing are what its provider (hmem, CXL, a pmem namespace in devdax mode) offers as
    /// System RAM, and nothing else uses them while the device is bound to the driver.
    pub(crate) fn ranges(&self) -> Result<KVec<HotplugRange>> {
        let raw = self.as_raw();
        // SAFETY: By the type invariant `raw` is a valid `dev_dax`. `nr_range` and `ranges` are
        // written under `dax_dev_rwsem` by `size_store()` (refused with -EBUSY while a driver is
        // bound) and by `mapping_store()`; `dax_bus_probe()` took and released that rwsem after
        // `really_probe()` set `dev->driver`. With the first patch of this driver's series
        // (`dax: bus: refuse mapping writes while a driver is bound`) `mapping_store()` refuses
        // too, so nothing changes them from then until unbind. Linux 7.3 as released lacks
        // that check: a root write to `mapping` racing this probe can `krealloc()` the array
        // under the read below, a bus bug that 7.3's C kmem shares (and that overflows its
        // `data->res[]` later); this driver reads the array here only, and keeps its own copy.
        let n = usize::try_from(unsafe { (*raw).nr_range }).map_err(|_| EINVAL)?;
        let mut out = KVec::with_capacity(n, GFP_KERNEL)?;
        for i in 0..n {
            // SAFETY: `ranges` points to `nr_range` initialised entries (as above).
            let r = unsafe { (*(*raw).ranges.add(i)).range };
            let r = Range {
                start: r.start,
                end: r.end,
            };
            if r.is_empty() {
                return Err(EINVAL);
            }
            // SAFETY: `r` is a non-empty range of a dax device that a kmem-type driver (the
            // only type there is) is probing: its provider offers it as System RAM to that
            // driver, and nothing else uses it while the driver is bound (the dax bus binds one
            // driver per device; device_dax, which maps it to user space, cannot bind now).
            out.push(unsafe { HotplugRange::new_unchecked(r) }, GFP_KERNEL)?;
        }
        Ok(out)
    }

    /// Takes over memory that an earlier kmem instance left added in `range` (one of
    /// [`Device::ranges`]' block-aligned ranges of this device) when it was unbound or unloaded
    /// while the memory was online: see [`AddedMemory::adopt_stranded`], whose reservation name
    /// is this device's name. `None` if there is none, or if `range` is not this device's.
    pub(crate) fn adopt_stranded(
        &self,
        range: &HotplugRange,
        ram_name: &CStr,
    ) -> Result<Option<AddedMemory>> {
        let want = range.range();
        if !self.ranges()?.iter().any(|r| {
            let r = r.range();
            r.start <= want.start && want.end <= r.end
        }) {
            return Ok(None);
        }
        let name = self.as_ref().name();
        // SAFETY: `range` lies inside a range of this device, which its kmem-type driver (the
        // caller) is probing, and `name` is the device's name: a matching reservation can only
        // have been left by an earlier kmem instance bound to this device, now gone (one driver
        // per device). Both kmem drivers name a reservation with a per-device `kmalloc()` copy
        // of the device name (C: `kstrdup(dev_name(dev))`). Resources below the reservation
        // are added and removed only by memory hotplug of the range, which only a kmem driver
        // bound to this device performs (`__add_memory_driver_managed()` is exported to the
        // module `kmem` only), i.e. the caller.
        Ok(unsafe { AddedMemory::adopt_stranded(range, name, ram_name) })
    }
}

impl Device {
    /// The number of ranges the device has now, read without the dax bus' lock
    /// (`READ_ONCE(dev_dax->nr_range)`), to notice that they changed under a bound driver.
    pub(crate) fn range_count(&self) -> usize {
        // SAFETY: By the type invariant `as_raw()` is a valid `dev_dax` for as long as `self`
        // exists (it is reference-counted). The volatile read is `READ_ONCE()`: `nr_range` may
        // be written concurrently (under `dax_dev_rwsem`, which is private to the bus), and
        // any value read is a plain integer.
        let n = unsafe { core::ptr::read_volatile(&raw const (*self.as_raw()).nr_range) };
        usize::try_from(n).unwrap_or(0)
    }
}

// SAFETY: `dax::Device` is a transparent wrapper of `struct dev_dax`, whose embedded
// `struct device` is at the offset of `dev`.
unsafe impl<Ctx: device::DeviceContext> device::AsBusDevice<Ctx> for Device<Ctx> {
    const OFFSET: usize = offset_of!(bindings::dev_dax, dev);
}

// SAFETY: `Device` is a transparent wrapper of a type that does not depend on its generic
// argument.
kernel::impl_device_context_deref!(unsafe { Device });
kernel::impl_device_context_into_aref!(Device);

// SAFETY: Instances of `Device` are always reference-counted: a `struct dev_dax` is freed by
// the release function of its embedded `struct device` (`dev_dax_release()`), when the last
// reference is put.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference guarantees that the refcount is non-zero,
        // and `self.as_raw()` is a valid `struct dev_dax` (type invariant).
        unsafe { kernel::bindings::get_device(&raw mut (*self.as_raw()).dev) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // CAST: `Self` is a transparent wrapper of `bindings::dev_dax`.
        let ddev: *mut bindings::dev_dax = obj.cast().as_ptr();

        // SAFETY: By the type invariant of `Self`, `ddev` points to a valid `struct dev_dax`.
        let dev = unsafe { &raw mut (*ddev).dev };

        // SAFETY: The safety requirements guarantee that the refcount is non-zero.
        unsafe { kernel::bindings::put_device(dev) }
    }
}

impl<Ctx: device::DeviceContext> AsRef<device::Device<Ctx>> for Device<Ctx> {
    fn as_ref(&self) -> &device::Device<Ctx> {
        // SAFETY: By the type invariant of `Self`, `self.as_raw()` is a valid `struct dev_dax`,
        // so `dev` is a valid `struct device` that lives as long as `self`.
        let dev = unsafe { &raw mut (*self.as_raw()).dev };

        // SAFETY: `dev` points to a valid `struct device` (see above).
        unsafe { device::Device::from_raw(dev) }
    }
}

// SAFETY: A `Device` is always reference-counted (see `AlwaysRefCounted` above) and can be
// released from any thread.
unsafe impl Send for Device {}

// SAFETY: `Device` can be shared among threads because all methods of `Device` (i.e.
// `Device<Normal>`) are thread safe.
unsafe impl Sync for Device {}

// SAFETY: Same as `Device<Normal>`: the underlying `struct dev_dax` is the same; `Bound` is a
// zero-sized type-state marker that does not affect thread safety.
unsafe impl Sync for Device<device::Bound> {}

/// Declares a kernel module that exposes a single dax driver.
///
/// ```ignore
/// kernel::module_dax_driver! {
///     type: MyDriver,
///     name: "my_dax",
///     authors: ["..."],
///     description: "...",
///     license: "GPL v2",
/// }
/// ```
#[allow(unused_macros)]
macro_rules! module_dax_driver {
    ($($f:tt)*) => {
        ::kernel::module_driver!(<T>, $crate::kernel_ext::dax::Adapter<T>, { $($f)* });
    };
}
#[allow(unused_imports)]
pub(crate) use module_dax_driver;
