// SPDX-License-Identifier: GPL-2.0

//! The kmem driver's vocabulary and decisions: a bound device's layout, the `state`
//! attribute's language and the transition plan.
//!
//! Nothing here calls into C beyond the abstractions' vocabulary types; the KUnit suite at the
//! bottom tests every decision table.
//!
//! The semantics follow `drivers/dax/kmem.c` and
//! `Documentation/ABI/testing/sysfs-bus-dax` (`/sys/bus/dax/devices/daxX.Y/state`).

#![deny(unsafe_code)]

use crate::kernel_ext::{
    dax,
    mm::memory_hotplug::{
        HotplugRange,
        OnlineType,
        Range,
        Zone, //
    },
};
use kernel::{
    device,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Acquire,
            Atomic,
            Release, //
        },
    },
};

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
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Unplugged => "unplugged",
            State::Plugged(t) => t.as_str(),
        }
    }

    /// 0 for `Unplugged`, 1 + the `enum mmop` value otherwise.
    const fn encode(self) -> u32 {
        match self {
            State::Unplugged => 0,
            State::Plugged(t) => 1 + t.as_raw(),
        }
    }

    fn decode(v: u32) -> Option<Self> {
        match v {
            0 => Some(State::Unplugged),
            v => OnlineType::from_raw(v - 1).map(State::Plugged),
        }
    }
}

/// The committed state of a device, for readers that must not wait for a transition: written
/// only by the holder of the device's state mutex, once per transition.
pub(crate) struct PublishedState(Atomic<u32>);

impl PublishedState {
    /// `Unplugged`.
    pub(crate) fn new() -> Self {
        Self(Atomic::new(State::Unplugged.encode()))
    }

    /// The state committed by the last completed transition.
    pub(crate) fn get(&self) -> State {
        // Only `set()` stores, and only encodings of a `State`.
        State::decode(self.0.load(Acquire)).unwrap_or(State::Unplugged)
    }

    /// Commits `s`; called with the state mutex held.
    pub(crate) fn set(&self, s: State) {
        self.0.store(s.encode(), Release);
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

/// A size as the C driver logs it, `string_get_size(size, 1, STRING_UNITS_2, ...)`: three
/// significant digits and a binary unit ("64.0 MiB", "1.50 KiB", "1000 B").
pub(crate) struct SizeString(pub(crate) u64);

impl kernel::fmt::Display for SizeString {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        const UNITS: [&str; 9] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"];
        let (mut size, mut exp, mut rem) = (self.0, 0, 0);
        // As C: below 2^32 first (dropping remainders), then below 1024, keeping the last one.
        while size >> 32 != 0 {
            size /= 1024;
            exp += 1;
        }
        while size >= 1024 {
            rem = size % 1024;
            size /= 1024;
            exp += 1;
        }
        // Decimals for three significant digits (none for 100 and more), rounded half up.
        let decimals = match size {
            0 => 0,
            1..=9 => 2,
            10..=99 => 1,
            _ => 0,
        };
        let mut frac = ((rem * 1000) >> 10) + [500, 50, 5][decimals];
        if frac >= 1000 {
            frac -= 1000;
            size += 1;
        }
        write!(f, "{size}")?;
        if decimals > 0 {
            let digits = [frac / 100, frac / 10 % 10, frac % 10];
            f.write_str(".")?;
            for d in &digits[..decimals] {
                write!(f, "{d}")?;
            }
        }
        write!(f, " {}B", UNITS.get(exp).copied().unwrap_or("UNK"))
    }
}

/// What a bound device never changes, read at probe: the dax bus refuses to resize a device or
/// to change its `memmap_on_memory` while a kmem driver is bound (Linux 7.3's `mapping` writes
/// are the exception the driver's series fixes: the driver keeps using this copy and says so
/// in its log, see [`Layout::ranges_changed`]).
pub(crate) struct Layout {
    /// The device, for log messages.
    pub(crate) dev: ARef<device::Device>,
    /// The dax device, to notice a change of its ranges.
    pub(crate) dax: ARef<dax::Device>,
    /// The block-aligned ranges, by mapping index; `None` for a range smaller than a block.
    pub(crate) ranges: KVec<Option<HotplugRange>>,
    /// log2 of the memory block size.
    pub(crate) block_shift: u32,
    /// Whether the device asked for its memmap to live on the hot-added memory.
    pub(crate) memmap_on_memory: bool,
}

impl Layout {
    /// The usable ranges with their mapping index.
    pub(crate) fn usable(&self) -> impl Iterator<Item = (usize, Range)> + '_ {
        self.usable_memory().map(|(i, r)| (i, r.range()))
    }

    /// The usable ranges with their mapping index, as memory that can be reserved.
    pub(crate) fn usable_memory(&self) -> impl Iterator<Item = (usize, &HotplugRange)> + '_ {
        self.ranges
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
    }

    /// Whether the device's number of ranges differs from the probe-time one (a `mapping`
    /// write while bound, which Linux 7.3's dax bus accepts); logs it, once per call.
    pub(crate) fn ranges_changed(&self) -> bool {
        let now = self.dax.range_count();
        if now == self.ranges.len() {
            return false;
        }
        dev_warn!(
            self.dev,
            "ranges changed while bound ({} at probe, {} now): using the {} of probe; unbind and bind to use the others\n",
            self.ranges.len(),
            now,
            self.ranges.len()
        );
        true
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

#[kunit_tests(dax_kmem_rust)]
mod tests {
    use super::*;

    const ON: OnlineType = OnlineType::Online;
    const KERNEL: OnlineType = OnlineType::OnlineKernel;
    const MOVABLE: OnlineType = OnlineType::OnlineMovable;
    const OFF: OnlineType = OnlineType::Offline;

    #[test]
    fn sysfs_streq_rules() {
        assert!(sysfs_streq(b"online", b"online"));
        assert!(sysfs_streq(b"online\n", b"online"));
        assert!(sysfs_streq(b"online", b"online\n"));
        assert!(!sysfs_streq(b"online\n\n", b"online"));
        assert!(!sysfs_streq(b"online ", b"online"));
        assert!(!sysfs_streq(b" online", b"online"));
        assert!(!sysfs_streq(b"onlin", b"online"));
        assert!(!sysfs_streq(b"online_", b"online"));
        assert!(!sysfs_streq(b"", b"online"));
        assert!(sysfs_streq(b"", b""));
        assert!(sysfs_streq(b"\n", b""));
        // C strings: everything after a NUL is ignored.
        assert!(sysfs_streq(b"online\0junk", b"online"));
        assert!(sysfs_streq(b"online\n\0junk", b"online"));
        assert!(!sysfs_streq(b"on\0line", b"online"));
    }

    #[test]
    fn parse_accepts_every_writable_state() -> Result {
        for (text, want) in [
            (&b"unplugged"[..], Request::Unplug),
            (b"unplugged\n", Request::Unplug),
            (b"online", Request::Plug(ON)),
            (b"online\n", Request::Plug(ON)),
            (b"online_kernel", Request::Plug(KERNEL)),
            (b"online_kernel\n", Request::Plug(KERNEL)),
            (b"online_movable", Request::Plug(MOVABLE)),
            (b"online_movable\n", Request::Plug(MOVABLE)),
            (b"online_movable\0x", Request::Plug(MOVABLE)),
        ] {
            assert_eq!(parse_request(text)?, want);
        }
        Ok(())
    }

    #[test]
    fn parse_rejects_offline_and_garbage() {
        for text in [
            &b"offline"[..],
            b"offline\n",
            b"",
            b"\n",
            b" ",
            b"\0",
            b"bogus_state",
            b"ONLINE",
            b"Online_movable",
            b"online_movable\n\n",
            b"online_movable ",
            b"\tonline",
            b"online_movabl",
            b"online_movablee",
            b"unplug",
            b"unplugged!",
            b"\xff\xfe",
            b"online\r\n",
        ] {
            assert_eq!(parse_request(text), Err(EINVAL));
        }
    }

    #[test]
    fn parse_rejects_a_long_buffer() {
        let mut long = [b'a'; 4097];
        long[..6].copy_from_slice(b"online");
        assert_eq!(parse_request(&long), Err(EINVAL));
    }

    #[test]
    fn show_strings() {
        assert_eq!(State::Unplugged.as_str(), "unplugged");
        assert_eq!(State::Plugged(OFF).as_str(), "offline");
        assert_eq!(State::Plugged(ON).as_str(), "online");
        assert_eq!(State::Plugged(KERNEL).as_str(), "online_kernel");
        assert_eq!(State::Plugged(MOVABLE).as_str(), "online_movable");
    }

    #[test]
    fn show_output_parses_back() -> Result {
        // Every state that can be written reads back as the same request.
        for t in [ON, KERNEL, MOVABLE] {
            assert_eq!(
                parse_request(State::Plugged(t).as_str().as_bytes())?,
                Request::Plug(t)
            );
        }
        assert_eq!(
            parse_request(State::Unplugged.as_str().as_bytes())?,
            Request::Unplug
        );
        Ok(())
    }

    /// The full (current state x request) table, written out independently of `plan()`.
    #[test]
    fn plan_full_table() {
        use Action::*;
        let unplug = Request::Unplug;
        let plug = Request::Plug;
        let u = State::Unplugged;
        let p = State::Plugged;
        let table: [(State, Request, Result<Action>); 20] = [
            (u, unplug, Ok(Nothing)),
            (u, plug(ON), Ok(HotAdd(ON))),
            (u, plug(KERNEL), Ok(HotAdd(KERNEL))),
            (u, plug(MOVABLE), Ok(HotAdd(MOVABLE))),
            (p(OFF), unplug, Ok(HotRemove)),
            (p(OFF), plug(ON), Err(EBUSY)),
            (p(OFF), plug(KERNEL), Err(EBUSY)),
            (p(OFF), plug(MOVABLE), Err(EBUSY)),
            (p(ON), unplug, Ok(HotRemove)),
            (p(ON), plug(ON), Ok(Nothing)),
            (p(ON), plug(KERNEL), Err(EBUSY)),
            (p(ON), plug(MOVABLE), Err(EBUSY)),
            (p(KERNEL), unplug, Ok(HotRemove)),
            (p(KERNEL), plug(ON), Err(EBUSY)),
            (p(KERNEL), plug(KERNEL), Ok(Nothing)),
            (p(KERNEL), plug(MOVABLE), Err(EBUSY)),
            (p(MOVABLE), unplug, Ok(HotRemove)),
            (p(MOVABLE), plug(ON), Err(EBUSY)),
            (p(MOVABLE), plug(KERNEL), Err(EBUSY)),
            (p(MOVABLE), plug(MOVABLE), Ok(Nothing)),
        ];
        for (state, request, want) in table {
            assert_eq!(plan(state, request), want);
        }
    }

    const MIB: u64 = 1 << 20;

    #[test]
    fn size_strings_as_c() -> Result {
        for (bytes, want) in [
            (0, "0 B"),
            (1000, "1000 B"),
            (1536, "1.50 KiB"),
            (64 * MIB, "64.0 MiB"),
            (128 * MIB, "128 MiB"),
            (2048 * MIB - 1, "2.00 GiB"),
            (1023 * 1024 + 1023, "1024 KiB"),
            (u64::MAX, "16.0 EiB"),
        ] {
            let s = kernel::str::CString::try_from_fmt(fmt!("{}", SizeString(bytes)))?;
            assert_eq!(s.to_bytes(), want.as_bytes());
        }
        Ok(())
    }

    #[test]
    fn published_state_round_trip() {
        let p = PublishedState::new();
        assert_eq!(p.get(), State::Unplugged);
        for s in [
            State::Plugged(OFF),
            State::Plugged(ON),
            State::Plugged(KERNEL),
            State::Plugged(MOVABLE),
            State::Unplugged,
        ] {
            p.set(s);
            assert_eq!(p.get(), s);
        }
    }

    #[test]
    fn adopted_memory_state() {
        let (n, m) = (Some(Zone::Normal), Some(Zone::Movable));
        assert_eq!(adopted_online_type(&[None, None]), OFF);
        assert_eq!(adopted_online_type(&[m, m]), MOVABLE);
        assert_eq!(adopted_online_type(&[n]), KERNEL);
        assert_eq!(adopted_online_type(&[n, m]), ON);
        assert_eq!(adopted_online_type(&[m, None]), ON);
        assert_eq!(adopted_online_type(&[Some(Zone::Other)]), ON);
    }
}
