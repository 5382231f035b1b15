// SPDX-License-Identifier: GPL-2.0

//! Raw bindings to what `rust/bindings` of Linux 7.3 lacks: the private dax bus API, the
//! memory-block, memory-group and memory-tier API, and the driver's C helpers (`glue.c`),
//! generated at build time by the module-local bindgen step in `Kbuild`.
//!
//! Only the abstractions under `src/kernel/` use this module, and only for those items: what
//! the kernel crate already binds is written `kernel::bindings::...` where it is used. So every
//! `bindings::` name in the abstractions is one that an upstream series adds to
//! `rust/bindings/bindings_helper.h` (or, for `kmem_glue_*`, to `rust/helpers/`). Everything
//! the generated code refers to but does not define (`device`, `range`, `list_head`, ...)
//! resolves to [`kernel::bindings`] through the glob import inside `generated`.
//!
//! C headers: [`drivers/dax/bus.h`](srctree/drivers/dax/bus.h),
//! [`drivers/dax/dax-private.h`](srctree/drivers/dax/dax-private.h),
//! [`include/linux/memory.h`](srctree/include/linux/memory.h),
//! [`include/linux/memory-tiers.h`](srctree/include/linux/memory-tiers.h)

#[allow(
    warnings,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    unsafe_op_in_unsafe_fn,
    missing_docs,
    improper_ctypes,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::undocumented_unsafe_blocks,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::as_underscore,
    clippy::cast_lossless
)]
mod generated {
    use kernel::bindings::*;
    use kernel::ffi;
    include!(env!("KMEM_RS_BINDINGS"));
}

pub(crate) use generated::*;
