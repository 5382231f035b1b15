// SPDX-License-Identifier: GPL-2.0

//! Runtime-writable module parameters whose value is one of a fixed set of words.
//!
//! The kernel crate's `module!` parameters are read-only and invisible in sysfs; this one
//! appears as `/sys/module/<module>/parameters/<name>` with the given mode, can be set at load
//! and at run time, and rejects an unknown word with `EINVAL` (and a log line).
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)

use core::marker::PhantomData;
use kernel::{
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
    ThisModule,
};

/// A parameter value: one of `ALL`, shown and parsed by name.
pub(crate) trait ParamEnum: Copy + PartialEq + 'static {
    /// Every value, in a fixed order.
    const ALL: &'static [Self];
    /// The value's name.
    fn name(self) -> &'static str;
    /// Parses a name (sysfs rules: one trailing newline allowed).
    fn parse(buf: &[u8]) -> Option<Self>;
}

/// The storage of a [`ParamEnum`] parameter: an index into `T::ALL`.
pub(crate) struct EnumParam<T: ParamEnum> {
    index: Atomic<u32>,
    _t: PhantomData<T>,
}

impl<T: ParamEnum> EnumParam<T> {
    /// A parameter holding `T::ALL[default]`.
    pub(crate) const fn new(default: usize) -> Self {
        assert!(default < T::ALL.len());
        Self {
            index: Atomic::new(default as u32),
            _t: PhantomData,
        }
    }

    /// The current value.
    pub(crate) fn get(&self) -> T {
        let i = self.index.load(Relaxed) as usize;
        T::ALL[i.min(T::ALL.len() - 1)]
    }

    fn set(&self, buf: &[u8]) -> Result {
        let v = T::parse(buf).ok_or(EINVAL)?;
        let i = T::ALL.iter().position(|x| *x == v).ok_or(EINVAL)?;
        self.index.store(i as u32, Relaxed);
        Ok(())
    }

    /// `kernel_param_ops::set`.
    ///
    /// # Safety
    ///
    /// Called by the module-parameter code with `kp` from [`module_param_enum!`], whose `arg`
    /// points to a static `EnumParam<T>`, and `val` NULL or a NUL-terminated string.
    unsafe extern "C" fn set_cb(
        val: *const c_char,
        kp: *const kernel::bindings::kernel_param,
    ) -> c_int {
        if val.is_null() {
            return EINVAL.to_errno();
        }
        // SAFETY: `val` is a NUL-terminated string valid for the call (caller's guarantee).
        let text = unsafe { CStr::from_char_ptr(val) };
        // SAFETY: `kp` is valid and its `arg` is a `&'static EnumParam<T>` (caller's guarantee).
        let this = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Self>() };
        match this.set(text.to_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                let names = T::ALL.iter().map(|v| v.name());
                let bytes = text.to_bytes();
                let shown = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                // At most the first 32 bytes of the value (a write may be a whole page).
                const SHOWN: usize = 32;
                let (head, cut) = match shown.get(..SHOWN) {
                    Some(head) if shown.len() > SHOWN => (head, true),
                    _ => (shown, false),
                };
                pr_warn!(
                    "invalid parameter value {}{}; expected one of {}\n",
                    kernel::str::BStr::from_bytes(head),
                    if cut { "... (truncated)" } else { "" },
                    NameList(names)
                );
                e.to_errno()
            }
        }
    }

    /// `kernel_param_ops::get`: the current name and a newline.
    ///
    /// # Safety
    ///
    /// As for `set_cb`; `buf` is a page-sized buffer.
    unsafe extern "C" fn get_cb(
        buf: *mut c_char,
        kp: *const kernel::bindings::kernel_param,
    ) -> c_int {
        // SAFETY: As in `set_cb`.
        let this = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Self>() };
        // SAFETY: `buf` is a page, exclusively ours for the call (caller's guarantee).
        let page =
            unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), kernel::page::PAGE_SIZE) };
        show_name(page, this.get().name())
    }

    /// The operations for this parameter type.
    pub(crate) const OPS: kernel::bindings::kernel_param_ops = kernel::bindings::kernel_param_ops {
        flags: 0,
        set: Some(Self::set_cb),
        get: Some(Self::get_cb),
        free: None,
    };

    /// The `arg` of the parameter's `kernel_param`.
    pub(crate) const fn as_arg(&'static self) -> *mut c_void {
        core::ptr::from_ref(self).cast_mut().cast()
    }
}

/// Writes `name`, a newline and a NUL into `page` (as `sysfs_emit(page, "%s\n", name)` does,
/// truncating a name that does not fit); returns the length without the NUL.
fn show_name(page: &mut [u8], name: &str) -> c_int {
    let Some(room) = page.len().checked_sub(2) else {
        return 0;
    };
    let name = name.as_bytes();
    let n = name.len().min(room);
    page[..n].copy_from_slice(&name[..n]);
    page[n] = b'\n';
    page[n + 1] = 0;
    c_int::try_from(n + 1).unwrap_or(c_int::MAX)
}

/// Formats names as "a, b, c".
struct NameList<I>(I);

impl<I: Iterator<Item = &'static str> + Clone> kernel::fmt::Display for NameList<I> {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        for (i, n) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(n)?;
        }
        Ok(())
    }
}

/// A `struct kernel_param` placed in the module's `__param` section.
#[repr(transparent)]
pub(crate) struct KernelParam(kernel::bindings::kernel_param);

// SAFETY: The parameter is only read by the module-parameter code; its value lives behind
// `arg` in an atomic.
unsafe impl Sync for KernelParam {}

impl KernelParam {
    /// Describes parameter `name` of `module` with mode `perm`, stored in `param`.
    ///
    /// `module` is the `THIS_MODULE` of the module that declares the parameter (NULL when it
    /// is built in), as C's `__module_param_call()` passes it.
    pub(crate) const fn new<T: ParamEnum>(
        name: &'static CStr,
        perm: u16,
        param: &'static EnumParam<T>,
        ops: &'static kernel::bindings::kernel_param_ops,
        module: &ThisModule,
    ) -> Self {
        assert!(
            perm & 0o002 == 0,
            "world-writable parameters are refused by the kernel"
        );
        Self(kernel::bindings::kernel_param {
            name: kernel::str::as_char_ptr_in_const_context(name),
            mod_: module.as_ptr(),
            ops,
            perm,
            level: -1,
            flags: 0,
            __bindgen_anon_1: kernel::bindings::kernel_param__bindgen_ty_1 {
                arg: param.as_arg(),
            },
        })
    }
}

/// The `mod` of the parameter `name` of `module` as the kernel registered it (the module's
/// `kp` array, which the loader sorts out of its `__param` section); `None` if `module` has no
/// such parameter, or is the kernel itself (built in: `THIS_MODULE` is NULL). For the KUnit
/// checks that a module's parameters are its own (only built with them).
#[cfg(CONFIG_KUNIT)]
pub(crate) fn registered_module(
    module: &ThisModule,
    name: &CStr,
) -> Option<*mut kernel::bindings::module> {
    let m = module.as_ptr();
    if m.is_null() {
        return None;
    }
    // SAFETY: A non-NULL `ThisModule` is a live, loaded module (its type invariant); `kp`
    // points to `num_kp` parameters, set by the loader and never changed afterwards.
    let kps = unsafe {
        let (kp, n) = ((*m).kp, (*m).num_kp);
        if kp.is_null() {
            return None;
        }
        core::slice::from_raw_parts(kp, n as usize)
    };
    kps.iter().find_map(|kp| {
        // SAFETY: Every registered parameter has a NUL-terminated static name.
        let n = unsafe { CStr::from_char_ptr(kp.name) };
        (n.to_bytes() == name.to_bytes()).then_some(kp.mod_)
    })
}

/// Implements [`ParamEnum`] for an enum with `ALL`, `as_str()` and `parse()`.
macro_rules! impl_param_enum {
    ($ty:ty) => {
        impl $crate::kernel_ext::module_param::ParamEnum for $ty {
            const ALL: &'static [Self] = &<$ty>::ALL;

            fn name(self) -> &'static str {
                self.as_str()
            }

            fn parse(buf: &[u8]) -> Option<Self> {
                <$ty>::parse(buf)
            }
        }
    };
}
pub(crate) use impl_param_enum;

/// Copies a string into a byte array of its length, at compile time.
pub(crate) const fn byte_array<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    assert!(b.len() == N);
    let mut a = [0u8; N];
    let mut i = 0;
    while i < N {
        a[i] = b[i];
        i += 1;
    }
    a
}

/// Places one `.modinfo` string (`field=value`, prefixed by `<module>.` when built in), as the
/// `module!` macro and C's `MODULE_INFO()` do.
macro_rules! modinfo {
    ($module:literal, $field:literal, $value:expr) => {
        const _: () = {
            #[cfg(MODULE)]
            const S: &str = concat!($field, "=", $value, "\0");
            #[cfg(not(MODULE))]
            const S: &str = concat!($module, ".", $field, "=", $value, "\0");
            // `link_section` counts as unsafe code: the section's consumer trusts its contents.
            #[allow(unsafe_code)]
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static INFO: [u8; S.len()] = $crate::kernel_ext::module_param::byte_array(S);
        };
    };
}
pub(crate) use modinfo;

/// Declares a runtime-writable module parameter backed by a [`ParamEnum`] type, with its
/// description for `modinfo -p` (C's `module_param_cb()` and `MODULE_PARM_DESC()`).
///
/// `$module` is the module's name (`KBUILD_MODNAME`), the prefix of the parameter's name when
/// the code is built in.
///
/// ```ignore
/// module_param_enum!("kmem", UNBIND: UnbindPolicy = 0, "unbind", 0o644, "what unbind does");
/// ```
// `crate::LocalModule` is the calling crate's module (see `PARAM` below), on purpose.
#[allow(clippy::crate_in_macro_def)]
macro_rules! module_param_enum {
    ($module:literal, $name:ident: $ty:ty = $default:expr, $pname:literal, $perm:expr,
     $desc:literal) => {
        pub(crate) static $name: $crate::kernel_ext::module_param::EnumParam<$ty> =
            $crate::kernel_ext::module_param::EnumParam::new($default);

        const _: () = {
            static OPS: ::kernel::bindings::kernel_param_ops =
                $crate::kernel_ext::module_param::EnumParam::<$ty>::OPS;
            // Built in, the name carries the module prefix (C's `MODULE_PARAM_PREFIX`): for
            // example `kmem.online_type` on the command line and in
            // /sys/module/kmem/parameters/online_type.
            #[cfg(MODULE)]
            const NAME: &::kernel::str::CStr = ::kernel::c_str!($pname);
            #[cfg(not(MODULE))]
            const NAME: &::kernel::str::CStr = ::kernel::c_str!(concat!($module, ".", $pname));
            #[allow(unsafe_code)]
            #[link_section = "__param"]
            #[used(compiler)]
            // `THIS_MODULE` of the crate that expands the macro (the driver's), not of the crate
            // that defines it: built in or as a module, as the kernel knows the driver.
            static PARAM: $crate::kernel_ext::module_param::KernelParam =
                $crate::kernel_ext::module_param::KernelParam::new(
                    NAME,
                    $perm,
                    &$name,
                    &OPS,
                    &<crate::LocalModule as ::kernel::ModuleMetadata>::THIS_MODULE,
                );
        };
        $crate::kernel_ext::module_param::modinfo!($module, "parmtype", concat!($pname, ":charp"));
        $crate::kernel_ext::module_param::modinfo!($module, "parm", concat!($pname, ":", $desc));
    };
}
pub(crate) use module_param_enum;

#[kunit_tests(rust_module_param)]
mod tests {
    use super::*;

    #[test]
    fn shown_names_fit_the_page() {
        let mut page = [0xffu8; 64];
        assert_eq!(show_name(&mut page, "owned"), 6);
        assert_eq!(&page[..7], b"owned\n\0");
        // A name longer than the page is cut, never written past it.
        let mut small = [0xffu8; 8];
        assert_eq!(show_name(&mut small, "online_movable"), 7);
        assert_eq!(&small, b"online\n\0");
        assert_eq!(show_name(&mut [0u8; 1], "a"), 0);
    }
}
