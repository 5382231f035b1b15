// SPDX-License-Identifier: GPL-2.0

//! kmem: map dax devices as System RAM, in Rust.
//!
//! A drop-in replacement for `drivers/dax/kmem.c` (Linux 7.3): it binds `dev_dax` devices,
//! adds their ranges as driver-managed "System RAM (kmem)", and exposes
//! `/sys/bus/dax/devices/daxX.Y/state` (see `Documentation/`).
//!
//! Layers: [`driver`] and [`state`] hold no `unsafe`; [`dax`], [`sysfs`], [`mhp`] and
//! [`memtier`] are the safe abstractions over [`ffi`] (module-local bindgen + `glue.c`).

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod dax;
#[allow(unsafe_code)]
mod debug;
mod driver;
#[allow(unsafe_code)]
mod ffi;
mod guard;
#[allow(unsafe_code)]
mod memtier;
#[allow(unsafe_code)]
mod mhp;
#[allow(unsafe_code)]
mod notifier;
#[allow(unsafe_code)]
mod param;
mod state;
#[allow(unsafe_code)]
mod sysfs;
mod view;

/// The module parameters, root-writable at run time through `/sys/module/kmem/parameters/`
/// (see `Documentation/admin-guide/kmem-rust.rst`).
// The expansion places `kernel_param`s with `#[link_section = "__param"]`.
#[allow(unsafe_code)]
mod params {
    use crate::state::{
        GuardMode,
        ProbeOnline,
        UnbindPolicy, //
    };

    crate::param::module_param_enum!(GUARD: GuardMode = 1, "guard", 0o644,
        "Refuse external online/offline of a device's memory blocks: off, owned (default: once its state was written), always");
    crate::param::module_param_enum!(ONLINE_TYPE: ProbeOnline = 0, "online_type", 0o644,
        "How probe adds a device's memory: system (default: auto_online_blocks), offline, online, online_kernel, online_movable, unplugged (add nothing)");
    crate::param::module_param_enum!(UNBIND: UnbindPolicy = 0, "unbind", 0o644,
        "What unbind does with online memory: keep (default: leave it added; the next bind takes it over), unplug (try an atomic unplug for up to 10 s, else keep)");
}

use kernel::{
    driver::Registration,
    prelude::*,
    InPlaceModule,
    ThisModule, //
};

/// The module name, `kmem`: `__add_memory_driver_managed()` is exported to it only, and daxctl
/// binds through `/sys/bus/dax/drivers/kmem`.
const MODULE_NAME: &CStr = <LocalModule as kernel::ModuleMetadata>::NAME;

/// The module's state. Fields are dropped in declaration order: the driver is unregistered
/// (every device unbound) before the memory types are put and the debugfs root is removed.
#[pin_data]
struct KmemModule {
    #[pin]
    _driver: Registration<dax::Adapter<driver::KmemDriver>>,
    _types: memtier::TypeCache,
    _debugfs: debug::Root,
}

impl InPlaceModule for KmemModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            let types = memtier::TypeCache::new()?;
            let debugfs = debug::Root::new()?;
            Ok(try_pin_init!(Self {
                _driver <- Registration::new(MODULE_NAME, module),
                _types: types,
                _debugfs: debugfs,
            }))
        })
    }
}

module! {
    type: KmemModule,
    name: "kmem",
    authors: ["The kmem-rs developers"],
    description: "KMEM DAX: map dax-devices as System-RAM (Rust)",
    license: "GPL v2",
    alias: ["dax:t0*"],
}
