// SPDX-License-Identifier: GPL-2.0

//! The memory-block guard of a bound device: a memory notifier that refuses external online and
//! offline requests for the device's blocks while the device is owned (module parameter `guard`),
//! and records the zone of each of its blocks as they go online and offline.
//!
//! It runs inside the driver's own hotplug calls, under the hotplug locks: it never takes the
//! device's state mutex, only reads immutable data and atomics. See
//! `Documentation/kmem-rust-design.rst`.

#![deny(unsafe_code)]

use crate::{
    kernel_ext::{
        mm::{
            memory_hotplug::{
                Range,
                Zone, //
            },
            memory_notifier::{
                BlockEvent,
                TaskId,
                Transition,
                Verdict, //
            },
        },
        module_param::{
            impl_param_enum,
            module_param_enum, //
        },
    },
    state::{
        self,
        GuardMode,
        GuardVerdict,
        Layout, //
    },
};
use kernel::{
    prelude::*,
    sync::atomic::{
        Acquire,
        Atomic,
        AtomicFlag,
        Relaxed,
        Release, //
    },
    time::{
        Instant,
        Monotonic, //
    },
};

impl_param_enum!(GuardMode);
module_param_enum!("kmem", GUARD: GuardMode = 1, "guard", 0o644,
    "Refuse external online/offline of a device's memory blocks: off, owned (default: once its state was written), always");

/// The guard mode now (module parameter `guard`).
pub(crate) fn guard_mode() -> GuardMode {
    GUARD.get()
}

/// External transitions of a device's blocks, as counted by its guard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Let through (guard off, or device not owned).
    pub(crate) allowed: u64,
    /// Refused with `EBUSY`.
    pub(crate) refused: u64,
    /// Requests that arrived while a driver transition was between its per-range steps,
    /// whatever the verdict.
    pub(crate) during_transition: u64,
}

/// The memory-block guard of one device: sees every block transition in the system and
/// refuses external ones on the device's blocks while the device is owned.
pub(crate) struct BlockGuard {
    /// Set by the first successful write to `state`; cleared only by unbind (drop).
    owned: AtomicFlag,
    allowed: Atomic<u64>,
    refused: Atomic<u64>,
    during_transition: Atomic<u64>,
    /// The zone of each of the device's blocks, in order ([`encode_zone`]): recorded when the
    /// block goes online, cleared when it goes offline.
    zones: KVec<Atomic<i8>>,
    /// The task running the driver's own transition, or `TaskId::NONE`.
    transition_task: Atomic<usize>,
    /// Rate limit of the refusal message: time of the last line, refusals not logged since.
    created: Instant<Monotonic>,
    last_log_ns: Atomic<i64>,
    suppressed: Atomic<u64>,
}

/// Marks the current task as running the driver's own transition until dropped.
pub(crate) struct TransitionMark<'a>(&'a Atomic<usize>);

impl Drop for TransitionMark<'_> {
    fn drop(&mut self) {
        self.0.store(TaskId::NONE.as_raw(), Release);
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

const fn decode_zone(v: i8) -> Option<Zone> {
    match v {
        1 => Some(Zone::Normal),
        2 => Some(Zone::Movable),
        3 => Some(Zone::Other),
        _ => None,
    }
}

impl BlockGuard {
    /// A guard for a device laid out as `layout`, not owned, every block offline.
    pub(crate) fn new(layout: &Layout) -> Result<Self> {
        let blocks = usize::try_from(layout.blocks())?;
        let mut zones = KVec::with_capacity(blocks, GFP_KERNEL)?;
        for _ in 0..blocks {
            zones.push(Atomic::new(encode_zone(None)), GFP_KERNEL)?;
        }
        Ok(Self {
            owned: AtomicFlag::new(false),
            allowed: Atomic::new(0),
            refused: Atomic::new(0),
            during_transition: Atomic::new(0),
            zones,
            transition_task: Atomic::new(TaskId::NONE.as_raw()),
            created: Instant::now(),
            last_log_ns: Atomic::new(i64::MIN),
            suppressed: Atomic::new(0),
        })
    }

    /// Starts a driver transition in the current task.
    pub(crate) fn mark(&self) -> TransitionMark<'_> {
        self.transition_task
            .store(TaskId::current().as_raw(), Release);
        TransitionMark(&self.transition_task)
    }

    /// Makes the device owned by the `state` interface (see [`GuardMode::Owned`]).
    pub(crate) fn set_owned(&self) {
        self.owned.store(true, Release);
    }

    /// Whether the device is owned.
    pub(crate) fn owned(&self) -> bool {
        self.owned.load(Acquire)
    }

    /// The counts of external transitions so far.
    pub(crate) fn counters(&self) -> Counters {
        Counters {
            allowed: self.allowed.load(Relaxed),
            refused: self.refused.load(Relaxed),
            during_transition: self.during_transition.load(Relaxed),
        }
    }

    /// The zone of memory block number `block` (`None`: offline, absent, or not the device's).
    pub(crate) fn zone(&self, layout: &Layout, block: u64) -> Option<Zone> {
        let slot = self.zones.get(layout.block_index(block)?)?;
        decode_zone(slot.load(Relaxed))
    }

    /// Records the zone of the device's blocks in `range` (`None`: offline). The notifier is
    /// the only place where a block's zone is stable while it is read; memory taken over at
    /// probe is recorded once from a snapshot.
    pub(crate) fn record_zone(&self, layout: &Layout, range: Range, zone: Option<Zone>) {
        let (first, last) = (
            range.start >> layout.block_shift,
            range.end >> layout.block_shift,
        );
        for block in first..=last {
            if let Some(z) = layout.block_index(block).and_then(|i| self.zones.get(i)) {
                z.store(encode_zone(zone), Relaxed);
            }
        }
    }

    /// Logs a refusal, at most once a second per device.
    fn log_refusal(&self, layout: &Layout, t: &Transition, mode: GuardMode) {
        const INTERVAL_NS: i64 = 1_000_000_000;
        let now = self.created.elapsed().as_nanos();
        let last = self.last_log_ns.load(Relaxed);
        if last != i64::MIN && now.wrapping_sub(last) < INTERVAL_NS {
            self.suppressed.fetch_add(1, Relaxed);
            return;
        }
        if self.last_log_ns.cmpxchg(last, now, Relaxed).is_err() {
            self.suppressed.fetch_add(1, Relaxed);
            return;
        }
        let what = if t.event == BlockEvent::GoingOnline {
            "online"
        } else {
            "offline"
        };
        let skipped = self.suppressed.xchg(0, Relaxed);
        dev_warn!(
            layout.dev,
            "guard: refused external {} of memory{} (guard={}; {} more refused since last message)\n",
            what,
            t.range.start >> layout.block_shift,
            mode.as_str(),
            skipped
        );
    }

    /// The memory notifier's decision on a transition anywhere in the system.
    pub(crate) fn notify(&self, layout: &Layout, t: &Transition) -> Verdict {
        if !layout.overlaps(&t.range) {
            return Verdict::Done;
        }
        match t.event {
            BlockEvent::Online(zone) => self.record_zone(layout, t.range, Some(zone)),
            BlockEvent::Offline => self.record_zone(layout, t.range, None),
            _ => (),
        }
        let task = self.transition_task.load(Acquire);
        let own = task == TaskId::current().as_raw();
        if !own && task != TaskId::NONE.as_raw() && t.event.can_refuse() {
            // Another task's request arrived between the steps of a driver transition.
            self.during_transition.fetch_add(1, Relaxed);
        }
        let mode = guard_mode();
        match state::guard_verdict(mode, self.owned(), t.event, own) {
            GuardVerdict::Pass => Verdict::Ok,
            GuardVerdict::Allow => {
                self.allowed.fetch_add(1, Relaxed);
                dev_dbg!(
                    layout.dev,
                    "guard: external transition of memory{} allowed (guard={})\n",
                    t.range.start >> layout.block_shift,
                    mode.as_str()
                );
                Verdict::Ok
            }
            GuardVerdict::Refuse => {
                self.refused.fetch_add(1, Relaxed);
                self.log_refusal(layout, t, mode);
                Verdict::Refuse(EBUSY)
            }
        }
    }
}
