// SPDX-License-Identifier: GPL-2.0

//! KUnit tests for the pure logic of the Rust kmem driver.
//!
//! `#[kunit_tests]` needs an inline module, so this test-only crate pulls `src/state.rs` in
//! with `#[path]`: that it compiles here, without the rest of the driver, proves the file is
//! pure. Loading `kmem_kunit.ko` runs the suites; KTAP goes to the kernel log.

use kernel::prelude::*;

// Not every item of the driver's state module is used by the tests of every suite.
#[allow(dead_code, unreachable_pub)]
#[path = "../src/state.rs"]
mod state;

#[kunit_tests(kmem_state)]
mod tests {
    use super::state::*;
    use kernel::prelude::*;

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

    #[test]
    fn mmop_round_trip() {
        for (i, t) in OnlineType::ALL.into_iter().enumerate() {
            assert_eq!(t.as_mmop() as usize, i);
            assert_eq!(OnlineType::from_mmop(t.as_mmop()), Some(t));
        }
        assert_eq!(OnlineType::from_mmop(4), None);
        assert_eq!(OnlineType::from_mmop(u32::MAX), None);
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
    const BLOCK: u64 = 128 * MIB;

    fn r(start: u64, end: u64) -> Range {
        Range { start, end }
    }

    #[test]
    fn block_alignment() {
        let g4 = 4096 * MIB;
        // Already aligned.
        assert_eq!(
            block_aligned(r(g4, g4 + 1024 * MIB - 1), BLOCK),
            Some(r(g4, g4 + 1024 * MIB - 1))
        );
        // Exactly one block.
        assert_eq!(
            block_aligned(r(g4, g4 + BLOCK - 1), BLOCK),
            Some(r(g4, g4 + BLOCK - 1))
        );
        // Start rounded up, end rounded down.
        assert_eq!(
            block_aligned(r(g4 + 1, g4 + 3 * BLOCK + 5), BLOCK),
            Some(r(g4 + BLOCK, g4 + 3 * BLOCK - 1))
        );
        // One byte short of a block.
        assert_eq!(block_aligned(r(g4, g4 + BLOCK - 2), BLOCK), None);
        // Straddles a boundary without holding a whole block.
        assert_eq!(
            block_aligned(r(g4 + BLOCK / 2, g4 + BLOCK + BLOCK / 2), BLOCK),
            None
        );
        // Below the first boundary.
        assert_eq!(block_aligned(r(1, BLOCK - 1), BLOCK), None);
        // End of the address space does not wrap.
        assert_eq!(block_aligned(r(u64::MAX - BLOCK, u64::MAX), BLOCK), None);
        assert_eq!(r(g4, g4 + BLOCK - 1).len(), BLOCK);
    }

    #[test]
    fn sizes_and_truncation() {
        let g4 = 4096 * MIB;
        let ranges = [
            r(g4, g4 + 256 * MIB - 1),
            // Loses 64 MiB at the front.
            r(g4 + 512 * MIB - 64 * MIB, g4 + 768 * MIB - 1),
            // Too small: 64 MiB.
            r(g4 + 1024 * MIB, g4 + 1088 * MIB - 1),
        ];
        let s = Sizes::of(&ranges, BLOCK);
        assert_eq!(s.original, 256 * MIB + 320 * MIB + 64 * MIB);
        assert_eq!(s.usable, 256 * MIB + 256 * MIB);
        assert_eq!(s.truncated(), 128 * MIB);
        assert_eq!(Sizes::of(&[], BLOCK).usable, 0);
        assert_eq!(pfn_up(s.usable, 12), 512 * MIB / 4096);
        assert_eq!(pfn_up(4097, 12), 2);
        assert_eq!(pfn_up(4096, 12), 1);
        assert_eq!(pfn_up(u64::MAX, 12), 1 << 52);
        assert_eq!(pfn_up(0, 12), 0);
    }

    #[test]
    fn range_overlap() {
        let a = r(100, 199);
        assert!(overlaps(a, r(100, 199)));
        assert!(overlaps(a, r(0, 100)));
        assert!(overlaps(a, r(199, 300)));
        assert!(overlaps(a, r(150, 150)));
        assert!(overlaps(a, r(0, u64::MAX)));
        assert!(!overlaps(a, r(0, 99)));
        assert!(!overlaps(a, r(200, 300)));
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

    #[test]
    fn probe_online_parse_and_state() {
        for m in ProbeOnline::ALL {
            assert_eq!(ProbeOnline::parse(m.as_str().as_bytes()), Some(m));
        }
        // The online types keep the names of `memoryN/state` and `auto_online_blocks`.
        for t in OnlineType::ALL {
            assert_eq!(
                ProbeOnline::parse(t.as_str().as_bytes()),
                Some(ProbeOnline::Type(t))
            );
        }
        assert_eq!(ProbeOnline::parse(b"system\n"), Some(ProbeOnline::System));
        assert_eq!(
            ProbeOnline::parse(b"unplugged"),
            Some(ProbeOnline::Unplugged)
        );
        for bad in [
            &b""[..],
            b"\n",
            b"System",
            b"online_movable2",
            b"movable",
            b"offline ",
        ] {
            assert_eq!(ProbeOnline::parse(bad), None);
        }
        for system in OnlineType::ALL {
            assert_eq!(
                ProbeOnline::System.probe_state(system),
                State::Plugged(system)
            );
            assert_eq!(ProbeOnline::Unplugged.probe_state(system), State::Unplugged);
            for t in OnlineType::ALL {
                assert_eq!(ProbeOnline::Type(t).probe_state(system), State::Plugged(t));
            }
        }
    }

    #[test]
    fn unbind_policy_parse() {
        for m in UnbindPolicy::ALL {
            assert_eq!(UnbindPolicy::parse(m.as_str().as_bytes()), Some(m));
        }
        assert_eq!(UnbindPolicy::parse(b"unplug\n"), Some(UnbindPolicy::Unplug));
        for bad in [&b""[..], b"Keep", b"unplugged", b"keep unplug", b"offline"] {
            assert_eq!(UnbindPolicy::parse(bad), None);
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
                    Other,
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

    #[test]
    fn partial_failure_policy() {
        assert_eq!(on_failure(0), OnFailure::Abort);
        assert_eq!(on_failure(1), OnFailure::Continue);
        assert_eq!(on_failure(7), OnFailure::Continue);
    }
}

/// Cross-checks of the pure copies in `state.rs` against the kernel's own C functions.
#[kunit_tests(kmem_ffi_xcheck)]
mod xcheck {
    use super::state::*;
    use kernel::{bindings, prelude::*};

    /// `mhp_online_type_from_str()` on a NUL-terminated copy of `text`.
    fn c_parse(text: &[u8]) -> Result<c_int> {
        let mut buf = KVec::with_capacity(text.len() + 1, GFP_KERNEL)?;
        buf.extend_from_slice(text, GFP_KERNEL)?;
        buf.push(0, GFP_KERNEL)?;
        // SAFETY: `buf` is a NUL-terminated string that outlives the call.
        Ok(unsafe { bindings::mhp_online_type_from_str(buf.as_ptr().cast()) })
    }

    #[test]
    fn online_type_parse_matches_c() -> Result {
        for text in [
            &b"offline"[..],
            b"online",
            b"online_kernel",
            b"online_movable\n",
            b"online\n\n",
            b"ONLINE",
            b"",
            b"\n",
            b"online_movabl",
            b"unplugged",
            b"online\0x",
        ] {
            let want = c_parse(text)?;
            let got = OnlineType::parse(text).map_or(EINVAL.to_errno(), |t| t.as_mmop() as c_int);
            assert_eq!(got, want);
        }
        Ok(())
    }

    #[test]
    fn online_type_names_match_c() {
        for t in OnlineType::ALL {
            // SAFETY: `mhp_online_type_to_str()` accepts any value and returns a static
            // string or NULL.
            let p = unsafe { bindings::mhp_online_type_to_str(t.as_mmop() as c_int) };
            assert!(!p.is_null());
            // SAFETY: `p` is a static NUL-terminated string.
            let s = unsafe { CStr::from_char_ptr(p) };
            assert_eq!(s.to_bytes(), t.as_str().as_bytes());
        }
    }

    #[test]
    fn mmop_values_match_c() {
        assert_eq!(OnlineType::Offline.as_mmop(), bindings::mmop_MMOP_OFFLINE);
        assert_eq!(OnlineType::Online.as_mmop(), bindings::mmop_MMOP_ONLINE);
        assert_eq!(
            OnlineType::OnlineKernel.as_mmop(),
            bindings::mmop_MMOP_ONLINE_KERNEL
        );
        assert_eq!(
            OnlineType::OnlineMovable.as_mmop(),
            bindings::mmop_MMOP_ONLINE_MOVABLE
        );
    }
}

/// The test module itself does nothing at load beyond running the suites.
struct KmemKunit;

impl kernel::Module for KmemKunit {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}

module! {
    type: KmemKunit,
    name: "kmem_kunit",
    authors: ["The kmem-rs developers"],
    description: "KUnit tests for the Rust kmem driver",
    license: "GPL v2",
}
