#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host: build a tree's C drivers/dax/kmem.c as an out-of-tree kmem.ko against a kernel build of
# that tree (scripts/check.sh: the series' in-tree kernel, whose own kmem is the Rust driver and
# whose kmem.c carries the series' C fixes), for vm-run --modules=OUTDIR --kmem=rust: the guest
# installs it under updates/ as it does the Rust module (taint O).
#
#   scripts/tests/build-kmem-c.sh TREE KBUILD OUTDIR [KMEM_C]
#
# KMEM_C, when given, is the kmem.c to build instead of TREE's (scripts/check.sh: the series'
# kmem.c against the debug kernel, a build of the pristine tree).
#
# The module must be named kmem: __add_memory_driver_managed() is exported to that name only
# (EXPORT_SYMBOL_FOR_MODULES); everything else kmem.c uses is exported to all GPL modules or
# comes from the dax bus, built in.  Its private headers (dax-private.h, bus.h) are the tree's.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
[ $# = 3 ] || [ $# = 4 ] || die "usage: build-kmem-c.sh TREE KBUILD OUTDIR [KMEM_C]"
tree=$1 kbuild=$2 out=$3 src=${4:-$1/drivers/dax/kmem.c}
[ -f "$src" ] || die "build-kmem-c.sh: no $src"
[ -f "$kbuild/Module.symvers" ] || die "build-kmem-c.sh: $kbuild is not a built kernel"
rm -rf "$out"
mkdir -p "$out"
cp "$src" "$out/kmem.c"
printf 'obj-m := kmem.o\nccflags-y := -I$(srctree)/drivers/dax\n' >"$out/Kbuild"
make -s -C "$tree" O="$kbuild" "${KMAKE_VARS[@]}" M="$out" modules
[ "$(modinfo -F name "$out/kmem.ko")" = kmem ] || die "build-kmem-c.sh: the module is not named kmem"
echo "$out/kmem.ko: $src, built against $kbuild ($(sha256sum "$out/kmem.c" | cut -c1-12))"
