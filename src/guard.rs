// SPDX-License-Identifier: GPL-2.0

//! The memory-block guard of a bound device: a memory notifier that refuses external online and
//! offline requests for the device's blocks while the device is owned (module parameter `guard`).
//!
//! It runs inside the driver's own hotplug calls, under the hotplug locks: it never takes the
//! device's state mutex, only reads immutable data and atomics. See
//! `Documentation/kmem-rust-design.rst`.

#![deny(unsafe_code)]

use crate::{
    notifier::{
        MemoryCallback,
        TaskId,
        Transition,
        Verdict, //
    },
    state::{
        self,
        BlockEvent,
        GuardMode,
        GuardVerdict,
        Range, //
    },
    view::View, //
};
use kernel::{
    device,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Acquire,
            Atomic,
            Relaxed,
            Release, //
        },
        Arc,
    },
    time::{
        Instant,
        Monotonic, //
    },
};

crate::param::impl_param_enum!(GuardMode);

/// The guard mode now (module parameter `guard`).
pub(crate) fn guard_mode() -> GuardMode {
    crate::params::GUARD.get()
}

/// The memory-block guard of one device: sees every block transition in the system and
/// refuses external ones on the device's blocks while the device is owned.
///
/// It runs inside the driver's own hotplug calls, under the hotplug locks: it never takes the
/// device's state mutex, only reads immutable data and atomics.
pub(crate) struct BlockGuard {
    dev: ARef<device::Device>,
    /// The usable (block-aligned) ranges of the device.
    ranges: KVec<Range>,
    /// log2 of the memory block size, for block numbers in messages.
    block_shift: u32,
    /// Ownership and counters, shared with the debugfs view.
    view: Arc<View>,
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

impl BlockGuard {
    /// A guard for the device `dev` whose block-aligned ranges are `ranges`.
    pub(crate) fn new(
        dev: ARef<device::Device>,
        ranges: &[Option<Range>],
        view: Arc<View>,
    ) -> Result<Self> {
        let mut usable = KVec::with_capacity(ranges.len(), GFP_KERNEL)?;
        for r in ranges.iter().flatten() {
            usable.push(*r, GFP_KERNEL)?;
        }
        Ok(Self {
            dev,
            ranges: usable,
            block_shift: view.block_shift,
            view,
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

    /// Logs a refusal, at most once a second per device.
    fn log_refusal(&self, t: &Transition, mode: GuardMode) {
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
            self.dev,
            "guard: refused external {} of memory{} (guard={}; {} more refused since last message)\n",
            what,
            t.range.start >> self.block_shift,
            mode.as_str(),
            skipped
        );
    }
}

impl MemoryCallback for BlockGuard {
    fn notify(&self, t: &Transition) -> Verdict {
        if !self.ranges.iter().any(|r| state::overlaps(*r, t.range)) {
            return Verdict::Done;
        }
        match t.event {
            BlockEvent::Online(zone) => self.view.record_zone(t.range, Some(zone)),
            BlockEvent::Offline => self.view.record_zone(t.range, None),
            _ => (),
        }
        let task = self.transition_task.load(Acquire);
        let own = task == TaskId::current().as_raw();
        if !own && task != TaskId::NONE.as_raw() && t.event.can_refuse() {
            // Another task's request arrived between the steps of a driver transition.
            self.view.during_transition.fetch_add(1, Relaxed);
        }
        let mode = guard_mode();
        match state::guard_verdict(mode, self.view.owned.load(Acquire), t.event, own) {
            GuardVerdict::Pass => Verdict::Ok,
            GuardVerdict::Allow => {
                self.view.allowed.fetch_add(1, Relaxed);
                dev_dbg!(
                    self.dev,
                    "guard: external transition of memory{} allowed (guard={})\n",
                    t.range.start >> self.block_shift,
                    mode.as_str()
                );
                Verdict::Ok
            }
            GuardVerdict::Refuse => {
                self.view.refused.fetch_add(1, Relaxed);
                self.log_refusal(t, mode);
                Verdict::Refuse(EBUSY)
            }
        }
    }
}
