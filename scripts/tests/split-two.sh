# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --dax=2G): the 2 GiB dax0.0 made into dax0.0 and dax0.1 of 1 GiB each, dax0.1
# bound to kmem (blocks offline) and dax0.0 left unbound: the start of a suite run on dax0.1
# (parts.sh split-two.sh + KMEM_DAX=dax0.1 parity.sh), which must observe what it does on the
# guest's dax0.0 but for the device's name and range.
. "${0%/*}/lib.sh"
plan 2
check "dax0.0 and dax0.1 of 1 GiB, bound to kmem" split_two
expect_eq "dax0.0 unbound, dax0.1 bound" "OK  kmem" \
	"$(write_errno /sys/bus/dax/drivers/kmem/unbind dax0.0) $(driver_of dax0.0) $(driver_of dax0.1)"
finish
