// SPDX-License-Identifier: GPL-2.0

//! Pure decision logic of the kmem driver: the `state` attribute's language, the transition
//! plan, and memory-block alignment.
//!
//! Nothing here touches the kernel beyond error codes, so the whole file is compiled into the
//! KUnit test module as well (`kunit/kmem_kunit.rs`), which proves that it stays pure.
//!
//! The semantics follow `drivers/dax/kmem.c` and
//! `Documentation/ABI/testing/sysfs-bus-dax` (`/sys/bus/dax/devices/daxX.Y/state`).

#![deny(unsafe_code)]

use kernel::prelude::*;

/// How memory blocks are onlined (`enum mmop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnlineType {
    /// `MMOP_OFFLINE`: blocks are present but offline.
    Offline,
    /// `MMOP_ONLINE`: online, zone chosen by the kernel.
    Online,
    /// `MMOP_ONLINE_KERNEL`: online in `ZONE_NORMAL`.
    OnlineKernel,
    /// `MMOP_ONLINE_MOVABLE`: online in `ZONE_MOVABLE`.
    OnlineMovable,
}

impl OnlineType {
    /// All online types, in `enum mmop` order.
    pub(crate) const ALL: [OnlineType; 4] = [
        OnlineType::Offline,
        OnlineType::Online,
        OnlineType::OnlineKernel,
        OnlineType::OnlineMovable,
    ];

    /// The name used by `memoryN/state` and `mhp_online_type_to_str()`.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            OnlineType::Offline => "offline",
            OnlineType::Online => "online",
            OnlineType::OnlineKernel => "online_kernel",
            OnlineType::OnlineMovable => "online_movable",
        }
    }

    /// The `enum mmop` value.
    pub(crate) const fn as_mmop(self) -> u32 {
        match self {
            OnlineType::Offline => 0,
            OnlineType::Online => 1,
            OnlineType::OnlineKernel => 2,
            OnlineType::OnlineMovable => 3,
        }
    }

    /// Converts an `enum mmop` value; `None` for anything out of range.
    pub(crate) fn from_mmop(value: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_mmop() == value)
    }

    /// Parses a name with `sysfs_streq()` rules, like `mhp_online_type_from_str()`.
    pub(crate) fn parse(buf: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| sysfs_streq(buf, t.as_str().as_bytes()))
    }
}

/// The state of a kmem device as reported by `daxX.Y/state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// No memory blocks exist for the device (`DAX_KMEM_UNPLUGGED`).
    Unplugged,
    /// The device's memory was added with the given online type. `Plugged(Offline)` happens
    /// only at probe, when the system default online policy is `offline`.
    Plugged(OnlineType),
}

impl State {
    /// The text shown by `daxX.Y/state` (without the trailing newline).
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            State::Unplugged => "unplugged",
            State::Plugged(t) => t.as_str(),
        }
    }
}

/// A write to `daxX.Y/state` that parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// `unplugged`: offline and remove all of the device's memory.
    Unplug,
    /// `online`, `online_kernel` or `online_movable`; never `Plug(Offline)`.
    Plug(OnlineType),
}

/// What a request asks the driver to do, given the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// The device already is in the requested state.
    Nothing,
    /// Offline and remove every added range in one step.
    HotRemove,
    /// Reserve and add every range with the given online type.
    HotAdd(OnlineType),
}

/// The NUL-terminated prefix of `buf`: sysfs hands `store` a C string, so C stops at a NUL.
fn c_str_prefix(buf: &[u8]) -> &[u8] {
    match buf.iter().position(|&b| b == 0) {
        Some(n) => &buf[..n],
        None => buf,
    }
}

/// `sysfs_streq()`: equal, or equal but for one trailing newline on either side.
///
/// Both sides are read as C strings (up to the first NUL), as in C.
pub(crate) fn sysfs_streq(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (c_str_prefix(a), c_str_prefix(b));
    a == b || a.strip_suffix(b"\n") == Some(b) || b.strip_suffix(b"\n") == Some(a)
}

/// Parses a write to `daxX.Y/state`.
///
/// Returns [`EINVAL`] for `offline` (it is reported but never accepted: it is not useful and
/// creates device-destruction races) and for anything that is not a state name.
pub(crate) fn parse_request(buf: &[u8]) -> Result<Request> {
    if sysfs_streq(buf, b"unplugged") {
        return Ok(Request::Unplug);
    }
    match OnlineType::parse(buf) {
        Some(OnlineType::Offline) | None => Err(EINVAL),
        Some(t) => Ok(Request::Plug(t)),
    }
}

/// Decides what a request does in the current state.
///
/// Writing the current state is a no-op; `unplugged` always hot-removes (also from `offline`);
/// onlining is allowed only from `unplugged`, otherwise [`EBUSY`].
pub(crate) fn plan(current: State, request: Request) -> Result<Action> {
    match (current, request) {
        (State::Unplugged, Request::Unplug) => Ok(Action::Nothing),
        (State::Plugged(_), Request::Unplug) => Ok(Action::HotRemove),
        (State::Unplugged, Request::Plug(t)) => Ok(Action::HotAdd(t)),
        (State::Plugged(cur), Request::Plug(t)) if cur == t => Ok(Action::Nothing),
        (State::Plugged(_), Request::Plug(_)) => Err(EBUSY),
    }
}

/// A physical address range with an inclusive end, like C's `struct range`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    /// First byte.
    pub(crate) start: u64,
    /// Last byte (inclusive).
    pub(crate) end: u64,
}

impl Range {
    /// The number of bytes in the range (`range_len()`).
    pub(crate) const fn len(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// Aligns `range` to whole memory blocks of `block` bytes (a power of two), as
/// `memory_block_aligned_range()` does; `None` when no whole block fits (kmem's `-ENOSPC`).
pub(crate) fn block_aligned(range: Range, block: u64) -> Option<Range> {
    let mask = block - 1;
    let start = range.start.checked_add(mask)? & !mask;
    let end_excl = range.end.checked_add(1)? & !mask;
    if end_excl <= start {
        return None;
    }
    Some(Range {
        start,
        end: end_excl - 1,
    })
}

/// Probe-time sizes of a device: usable bytes after alignment and the original total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sizes {
    /// Sum of the block-aligned lengths.
    pub(crate) usable: u64,
    /// Sum of the original lengths.
    pub(crate) original: u64,
}

impl Sizes {
    /// Adds up the usable and original sizes of `ranges`.
    pub(crate) fn of(ranges: &[Range], block: u64) -> Self {
        ranges.iter().fold(
            Sizes {
                usable: 0,
                original: 0,
            },
            |acc, r| Sizes {
                usable: acc
                    .usable
                    .saturating_add(block_aligned(*r, block).map_or(0, |a| a.len())),
                original: acc.original.saturating_add(r.len()),
            },
        )
    }

    /// Bytes lost to alignment.
    pub(crate) const fn truncated(&self) -> u64 {
        self.original - self.usable
    }
}

/// `PFN_UP()`: the number of pages of `1 << page_shift` bytes needed to hold `bytes`.
pub(crate) const fn pfn_up(bytes: u64, page_shift: u32) -> u64 {
    let mask = (1u64 << page_shift) - 1;
    (bytes >> page_shift) + (bytes & mask != 0) as u64
}

/// What to do when reserving or adding one range fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnFailure {
    /// Skip the range: some memory is already in use, which cannot safely be undone.
    Continue,
    /// Fail the whole operation: nothing was done yet.
    Abort,
}

/// The partial-success rule of kmem: once one range succeeded, later failures are skipped.
pub(crate) const fn on_failure(succeeded_so_far: usize) -> OnFailure {
    if succeeded_so_far > 0 {
        OnFailure::Continue
    } else {
        OnFailure::Abort
    }
}

/// Whether two inclusive ranges share at least one byte.
pub(crate) const fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

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

/// What probe does with a device's memory (module parameter `online_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProbeOnline {
    /// The system default online type (`auto_online_blocks` at probe): the C driver's.
    System,
    /// Add the memory with this online type.
    Type(OnlineType),
    /// Bind without adding any memory; `state` reads `unplugged`.
    Unplugged,
}

impl ProbeOnline {
    /// All values, in parameter order.
    pub(crate) const ALL: [ProbeOnline; 6] = [
        ProbeOnline::System,
        ProbeOnline::Type(OnlineType::Offline),
        ProbeOnline::Type(OnlineType::Online),
        ProbeOnline::Type(OnlineType::OnlineKernel),
        ProbeOnline::Type(OnlineType::OnlineMovable),
        ProbeOnline::Unplugged,
    ];

    /// The parameter text.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            ProbeOnline::System => "system",
            ProbeOnline::Type(t) => t.as_str(),
            ProbeOnline::Unplugged => "unplugged",
        }
    }

    /// Parses a value with `sysfs_streq()` rules.
    pub(crate) fn parse(buf: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| sysfs_streq(buf, m.as_str().as_bytes()))
    }

    /// The state probe leaves the device in, given the system default online type.
    pub(crate) const fn probe_state(self, system: OnlineType) -> State {
        match self {
            ProbeOnline::System => State::Plugged(system),
            ProbeOnline::Type(t) => State::Plugged(t),
            ProbeOnline::Unplugged => State::Unplugged,
        }
    }
}

/// The online type that describes memory taken over from an earlier kmem instance, from the
/// zones of its blocks (`None`: offline): all offline is `Offline`, all in `ZONE_MOVABLE`
/// `OnlineMovable`, all in `ZONE_NORMAL` `OnlineKernel`, anything else (some offline, mixed
/// zones) `Online`.
pub(crate) fn adopted_online_type(zones: &[Option<Zone>]) -> OnlineType {
    if zones.iter().all(Option::is_none) {
        OnlineType::Offline
    } else if zones.iter().all(|z| *z == Some(Zone::Movable)) {
        OnlineType::OnlineMovable
    } else if zones.iter().all(|z| *z == Some(Zone::Normal)) {
        OnlineType::OnlineKernel
    } else {
        OnlineType::Online
    }
}

/// What unbind does with memory that is still added (module parameter `unbind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnbindPolicy {
    /// Never offline: remove what is offline, strand what is online (the C driver's).
    Keep,
    /// Try the atomic all-ranges unplug first (bounded in time); on failure, as `Keep`.
    Unplug,
}

impl UnbindPolicy {
    /// All values, in parameter order.
    pub(crate) const ALL: [UnbindPolicy; 2] = [UnbindPolicy::Keep, UnbindPolicy::Unplug];

    /// The parameter text.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            UnbindPolicy::Keep => "keep",
            UnbindPolicy::Unplug => "unplug",
        }
    }

    /// Parses a value with `sysfs_streq()` rules.
    pub(crate) fn parse(buf: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| sysfs_streq(buf, m.as_str().as_bytes()))
    }
}

/// The zone an online memory block belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Zone {
    /// `ZONE_NORMAL`.
    Normal,
    /// `ZONE_MOVABLE`.
    Movable,
    /// Any other zone (hot-added memory never lands there).
    Other,
}

impl Zone {
    /// The zone's name as the kernel prints it.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Zone::Normal => "Normal",
            Zone::Movable => "Movable",
            Zone::Other => "other",
        }
    }
}

/// A memory-block transition seen by the guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockEvent {
    /// `MEM_GOING_ONLINE`: a block is about to be onlined; can be refused.
    GoingOnline,
    /// `MEM_GOING_OFFLINE`: a block is about to be offlined; can be refused.
    GoingOffline,
    /// `MEM_ONLINE`: a block is now online, in this zone (informational).
    Online(Zone),
    /// `MEM_OFFLINE`: a block is now offline (informational).
    Offline,
    /// Anything else (`MEM_CANCEL_*`): informational.
    Other,
}

impl BlockEvent {
    /// Whether the event is a request that a notifier may refuse (`MEM_GOING_*`).
    pub(crate) const fn can_refuse(self) -> bool {
        matches!(self, BlockEvent::GoingOnline | BlockEvent::GoingOffline)
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
        BlockEvent::Online(_) | BlockEvent::Offline | BlockEvent::Other => GuardVerdict::Pass,
        BlockEvent::GoingOnline | BlockEvent::GoingOffline => match mode {
            GuardMode::Off => GuardVerdict::Allow,
            GuardMode::Owned if !owned => GuardVerdict::Allow,
            GuardMode::Owned | GuardMode::Always => GuardVerdict::Refuse,
        },
    }
}
