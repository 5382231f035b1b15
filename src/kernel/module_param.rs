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
                pr_warn!(
                    "invalid parameter value {}; expected one of {}\n",
                    kernel::str::BStr::from_bytes(shown),
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
        let name = this.get().name().as_bytes();
        let n = name.len();
        // SAFETY: `buf` has room for `PAGE_SIZE` bytes and the name is far shorter.
        unsafe {
            core::ptr::copy_nonoverlapping(name.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = b'\n';
            *buf.add(n + 1) = 0;
        }
        (n + 1) as c_int
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
    /// Describes parameter `name` with mode `perm`, stored in `param`.
    pub(crate) const fn new<T: ParamEnum>(
        name: &'static CStr,
        perm: u16,
        param: &'static EnumParam<T>,
        ops: &'static kernel::bindings::kernel_param_ops,
    ) -> Self {
        assert!(
            perm & 0o002 == 0,
            "world-writable parameters are refused by the kernel"
        );
        Self(kernel::bindings::kernel_param {
            name: kernel::str::as_char_ptr_in_const_context(name),
            mod_: this_module(),
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

/// The `mod` of a parameter: `THIS_MODULE`, which is NULL when the driver is built in.
const fn this_module() -> *mut kernel::bindings::module {
    #[cfg(MODULE)]
    {
        // `__this_module` is set up by the module loader and lives as long as the module,
        // which is as long as its parameters; only its address is taken here.
        (&raw const kernel::bindings::__this_module).cast_mut()
    }
    #[cfg(not(MODULE))]
    {
        core::ptr::null_mut()
    }
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
/// module_param_enum!("kmem", GUARD: GuardMode = 1, "guard", 0o644, "which blocks are guarded");
/// ```
macro_rules! module_param_enum {
    ($module:literal, $name:ident: $ty:ty = $default:expr, $pname:literal, $perm:expr,
     $desc:literal) => {
        pub(crate) static $name: $crate::kernel_ext::module_param::EnumParam<$ty> =
            $crate::kernel_ext::module_param::EnumParam::new($default);

        const _: () = {
            static OPS: ::kernel::bindings::kernel_param_ops =
                $crate::kernel_ext::module_param::EnumParam::<$ty>::OPS;
            // Built in, the name carries the module prefix (C's `MODULE_PARAM_PREFIX`): for
            // example `kmem.guard` on the command line and in /sys/module/kmem/parameters/guard.
            #[cfg(MODULE)]
            const NAME: &::kernel::str::CStr = ::kernel::c_str!($pname);
            #[cfg(not(MODULE))]
            const NAME: &::kernel::str::CStr = ::kernel::c_str!(concat!($module, ".", $pname));
            #[allow(unsafe_code)]
            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: $crate::kernel_ext::module_param::KernelParam =
                $crate::kernel_ext::module_param::KernelParam::new(NAME, $perm, &$name, &OPS);
        };
        $crate::kernel_ext::module_param::modinfo!($module, "parmtype", concat!($pname, ":charp"));
        $crate::kernel_ext::module_param::modinfo!($module, "parm", concat!($pname, ":", $desc));
    };
}
pub(crate) use module_param_enum;
