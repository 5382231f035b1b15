// SPDX-License-Identifier: GPL-2.0

//! Driver-level device attributes (`struct device_driver::dev_groups`), for any bus.
//!
//! The driver core creates a driver's `dev_groups` files after a successful probe (after the
//! bus adapter stored the driver data) and removes them before `remove()`, draining every
//! in-flight `show`/`store` first (`drivers/base/dd.c`, `kernfs_drain()`). So while a callback
//! runs, the device is bound and its driver data is alive: that is the whole safety argument of
//! this module. It holds because an attribute that reads data of the family `F` (a [`ForLt`]:
//! the driver's data type for any lifetime of the binding) can only be listed in
//! [`AttributeGroups<F>`], and a bus adapter only installs the `AttributeGroups<F>` of a driver
//! whose driver data is a `Pin<KBox<F::Of<'bound>>>` (see [`AttributeGroups::attach`]).
//!
//! The callbacks are higher-ranked over that lifetime: they see the data as `F::Of<'_>`, for a
//! lifetime no longer than the call, and the bound device for the call only, so nothing that
//! borrows the device can leave a callback.
//!
//! C headers: [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h),
//! [`include/linux/device.h`](srctree/include/linux/device.h)

use core::marker::PhantomData;
use kernel::{
    device,
    error::VTABLE_DEFAULT_ERROR,
    prelude::*,
    str::Formatter,
    types::{
        ForLt,
        Opaque, //
    },
};

/// The operations of one device attribute.
///
/// An attribute without `store` is read-only (`0444`), one with it is writable by its owner
/// (`0644`), as `DEVICE_ATTR_RO()` and `DEVICE_ATTR_RW()` make them.
#[vtable]
pub(crate) trait AttributeOperations {
    /// The family of the driver data of the device, which the callbacks read: the data of a
    /// binding of any lifetime is `Data::Of<'bound>`.
    type Data: ForLt + 'static;

    /// Renders the attribute into `f` (at most one page). `dev` is bound for the call.
    fn show(
        dev: &device::Device<device::Bound>,
        data: &<Self::Data as ForLt>::Of<'_>,
        f: &mut Formatter<'_>,
    ) -> Result;

    /// Applies a write; `buf` is what userspace wrote (it may end in a newline, and sysfs
    /// NUL-terminates it after `buf.len()` bytes). `dev` is bound for the call.
    fn store(
        _dev: &device::Device<device::Bound>,
        _data: &<Self::Data as ForLt>::Of<'_>,
        _buf: &[u8],
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A `struct device_attribute` whose callbacks dispatch to `O`.
///
/// # Invariants
///
/// Only reachable through an [`AttributeGroups<O::Data>`] installed by a bus adapter whose probe
/// stores a `Pin<KBox<<O::Data as ForLt>::Of<'bound>>>` as drvdata before the group is created.
#[repr(transparent)]
pub(crate) struct Attribute<O> {
    attr: Opaque<kernel::bindings::device_attribute>,
    _ops: PhantomData<O>,
}

// SAFETY: The attribute is never mutated after construction; C only reads it.
unsafe impl<O> Sync for Attribute<O> {}

impl<O: AttributeOperations> Attribute<O> {
    /// `0644` with a `store`, else `0444`.
    const MODE: u16 = if O::HAS_STORE { 0o644 } else { 0o444 };

    /// Creates the attribute `name`. It can only be listed in an [`AttributeList<O::Data, N>`].
    pub(crate) const fn new(name: &'static CStr) -> Self {
        let mut a: kernel::bindings::device_attribute = pin_init::zeroed();
        a.attr.name = kernel::str::as_char_ptr_in_const_context(name);
        a.attr.mode = Self::MODE;
        // Field assignment works whether `__SYSFS_FUNCTION_ALTERNATIVE` produced a union
        // (!CONFIG_CFI) or a struct (CONFIG_CFI); `dev_attr_show()` uses `show` when set.
        a.__bindgen_anon_1.show = Some(Self::show);
        if O::HAS_STORE {
            a.__bindgen_anon_2.store = Some(Self::store);
        }
        Self {
            attr: Opaque::new(a),
            _ops: PhantomData,
        }
    }

    /// # Safety
    ///
    /// Called by sysfs with a device whose drvdata is a `Pin<KBox<<O::Data as ForLt>::Of<'_>>>`
    /// (type invariant) and a page buffer.
    unsafe extern "C" fn show(
        dev: *mut kernel::bindings::device,
        _attr: *mut kernel::bindings::device_attribute,
        buf: *mut c_char,
    ) -> isize {
        // SAFETY: sysfs passes a live `struct device`; by the type invariant it is bound for the
        // whole call (the group is created after probe and drained before remove), which is
        // what `BoundInternal` requires.
        let dev = unsafe { device::Device::<device::BoundInternal>::from_raw(dev) };
        // SAFETY: By the type invariant drvdata is a `Pin<KBox<<O::Data as ForLt>::Of<'bound>>>`
        // that is dropped only after this call returns. It is borrowed as `Of<'_>` for a
        // lifetime local to this call: `O::show` is generic over it, so it cannot keep anything
        // of that lifetime (the device's borrow) beyond the call.
        let data = unsafe { dev.drvdata_borrow::<<O::Data as ForLt>::Of<'_>>() };
        // SAFETY: sysfs provides a buffer of `PAGE_SIZE` bytes, exclusively ours for the call.
        let page =
            unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), kernel::page::PAGE_SIZE) };
        let mut f = Formatter::new(page);
        match O::show(dev, &data, &mut f) {
            Ok(()) => isize::try_from(f.bytes_written()).unwrap_or(isize::MAX),
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// As for `show`, with `count` readable bytes at `buf`.
    unsafe extern "C" fn store(
        dev: *mut kernel::bindings::device,
        _attr: *mut kernel::bindings::device_attribute,
        buf: *const c_char,
        count: usize,
    ) -> isize {
        // SAFETY: As in `show`.
        let dev = unsafe { device::Device::<device::BoundInternal>::from_raw(dev) };
        // SAFETY: As in `show`.
        let data = unsafe { dev.drvdata_borrow::<<O::Data as ForLt>::Of<'_>>() };
        // SAFETY: sysfs passes `count` readable bytes, valid for the whole call.
        let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
        match O::store(dev, &data, input) {
            Ok(()) => isize::try_from(count).unwrap_or(isize::MAX),
            Err(e) => e.to_errno() as isize,
        }
    }

    /// The embedded `struct attribute`, typed by the data it reads.
    pub(crate) const fn as_ptr(&'static self) -> AttrPtr<O::Data> {
        // CAST: `attr` is the first field of the `repr(C)` `struct device_attribute`.
        AttrPtr(self.attr.get().cast(), PhantomData)
    }
}

/// A pointer to an attribute that reads data of type `T`, for an [`AttributeList<T, N>`].
pub(crate) struct AttrPtr<T: ?Sized>(*mut kernel::bindings::attribute, PhantomData<fn(&T)>);

impl<T: ?Sized> Clone for AttrPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for AttrPtr<T> {}

/// A NULL-terminated array of attributes that read data of type `T`.
///
/// # Invariants
///
/// `attrs` followed by `null` is a NULL-terminated `struct attribute *` array, and every entry
/// is an [`Attribute<O>`] with `O::Data == T`.
#[repr(C)]
pub(crate) struct AttributeList<T: ?Sized, const N: usize> {
    attrs: [*mut kernel::bindings::attribute; N],
    null: *mut kernel::bindings::attribute,
    _data: PhantomData<fn(&T)>,
}

// SAFETY: The list is never mutated after construction; C only reads it.
unsafe impl<T: ?Sized, const N: usize> Sync for AttributeList<T, N> {}

impl<T: ?Sized, const N: usize> AttributeList<T, N> {
    /// Creates the list.
    pub(crate) const fn new(list: [AttrPtr<T>; N]) -> Self {
        let mut attrs = [core::ptr::null_mut(); N];
        let mut i = 0;
        while i < N {
            attrs[i] = list[i].0;
            i += 1;
        }
        // CAST: `repr(C)` lays `null` out right after `attrs` (same alignment, no padding), so
        // C sees one NULL-terminated array.
        // INVARIANT: Every entry came from an `AttrPtr<T>`.
        Self {
            attrs,
            null: core::ptr::null_mut(),
            _data: PhantomData,
        }
    }
}

/// One unnamed attribute group whose attributes read data of type `T`.
///
/// # Invariants
///
/// Every attribute in the group reads `T` (it is built from an [`AttributeList<T, N>`]).
#[repr(transparent)]
pub(crate) struct AttributeGroup<T: ?Sized>(
    Opaque<kernel::bindings::attribute_group>,
    PhantomData<fn(&T)>,
);

// SAFETY: Never mutated after construction; C only reads it.
unsafe impl<T: ?Sized> Sync for AttributeGroup<T> {}

impl<T: ?Sized> AttributeGroup<T> {
    /// Creates a group around `list`.
    pub(crate) const fn new<const N: usize>(list: &'static AttributeList<T, N>) -> Self {
        let mut g: kernel::bindings::attribute_group = pin_init::zeroed();
        // CAST: `AttributeList` starts with its NULL-terminated pointer array (`repr(C)`).
        g.__bindgen_anon_2.attrs = core::ptr::from_ref(list).cast_mut().cast();
        Self(Opaque::new(g), PhantomData)
    }
}

/// The `dev_groups` of a driver whose driver data is `T`: a NULL-terminated array of groups.
pub(crate) struct AttributeGroups<T: ?Sized>(
    [*const kernel::bindings::attribute_group; 2],
    PhantomData<fn(&T)>,
);

// SAFETY: Never mutated after construction; C only reads it.
unsafe impl<T: ?Sized> Sync for AttributeGroups<T> {}

impl<T: ?Sized> AttributeGroups<T> {
    /// Creates the array around `group`.
    pub(crate) const fn new(group: &'static AttributeGroup<T>) -> Self {
        Self([group.0.get().cast_const(), core::ptr::null()], PhantomData)
    }

    /// Installs the groups as the `dev_groups` of `drv`.
    ///
    /// # Safety
    ///
    /// `drv` is the `struct device_driver` of a driver that is not registered yet, whose bus
    /// adapter stores a `Pin<KBox<T::Of<'bound>>>` (`T` a [`ForLt`]) as drvdata of every device
    /// it binds, before the driver core creates the groups.
    pub(crate) unsafe fn attach(&'static self, drv: *mut kernel::bindings::device_driver) {
        // SAFETY: `drv` is valid and not yet visible to the driver core (caller's guarantee).
        unsafe { (*drv).dev_groups = self.0.as_ptr().cast_mut() };
    }
}

/// Declares the `dev_groups` of a driver whose driver data is `$data`: one static attribute
/// per `name: Ops` pair, each of which must have `Ops::Data` equal to `$data` (checked by type).
///
/// ```ignore
/// dev_attribute_groups!(KMEM_GROUPS: KmemDevice { state: StateAttr });
/// ```
macro_rules! dev_attribute_groups {
    ($name:ident: $data:ty { $($attr:ident: $ops:ty),+ $(,)? }) => {
        static $name: $crate::kernel_ext::device::attribute::AttributeGroups<$data> = {
            use $crate::kernel_ext::device::attribute as attr;
            $(
                #[allow(non_upper_case_globals)]
                static $attr: attr::Attribute<$ops> =
                    attr::Attribute::new(::kernel::c_str!(stringify!($attr)));
            )+
            static LIST: attr::AttributeList<$data, { [$(stringify!($attr)),+].len() }> =
                attr::AttributeList::new([$($attr.as_ptr()),+]);
            static GROUP: attr::AttributeGroup<$data> = attr::AttributeGroup::new(&LIST);
            attr::AttributeGroups::new(&GROUP)
        };
    };
}
pub(crate) use dev_attribute_groups;
