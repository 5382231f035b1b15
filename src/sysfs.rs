// SPDX-License-Identifier: GPL-2.0

//! Driver-level device attributes (`struct device_driver::dev_groups`).
//!
//! The driver core creates a driver's `dev_groups` files after a successful probe (after the
//! adapter stored the driver data) and removes them before `remove()`, draining every
//! in-flight `show`/`store` first (`drivers/base/dd.c`, `kernfs_drain()`). So while a callback
//! runs, the device is bound and its driver data is alive: that is the whole safety argument of
//! this module, and it holds only because attributes are reachable through
//! [`dax::Driver::DEV_GROUPS`] of the driver whose data they read, which
//! [`dev_attribute_groups!`] enforces by type.
//!
//! C headers: [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h),
//! [`include/linux/device.h`](srctree/include/linux/device.h)

use crate::dax;
use core::marker::PhantomData;
use kernel::{
    bindings,
    device,
    prelude::*,
    str::Formatter,
    types::Opaque, //
};

/// The data an attribute of driver `D` operates on.
pub(crate) type DataOf<D> = <D as dax::Driver>::Data;

/// The operations of one read-write device attribute.
pub(crate) trait AttributeOperations {
    /// The driver whose per-device data backs the attribute.
    type Driver: dax::Driver;

    /// Renders the attribute into `f` (at most one page).
    fn show(data: &DataOf<Self::Driver>, f: &mut Formatter<'_>) -> Result;

    /// Applies a write; `buf` is what userspace wrote (it may end in a newline, and sysfs
    /// NUL-terminates it after `buf.len()` bytes).
    fn store(data: &DataOf<Self::Driver>, buf: &[u8]) -> Result;
}

/// A `struct device_attribute` (mode 0644) whose callbacks dispatch to `O`.
///
/// # Invariants
///
/// Only reachable through the `dev_groups` of `dax::Adapter<O::Driver>`, whose probe stores a
/// `Pin<KBox<DataOf<O::Driver>>>` as drvdata before the group is created.
#[repr(transparent)]
pub(crate) struct Attribute<O> {
    attr: Opaque<bindings::device_attribute>,
    _ops: PhantomData<O>,
}

// SAFETY: The attribute is never mutated after construction; C only reads it.
unsafe impl<O> Sync for Attribute<O> {}

impl<O: AttributeOperations> Attribute<O> {
    /// Owner read-write, group and others read-only, as `DEVICE_ATTR_RW()`.
    const MODE: u16 = 0o644;

    /// Creates the attribute `name`. It can only be listed in the groups of `O::Driver`.
    pub(crate) const fn new(name: &'static CStr) -> Self {
        const {
            assert!(
                Self::MODE & 0o002 == 0,
                "sysfs rejects world-writable attributes"
            )
        };
        let mut a: bindings::device_attribute = pin_init::zeroed();
        a.attr.name = kernel::str::as_char_ptr_in_const_context(name);
        a.attr.mode = Self::MODE;
        // Field assignment works whether `__SYSFS_FUNCTION_ALTERNATIVE` produced a union
        // (!CONFIG_CFI) or a struct (CONFIG_CFI); `dev_attr_show()` uses `show` when set.
        a.__bindgen_anon_1.show = Some(Self::show);
        a.__bindgen_anon_2.store = Some(Self::store);
        Self {
            attr: Opaque::new(a),
            _ops: PhantomData,
        }
    }

    /// # Safety
    ///
    /// Called by sysfs with a device bound to `O::Driver` (type invariant) and a page buffer.
    unsafe extern "C" fn show(
        dev: *mut bindings::device,
        _attr: *mut bindings::device_attribute,
        buf: *mut c_char,
    ) -> isize {
        // SAFETY: sysfs passes a live `struct device`; by the type invariant it is bound to
        // `O::Driver` for the whole call (the group is created after probe and drained before
        // remove), which is what `BoundInternal` requires.
        let dev = unsafe { device::Device::<device::BoundInternal>::from_raw(dev) };
        // SAFETY: By the type invariant drvdata is a `Pin<KBox<DataOf<O::Driver>>>` that is
        // dropped only after this call returns.
        let data = unsafe { dev.drvdata_borrow::<DataOf<O::Driver>>() };
        // SAFETY: sysfs provides a buffer of `PAGE_SIZE` bytes, exclusively ours for the call.
        let page =
            unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), kernel::page::PAGE_SIZE) };
        let mut f = Formatter::new(page);
        match O::show(&data, &mut f) {
            Ok(()) => isize::try_from(f.bytes_written()).unwrap_or(isize::MAX),
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// Called by sysfs with a device bound to `O::Driver` (type invariant) and `count` bytes.
    unsafe extern "C" fn store(
        dev: *mut bindings::device,
        _attr: *mut bindings::device_attribute,
        buf: *const c_char,
        count: usize,
    ) -> isize {
        // SAFETY: As in `show`.
        let dev = unsafe { device::Device::<device::BoundInternal>::from_raw(dev) };
        // SAFETY: As in `show`.
        let data = unsafe { dev.drvdata_borrow::<DataOf<O::Driver>>() };
        // SAFETY: sysfs passes `count` readable bytes, valid for the whole call.
        let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
        match O::store(&data, input) {
            Ok(()) => isize::try_from(count).unwrap_or(isize::MAX),
            Err(e) => e.to_errno() as isize,
        }
    }
}

/// A pointer to an attribute of driver `D`, for an [`AttributeList<D, N>`].
pub(crate) struct AttrPtr<D: ?Sized>(*mut bindings::attribute, PhantomData<fn(&D)>);

impl<D: ?Sized> Clone for AttrPtr<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D: ?Sized> Copy for AttrPtr<D> {}

impl<O: AttributeOperations> Attribute<O> {
    /// The embedded `struct attribute`, typed by the driver whose data it reads.
    pub(crate) const fn as_ptr(&'static self) -> AttrPtr<O::Driver> {
        // CAST: `attr` is the first field of the `repr(C)` `struct device_attribute`.
        AttrPtr(self.attr.get().cast(), PhantomData)
    }
}

/// A NULL-terminated array of the attributes of driver `D`.
///
/// # Invariants
///
/// `attrs` followed by `null` is a NULL-terminated `struct attribute *` array, and every entry
/// is an [`Attribute<O>`] with `O::Driver == D`.
#[repr(C)]
pub(crate) struct AttributeList<D: ?Sized, const N: usize> {
    attrs: [*mut bindings::attribute; N],
    null: *mut bindings::attribute,
    _driver: PhantomData<fn(&D)>,
}

// SAFETY: The list is never mutated after construction; C only reads it.
unsafe impl<D: ?Sized, const N: usize> Sync for AttributeList<D, N> {}

impl<D: ?Sized, const N: usize> AttributeList<D, N> {
    /// Creates the list.
    pub(crate) const fn new(list: [AttrPtr<D>; N]) -> Self {
        let mut attrs = [core::ptr::null_mut(); N];
        let mut i = 0;
        while i < N {
            attrs[i] = list[i].0;
            i += 1;
        }
        // INVARIANT: `repr(C)` lays `null` out right after `attrs` (same alignment, no
        // padding); every entry came from an `AttrPtr<D>`.
        Self {
            attrs,
            null: core::ptr::null_mut(),
            _driver: PhantomData,
        }
    }
}

/// One unnamed attribute group of driver `D`.
///
/// # Invariants
///
/// Every attribute in the group belongs to `D` (it is built from an [`AttributeList<D, N>`]).
#[repr(transparent)]
pub(crate) struct AttributeGroup<D: ?Sized>(Opaque<bindings::attribute_group>, PhantomData<fn(&D)>);

// SAFETY: Never mutated after construction; C only reads it.
unsafe impl<D: ?Sized> Sync for AttributeGroup<D> {}

impl<D: ?Sized> AttributeGroup<D> {
    /// Creates a group around `list`.
    pub(crate) const fn new<const N: usize>(list: &'static AttributeList<D, N>) -> Self {
        let mut g: bindings::attribute_group = pin_init::zeroed();
        // CAST: `AttributeList` starts with its NULL-terminated pointer array (`repr(C)`).
        g.__bindgen_anon_2.attrs = core::ptr::from_ref(list).cast_mut().cast();
        Self(Opaque::new(g), PhantomData)
    }
}

/// The `dev_groups` of driver `D`: a NULL-terminated array of its groups.
pub(crate) struct AttributeGroups<D: ?Sized>(
    [*const bindings::attribute_group; 2],
    PhantomData<fn(&D)>,
);

// SAFETY: Never mutated after construction; C only reads it.
unsafe impl<D: ?Sized> Sync for AttributeGroups<D> {}

impl<D: ?Sized> AttributeGroups<D> {
    /// Creates the array around `group`.
    pub(crate) const fn new(group: &'static AttributeGroup<D>) -> Self {
        Self([group.0.get().cast_const(), core::ptr::null()], PhantomData)
    }

    /// The NULL-terminated array for `device_driver::dev_groups`.
    pub(crate) fn as_ptr(&'static self) -> *mut *const bindings::attribute_group {
        self.0.as_ptr().cast_mut()
    }
}

/// Declares the `dev_groups` of a dax driver: one static attribute per `name: Ops` pair, each
/// of which must have `Ops::Driver` equal to the driver (checked by type).
///
/// ```ignore
/// dev_attribute_groups!(KMEM_GROUPS: KmemDriver { state: StateAttr });
/// ```
macro_rules! dev_attribute_groups {
    ($name:ident: $driver:ty { $($attr:ident: $ops:ty),+ $(,)? }) => {
        static $name: $crate::sysfs::AttributeGroups<$driver> = {
            $(
                #[allow(non_upper_case_globals)]
                static $attr: $crate::sysfs::Attribute<$ops> =
                    $crate::sysfs::Attribute::new(::kernel::c_str!(stringify!($attr)));
            )+
            static LIST: $crate::sysfs::AttributeList<$driver, { [$(stringify!($attr)),+].len() }> =
                $crate::sysfs::AttributeList::new([$($attr.as_ptr()),+]);
            static GROUP: $crate::sysfs::AttributeGroup<$driver> =
                $crate::sysfs::AttributeGroup::new(&LIST);
            $crate::sysfs::AttributeGroups::new(&GROUP)
        };
    };
}
pub(crate) use dev_attribute_groups;
