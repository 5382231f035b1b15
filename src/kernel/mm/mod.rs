// SPDX-License-Identifier: GPL-2.0

//! Memory management: memory hotplug, memory notifiers and memory tiers.

pub(crate) mod memory_hotplug;
pub(crate) mod memory_notifier;
pub(crate) mod memory_tiers;
