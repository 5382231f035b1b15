// SPDX-License-Identifier: GPL-2.0

//! The kmem driver: hot-adds a dax device's memory as System RAM and drives its `state`.
//!
//! Behaviour follows `drivers/dax/kmem.c` of Linux 7.3. All decisions come from the pure
//! [`crate::state`] module; all C calls go through the abstraction modules.

#![deny(unsafe_code)]

use crate::{
    dax,
    debug,
    guard::BlockGuard,
    memtier::NodeMemoryType,
    mhp::{
        self,
        AddedMemory,
        MemoryGroup,
        Reservation,
        SizeString, //
    },
    notifier::MemoryNotifier,
    state::{
        self,
        Action,
        OnFailure,
        OnlineType,
        ProbeOnline,
        Range,
        Sizes,
        State,
        UnbindPolicy, //
    },
    sysfs,
    view::{
        encode_request,
        show_view,
        View, //
    }, //
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
        aref::ARef,
        atomic::{
            Relaxed,
            Release, //
        },
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

crate::param::impl_param_enum!(ProbeOnline);
crate::param::impl_param_enum!(UnbindPolicy);

/// How long unbind with `unbind=unplug` lets an unplug retry pages that cannot be migrated
/// yet before it gives up, rolls back and keeps the memory.
const UNBIND_UNPLUG_TIMEOUT_MS: u32 = 10_000;

/// What a bound device never changes: copied at probe (the dax bus refuses to resize a device
/// or change its `memmap_on_memory` while a kmem driver is bound).
struct Config {
    /// The device, for log messages.
    dev: ARef<device::Device>,
    /// The block-aligned ranges, by mapping index; `None` for a range smaller than a block.
    ranges: KVec<Option<Range>>,
    /// Whether the device asked for its memmap to live on the hot-added memory.
    memmap_on_memory: bool,
}

/// The resource name of the added memory; each reservation is named after its device.
const RAM_NAME: &CStr = c"System RAM (kmem)";

/// What transitions change, under one lock.
struct Inner {
    state: State,
    /// Reservations taken but not (yet) added, by mapping index.
    reserved: KVec<Option<Reservation>>,
    /// Memory added to the system, by mapping index.
    added: KVec<Option<AddedMemory>>,
    /// The device's memory group; `None` once leaked or released by unbind.
    group: Option<MemoryGroup>,
    /// The node's memory-tier association; `None` once leaked or released by unbind.
    tier: Option<NodeMemoryType>,
    /// Time spent inside memory hotplug calls by the current transition.
    mm_ns: u64,
}

/// Per-device data of a bound dax device.
#[pin_data]
pub(crate) struct KmemDevice {
    config: Config,
    view: Arc<View>,
    #[pin]
    guard: MemoryNotifier<BlockGuard>,
    #[pin]
    inner: Mutex<Inner>,
    /// `/sys/kernel/debug/kmem/daxX.Y`, if debugfs is available.
    _debugfs: debug::DeviceFile<Arc<View>>,
}

impl Config {
    /// Logs `mapping<i>: <start>-<end> <what>`, the C driver's per-range message.
    fn warn_mapping(&self, i: usize, r: Range, what: &str) {
        dev_warn!(
            self.dev,
            "mapping{}: {:#x}-{:#x} {}\n",
            i,
            r.start,
            r.end,
            what
        );
    }

    /// Logs `mapping<i>: <start>-<end> <what>` at info level.
    fn info_mapping(&self, i: usize, r: Range, what: &str) {
        dev_info!(
            self.dev,
            "mapping{}: {:#x}-{:#x} {}\n",
            i,
            r.start,
            r.end,
            what
        );
    }

    /// Whether a usable range is neither reserved nor added.
    fn ranges_left(&self, inner: &Inner) -> bool {
        self.ranges
            .iter()
            .zip(inner.reserved.iter().zip(inner.added.iter()))
            .any(|(r, (res, add))| r.is_some() && res.is_none() && add.is_none())
    }

    /// Reserves every usable range that is not reserved yet (`dax_kmem_init_resources()`).
    ///
    /// Returns the number of new reservations; fails with [`EBUSY`] only if none was made.
    fn reserve(&self, inner: &mut Inner) -> Result<usize> {
        let mut mapped = 0;
        for (i, range) in self.ranges.iter().enumerate() {
            let Some(range) = *range else { continue };
            if inner.reserved[i].is_some() || inner.added[i].is_some() {
                continue;
            }
            match Reservation::request(range, self.dev.name()) {
                Ok(res) => {
                    inner.reserved[i] = Some(res);
                    mapped += 1;
                }
                Err(_) => {
                    self.warn_mapping(i, range, "could not reserve region");
                    if state::on_failure(mapped) == OnFailure::Abort {
                        return Err(EBUSY);
                    }
                }
            }
        }
        Ok(mapped)
    }

    /// Adds every reserved range with `online_type` (`dax_kmem_do_hotplug()`).
    ///
    /// A range that fails to add loses its reservation. Returns the number of ranges added,
    /// or the error of the first failure if nothing was added before it.
    fn hotplug(&self, inner: &mut Inner, online_type: OnlineType) -> Result<usize> {
        let Inner {
            reserved,
            added,
            group,
            mm_ns,
            ..
        } = inner;
        let group = group.as_ref().ok_or(ENODEV)?;
        let mut count = 0;
        for (i, slot) in reserved.iter_mut().enumerate() {
            let Some(res) = slot.take() else { continue };
            let range = res.range();
            let t0 = Instant::<Monotonic>::now();
            let result = mhp::add_memory_driver_managed(
                group,
                res,
                RAM_NAME,
                self.memmap_on_memory,
                online_type,
            );
            *mm_ns = mm_ns.saturating_add(elapsed_ns(&t0));
            match result {
                Ok(mem) => {
                    added[i] = Some(mem);
                    count += 1;
                }
                Err(e) => {
                    self.warn_mapping(i, range, "memory add failed");
                    if state::on_failure(count) == OnFailure::Abort {
                        return Err(e);
                    }
                }
            }
        }
        Ok(count)
    }

    /// Reserves and adds the device's memory; on total failure nothing stays reserved.
    fn plug(&self, inner: &mut Inner, online_type: OnlineType) -> Result {
        self.reserve(inner)?;
        if let Err(e) = self.hotplug(inner, online_type) {
            inner.reserved.iter_mut().for_each(|slot| *slot = None);
            return Err(e);
        }
        inner.state = State::Plugged(online_type);
        Ok(())
    }

    /// Offlines and removes all added ranges in one step (`dax_kmem_do_hotremove()`).
    ///
    /// On failure every block is back in its previous state and nothing is released. With a
    /// `timeout_ms`, an offline still retrying after that time is interrupted (`EINTR`).
    fn unplug(&self, inner: &mut Inner, timeout_ms: Option<u32>) -> Result {
        let t0 = Instant::<Monotonic>::now();
        let result = mhp::offline_and_remove_memory_ranges(&mut inner.added, timeout_ms);
        inner.mm_ns = inner.mm_ns.saturating_add(elapsed_ns(&t0));
        if let Err(e) = result {
            dev_err!(
                self.dev,
                "hotremove failed, device left online: {}\n",
                e.to_errno()
            );
            return Err(e);
        }
        inner.state = State::Unplugged;
        Ok(())
    }

    /// Removes every added range without offlining anything (`dev_dax_kmem_remove()`).
    ///
    /// The cached state is not trusted (blocks may have been toggled through
    /// `memoryN/state`): `remove_memory()` reports the truth per range. A range that is still
    /// online stays added until reboot, and with it the group, the tier and the names.
    fn remove_all(&self, inner: &mut Inner) {
        let mut stuck = false;
        for (i, slot) in inner.added.iter_mut().enumerate() {
            let Some(mem) = slot.take() else { continue };
            if let Err((mem, _)) = mem.remove() {
                let r = mem.range();
                self.warn_mapping(i, r, "stuck online until reboot");
                debug::record_leak(fmt!(
                    "{} mapping{}: {:#x}-{:#x}",
                    self.dev.name(),
                    i,
                    r.start,
                    r.end
                ));
                *slot = Some(mem);
                stuck = true;
            }
        }
        if stuck {
            dev_err!(self.dev, "Hotplug regions stuck online until reboot\n");
            if let Some(group) = inner.group.take() {
                group.leak();
            }
            if let Some(tier) = inner.tier.take() {
                tier.leak();
            }
        } else {
            inner.group = None;
            if let Some(tier) = inner.tier.take() {
                tier.clear();
            }
        }
    }
}

impl KmemDevice {
    /// Applies a write to `daxX.Y/state`. One lock is held from reading the current state to
    /// committing the new one.
    ///
    /// A successful write makes the device owned by this interface (see [`GuardMode`]).
    fn store_state(&self, buf: &[u8]) -> Result {
        let t0 = Instant::<Monotonic>::now();
        let request = state::parse_request(buf)?;
        let mut inner = self.inner.lock();
        let _mark = self.guard.data().mark();
        inner.mm_ns = 0;
        let result = match state::plan(inner.state, request) {
            Ok(Action::Nothing) => Ok(false),
            Ok(Action::HotRemove) => self.config.unplug(&mut inner, None).map(|()| true),
            Ok(Action::HotAdd(t)) => self.config.plug(&mut inner, t).map(|()| true),
            Err(e) => Err(e),
        };
        let v = &self.view;
        v.publish_state(inner.state);
        v.last_request.store(encode_request(request), Relaxed);
        v.last_result.store(
            result.as_ref().map_or_else(|e| e.to_errno(), |_| 0),
            Relaxed,
        );
        v.last_mm_ns.store(inner.mm_ns, Relaxed);
        v.last_total_ns.store(elapsed_ns(&t0), Relaxed);
        if result? {
            v.transitions.fetch_add(1, Relaxed);
        }
        v.owned.store(true, Release);
        Ok(())
    }

    /// Adds the device's memory at probe as the `online_type` parameter says (by default with
    /// the system default online type `system`), or nothing for `unplugged`.
    ///
    /// Ranges that an earlier unbind or module instance left added (online) are taken over
    /// first; the device's state is then that of their blocks, whatever the parameter says, and
    /// any other range is added with the same online type.
    fn initial_plug(&self, policy: ProbeOnline, system: OnlineType) -> Result {
        let mut inner = self.inner.lock();
        let _mark = self.guard.data().mark();
        let adopted = self.adopt(&mut inner)?;
        match adopted.map_or_else(|| policy.probe_state(system), State::Plugged) {
            State::Unplugged => {
                dev_info!(
                    self.config.dev,
                    "online_type=unplugged: no memory added until a write to state\n"
                );
            }
            State::Plugged(t) if adopted.is_some() => {
                if self.config.ranges_left(&inner) {
                    if let Err(e) = self.config.plug(&mut inner, t) {
                        dev_warn!(
                            self.config.dev,
                            "could not add the ranges not taken over: {}\n",
                            e.to_errno()
                        );
                    }
                }
                inner.state = State::Plugged(t);
            }
            State::Plugged(t) => self.config.plug(&mut inner, t)?,
        }
        self.view.publish_state(inner.state);
        Ok(())
    }

    /// Takes over the ranges left added by an earlier unbind or module instance; returns the
    /// online type that describes their blocks, or `None` if there were none.
    fn adopt(&self, inner: &mut Inner) -> Result<Option<OnlineType>> {
        let block = 1u64 << self.view.block_shift;
        let mut zones = KVec::new();
        for (i, range) in self.config.ranges.iter().enumerate() {
            let Some(range) = *range else { continue };
            let Some(mem) = AddedMemory::adopt_stranded(range, self.config.dev.name(), RAM_NAME)
            else {
                continue;
            };
            // The memory is ours from here on, even if reading its zones fails.
            inner.added[i] = Some(mem);
            let z = mhp::block_zones(range, block)?;
            for (b, zone) in z.iter().enumerate() {
                let start = range.start + b as u64 * block;
                let end = start + block - 1;
                self.view.record_zone(Range { start, end }, *zone);
            }
            self.config
                .info_mapping(i, range, "taken over: left added by an earlier unbind");
            let (dev, r) = (self.config.dev.name(), range);
            debug::forget_leak(fmt!("{} mapping{}: {:#x}-{:#x}", dev, i, r.start, r.end));
            zones.extend_from_slice(&z, GFP_KERNEL)?;
        }
        Ok((!zones.is_empty()).then(|| state::adopted_online_type(&zones)))
    }

    /// Unbind with `unbind=unplug`: the atomic unplug of a `state` write, bounded in time. On
    /// failure every block is as before and unbind goes on as with `keep`.
    fn unplug_at_unbind(&self, inner: &mut Inner) {
        if !inner.added.iter().any(Option::is_some) {
            return;
        }
        let _mark = self.guard.data().mark();
        match self.config.unplug(inner, Some(UNBIND_UNPLUG_TIMEOUT_MS)) {
            Ok(()) => dev_info!(self.config.dev, "unbind: memory unplugged\n"),
            Err(e) => dev_warn!(
                self.config.dev,
                "unbind: unplug failed ({}), keeping the memory\n",
                e.to_errno()
            ),
        }
    }

    /// The committed state, as published by the last completed transition.
    ///
    /// Never waits for the state mutex: a transition can retry for as long as a page cannot be
    /// migrated, and a reader must not hang behind it (the C driver's `state_show()` takes no
    /// lock either). During a transition this is the state before it.
    fn state(&self) -> State {
        self.view.state()
    }
}

/// Reads the probe-time configuration of `ddev`, logging what kmem logs.
fn read_config(ddev: &dax::Device<Core<'_>>, block: u64) -> Result<(Config, u64)> {
    let dev: &device::Device<Core<'_>> = ddev.as_ref();
    let raw = ddev.ranges()?;
    let mut ranges = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    for (i, r) in raw.iter().enumerate() {
        let aligned = state::block_aligned(*r, block);
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
    let config = Config {
        dev: dev.into(),
        ranges,
        memmap_on_memory: ddev.memmap_on_memory(),
    };
    Ok((config, sizes.usable))
}

/// Nanoseconds since `t0`.
fn elapsed_ns(t0: &Instant<Monotonic>) -> u64 {
    u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0)
}

/// A `KVec` of `n` empty slots.
fn empty_slots<T>(n: usize) -> Result<KVec<Option<T>>> {
    let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        v.push(None, GFP_KERNEL)?;
    }
    Ok(v)
}

impl dax::Driver for KmemDriver {
    type Data = KmemDevice;
    const TYPE: dax::DriverType = dax::DriverType::Kmem;
    const DEV_GROUPS: Option<&'static sysfs::AttributeGroups<Self>> = Some(&KMEM_GROUPS);

    fn probe<'a>(ddev: &'a dax::Device<Core<'_>>) -> impl PinInit<KmemDevice, Error> + 'a {
        pin_init::pin_init_scope(move || {
            // Resolved at bind: the parameter and `auto_online_blocks` as they are now.
            let policy = crate::params::ONLINE_TYPE.get();
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
            let (config, usable) = read_config(ddev, block)?;
            let tier = NodeMemoryType::init(node)?;
            let pages = state::pfn_up(usable, kernel::page::PAGE_SHIFT as u32);
            let group = MemoryGroup::register_static(node, pages)?;

            let n = config.ranges.len();
            let inner = Inner {
                state: State::Unplugged,
                reserved: empty_slots(n)?,
                added: empty_slots(n)?,
                group: Some(group),
                tier: Some(tier),
                mm_ns: 0,
            };
            let view = View::new(&config.ranges, block.trailing_zeros())?;
            let guard = BlockGuard::new(config.dev.clone(), &config.ranges, view.clone())?;
            let debugfs = debug::device_file(config.dev.name(), view.clone(), &show_view)?;

            // The guard is registered before any memory is added; the initial add runs once
            // everything is in place, and a failure drops (unregisters, releases) it all.
            Ok(try_pin_init!(KmemDevice {
                config,
                view,
                guard <- MemoryNotifier::new(guard),
                inner <- new_mutex!(inner, "KmemDevice::inner"),
                _debugfs: debugfs,
            })
            .pin_chain(move |this| this.initial_plug(policy, system)))
        })
    }

    fn unbind(_ddev: &dax::Device<Core<'_>>, this: Pin<&KmemDevice>) {
        let mut inner = this.inner.lock();
        if crate::params::UNBIND.get() == UnbindPolicy::Unplug {
            this.unplug_at_unbind(&mut inner);
        }
        this.config.remove_all(&mut inner);
        this.view.publish_state(inner.state);
    }
}

/// The `state` attribute (`Documentation/ABI/testing/sysfs-bus-dax`).
struct StateAttr;

impl sysfs::AttributeOperations for StateAttr {
    type Driver = KmemDriver;

    fn show(data: &KmemDevice, f: &mut Formatter<'_>) -> Result {
        writeln!(f, "{}", data.state().as_str()).map_err(|_| EINVAL)
    }

    fn store(data: &KmemDevice, buf: &[u8]) -> Result {
        data.store_state(buf)
    }
}

sysfs::dev_attribute_groups!(KMEM_GROUPS: KmemDriver { state: StateAttr });
