// SPDX-License-Identifier: GPL-2.0

//! A bound device's memory: one [`Mapping`] per range, the memory group and the node's memory
//! type, and the transitions over them (`dax_kmem_init_resources()`, `dax_kmem_do_hotplug()`,
//! `dax_kmem_do_hotremove()` and the unbind path of `drivers/dax/kmem.c`).
//!
//! Everything here runs under the device's state mutex (see [`crate::driver`]); a transition
//! returns the state it committed, which the caller publishes.

#![deny(unsafe_code)]

use crate::kernel_ext::{
    dax,
    mm::{
        memory_hotplug::{
            self as mhp,
            AddedMemory,
            MemoryGroup,
            OnlineType,
            Range,
            Reservation, //
        },
        memory_tiers::NodeMemoryType,
    },
};
use crate::{
    debugfs,
    guard::BlockGuard,
    state::{
        self,
        Layout,
        State, //
    },
};
use kernel::{
    device::Core,
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    },
};

/// The resource name of the added memory; each reservation is named after its device.
const RAM_NAME: &CStr = c"System RAM (kmem)";

/// Where one of the device's usable ranges is (unusable ranges stay `Free`).
enum Mapping {
    /// Nothing is held.
    Free,
    /// Reserved in `iomem_resource`, not added (yet).
    Reserved(Reservation),
    /// Added to the system.
    Added(AddedMemory),
}

impl Mapping {
    /// Takes the reservation out of a `Reserved` slot, which becomes `Free`.
    fn take_reserved(&mut self) -> Option<Reservation> {
        match core::mem::replace(self, Mapping::Free) {
            Mapping::Reserved(res) => Some(res),
            other => {
                *self = other;
                None
            }
        }
    }

    /// Takes the memory out of an `Added` slot, which becomes `Free`.
    fn take_added(&mut self) -> Option<AddedMemory> {
        match core::mem::replace(self, Mapping::Free) {
            Mapping::Added(mem) => Some(mem),
            other => {
                *self = other;
                None
            }
        }
    }
}

/// What transitions change, under the device's state mutex.
pub(crate) struct DeviceMemory {
    /// By mapping index, as [`Layout::ranges`].
    mappings: KVec<Mapping>,
    /// The device's memory group; `None` once leaked or released by unbind.
    group: Option<MemoryGroup>,
    /// The node's memory-tier association; `None` once leaked or released by unbind.
    tier: Option<NodeMemoryType>,
    /// Time spent inside memory hotplug calls by the current transition.
    pub(crate) mm_ns: u64,
}

impl Layout {
    /// Logs `mapping<i>: <start>-<end> <what>`, the C driver's per-range message.
    fn warn_mapping(&self, i: usize, r: Range, what: &str) {
        dev_warn!(
            self.dev,
            "mapping{}: {:#x}-{:#x} {}\n",
            i,
            r.start,
            r.end,
            what
        );
    }
}

impl DeviceMemory {
    /// The memory of a device laid out as `layout`: nothing held yet.
    pub(crate) fn new(layout: &Layout, group: MemoryGroup, tier: NodeMemoryType) -> Result<Self> {
        let mut mappings = KVec::with_capacity(layout.ranges.len(), GFP_KERNEL)?;
        for _ in 0..layout.ranges.len() {
            mappings.push(Mapping::Free, GFP_KERNEL)?;
        }
        Ok(Self {
            mappings,
            group: Some(group),
            tier: Some(tier),
            mm_ns: 0,
        })
    }

    /// Whether a usable range is neither reserved nor added.
    pub(crate) fn any_free_range(&self, layout: &Layout) -> bool {
        layout
            .usable()
            .any(|(i, _)| matches!(self.mappings[i], Mapping::Free))
    }

    /// Whether any range is added.
    pub(crate) fn any_added(&self) -> bool {
        self.mappings.iter().any(|m| matches!(m, Mapping::Added(_)))
    }

    /// Reserves every usable range that is free (`dax_kmem_init_resources()`).
    ///
    /// Returns the number of new reservations; fails with [`EBUSY`] only if none was made.
    fn reserve(&mut self, layout: &Layout) -> Result<usize> {
        let mut mapped = 0;
        for (i, memory) in layout.usable_memory() {
            let slot = &mut self.mappings[i];
            if !matches!(slot, Mapping::Free) {
                continue;
            }
            let range = memory.range();
            match Reservation::request(memory, layout.dev.name()) {
                Ok(res) => {
                    *slot = Mapping::Reserved(res);
                    mapped += 1;
                }
                Err(_) => {
                    layout.warn_mapping(i, range, "could not reserve region");
                    // kmem's partial-success rule: once a range is in use, skip the others.
                    if mapped == 0 {
                        return Err(EBUSY);
                    }
                }
            }
        }
        Ok(mapped)
    }

    /// Adds every reserved range with `online_type` (`dax_kmem_do_hotplug()`).
    ///
    /// A range that fails to add loses its reservation. Returns the number of ranges added,
    /// or the error of the first failure if nothing was added before it.
    fn hotplug(&mut self, layout: &Layout, online_type: OnlineType) -> Result<usize> {
        let group = self.group.as_ref().ok_or(ENODEV)?;
        let mut count = 0;
        for (i, slot) in self.mappings.iter_mut().enumerate() {
            let Some(res) = slot.take_reserved() else {
                continue;
            };
            let range = res.range();
            let t0 = Instant::<Monotonic>::now();
            let result = mhp::add_memory_driver_managed(
                group,
                res,
                RAM_NAME,
                layout.memmap_on_memory,
                online_type,
            );
            self.mm_ns = self.mm_ns.saturating_add(elapsed_ns(&t0));
            match result {
                Ok(mem) => {
                    *slot = Mapping::Added(mem);
                    count += 1;
                }
                Err(e) => {
                    layout.warn_mapping(i, range, "memory add failed");
                    if count == 0 {
                        return Err(e);
                    }
                }
            }
        }
        Ok(count)
    }

    /// Reserves and adds the device's memory; on total failure nothing stays reserved.
    ///
    /// The mm core onlines the blocks of an added range but does not report a block that
    /// failed to online (a memory notifier's veto, an allocation failure): with an online type,
    /// every block is checked, and if one is offline everything is unplugged again and the plug
    /// fails with [`EIO`] (or with the error of the check itself), so that the published state is
    /// never an online type over offline blocks. If that unplug fails too, the state published
    /// is the one the blocks describe.
    pub(crate) fn plug(&mut self, layout: &Layout, online_type: OnlineType) -> Result<State> {
        // Only the probe-time ranges are used; say so if the device has others now.
        layout.ranges_changed();
        self.reserve(layout)?;
        if let Err(e) = self.hotplug(layout, online_type) {
            for slot in self.mappings.iter_mut() {
                drop(slot.take_reserved());
            }
            return Err(e);
        }
        if online_type == OnlineType::Offline {
            return Ok(State::Plugged(online_type));
        }
        let (zones, err) = match self.added_zones(layout) {
            Ok(zones) if zones.iter().all(Option::is_some) => {
                return Ok(State::Plugged(online_type));
            }
            Ok(zones) => {
                dev_warn!(
                    layout.dev,
                    "{} of {} memory blocks failed to online, unplugging\n",
                    zones.iter().filter(|z| z.is_none()).count(),
                    zones.len()
                );
                (Some(zones), EIO)
            }
            // The blocks could not be checked: undone as well, with that error.
            Err(e) => (None, e),
        };
        match self.unplug(layout, None) {
            Ok(_) => Err(err),
            Err(_) => Ok(State::Plugged(
                zones.map_or(online_type, |z| state::adopted_online_type(&z)),
            )),
        }
    }

    /// The zone of every block of the added ranges (`None`: offline).
    fn added_zones(&self, layout: &Layout) -> Result<KVec<Option<mhp::Zone>>> {
        let mut zones = KVec::new();
        for m in self.mappings.iter() {
            if let Mapping::Added(mem) = m {
                let z = mhp::block_zones(mem.range(), 1u64 << layout.block_shift)?;
                zones.extend_from_slice(&z, GFP_KERNEL)?;
            }
        }
        Ok(zones)
    }

    /// Offlines and removes all added ranges in one step (`dax_kmem_do_hotremove()`).
    ///
    /// On failure every block is back in its previous state and nothing is released. With a
    /// `timeout_ms`, an offline still retrying after that time gives up (`ETIMEDOUT`).
    pub(crate) fn unplug(&mut self, layout: &Layout, timeout_ms: Option<u32>) -> Result<State> {
        let n = self.mappings.len();
        let (mut mems, mut at) = (
            KVec::with_capacity(n, GFP_KERNEL)?,
            KVec::with_capacity(n, GFP_KERNEL)?,
        );
        for (i, slot) in self.mappings.iter_mut().enumerate() {
            if let Some(m) = slot.take_added() {
                // Within the capacities reserved above: cannot fail.
                let _ = mems.push_within_capacity(m);
                let _ = at.push_within_capacity(i);
            }
        }
        let t0 = Instant::<Monotonic>::now();
        let result = mhp::offline_and_remove_memory_ranges(mems, timeout_ms);
        self.mm_ns = self.mm_ns.saturating_add(elapsed_ns(&t0));
        match result {
            Ok(()) => Ok(State::Unplugged),
            Err((mems, e)) => {
                for (m, i) in mems.into_iter().zip(at) {
                    self.mappings[i] = Mapping::Added(m);
                }
                dev_err!(
                    layout.dev,
                    "hotremove failed, device left online: {}\n",
                    e.to_errno()
                );
                Err(e)
            }
        }
    }

    /// Removes every added range without offlining anything (`dev_dax_kmem_remove()`).
    ///
    /// The committed state is not trusted (blocks may have been toggled through
    /// `memoryN/state`): `remove_memory()` reports the truth per range. A range that is still
    /// online stays added until reboot, and with it the group, the tier and the names; then
    /// the result is `true`.
    pub(crate) fn remove_all(&mut self, layout: &Layout) -> bool {
        let mut stuck = false;
        for (i, slot) in self.mappings.iter_mut().enumerate() {
            let Some(mem) = slot.take_added() else {
                continue;
            };
            if let Err((mem, _)) = mem.remove() {
                let r = mem.range();
                layout.warn_mapping(i, r, "stuck online until reboot");
                debugfs::record_leak(layout.dev.name(), i, r);
                *slot = Mapping::Added(mem);
                stuck = true;
            }
        }
        if stuck {
            dev_err!(layout.dev, "Hotplug regions stuck online until reboot\n");
            if let Some(group) = self.group.take() {
                group.leak();
            }
            if let Some(tier) = self.tier.take() {
                tier.leak();
            }
        } else {
            self.group = None;
            if let Some(tier) = self.tier.take() {
                tier.clear();
            }
        }
        stuck
    }

    /// Takes over the ranges left added by an earlier unbind or module instance; returns the
    /// online type that describes their blocks, or `None` if there were none.
    pub(crate) fn adopt(
        &mut self,
        layout: &Layout,
        ddev: &dax::Device<Core<'_>>,
        guard: &BlockGuard,
    ) -> Result<Option<OnlineType>> {
        let block = 1u64 << layout.block_shift;
        let mut zones = KVec::new();
        for (i, memory) in layout.usable_memory() {
            let Some(mem) = ddev.adopt_stranded(memory, RAM_NAME)? else {
                continue;
            };
            let range = memory.range();
            // The memory is ours from here on, even if reading its zones fails.
            self.mappings[i] = Mapping::Added(mem);
            let z = mhp::block_zones(range, block)?;
            for (b, zone) in z.iter().enumerate() {
                let start = range.start + b as u64 * block;
                guard.record_zone(
                    layout,
                    Range {
                        start,
                        end: start + block - 1,
                    },
                    *zone,
                );
            }
            dev_info!(
                layout.dev,
                "mapping{}: {:#x}-{:#x} taken over: left added by an earlier unbind\n",
                i,
                range.start,
                range.end
            );
            debugfs::forget_leak(layout.dev.name(), i, range);
            zones.extend_from_slice(&z, GFP_KERNEL)?;
        }
        Ok((!zones.is_empty()).then(|| state::adopted_online_type(&zones)))
    }
}

/// Nanoseconds since `t0`.
pub(crate) fn elapsed_ns(t0: &Instant<Monotonic>) -> u64 {
    u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0)
}
