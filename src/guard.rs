// SPDX-License-Identifier: GPL-2.0

//! The memory-block guard of a bound device: the callback of the device's ranges in the module's
//! memory notifier (`BlockOwners`), which refuses external online and offline requests for the
//! device's blocks while the device is owned (module parameter `guard`), and records the zone of
//! each of its blocks as they go online and offline.
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
        sysfs_streq,
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

/// The memory-block guard mode (module parameter `guard`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GuardMode {
    /// Nothing is blocked (upstream 7.3 semantics); external transitions are only counted.
    Off,
    /// A device's blocks are guarded once a write to its `state` succeeded.
    Owned,
    /// Every bound device's blocks are guarded from probe on.
    Always,
}

impl GuardMode {
    /// All modes, in parameter order.
    pub(crate) const ALL: [GuardMode; 3] = [GuardMode::Off, GuardMode::Owned, GuardMode::Always];

    /// The parameter text.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            GuardMode::Off => "off",
            GuardMode::Owned => "owned",
            GuardMode::Always => "always",
        }
    }

    /// Parses a mode with `sysfs_streq()` rules.
    pub(crate) fn parse(buf: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| sysfs_streq(buf, m.as_str().as_bytes()))
    }
}

/// What the guard does with a transition on one of the device's blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GuardVerdict {
    /// Part of the driver's own transition, or informational: let it through silently.
    Pass,
    /// An external transition that is allowed (counted).
    Allow,
    /// An external transition that is refused with `EBUSY` (counted and logged).
    Refuse,
}

/// Decides on a transition of one of the device's blocks.
///
/// `own` is true when the transition runs in the task of a driver transition (its add or
/// offline calls, including auto-onlining inside them); `owned` is the device's ownership.
pub(crate) const fn guard_verdict(
    mode: GuardMode,
    owned: bool,
    event: BlockEvent,
    own: bool,
) -> GuardVerdict {
    if own {
        return GuardVerdict::Pass;
    }
    match event {
        BlockEvent::Online(_) | BlockEvent::Offline | BlockEvent::Cancel => GuardVerdict::Pass,
        BlockEvent::GoingOnline | BlockEvent::GoingOffline => match mode {
            GuardMode::Off => GuardVerdict::Allow,
            GuardMode::Owned if !owned => GuardVerdict::Allow,
            GuardMode::Owned | GuardMode::Always => GuardVerdict::Refuse,
        },
    }
}

impl_param_enum!(GuardMode);
module_param_enum!("kmem", GUARD: GuardMode = 1, "guard", 0o644,
    "Refuse external online/offline of its blocks: off, owned (default: after a write), always");

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

/// The memory-block guard of one device: sees the transitions of the device's blocks (the
/// module's notifier hands it those only) and refuses external ones while the device is owned.
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
pub(crate) struct InTransition<'a>(&'a Atomic<usize>);

impl Drop for InTransition<'_> {
    fn drop(&mut self) {
        self.0.store(TaskId::NONE.as_raw(), Release);
    }
}

/// The device's memory blocks, which the guard and its zone records index.
impl Layout {
    /// The number of memory blocks in the usable ranges.
    pub(crate) fn blocks(&self) -> u64 {
        self.usable()
            .map(|(_, r)| r.len() >> self.block_shift)
            .sum()
    }

    /// The position of memory block number `block` among the device's blocks, if it is one.
    pub(crate) fn block_index(&self, block: u64) -> Option<usize> {
        block_index(self.usable().map(|(_, r)| r), self.block_shift, block)
    }

    /// Whether `range` touches one of the device's usable ranges.
    pub(crate) fn overlaps(&self, range: &Range) -> bool {
        self.usable().any(|(_, r)| r.overlaps(range))
    }
}

/// The position of memory block number `block` among the blocks of the usable `ranges`, in
/// order, with blocks of `1 << block_shift` bytes.
fn block_index(ranges: impl Iterator<Item = Range>, block_shift: u32, block: u64) -> Option<usize> {
    let mut base = 0u64;
    for r in ranges {
        let (first, last) = (r.start >> block_shift, r.end >> block_shift);
        if (first..=last).contains(&block) {
            return usize::try_from(base + (block - first)).ok();
        }
        base += last - first + 1;
    }
    None
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
    pub(crate) fn begin_transition(&self) -> InTransition<'_> {
        self.transition_task
            .store(TaskId::current().as_raw(), Release);
        InTransition(&self.transition_task)
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
        // What to do instead: the device's own interface, or the guard off (daxctl of today
        // walks memoryN/state).
        dev_warn!(
            layout.dev,
            "guard: refused external {} of memory{} (guard={}; {} is managed through /sys/bus/dax/devices/{}/state: write unplugged there to remove its memory, or set /sys/module/kmem/parameters/guard to off; {} more refused since last message)\n",
            what,
            t.range.start >> layout.block_shift,
            mode.as_str(),
            layout.dev.name(),
            layout.dev.name(),
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
        match guard_verdict(mode, self.owned(), t.event, own) {
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

#[kunit_tests(dax_kmem_rust_guard)]
mod tests {
    use super::*;
    use crate::kernel_ext::module_param::registered_module;

    /// The kernel knows `guard` as this module's parameter (`kp->mod` is `THIS_MODULE`), as
    /// `policy`'s test checks for the others.
    #[test]
    fn parameter_belongs_to_this_module() {
        let this = <crate::LocalModule as kernel::ModuleMetadata>::THIS_MODULE;
        if this.as_ptr().is_null() {
            // Built in: no module, and `kp->mod` is NULL as in C.
            return;
        }
        assert_eq!(registered_module(&this, c"guard"), Some(this.as_ptr()));
    }

    const MIB: u64 = 1 << 20;
    const BLOCK: u64 = 128 * MIB;

    fn r(start: u64, end: u64) -> Range {
        Range { start, end }
    }

    #[test]
    fn block_numbers() {
        let g4 = 4096 * MIB;
        let shift = BLOCK.trailing_zeros();
        // Two blocks, an unusable mapping, one block further up.
        let ranges = [
            Some(r(g4, g4 + 2 * BLOCK - 1)),
            None,
            Some(r(g4 + 8 * BLOCK, g4 + 9 * BLOCK - 1)),
        ];
        let first = g4 >> shift;
        let at = |b| block_index(ranges.iter().flatten().copied(), shift, b);
        assert_eq!(at(first), Some(0));
        assert_eq!(at(first + 1), Some(1));
        assert_eq!(at(first + 2), None);
        assert_eq!(at(first + 8), Some(2));
        assert_eq!(at(first + 9), None);
        assert_eq!(at(first - 1), None);
        assert_eq!(block_index(core::iter::empty(), shift, first), None);
    }

    #[test]
    fn guard_mode_parse() {
        for m in GuardMode::ALL {
            assert_eq!(GuardMode::parse(m.as_str().as_bytes()), Some(m));
        }
        assert_eq!(GuardMode::parse(b"owned\n"), Some(GuardMode::Owned));
        assert_eq!(GuardMode::parse(b"always\0x"), Some(GuardMode::Always));
        for bad in [
            &b""[..],
            b"\n",
            b"OFF",
            b" off",
            b"off ",
            b"own",
            b"owned\n\n",
            b"on",
        ] {
            assert_eq!(GuardMode::parse(bad), None);
        }
    }

    /// Every (mode, owned, event, own task) combination, written out.
    #[test]
    fn guard_verdict_table() {
        use BlockEvent::*;
        use GuardMode::*;
        use GuardVerdict::*;
        for mode in GuardMode::ALL {
            for owned in [false, true] {
                for event in [
                    GoingOnline,
                    GoingOffline,
                    Online(Zone::Normal),
                    Online(Zone::Movable),
                    Offline,
                    Cancel,
                ] {
                    // The driver's own transitions and informational events always pass.
                    assert_eq!(guard_verdict(mode, owned, event, true), Pass);
                    if !matches!(event, GoingOnline | GoingOffline) {
                        assert_eq!(guard_verdict(mode, owned, event, false), Pass);
                        continue;
                    }
                    let want = match (mode, owned) {
                        (Off, _) => Allow,
                        (Owned, false) => Allow,
                        (Owned, true) => Refuse,
                        (Always, _) => Refuse,
                    };
                    assert_eq!(guard_verdict(mode, owned, event, false), want);
                }
            }
        }
    }
}
