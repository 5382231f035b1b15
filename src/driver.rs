// SPDX-License-Identifier: GPL-2.0

//! The kmem driver: hot-adds a dax device's memory as System RAM and drives its `state`.
//!
//! Behaviour follows `drivers/dax/kmem.c` of Linux 7.3. All decisions come from
//! [`crate::state`], the memory transitions are in [`crate::hotplug`], and all C calls go
//! through the abstractions in [`crate::kernel_ext`].

#![deny(unsafe_code)]

use crate::{
    debugfs,
    guard::BlockGuard,
    hotplug::{
        elapsed_ns,
        Inner, //
    },
    kernel_ext::{
        dax,
        device::attribute::{
            dev_attribute_groups,
            AttributeGroups,
            AttributeOperations, //
        },
        mm::{
            memory_hotplug::{
                self as mhp,
                MemoryGroup,
                OnlineType, //
            },
            memory_notifier::{
                MemoryCallback,
                MemoryNotifier,
                Transition,
                Verdict, //
            },
            memory_tiers::NodeMemoryType,
        },
        module_param::{
            impl_param_enum,
            module_param_enum, //
        },
        string_helpers::SizeString,
    },
    state::{
        self,
        Action,
        Layout,
        ProbeOnline,
        PublishedState,
        Sizes,
        State,
        UnbindPolicy, //
    },
};
use core::{
    fmt::Write,
    pin::Pin, //
};
use kernel::{
    device::{
        self,
        Core, //
    },
    new_mutex,
    prelude::*,
    str::Formatter,
    sync::{
        Arc,
        Mutex, //
    },
    time::{
        Instant,
        Monotonic, //
    },
};

impl_param_enum!(ProbeOnline);
impl_param_enum!(UnbindPolicy);
module_param_enum!("kmem", ONLINE_TYPE: ProbeOnline = 0, "online_type", 0o644,
    "How probe adds a device's memory: system (default: auto_online_blocks), offline, online, online_kernel, online_movable, unplugged (add nothing)");
module_param_enum!("kmem", UNBIND: UnbindPolicy = 0, "unbind", 0o644,
    "What unbind does with online memory: keep (default: leave it added; the next bind takes it over), unplug (try an atomic unplug for up to 10 s, else keep)");

/// The kmem dax driver.
pub(crate) struct KmemDriver;

/// How long unbind with `unbind=unplug` lets an unplug retry pages that cannot be migrated
/// yet before it gives up, rolls back and keeps the memory.
const UNBIND_UNPLUG_TIMEOUT_MS: u32 = 10_000;

/// What the memory notifier, `state` readers and the debugfs view read without the mutex.
pub(crate) struct Shared {
    layout: Layout,
    /// The committed state; written only under the state mutex.
    state: PublishedState,
    guard: BlockGuard,
    stats: debugfs::Stats,
}

impl MemoryCallback for Shared {
    fn notify(&self, t: &Transition) -> Verdict {
        self.guard.notify(&self.layout, t)
    }
}

/// Per-device data of a bound dax device.
#[pin_data]
pub(crate) struct KmemDevice {
    #[pin]
    notifier: MemoryNotifier<Arc<Shared>>,
    #[pin]
    inner: Mutex<Inner>,
    /// `/sys/kernel/debug/kmem/daxX.Y`, if debugfs is available.
    _debugfs: debugfs::DeviceFile<Arc<Shared>>,
}

impl KmemDevice {
    fn shared(&self) -> &Shared {
        self.notifier.data()
    }

    /// Applies a write to `daxX.Y/state`. One lock is held from reading the current state to
    /// committing the new one.
    ///
    /// A successful write makes the device owned by this interface (see [`state::GuardMode`]).
    fn store_state(&self, buf: &[u8]) -> Result {
        let t0 = Instant::<Monotonic>::now();
        let request = state::parse_request(buf)?;
        let s = self.shared();
        let mut inner = self.inner.lock();
        let _mark = s.guard.mark();
        inner.mm_ns = 0;
        let result = match state::plan(s.state.get(), request) {
            Ok(Action::Nothing) => Ok(false),
            Ok(Action::HotRemove) => inner
                .unplug(&s.layout, None)
                .map(|n| s.state.set(n))
                .map(|()| true),
            Ok(Action::HotAdd(t)) => inner
                .plug(&s.layout, t)
                .map(|n| s.state.set(n))
                .map(|()| true),
            Err(e) => Err(e),
        };
        let errno = result.as_ref().map_or_else(|e| e.to_errno(), |_| 0);
        let changed = result.as_ref().is_ok_and(|c| *c);
        s.stats
            .record(request, errno, changed, elapsed_ns(&t0), inner.mm_ns);
        result?;
        s.guard.set_owned();
        Ok(())
    }

    /// Adds the device's memory at probe as the `online_type` parameter says (by default with
    /// the system default online type `system`), or nothing for `unplugged`.
    ///
    /// Ranges that an earlier unbind or module instance left added (online) are taken over
    /// first; the device's state is then that of their blocks, whatever the parameter says, and
    /// any other range is added with the same online type.
    fn initial_plug(&self, policy: ProbeOnline, system: OnlineType) -> Result {
        let s = self.shared();
        let mut inner = self.inner.lock();
        let _mark = s.guard.mark();
        let adopted = inner.adopt(&s.layout, &s.guard)?;
        let committed = match adopted.map_or_else(|| policy.probe_state(system), State::Plugged) {
            State::Unplugged => {
                dev_info!(
                    s.layout.dev,
                    "online_type=unplugged: no memory added until a write to state\n"
                );
                State::Unplugged
            }
            State::Plugged(t) if adopted.is_some() => {
                if inner.ranges_left(&s.layout) {
                    if let Err(e) = inner.plug(&s.layout, t) {
                        dev_warn!(
                            s.layout.dev,
                            "could not add the ranges not taken over: {}\n",
                            e.to_errno()
                        );
                    }
                }
                State::Plugged(t)
            }
            State::Plugged(t) => inner.plug(&s.layout, t)?,
        };
        s.state.set(committed);
        Ok(())
    }

    /// Unbind with `unbind=unplug`: the atomic unplug of a `state` write, bounded in time. On
    /// failure every block is as before and unbind goes on as with `keep`.
    fn unplug_at_unbind(&self, inner: &mut Inner) {
        if !inner.any_added() {
            return;
        }
        let s = self.shared();
        let _mark = s.guard.mark();
        match inner.unplug(&s.layout, Some(UNBIND_UNPLUG_TIMEOUT_MS)) {
            Ok(n) => {
                s.state.set(n);
                dev_info!(s.layout.dev, "unbind: memory unplugged\n");
            }
            Err(e) => dev_warn!(
                s.layout.dev,
                "unbind: unplug failed ({}), keeping the memory\n",
                e.to_errno()
            ),
        }
    }
}

/// Reads the probe-time layout of `ddev`, logging what kmem logs; also returns the usable size.
fn read_layout(ddev: &dax::Device<Core<'_>>, block: u64) -> Result<(Layout, u64)> {
    let dev: &device::Device<Core<'_>> = ddev.as_ref();
    let raw = ddev.ranges()?;
    let mut ranges = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    for (i, r) in raw.iter().enumerate() {
        let aligned = r.block_aligned(block);
        if aligned.is_none() {
            dev_info!(
                dev,
                "mapping{}: {:#x}-{:#x} too small after alignment\n",
                i,
                r.start,
                r.end
            );
        }
        ranges.push(aligned, GFP_KERNEL)?;
    }
    let sizes = Sizes::of(&raw, block);
    if sizes.usable == 0 {
        dev_warn!(
            dev,
            "rejecting DAX region without any memory after alignment\n"
        );
        return Err(EINVAL);
    } else if sizes.truncated() != 0 {
        dev_warn!(
            dev,
            "DAX region truncated by {} due to alignment\n",
            SizeString::new(sizes.truncated())
        );
    }
    let layout = Layout {
        dev: dev.into(),
        ranges,
        block_shift: block.trailing_zeros(),
        memmap_on_memory: ddev.memmap_on_memory(),
    };
    Ok((layout, sizes.usable))
}

/// Renders the debugfs file of a device.
fn show_debugfs(s: &Arc<Shared>, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
    debugfs::render(f, &s.layout, s.state.get(), &s.guard, &s.stats)
}

impl dax::Driver for KmemDriver {
    type Data<'bound> = KmemDevice;
    const TYPE: dax::DriverType = dax::DriverType::Kmem;
    const DEV_GROUPS: Option<&'static AttributeGroups<KmemDevice>> = Some(&KMEM_GROUPS);

    fn probe<'bound>(
        ddev: &'bound dax::Device<Core<'_>>,
    ) -> impl PinInit<KmemDevice, Error> + 'bound {
        pin_init::pin_init_scope(move || {
            // Resolved at bind: the parameter and `auto_online_blocks` as they are now.
            let policy = ONLINE_TYPE.get();
            let system = mhp::default_online_type()?;

            // Without good NUMA information slow memory could end up in a node with fast
            // memory, with unavoidable performance problems.
            let node = ddev.target_node();
            if node < 0 {
                dev_warn!(
                    ddev.as_ref(),
                    "rejecting DAX region with invalid node: {}\n",
                    node
                );
                return Err(EINVAL);
            }

            let block = mhp::block_size();
            let (layout, usable) = read_layout(ddev, block)?;
            let tier = NodeMemoryType::init(node)?;
            let pages = state::pfn_up(usable, kernel::page::PAGE_SHIFT as u32);
            let group = MemoryGroup::register_static(node, pages)?;

            let inner = Inner::new(&layout, group, tier)?;
            let guard = BlockGuard::new(&layout)?;
            let name = layout.dev.clone();
            let shared = Arc::new(
                Shared {
                    layout,
                    state: PublishedState::new(),
                    guard,
                    stats: debugfs::Stats::new(),
                },
                GFP_KERNEL,
            )?;
            let debugfs = debugfs::device_file(name.name(), shared.clone(), &show_debugfs)?;

            // The guard is registered before any memory is added; the initial add runs once
            // everything is in place, and a failure drops (unregisters, releases) it all.
            Ok(try_pin_init!(KmemDevice {
                notifier <- MemoryNotifier::new(shared),
                inner <- new_mutex!(inner, "KmemDevice::inner"),
                _debugfs: debugfs,
            })
            .pin_chain(move |this| this.initial_plug(policy, system)))
        })
    }

    fn unbind<'bound>(_ddev: &'bound dax::Device<Core<'_>>, this: Pin<&KmemDevice>) {
        let mut inner = this.inner.lock();
        if UNBIND.get() == UnbindPolicy::Unplug {
            this.unplug_at_unbind(&mut inner);
        }
        inner.remove_all(&this.shared().layout);
    }
}

/// The `state` attribute (`Documentation/ABI/testing/sysfs-bus-dax`).
struct StateAttr;

#[vtable]
impl AttributeOperations for StateAttr {
    type Data = KmemDevice;

    /// The committed state, as published by the last completed transition.
    ///
    /// Never waits for the state mutex: a transition can retry for as long as a page cannot be
    /// migrated, and a reader must not hang behind it (the C driver's `state_show()` takes no
    /// lock either). During a transition this is the state before it.
    fn show(data: &KmemDevice, f: &mut Formatter<'_>) -> Result {
        writeln!(f, "{}", data.shared().state.get().as_str())?;
        Ok(())
    }

    fn store(data: &KmemDevice, buf: &[u8]) -> Result {
        data.store_state(buf)
    }
}

dev_attribute_groups!(KMEM_GROUPS: KmemDevice { state: StateAttr });
