# SPDX-License-Identifier: GPL-2.0
# Guest: report which kmem the kernel provides and check it is the Rust driver
# (used by scripts/intree.sh): an in-tree module, or with the argument "builtin"
# part of vmlinux, with its parameters under /sys/module/kmem/parameters; with the
# argument "v1" the series' first part, an in-tree module with no parameters (as kmem.c).
. /test/lib.sh
plan 4
diag "modinfo kmem: $(modinfo -F filename kmem)"
check "kmem is the Rust driver" contains "$(modinfo -F description kmem)" "\(Rust\)"
if [ "${1:-}" = builtin ]; then
	expect_eq "it is built in" "(builtin)" "$(modinfo -F filename kmem)"
else
	check "it is an in-tree module (drivers/dax/kmem-rs)" contains "$(modinfo -F filename kmem)" "kernel/drivers/dax/kmem-rs/kmem.ko$"
fi
want="guard online_type unbind"
[ "${1:-}" = v1 ] && want="(none)"
got=$(ls /sys/module/kmem/parameters 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
expect_eq "its parameters" "$want" "${got:-(none)}"
expect_eq "dax0.0 bound to it" kmem "$(driver_of dax0.0)"
finish
