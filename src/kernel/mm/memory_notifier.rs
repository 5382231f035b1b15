// SPDX-License-Identifier: GPL-2.0

//! Memory notifiers: a callback for every memory-block online/offline transition.
//!
//! [`MemoryNotifier`] registers one callback on the chain; [`BlockOwners`] is the callback of a
//! module whose objects each own ranges of memory blocks: every transition is handed to the
//! owner of its block only, found in a tree, so a module with many such objects still adds one
//! notifier to the chain and one lookup to each transition ([`BlockRange`]).
//!
//! The callback runs under `device_hotplug_lock` and `mem_hotplug_lock`, synchronously from
//! inside `online_pages()`/`offline_pages()` — including the ones a driver's own add or offline
//! call makes — so it must never take a lock that is held across such a call.
//!
//! C header: [`include/linux/memory.h`](srctree/include/linux/memory.h)

use crate::kernel_ext::{
    bindings,
    mm::memory_hotplug::{
        Range,
        Zone, //
    },
};
use core::marker::PhantomPinned;
use kernel::{
    container_of,
    prelude::*,
    rbtree::{
        RBTree,
        RBTreeNodeReservation, //
    },
    sync::{
        atomic::{
            Acquire,
            Atomic,
            AtomicFlag,
            Full,
            Relaxed,
            Release, //
        },
        Arc,
    },
    task::Task,
    types::Opaque, //
};

/// A memory-block transition (`enum memory_block_state`), as a notifier sees it.
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
    /// `MEM_CANCEL_ONLINE` or `MEM_CANCEL_OFFLINE`: a request was withdrawn (informational).
    Cancel,
}

impl BlockEvent {
    /// Whether the event is a request that a notifier may refuse (`MEM_GOING_*`).
    pub(crate) const fn can_refuse(self) -> bool {
        matches!(self, BlockEvent::GoingOnline | BlockEvent::GoingOffline)
    }
}

/// The verdict of a [`MemoryCallback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The transition does not concern us (`NOTIFY_DONE`).
    Done,
    /// Let it through (`NOTIFY_OK`).
    Ok,
    /// Refuse it; the writer of `memoryN/state` gets this error (`notifier_from_errno()`).
    Refuse(Error),
}

impl Verdict {
    /// The notifier return value (`notifier_from_errno()` for a refusal).
    fn to_raw(self) -> c_int {
        // The values are small constants of `include/linux/notifier.h`.
        let (done, ok, stop) = (
            kernel::bindings::NOTIFY_DONE as c_int,
            kernel::bindings::NOTIFY_OK as c_int,
            kernel::bindings::NOTIFY_STOP_MASK as c_int,
        );
        match self {
            Verdict::Done => done,
            Verdict::Ok => ok,
            Verdict::Refuse(e) => stop | (ok - e.to_errno()),
        }
    }
}

/// A memory-block transition: the event and the physical range of the block(s).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Transition {
    /// What happens.
    pub(crate) event: BlockEvent,
    /// The physical range concerned.
    pub(crate) range: Range,
}

/// The handler of a [`MemoryNotifier`].
pub(crate) trait MemoryCallback: Send + Sync {
    /// Called for every memory-block transition in the system. Must decide without taking any
    /// lock that is held across memory hotplug calls, and return [`Verdict::Done`] fast for
    /// blocks it does not care about.
    fn notify(&self, t: &Transition) -> Verdict;
}

impl<T: MemoryCallback> MemoryCallback for Arc<T> {
    fn notify(&self, t: &Transition) -> Verdict {
        T::notify(self, t)
    }
}

impl Verdict {
    /// The verdict of a transition that two callbacks decided on: a refusal wins, then `Ok`.
    fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Refuse(e), _) | (_, Verdict::Refuse(e)) => Verdict::Refuse(e),
            (Verdict::Ok, _) | (_, Verdict::Ok) => Verdict::Ok,
            _ => Verdict::Done,
        }
    }
}

/// An owner of a range of memory blocks in [`OWNERS`]: the range's start (the tree's key is
/// its end) and its callback.
struct Owner {
    start: u64,
    callback: Arc<dyn MemoryCallback>,
}

/// The ranges registered by [`BlockRange::register`], keyed by their last byte, so that the
/// first entry at or after an address is the only one that can contain it. `None` until the
/// first registration (a tree cannot be built in a `static` initialiser).
type OwnerTree = Option<RBTree<u64, Owner>>;

kernel::sync::global_lock! {
    // SAFETY: Initialised by `BlockOwners::new()` (once, in module init) before first use.
    unsafe(uninit) static OWNERS: SpinLock<OwnerTree> = None;
}

/// Set once `OWNERS` is initialised. Never cleared: the module's statics go away with it.
static OWNERS_READY: AtomicFlag = AtomicFlag::new(false);

/// The span of the registered ranges: the lowest start and the highest end (`SPAN_START >
/// SPAN_END` when there is none). Written under `OWNERS`' lock, before an insertion and after a
/// removal, so it always covers every registered range; read without the lock, so that the
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

/// The module's dispatcher of memory-block transitions to the owners of the blocks: a
/// [`MemoryCallback`] for the module's one [`MemoryNotifier`]. A transition outside the span of
/// all registered ranges costs two atomic loads, one inside it a tree lookup under a spinlock;
/// one that no [`BlockRange`] covers returns [`Verdict::Done`].
pub(crate) struct BlockOwners(());

impl BlockOwners {
    /// Sets up the table of owners. Created once, in module init, before any owner registers.
    pub(crate) fn new() -> Result<Self> {
        if !OWNERS_READY.xchg(true, Full) {
            // SAFETY: The exchange above makes this run exactly once, before any other use of
            // `OWNERS` (users check `OWNERS_READY` or hold a `BlockOwners`).
            unsafe { OWNERS.init() };
        }
        Ok(Self(()))
    }

    /// The callback of the first range that ends at or after `addr` and starts at or before
    /// `last`, with that range's end.
    fn next_owner(addr: u64, last: u64) -> Option<(u64, Arc<dyn MemoryCallback>)> {
        let owners = OWNERS.lock();
        let cursor = owners.as_ref()?.cursor_lower_bound(&addr)?;
        let (end, owner) = cursor.current();
        (owner.start <= last).then(|| (*end, owner.callback.clone()))
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
pub(crate) struct BlockRange {
    end: u64,
}

impl BlockRange {
    /// Registers `callback` as the owner of the blocks of `range`. Fails with [`EBUSY`] if
    /// another registered range overlaps it, [`ENODEV`] before the module's [`BlockOwners`]
    /// exists.
    pub(crate) fn register(range: Range, callback: Arc<dyn MemoryCallback>) -> Result<Self> {
        if !OWNERS_READY.load(Acquire) || range.is_empty() {
            return Err(if range.is_empty() { EINVAL } else { ENODEV });
        }
        // Allocated before the lock is taken: the insertion itself does not allocate.
        let node = RBTreeNodeReservation::new(GFP_KERNEL)?;
        let mut owners = OWNERS.lock();
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
        Ok(Self { end: range.end })
    }
}

impl Drop for BlockRange {
    fn drop(&mut self) {
        // The owner is dropped after the lock is released (its callback may be the last
        // reference to an object with a destructor).
        let owner = OWNERS.lock().as_mut().and_then(|t| {
            let owner = t.remove(&self.end);
            set_span(t);
            owner
        });
        drop(owner);
    }
}

/// An identifier of the current task, to recognise a transition started by this task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskId(usize);

impl TaskId {
    /// No task.
    pub(crate) const NONE: TaskId = TaskId(0);

    /// The current task.
    pub(crate) fn current() -> Self {
        TaskId(Task::current_raw() as usize)
    }

    /// The raw value, for an atomic.
    pub(crate) const fn as_raw(self) -> usize {
        self.0
    }
}

/// A registered memory notifier calling `T::notify`.
///
/// # Invariants
///
/// `nb` is registered on the memory notifier chain from initialisation until drop, and its
/// `notifier_call` is `Self::call`.
#[pin_data(PinnedDrop)]
pub(crate) struct MemoryNotifier<T: MemoryCallback> {
    data: T,
    #[pin]
    nb: Opaque<kernel::bindings::notifier_block>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The notifier block is only touched by the notifier chain, under its own lock; `T` is
// `Send`.
unsafe impl<T: MemoryCallback> Send for MemoryNotifier<T> {}
// SAFETY: `&MemoryNotifier` only gives access to `&T`, and `T` is `Sync`.
unsafe impl<T: MemoryCallback> Sync for MemoryNotifier<T> {}

impl<T: MemoryCallback> MemoryNotifier<T> {
    /// Registers a notifier for `data`; `data` is initialised before the first callback.
    pub(crate) fn new(data: T) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            data,
            nb <- Opaque::try_ffi_init(|nb: *mut kernel::bindings::notifier_block| {
                // SAFETY: `nb` is valid for writes; it is pinned, and unregistered in `drop`.
                unsafe {
                    nb.write(kernel::bindings::notifier_block {
                        notifier_call: Some(Self::call),
                        next: core::ptr::null_mut(),
                        priority: 0,
                    });
                    kernel::error::to_result(bindings::register_memory_notifier(nb))
                }
            }),
            _pin: PhantomPinned,
        })
    }

    /// The notifier callback.
    ///
    /// # Safety
    ///
    /// Called by the memory notifier chain with `nb` registered by `new` (so embedded in a live
    /// `Self`) and `arg` a `struct memory_notify`.
    unsafe extern "C" fn call(
        nb: *mut kernel::bindings::notifier_block,
        action: c_ulong,
        arg: *mut c_void,
    ) -> c_int {
        // SAFETY: `nb` is the `nb` field of a pinned `Self` that outlives its registration
        // (type invariant); `Opaque` is transparent.
        let this = unsafe {
            &*container_of!(
                nb.cast::<Opaque<kernel::bindings::notifier_block>>(),
                Self,
                nb
            )
        };
        // SAFETY: The memory notifier chain passes a `struct memory_notify`.
        let mn = unsafe { &*arg.cast::<bindings::memory_notify>() };
        if mn.nr_pages == 0 {
            return Verdict::Done.to_raw();
        }
        let event = match u32::try_from(action) {
            Ok(bindings::memory_block_state_MEM_GOING_ONLINE) => BlockEvent::GoingOnline,
            Ok(bindings::memory_block_state_MEM_GOING_OFFLINE) => BlockEvent::GoingOffline,
            Ok(bindings::memory_block_state_MEM_ONLINE) => {
                BlockEvent::Online(online_zone(mn.start_pfn))
            }
            Ok(bindings::memory_block_state_MEM_OFFLINE) => BlockEvent::Offline,
            _ => BlockEvent::Cancel,
        };
        let shift = kernel::page::PAGE_SHIFT;
        let start = (mn.start_pfn as u64) << shift;
        let end = ((mn.start_pfn as u64).wrapping_add(mn.nr_pages as u64) << shift).wrapping_sub(1);
        let t = Transition {
            event,
            range: Range { start, end },
        };
        this.data.notify(&t).to_raw()
    }
}

/// The zone of `pfn` during a `MEM_ONLINE` notification.
///
/// Only called from the notifier callback: the chain runs under `mem_hotplug_lock`, so the pages
/// just onlined stay online and their memmap stays valid during the lookup.
fn online_zone(pfn: c_ulong) -> Zone {
    // SAFETY: The helper accepts any pfn; it only dereferences the memmap of an online one,
    // which the memory hotplug lock held by our caller keeps alive.
    let idx = unsafe { bindings::kmem_glue_online_pfn_zone_idx(pfn) };
    Zone::from_idx(idx)
}

#[pinned_drop]
impl<T: MemoryCallback> PinnedDrop for MemoryNotifier<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `nb` is registered; after this returns no callback
        // runs any more (the chain's rwsem waits for running ones).
        unsafe { bindings::unregister_memory_notifier(self.nb.get()) };
    }
}

#[kunit_tests(rust_memory_notifier)]
mod tests {
    use super::*;

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

    #[test]
    fn verdicts_combine() {
        let busy = Verdict::Refuse(EBUSY);
        assert_eq!(Verdict::Done.and(Verdict::Done), Verdict::Done);
        assert_eq!(Verdict::Done.and(Verdict::Ok), Verdict::Ok);
        assert_eq!(Verdict::Ok.and(Verdict::Done), Verdict::Ok);
        assert_eq!(Verdict::Ok.and(busy), busy);
        assert_eq!(busy.and(Verdict::Ok), busy);
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
        let ra = BlockRange::register(mib(0, 128), a.clone());
        let rb = BlockRange::register(mib(256, 384), b.clone());
        assert!(ra.is_ok() && rb.is_ok());
        assert_eq!(
            BlockRange::register(mib(100, 200), a.clone()).err(),
            Some(EBUSY)
        );
        assert_eq!(
            BlockRange::register(mib(300, 301), a.clone()).err(),
            Some(EBUSY)
        );
        assert_eq!(
            BlockRange::register(Range { start: 1, end: 0 }, a.clone()).err(),
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
        let again = BlockRange::register(mib(0, 128), a.clone());
        assert!(again.is_ok());
        assert_eq!(going_offline(mib(0, 64)), Verdict::Ok);
        assert_eq!(a.calls.load(Relaxed), 3);
        drop((again, rb));
        assert_eq!(going_offline(mib(256, 384)), Verdict::Done);
    }
}
