// SPDX-License-Identifier: GPL-2.0

//! The module's table of memory-block owners: the callback of its one memory notifier.
//!
//! Every bound device registers its usable ranges ([`BlockRegistration`]) with its guard as their
//! owner; a memory-block transition is handed to the owner of its block only, found in a tree,
//! so the module adds one notifier to the chain and one lookup to each transition, whatever the
//! number of devices. The table is the module's own (a lock in [`crate::globals`]), not the
//! memory notifier abstraction's.

#![deny(unsafe_code)]

use crate::{
    globals::{
        self,
        Owner, //
    },
    kernel_ext::mm::{
        memory_hotplug::Range,
        memory_notifier::{
            MemoryCallback,
            Transition,
            Verdict, //
        },
    },
};
use kernel::{
    prelude::*,
    rbtree::{
        RBTree,
        RBTreeNodeReservation, //
    },
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Relaxed,
            Release, //
        },
        Arc,
    },
};

/// The span of the registered ranges: the lowest start and the highest end (`SPAN_START >
/// SPAN_END` when there is none). Written under the table's lock, before an insertion and after
/// a removal, so it always covers every registered range; read without the lock, so that the
/// transitions of other memory (boot memory, other drivers') cost two loads and no lock.
static SPAN_START: Atomic<u64> = Atomic::new(u64::MAX);
static SPAN_END: Atomic<u64> = Atomic::new(0);

/// Sets the span to that of the ranges in `tree`.
fn set_span(tree: &RBTree<u64, Owner>) {
    let first = tree
        .cursor_front()
        .map_or(u64::MAX, |c| c.current().1.start);
    let last = tree.cursor_back().map_or(0, |c| *c.current().0);
    SPAN_START.store(first, Release);
    SPAN_END.store(last, Release);
}

/// The module's dispatcher of memory-block transitions to the owners of the blocks: the
/// [`MemoryCallback`] of the module's one memory notifier. A transition outside the span of all
/// registered ranges costs two atomic loads, one inside it a tree lookup under a spinlock; one
/// that no [`BlockRegistration`] covers returns [`Verdict::Done`].
pub(crate) struct BlockOwners(());

impl BlockOwners {
    /// The dispatcher; [`ENODEV`] before the module's globals exist.
    pub(crate) fn new() -> Result<Self> {
        globals::with_owners(|_| ())?;
        Ok(Self(()))
    }

    /// The callback of the first range that ends at or after `addr` and starts at or before
    /// `last`, with that range's end.
    fn next_owner(addr: u64, last: u64) -> Option<(u64, Arc<dyn MemoryCallback>)> {
        globals::with_owners(|owners| {
            let cursor = owners.as_ref()?.cursor_lower_bound(&addr)?;
            let (end, owner) = cursor.current();
            (owner.start <= last).then(|| (*end, owner.callback.clone()))
        })
        .ok()
        .flatten()
    }
}

impl MemoryCallback for BlockOwners {
    /// Hands the transition to the owner of each range it touches (one for a transition of
    /// one memory block), outside the table's lock: an owner may log, and may be unregistered
    /// meanwhile (its callback object lives on until this call drops its reference).
    fn notify(&self, t: &Transition) -> Verdict {
        if t.range.end < SPAN_START.load(Acquire) || t.range.start > SPAN_END.load(Acquire) {
            return Verdict::Done;
        }
        let mut verdict = Verdict::Done;
        let mut addr = t.range.start;
        while let Some((end, callback)) = Self::next_owner(addr, t.range.end) {
            verdict = verdict.and(callback.notify(t));
            match end.checked_add(1) {
                Some(next) if next <= t.range.end => addr = next,
                _ => break,
            }
        }
        verdict
    }
}

/// A range of memory blocks whose transitions go to one callback of the module's
/// [`BlockOwners`]; unregistered when dropped.
pub(crate) struct BlockRegistration {
    end: u64,
}

impl BlockRegistration {
    /// Registers `callback` as the owner of the blocks of `range`. Fails with [`EBUSY`] if
    /// another registered range overlaps it, [`ENODEV`] before the module's globals exist.
    pub(crate) fn register(range: Range, callback: Arc<dyn MemoryCallback>) -> Result<Self> {
        if range.is_empty() {
            return Err(EINVAL);
        }
        // Allocated before the lock is taken: the insertion itself does not allocate.
        let node = RBTreeNodeReservation::new(GFP_KERNEL)?;
        globals::with_owners(|owners| {
            let tree = owners.get_or_insert_with(RBTree::new);
            if let Some(c) = tree.cursor_lower_bound(&range.start) {
                if c.current().1.start <= range.end {
                    return Err(EBUSY);
                }
            }
            let owner = Owner {
                start: range.start,
                callback,
            };
            // Widened first: a transition of the new range never finds the span without it.
            SPAN_START.store(SPAN_START.load(Relaxed).min(range.start), Release);
            SPAN_END.store(SPAN_END.load(Relaxed).max(range.end), Release);
            tree.insert(node.into_node(range.end, owner));
            Ok(())
        })??;
        Ok(Self { end: range.end })
    }
}

impl Drop for BlockRegistration {
    fn drop(&mut self) {
        // A `BlockRegistration` exists only if the table does. The owner is dropped after the lock
        // is released (its callback may be the last reference to an object with a destructor).
        let owner = globals::with_owners(|owners| {
            owners.as_mut().and_then(|t| {
                let owner = t.remove(&self.end);
                set_span(t);
                owner
            })
        });
        drop(owner);
    }
}

#[kunit_tests(dax_kmem_rust_owners)]
mod tests {
    use super::*;
    use crate::kernel_ext::mm::memory_notifier::BlockEvent;

    const MIB: u64 = 1 << 20;
    /// Far above any memory of the test machine: no real transition reaches these owners.
    const BASE: u64 = 1 << 50;

    /// Counts its calls and answers `verdict`.
    struct Counter {
        calls: Atomic<u32>,
        verdict: Verdict,
    }

    impl MemoryCallback for Counter {
        fn notify(&self, _t: &Transition) -> Verdict {
            self.calls.fetch_add(1, Relaxed);
            self.verdict
        }
    }

    fn mib(start: u64, end: u64) -> Range {
        Range {
            start: BASE + start * MIB,
            end: BASE + end * MIB - 1,
        }
    }

    fn going_offline(range: Range) -> Verdict {
        BlockOwners(()).notify(&Transition {
            event: BlockEvent::GoingOffline,
            range,
        })
    }

    /// Transitions go to the owner of their blocks only; overlaps are refused; a dropped
    /// range gets nothing more.
    #[test]
    fn dispatch_by_range() {
        // The module's table exists (module init made it); this only checks that.
        assert!(BlockOwners::new().is_ok());
        let new = |verdict| {
            Arc::new(
                Counter {
                    calls: Atomic::new(0),
                    verdict,
                },
                GFP_KERNEL,
            )
        };
        let (Ok(a), Ok(b)) = (new(Verdict::Ok), new(Verdict::Refuse(EBUSY))) else {
            return;
        };
        let ra = BlockRegistration::register(mib(0, 128), a.clone());
        let rb = BlockRegistration::register(mib(256, 384), b.clone());
        assert!(ra.is_ok() && rb.is_ok());
        assert_eq!(
            BlockRegistration::register(mib(100, 200), a.clone()).err(),
            Some(EBUSY)
        );
        assert_eq!(
            BlockRegistration::register(mib(300, 301), a.clone()).err(),
            Some(EBUSY)
        );
        assert_eq!(
            BlockRegistration::register(Range { start: 1, end: 0 }, a.clone()).err(),
            Some(EINVAL)
        );

        assert_eq!(going_offline(mib(0, 128)), Verdict::Ok);
        assert_eq!(going_offline(mib(128, 256)), Verdict::Done);
        assert_eq!(going_offline(mib(256, 384)), Verdict::Refuse(EBUSY));
        assert_eq!(going_offline(mib(512, 640)), Verdict::Done);
        assert_eq!((a.calls.load(Relaxed), b.calls.load(Relaxed)), (1, 1));
        // A transition over both ranges goes to both; the refusal wins.
        assert_eq!(going_offline(mib(64, 320)), Verdict::Refuse(EBUSY));
        assert_eq!((a.calls.load(Relaxed), b.calls.load(Relaxed)), (2, 2));

        drop(ra);
        assert_eq!(going_offline(mib(0, 128)), Verdict::Done);
        assert_eq!(a.calls.load(Relaxed), 2);
        // The space is free again.
        let again = BlockRegistration::register(mib(0, 128), a.clone());
        assert!(again.is_ok());
        assert_eq!(going_offline(mib(0, 64)), Verdict::Ok);
        assert_eq!(a.calls.load(Relaxed), 3);
        drop((again, rb));
        assert_eq!(going_offline(mib(256, 384)), Verdict::Done);
    }
}
