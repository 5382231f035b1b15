// SPDX-License-Identifier: GPL-2.0

//! Device support beyond [`kernel::device`]: driver-level device attributes.

pub(crate) mod attribute;
