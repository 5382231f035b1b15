// SPDX-License-Identifier: GPL-2.0

//! kmem: map dax devices as System RAM, in Rust.
//!
//! A drop-in replacement for `drivers/dax/kmem.c` (Linux 7.3): it binds `dev_dax` devices,
//! adds their ranges as driver-managed "System RAM (kmem)", and exposes
//! `/sys/bus/dax/devices/daxX.Y/state` (see `Documentation/`).
//!
//! Layers: the driver imports the abstractions in [`kernel_ext`] (`src/kernel/`, laid out as
//! `rust/kernel/` upstream), which never import the driver. Only the abstractions call C; the
//! one `unsafe` operation of the driver is the initialisation of its global locks, once, in
//! [`globals::init`].

#![deny(unsafe_code)]

mod debugfs;
mod driver;
#[allow(unsafe_code)]
mod globals;
mod guard;
mod hotplug;
#[allow(unsafe_code)]
#[path = "kernel/mod.rs"]
mod kernel_ext;
mod owners;
mod policy;
mod state;

use kernel::{
    driver::Registration,
    prelude::*,
    InPlaceModule,
    ThisModule, //
};
use kernel_ext::dax;
use kernel_ext::mm::memory_notifier::MemoryNotifier;
use owners::BlockOwners;

/// The module name, `kmem`: `__add_memory_driver_managed()` is exported to it only, and daxctl
/// binds through `/sys/bus/dax/drivers/kmem`.
const MODULE_NAME: &CStr = <LocalModule as kernel::ModuleMetadata>::NAME;

/// The module's state. Fields are dropped in declaration order: the driver is unregistered
/// (every device unbound) before the memory notifier, the memory types and the debugfs root go.
#[pin_data]
struct KmemModule {
    #[pin]
    _driver: Registration<dax::Adapter<driver::KmemDriver>>,
    /// The module's one memory notifier: each transition goes to the guard of the device
    /// whose block it is.
    #[pin]
    _notifier: MemoryNotifier<BlockOwners>,
    _types: globals::MemoryTypes,
    _debugfs: debugfs::Root,
}

impl InPlaceModule for KmemModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            // First: everything below uses them.
            globals::init()?;
            let types = globals::MemoryTypes::new()?;
            let debugfs = debugfs::Root::new()?;
            let owners = BlockOwners::new()?;
            // The notifier is registered before the driver, whose devices register their
            // blocks with it.
            Ok(try_pin_init!(Self {
                _notifier <- MemoryNotifier::new(owners),
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
