// SPDX-License-Identifier: GPL-2.0

//! Abstractions for the dax bus (`/sys/bus/dax`): driver registration and `struct dev_dax`.
//!
//! Follows the `Driver` / `Adapter<T>` / [`driver::Registration`] split of the kernel's bus
//! abstractions (`rust/kernel/auxiliary.rs`). Matching on the dax bus is by driver type and by
//! the bus' `new_id` list, so there is no id table.
//!
//! C headers: [`drivers/dax/bus.h`](srctree/drivers/dax/bus.h),
//! [`drivers/dax/dax-private.h`](srctree/drivers/dax/dax-private.h)

use crate::{
    ffi,
    state::Range,
    sysfs, //
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    pin::Pin, //
};
use kernel::{
    device,
    driver,
    error::{
        from_result,
        to_result, //
    },
    prelude::*,
    types::Opaque,
    ThisModule, //
};

/// The kind of dax driver (`enum dax_driver_type`); it decides which devices match by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DriverType {
    /// `DAXDRV_KMEM_TYPE`: devices of regions marked `IORESOURCE_DAX_KMEM` (hmem, CXL RAM).
    Kmem,
}

impl DriverType {
    const fn as_raw(self) -> ffi::dax_driver_type {
        match self {
            DriverType::Kmem => ffi::dax_driver_type_DAXDRV_KMEM_TYPE,
        }
    }
}

/// A dax bus driver.
pub(crate) trait Driver: 'static {
    /// The driver's per-device data. `Sync`, because sysfs callbacks may run concurrently.
    type Data: Send + Sync;

    /// The driver type, used by the bus to match devices.
    const TYPE: DriverType;

    /// Device attributes created after a successful probe and removed before unbind.
    const DEV_GROUPS: Option<&'static sysfs::AttributeGroups<Self>> = None;

    /// Binds the driver to `dev`.
    fn probe<'a>(dev: &'a Device<device::Core<'_>>) -> impl PinInit<Self::Data, Error> + 'a;

    /// Called when `dev` is unbound, before its data is dropped. Implementing it is optional.
    ///
    /// Teardown that cannot fail belongs in the data's `Drop`.
    fn unbind(dev: &Device<device::Core<'_>>, this: Pin<&Self::Data>) {
        let _ = (dev, this);
    }
}

/// An adapter for the registration of dax drivers.
pub(crate) struct Adapter<T: Driver>(T);

// SAFETY:
// - `ffi::dax_device_driver` is a bindgen-generated `repr(C)` struct.
// - `DriverData` is the type that `probe_callback` stores as drvdata.
// - `struct dax_device_driver` embeds a `struct device_driver` at the offset of `drv`.
unsafe impl<T: Driver> driver::DriverLayout for Adapter<T> {
    type DriverType = ffi::dax_device_driver;
    type DriverData<'bound> = T::Data;
    const DEVICE_DRIVER_OFFSET: usize = offset_of!(ffi::dax_device_driver, drv);
}

// SAFETY: `unregister` is only called by `driver::Registration` after a successful `register`.
unsafe impl<T: Driver> driver::RegistrationOps for Adapter<T> {
    unsafe fn register(
        ddrv: &Opaque<Self::DriverType>,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result {
        let groups = T::DEV_GROUPS.map_or(core::ptr::null(), |g| g.as_ptr());
        // SAFETY: The driver is not registered yet, so nothing else accesses it. The fields
        // set here are not touched by `driver::Registration` (it only sets `drv.p_cb`).
        unsafe {
            let d = ddrv.get();
            (*d).probe = Some(Self::probe_callback);
            (*d).remove = Some(Self::remove_callback);
            (*d).type_ = T::TYPE.as_raw();
            (*d).drv.dev_groups = groups;
        }
        // SAFETY: `ddrv` is a valid, pinned `dax_device_driver` (guaranteed by the caller until
        // `unregister`); `name` and `module` are static.
        to_result(unsafe {
            ffi::__dax_driver_register(ddrv.get(), module.as_ptr(), name.as_char_ptr())
        })
    }

    unsafe fn unregister(ddrv: &Opaque<Self::DriverType>) {
        // SAFETY: `ddrv` was registered by `register` (the caller's guarantee).
        unsafe { ffi::dax_driver_unregister(ddrv.get()) }
    }
}

impl<T: Driver> Adapter<T> {
    extern "C" fn probe_callback(ddev: *mut ffi::dev_dax) -> c_int {
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

    extern "C" fn remove_callback(ddev: *mut ffi::dev_dax) {
        // SAFETY: The dax bus only calls remove with a valid `struct dev_dax`.
        //
        // INVARIANT: `ddev` is valid for the duration of `remove_callback()`.
        let ddev = unsafe { &*ddev.cast::<Device<device::CoreInternal<'_>>>() };

        // SAFETY: `remove_callback` only runs after a successful `probe_callback`, which stored
        // a `Pin<KBox<T::Data>>` with `set_drvdata()`; it is dropped only after this returns.
        let data = unsafe { ddev.as_ref().drvdata_borrow::<T::Data>() };

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
    Opaque<ffi::dev_dax>,
    PhantomData<Ctx>,
);

impl<Ctx: device::DeviceContext> Device<Ctx> {
    fn as_raw(&self) -> *mut ffi::dev_dax {
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

    /// Copies the device's physical ranges (`mapping0`, `mapping1`, ...), in order.
    pub(crate) fn ranges(&self) -> Result<KVec<Range>> {
        let raw = self.as_raw();
        // SAFETY: As above; the bus refuses to resize a device while a driver is bound, so
        // `nr_range` and `ranges` are stable.
        let n = usize::try_from(unsafe { (*raw).nr_range }).map_err(|_| EINVAL)?;
        let mut out = KVec::with_capacity(n, GFP_KERNEL)?;
        for i in 0..n {
            // SAFETY: `ranges` points to `nr_range` initialised entries (as above).
            let r = unsafe { (*(*raw).ranges.add(i)).range };
            out.push(
                Range {
                    start: r.start,
                    end: r.end,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(out)
    }
}

// SAFETY: `Device` is a transparent wrapper of a type that does not depend on its generic
// argument.
kernel::impl_device_context_deref!(unsafe { Device });

impl<Ctx: device::DeviceContext> AsRef<device::Device<Ctx>> for Device<Ctx> {
    fn as_ref(&self) -> &device::Device<Ctx> {
        // SAFETY: By the type invariant of `Self`, `self.as_raw()` is a valid `struct dev_dax`,
        // so `dev` is a valid `struct device` that lives as long as `self`.
        let dev = unsafe { &raw mut (*self.as_raw()).dev };

        // SAFETY: `dev` points to a valid `struct device` (see above).
        unsafe { device::Device::from_raw(dev) }
    }
}

// SAFETY: A `Device` is always reference-counted and can be released from any thread.
unsafe impl Send for Device {}

// SAFETY: `Device` can be shared among threads because all methods of `Device` (i.e. `Device<Normal>`)
// are thread safe.
unsafe impl Sync for Device {}
