// SPDX-License-Identifier: GPL-2.0

//! The policies of the module parameters `online_type` (what probe adds) and `unbind` (what
//! unbind does with memory that is still online).

#![deny(unsafe_code)]

use crate::{
    kernel_ext::{
        mm::memory_hotplug::OnlineType,
        module_param::{
            impl_param_enum,
            module_param_enum, //
        },
    },
    state::{
        sysfs_streq,
        State, //
    },
};
use kernel::prelude::*;

/// What probe does with a device's memory (module parameter `online_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProbeOnline {
    /// The system default online type (`auto_online_blocks` at probe): the C driver's.
    System,
    /// Add the memory with this online type.
    Type(OnlineType),
    /// Bind without adding any memory; `state` reads `unplugged`.
    Unplugged,
}

impl ProbeOnline {
    /// All values, in parameter order.
    pub(crate) const ALL: [ProbeOnline; 6] = [
        ProbeOnline::System,
        ProbeOnline::Type(OnlineType::Offline),
        ProbeOnline::Type(OnlineType::Online),
        ProbeOnline::Type(OnlineType::OnlineKernel),
        ProbeOnline::Type(OnlineType::OnlineMovable),
        ProbeOnline::Unplugged,
    ];

    /// The parameter text.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProbeOnline::System => "system",
            ProbeOnline::Type(t) => t.as_str(),
            ProbeOnline::Unplugged => "unplugged",
        }
    }

    /// Parses a value with `sysfs_streq()` rules.
    pub(crate) fn parse(buf: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| sysfs_streq(buf, m.as_str().as_bytes()))
    }

    /// The state probe leaves the device in, given the system default online type.
    pub(crate) const fn probe_state(self, system: OnlineType) -> State {
        match self {
            ProbeOnline::System => State::Plugged(system),
            ProbeOnline::Type(t) => State::Plugged(t),
            ProbeOnline::Unplugged => State::Unplugged,
        }
    }
}

/// What unbind does with memory that is still added (module parameter `unbind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnbindPolicy {
    /// Never offline: remove what is offline, strand what is online (the C driver's).
    Keep,
    /// Try the atomic all-ranges unplug first (bounded in time); on failure, as `Keep`.
    Unplug,
}

impl UnbindPolicy {
    /// All values, in parameter order.
    pub(crate) const ALL: [UnbindPolicy; 2] = [UnbindPolicy::Keep, UnbindPolicy::Unplug];

    /// The parameter text.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            UnbindPolicy::Keep => "keep",
            UnbindPolicy::Unplug => "unplug",
        }
    }

    /// Parses a value with `sysfs_streq()` rules.
    pub(crate) fn parse(buf: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| sysfs_streq(buf, m.as_str().as_bytes()))
    }
}

impl_param_enum!(ProbeOnline);
impl_param_enum!(UnbindPolicy);
module_param_enum!("kmem", ONLINE_TYPE: ProbeOnline = 0, "online_type", 0o644,
    "How probe adds memory: system (default), offline, online[_kernel|_movable], unplugged");
module_param_enum!("kmem", UNBIND: UnbindPolicy = 0, "unbind", 0o644,
    "Online memory at unbind: keep (default; the next bind takes it over), unplug (within 10 s)");

#[kunit_tests(dax_kmem_rust_policy)]
mod tests {
    use super::*;
    use crate::kernel_ext::module_param::registered_module;

    /// The kernel knows the parameters as this module's (`kp->mod` is `THIS_MODULE`), also when
    /// the driver is built in a kernel tree as a module: `mod` comes from the driver crate.
    #[test]
    fn parameters_belong_to_this_module() {
        let this = <crate::LocalModule as kernel::ModuleMetadata>::THIS_MODULE;
        if this.as_ptr().is_null() {
            // Built in: no module, and `kp->mod` is NULL as in C.
            return;
        }
        assert_eq!(
            registered_module(&this, c"online_type"),
            Some(this.as_ptr())
        );
        assert_eq!(registered_module(&this, c"unbind"), Some(this.as_ptr()));
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
}
