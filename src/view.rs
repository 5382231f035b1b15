// SPDX-License-Identifier: GPL-2.0

//! What the guard, the transitions and the debugfs view share about a device, and its rendering
//! as `/sys/kernel/debug/kmem/daxX.Y`.

#![deny(unsafe_code)]

use crate::{
    guard::guard_mode,
    mhp,
    state::{
        OnlineType,
        Range,
        Request,
        State, //
    },
};
use kernel::{
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            AtomicFlag,
            Relaxed, //
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
    /// The current state ([`encode_state`]), mirrored for readers without the mutex.
    pub(crate) state: Atomic<u32>,
    /// Set by the first successful write to `state`; cleared only by unbind (drop).
    pub(crate) owned: AtomicFlag,
    /// External transitions of the device's blocks let through and refused by the guard.
    pub(crate) allowed: Atomic<u64>,
    pub(crate) refused: Atomic<u64>,
    /// Completed `state` writes that changed something.
    pub(crate) transitions: Atomic<u64>,
    /// The last `state` write: request ([`encode_request`]), result (0 or -errno), total time
    /// and the part of it spent inside the memory hotplug calls.
    pub(crate) last_request: Atomic<u32>,
    pub(crate) last_result: Atomic<i32>,
    pub(crate) last_total_ns: Atomic<u64>,
    pub(crate) last_mm_ns: Atomic<u64>,
}

pub(crate) const fn encode_state(s: State) -> u32 {
    match s {
        State::Unplugged => 0,
        State::Plugged(t) => 1 + t.as_mmop(),
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
        Ok(Arc::new(
            Self {
                ranges: copy,
                block_shift,
                state: Atomic::new(encode_state(State::Unplugged)),
                owned: AtomicFlag::new(false),
                allowed: Atomic::new(0),
                refused: Atomic::new(0),
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

/// Renders `/sys/kernel/debug/kmem/daxX.Y`.
pub(crate) fn show_view(v: &Arc<View>, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
    let state = decode_state(v.state.load(Relaxed)).map_or("?", State::as_str);
    writeln!(f, "state: {}", state)?;
    writeln!(
        f,
        "owned: {} (guard={})",
        if v.owned.load(Relaxed) { "yes" } else { "no" },
        guard_mode().as_str()
    )?;
    writeln!(
        f,
        "external transitions: allowed {}, refused {}",
        v.allowed.load(Relaxed),
        v.refused.load(Relaxed)
    )?;
    for (i, r) in v.ranges.iter().enumerate() {
        let Some(r) = r else {
            writeln!(f, "mapping{}: too small, not used", i)?;
            continue;
        };
        writeln!(f, "mapping{}: {:#x}-{:#x}", i, r.start, r.end)?;
        let mut addr = r.start;
        while addr <= r.end {
            let zone = mhp::zone_name(addr);
            let zone = zone.map_or(Ok("offline or absent"), CStr::to_str);
            writeln!(
                f,
                "  memory{}: {}",
                addr >> v.block_shift,
                zone.map_err(|_| kernel::fmt::Error)?
            )?;
            addr = match addr.checked_add(1u64 << v.block_shift) {
                Some(a) => a,
                None => break,
            };
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
