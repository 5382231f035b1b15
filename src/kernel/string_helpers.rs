// SPDX-License-Identifier: GPL-2.0

//! String helpers (`string_get_size()`).
//!
//! C header: [`include/linux/string_helpers.h`](srctree/include/linux/string_helpers.h)

use kernel::{
    prelude::*, //
};

/// A size rendered by `string_get_size()` in binary units ("64.0 MiB"), for log messages.
pub(crate) struct SizeString([u8; 16]);

impl SizeString {
    /// Renders `bytes`.
    pub(crate) fn new(bytes: u64) -> Self {
        let mut buf = [0u8; 16];
        // SAFETY: `buf` is valid for writes of its length; `string_get_size()` always
        // NUL-terminates within it.
        unsafe {
            kernel::bindings::string_get_size(
                bytes,
                1,
                kernel::bindings::string_size_units_STRING_UNITS_2,
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
