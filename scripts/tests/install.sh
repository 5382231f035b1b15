# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --kmem=c --no-load --file=STAGING): the install path.  STAGING
# is a root made on the host by `make install INSTALL_MOD_PATH=...`: it holds
# lib/modules/<release>/updates/kmem.ko and etc/depmod.d/kmem-rs.conf.  The
# guest already has the in-tree C kmem.ko under kernel/; Debian's kmod must
# pick the Rust one.  Arguments: the taint the loaded module must show (default O, out of
# tree; OE on a kernel that verifies module signatures, for the unsigned module), and the flow
# that made STAGING: "install" (default, `make install`) or "dkms" (the updates/ tree of `dkms
# install`: updates/dkms/kmem.ko, no depmod override: depmod searches updates/ first).
. /test/lib.sh
taint=${1:-O}
flow=${2:-install}
plan 11
rel=$(uname -r)
# kmem.ko, or kmem.ko.xz as a distribution compresses it.
c_kmem_present() { compgen -G "/lib/modules/$rel/kernel/drivers/dax/kmem.ko*" >/dev/null; }
check "the in-tree C kmem.ko is present" c_kmem_present
# (vm-run --no-load: nothing has loaded kmem yet.)
[ ! -e /sys/module/kmem ] || diag "kmem is loaded already: the results below are not the install path's"
cp -a /test/staging/. /
if [ "$flow" = dkms ]; then
	ko=/lib/modules/$rel/updates/dkms/kmem.ko
	check "dkms install put kmem.ko under updates/dkms/" [ -f $ko ]
	check "no depmod override (dkms installs none)" [ ! -e /etc/depmod.d/kmem-rs.conf ]
else
	ko=/lib/modules/$rel/updates/kmem.ko
	check "make install put kmem.ko under updates/" [ -f $ko ]
	check "make install put the depmod override" grep -qx "override kmem \* updates" /etc/depmod.d/kmem-rs.conf
fi
depmod -a
expect_eq "modinfo kmem: the Rust module" "$ko" "$(modinfo -F filename kmem)"
check "modinfo kmem: description says Rust" contains "$(modinfo -F description kmem)" "\(Rust\)"
expect_eq "modinfo kmem: alias dax:t0*" "dax:t0*" "$(modinfo -F alias kmem)"
expect_eq "modprobe kmem" 0 "$(modprobe kmem; echo $?)"
expect_eq "the loaded kmem is out of tree (Rust), taint $taint" "$taint" "$(cat /sys/module/kmem/taint)"
expect_eq "dax0.0 bound to it" kmem "$(driver_of dax0.0)"
check "the device has a state attribute" [ -e $DAX_BASE/dax0.0/state ]
expect_eq "daxctl sees system-ram" 1 "$(daxctl list -d dax0.0 | grep -c '"mode":"system-ram"')"
finish
