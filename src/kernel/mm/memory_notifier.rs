// SPDX-License-Identifier: GPL-2.0

//! Memory notifiers: a callback for every memory-block online/offline transition.
//!
//! [`MemoryNotifier`] registers one callback on the chain, which sees every transition with its
//! physical range ([`Transition`]) and may refuse the `MEM_GOING_*` ones ([`Verdict`]).
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
    sync::Arc,
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
    pub(crate) fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Refuse(e), _) | (_, Verdict::Refuse(e)) => Verdict::Refuse(e),
            (Verdict::Ok, _) | (_, Verdict::Ok) => Verdict::Ok,
            _ => Verdict::Done,
        }
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

    #[test]
    fn verdicts_combine() {
        let busy = Verdict::Refuse(EBUSY);
        assert_eq!(Verdict::Done.and(Verdict::Done), Verdict::Done);
        assert_eq!(Verdict::Done.and(Verdict::Ok), Verdict::Ok);
        assert_eq!(Verdict::Ok.and(Verdict::Done), Verdict::Ok);
        assert_eq!(Verdict::Ok.and(busy), busy);
        assert_eq!(busy.and(Verdict::Ok), busy);
    }
}
