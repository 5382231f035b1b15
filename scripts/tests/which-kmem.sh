# SPDX-License-Identifier: GPL-2.0
# Guest: report which kmem module the kernel's own module tree provides and
# check it is the Rust driver (used by scripts/intree.sh).
. /test/lib.sh
plan 3
diag "modinfo kmem: $(modinfo -F filename kmem)"
check "kmem is the Rust driver" contains "$(modinfo -F description kmem)" "\(Rust\)"
check "it is an in-tree module (drivers/dax/kmem-rs)" contains "$(modinfo -F filename kmem)" "kernel/drivers/dax/kmem-rs/kmem.ko$"
expect_eq "dax0.0 bound to it" kmem "$(driver_of dax0.0)"
finish
