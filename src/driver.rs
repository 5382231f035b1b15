// SPDX-License-Identifier: GPL-2.0

//! The kmem driver: hot-adds a dax device's memory as System RAM and drives its `state`.
//!
//! Behaviour follows `drivers/dax/kmem.c` of Linux 7.3. All decisions come from
//! [`crate::state`], the memory transitions are in [`crate::hotplug`], and all C calls go
//! through the abstractions in [`crate::kernel_ext`].

#![deny(unsafe_code)]

use crate::{
    debugfs, globals,
    guard::BlockGuard,
    hotplug::{
        elapsed_ns,
        DeviceMemory, //
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
                Transition,
                Verdict, //
            },
            memory_tiers::{
                self,
                NodeMemoryType, //
            },
        },
    },
    owners::BlockRegistration,
    policy::{
        ProbeOnline,
        UnbindPolicy,
        ONLINE_TYPE,
        UNBIND, //
    },
    state::{
        self,
        Action,
        Layout,
        PublishedState,
        SizeString,
        State, //
    },
};
use core::{
    fmt::Write,
    pin::Pin, //
};
use kernel::{
    device::{
        self,
        Bound,
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

/// The kmem dax driver.
pub(crate) struct KmemDriver;

/// The abstract distance of a device's node when its platform driver gives none: five times
/// DRAM's (`MEMTIER_DEFAULT_DAX_ADISTANCE` of `drivers/dax/kmem.c`).
const DAX_ADISTANCE: c_int = memory_tiers::ADISTANCE_DRAM * 5;

/// How long unbind with `unbind=unplug` lets an unplug retry pages that cannot be migrated
/// yet before it gives up, rolls back and keeps the memory.
const UNBIND_UNPLUG_TIMEOUT_MS: u32 = 10_000;

/// What `state` readers (and the guard's memory notifier and the debugfs view) read without
/// the state mutex.
pub(crate) struct Lockless {
    layout: Layout,
    /// The committed state; written only under the state mutex.
    state: PublishedState,
    guard: BlockGuard,
    stats: debugfs::Stats,
}

impl MemoryCallback for Lockless {
    fn notify(&self, t: &Transition) -> Verdict {
        self.guard.notify(&self.layout, t)
    }
}

/// Per-device data of a bound dax device.
#[pin_data]
pub(crate) struct KmemDevice {
    shared: Arc<Lockless>,
    /// The device's usable ranges in the module's table of block owners: their transitions
    /// go to the guard.
    _blocks: KVec<BlockRegistration>,
    #[pin]
    inner: Mutex<DeviceMemory>,
    /// `/sys/kernel/debug/kmem/daxX.Y`, if debugfs is available.
    _debugfs: debugfs::DeviceFile<Arc<Lockless>>,
}

impl KmemDevice {
    fn shared(&self) -> &Lockless {
        &self.shared
    }

    /// Applies a write to `daxX.Y/state`. One lock is held from reading the current state to
    /// committing the new one.
    ///
    /// A successful write makes the device owned by this interface (see
    /// [`crate::guard::GuardMode`]).
    fn store_state(&self, buf: &[u8]) -> Result {
        let t0 = Instant::<Monotonic>::now();
        let request = state::parse_request(buf)?;
        let s = self.shared();
        let mut inner = self.inner.lock();
        let _mark = s.guard.begin_transition();
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
    ///
    /// Runs in probe before the device data exists, so with no lock held across the hotplug
    /// calls (as in the C driver): nothing else reaches `inner` yet, and the driver core adds
    /// the `state` attribute only after probe returns.
    fn initial_plug(
        s: &Lockless,
        ddev: &dax::Device<Core<'_>>,
        inner: &mut DeviceMemory,
        policy: ProbeOnline,
        system: OnlineType,
    ) -> Result {
        let _mark = s.guard.begin_transition();
        let adopted = inner.adopt(&s.layout, ddev, &s.guard)?;
        let planned = policy.probe_state(system);
        let committed = match adopted.map_or(planned, State::Plugged) {
            State::Unplugged => {
                dev_info!(
                    s.layout.dev,
                    "online_type=unplugged: no memory added until a write to state\n"
                );
                State::Unplugged
            }
            State::Plugged(t) if adopted.is_some() => {
                if inner.any_free_range(&s.layout) {
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

    /// Unbind with `unbind=unplug`, or of a device its provider deletes: the atomic unplug of a
    /// `state` write, bounded in time. On failure every block is as before and unbind goes on
    /// as with `keep`.
    fn unplug_at_unbind(&self, inner: &mut DeviceMemory) {
        if !inner.any_added() {
            return;
        }
        let s = self.shared();
        let _mark = s.guard.begin_transition();
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
    let memory = ddev.ranges()?;
    let mut ranges = KVec::with_capacity(memory.len(), GFP_KERNEL)?;
    let (mut usable, mut total) = (0u64, 0u64);
    for (i, m) in memory.iter().enumerate() {
        let r = m.range();
        total = total.saturating_add(r.len());
        let aligned = m.block_aligned(block);
        if let Some(a) = &aligned {
            usable = usable.saturating_add(a.range().len());
        } else {
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
    if usable == 0 {
        dev_warn!(
            dev,
            "rejecting DAX region without any memory after alignment\n"
        );
        return Err(EINVAL);
    } else if usable != total {
        dev_warn!(
            dev,
            "DAX region truncated by {} due to alignment\n",
            SizeString(total - usable)
        );
    }
    let layout = Layout {
        dev: dev.into(),
        dax: ddev.into(),
        ranges,
        block_shift: block.trailing_zeros(),
        memmap_on_memory: ddev.memmap_on_memory(),
    };
    Ok((layout, usable))
}

/// Registers the device's usable ranges with the module's table of block owners, the guard
/// as their callback.
fn guard_blocks(shared: &Arc<Lockless>) -> Result<KVec<BlockRegistration>> {
    let layout = &shared.layout;
    let mut blocks = KVec::with_capacity(layout.ranges.len(), GFP_KERNEL)?;
    for (_, range) in layout.usable() {
        let registration = BlockRegistration::register(range, shared.clone())?;
        blocks.push(registration, GFP_KERNEL)?;
    }
    Ok(blocks)
}

/// Renders the debugfs file of a device.
fn show_debugfs(s: &Arc<Lockless>, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
    debugfs::render(f, &s.layout, s.state.get(), &s.guard, &s.stats)
}

impl dax::Driver for KmemDriver {
    type Data<'bound> = KmemDevice;
    const TYPE: dax::DriverType = dax::DriverType::Kmem;
    const DEV_GROUPS: Option<&'static AttributeGroups<dax::DataOf<KmemDriver>>> =
        Some(&KMEM_GROUPS);

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
            let tier = globals::with_memory_types(|types| {
                NodeMemoryType::init(node, DAX_ADISTANCE, types)
            })??;
            let pages = usable.div_ceil(kernel::page::PAGE_SIZE as u64);
            let group = MemoryGroup::register_static(node, pages)?;

            let mut inner = DeviceMemory::new(&layout, group, tier)?;
            let guard = BlockGuard::new(&layout)?;
            let name = layout.dev.clone();
            let shared = Arc::new(
                Lockless {
                    layout,
                    state: PublishedState::new(),
                    guard,
                    stats: debugfs::Stats::new(),
                },
                GFP_KERNEL,
            )?;
            let debugfs = debugfs::device_file(name.name(), shared.clone(), &show_debugfs)?;
            let blocks = guard_blocks(&shared)?;

            // The guard is registered before any memory is added; the initial add runs once
            // everything else is in place, and a failure drops (unregisters, releases) it all.
            KmemDevice::initial_plug(&shared, ddev, &mut inner, policy, system)?;
            Ok(try_pin_init!(KmemDevice {
                _blocks: blocks,
                shared,
                inner <- new_mutex!(inner, "KmemDevice::inner"),
                _debugfs: debugfs,
            }))
        })
    }

    fn unbind<'bound>(ddev: &'bound dax::Device<Core<'_>>, this: Pin<&KmemDevice>) {
        let mut inner = this.inner.lock();
        // A device its provider deletes (a CXL region decommitted, a dax region's `delete`)
        // takes its memory with it: a CXL region's decoders are reset right after, and memory
        // left online is then backed by nothing (reads return zeroes, writes are dropped). So
        // the unplug is tried whatever `unbind` says; it fails only on pages it cannot move.
        let dying = ddev.is_being_deleted();
        if UNBIND.get() == UnbindPolicy::Unplug || dying {
            this.unplug_at_unbind(&mut inner);
        }
        let stranded = inner.remove_all(&this.shared().layout);
        if stranded && dying {
            let (host, under) = ddev.region_host().map_or((c"-", c"-"), |(host, up)| {
                (host.name(), up.map_or(c"-", |p| p.name()))
            });
            dev_crit!(
                this.shared().layout.dev,
                "deleted by its provider ({}, under {}) with memory online: that memory stays \
                 in use with no device behind it; unplug through `state` before removing \
                 the provider\n",
                host,
                under
            );
        }
    }
}

/// The `state` attribute (`Documentation/ABI/testing/sysfs-bus-dax`).
struct StateAttr;

#[vtable]
impl AttributeOperations for StateAttr {
    type Data = dax::DataOf<KmemDriver>;

    /// The committed state, as published by the last completed transition.
    ///
    /// Never waits for the state mutex: a transition can retry for as long as a page cannot be
    /// migrated, and a reader must not hang behind it (the C driver's `state_show()` takes no
    /// lock either). During a transition this is the state before it.
    fn show(_dev: &device::Device<Bound>, data: &KmemDevice, f: &mut Formatter<'_>) -> Result {
        writeln!(f, "{}", data.shared().state.get().as_str())?;
        Ok(())
    }

    fn store(_dev: &device::Device<Bound>, data: &KmemDevice, buf: &[u8]) -> Result {
        data.store_state(buf)
    }
}

dev_attribute_groups!(KMEM_GROUPS: dax::DataOf<KmemDriver> { state: StateAttr });
