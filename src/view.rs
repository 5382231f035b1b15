// SPDX-License-Identifier: GPL-2.0

//! What the guard, the transitions and the debugfs view share about a device, and its rendering
//! as `/sys/kernel/debug/kmem/daxX.Y`.

#![deny(unsafe_code)]

use crate::{
    guard::guard_mode,
    state::{
        OnlineType,
        Range,
        Request,
        State,
        Zone, //
    },
};
use kernel::{
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            AtomicFlag,
            Relaxed,
            Release, //
        },
        Arc,
    },
};

/// What the guard, the transitions and the debugfs view share about a device: immutable facts
/// and atomics, readable without the state mutex.
pub(crate) struct View {
    /// The block-aligned ranges by mapping index (`None`: smaller than a block).
    pub(crate) ranges: KVec<Option<Range>>,
    pub(crate) block_shift: u32,
    /// The committed state ([`encode_state`]), published for readers without the mutex.
    state: Atomic<u32>,
    /// The zone of each block of the usable ranges, in order ([`encode_zone`]): recorded by the
    /// memory notifier when the block goes online, cleared when it goes offline.
    zones: KVec<Atomic<i8>>,
    /// Set by the first successful write to `state`; cleared only by unbind (drop).
    pub(crate) owned: AtomicFlag,
    /// External transitions of the device's blocks let through and refused by the guard.
    pub(crate) allowed: Atomic<u64>,
    pub(crate) refused: Atomic<u64>,
    /// External requests that arrived while a driver transition was in progress (between its
    /// per-range steps), whatever the verdict.
    pub(crate) during_transition: Atomic<u64>,
    /// Completed `state` writes that changed something.
    pub(crate) transitions: Atomic<u64>,
    /// The last `state` write: request ([`encode_request`]), result (0 or -errno), total time
    /// and the part of it spent inside the memory hotplug calls.
    pub(crate) last_request: Atomic<u32>,
    pub(crate) last_result: Atomic<i32>,
    pub(crate) last_total_ns: Atomic<u64>,
    pub(crate) last_mm_ns: Atomic<u64>,
}

const fn encode_state(s: State) -> u32 {
    match s {
        State::Unplugged => 0,
        State::Plugged(t) => 1 + t.as_mmop(),
    }
}

/// 0: offline or absent; otherwise 1 + the zone.
const fn encode_zone(z: Option<Zone>) -> i8 {
    match z {
        None => 0,
        Some(Zone::Normal) => 1,
        Some(Zone::Movable) => 2,
        Some(Zone::Other) => 3,
    }
}

fn zone_name(v: i8) -> &'static str {
    match v {
        1 => Zone::Normal.as_str(),
        2 => Zone::Movable.as_str(),
        3 => Zone::Other.as_str(),
        _ => "offline or absent",
    }
}

fn decode_state(v: u32) -> Option<State> {
    match v {
        0 => Some(State::Unplugged),
        v => OnlineType::from_mmop(v - 1).map(State::Plugged),
    }
}

/// 0: none yet; 1: unplugged; 2 + mmop: an online type.
pub(crate) const fn encode_request(r: Request) -> u32 {
    match r {
        Request::Unplug => 1,
        Request::Plug(t) => 2 + t.as_mmop(),
    }
}

fn request_name(v: u32) -> &'static str {
    match v {
        0 => "none",
        1 => "unplugged",
        v => OnlineType::from_mmop(v - 2).map_or("?", OnlineType::as_str),
    }
}

impl View {
    /// A view of a device with these block-aligned ranges, unplugged and not owned.
    pub(crate) fn new(ranges: &[Option<Range>], block_shift: u32) -> Result<Arc<Self>> {
        let mut copy = KVec::with_capacity(ranges.len(), GFP_KERNEL)?;
        copy.extend_from_slice(ranges, GFP_KERNEL)?;
        let blocks: u64 = ranges
            .iter()
            .flatten()
            .map(|r| r.len() >> block_shift)
            .sum();
        let mut zones = KVec::with_capacity(usize::try_from(blocks)?, GFP_KERNEL)?;
        for _ in 0..blocks {
            zones.push(Atomic::new(encode_zone(None)), GFP_KERNEL)?;
        }
        Ok(Arc::new(
            Self {
                ranges: copy,
                block_shift,
                state: Atomic::new(encode_state(State::Unplugged)),
                zones,
                owned: AtomicFlag::new(false),
                allowed: Atomic::new(0),
                refused: Atomic::new(0),
                during_transition: Atomic::new(0),
                transitions: Atomic::new(0),
                last_request: Atomic::new(0),
                last_result: Atomic::new(0),
                last_total_ns: Atomic::new(0),
                last_mm_ns: Atomic::new(0),
            },
            GFP_KERNEL,
        )?)
    }
}

impl View {
    /// Publishes the committed state; called with the state mutex held, after each transition.
    pub(crate) fn publish_state(&self, s: State) {
        self.state.store(encode_state(s), Release);
    }

    /// The slot in `zones` of memory block number `block`, if it belongs to the device.
    fn zone_slot(&self, block: u64) -> Option<usize> {
        let mut base = 0u64;
        for r in self.ranges.iter().flatten() {
            let (first, last) = (r.start >> self.block_shift, r.end >> self.block_shift);
            if (first..=last).contains(&block) {
                return usize::try_from(base + (block - first)).ok();
            }
            base += last - first + 1;
        }
        None
    }

    /// Records the zone of the device's blocks in `range` (`None`: offline), from the memory
    /// notifier: the only place where a block's zone is stable while it is read.
    pub(crate) fn record_zone(&self, range: Range, zone: Option<Zone>) {
        let mut block = range.start >> self.block_shift;
        while block <= range.end >> self.block_shift {
            if let Some(z) = self.zone_slot(block).and_then(|i| self.zones.get(i)) {
                z.store(encode_zone(zone), Relaxed);
            }
            block += 1;
        }
    }

    /// The last published state, without any lock.
    pub(crate) fn state(&self) -> State {
        // Only `publish_state()` stores, and only encodings of a `State`.
        decode_state(self.state.load(Acquire)).unwrap_or(State::Unplugged)
    }
}

/// Renders `/sys/kernel/debug/kmem/daxX.Y`.
pub(crate) fn show_view(v: &Arc<View>, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
    writeln!(f, "state: {}", v.state().as_str())?;
    writeln!(
        f,
        "owned: {} (guard={})",
        if v.owned.load(Relaxed) { "yes" } else { "no" },
        guard_mode().as_str()
    )?;
    writeln!(
        f,
        "external transitions: allowed {}, refused {}, during a driver transition {}",
        v.allowed.load(Relaxed),
        v.refused.load(Relaxed),
        v.during_transition.load(Relaxed)
    )?;
    for (i, r) in v.ranges.iter().enumerate() {
        let Some(r) = r else {
            writeln!(f, "mapping{}: too small, not used", i)?;
            continue;
        };
        writeln!(f, "mapping{}: {:#x}-{:#x}", i, r.start, r.end)?;
        for block in (r.start >> v.block_shift)..=(r.end >> v.block_shift) {
            let zone = v.zone_slot(block).and_then(|i| v.zones.get(i));
            let zone = zone.map_or(0, |z| z.load(Relaxed));
            writeln!(f, "  memory{}: {}", block, zone_name(zone))?;
        }
    }
    let total = v.last_total_ns.load(Relaxed);
    let mm = v.last_mm_ns.load(Relaxed);
    writeln!(f, "transitions: {}", v.transitions.load(Relaxed))?;
    writeln!(
        f,
        "last: request={} result={} total_ns={} mm_ns={} driver_ns={}",
        request_name(v.last_request.load(Relaxed)),
        v.last_result.load(Relaxed),
        total,
        mm,
        total.saturating_sub(mm)
    )
}
