#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# In-tree build: place this repository into a Linux 7.3 tree as
# drivers/dax/kmem-rs with the Kconfig option DEV_DAX_KMEM_RUST, build that
# kernel with DEV_DAX_KMEM_RUST=m (and the C DEV_DAX_KMEM off), and run the
# parity guest suite against the resulting kmem.ko.
#
#   scripts/intree.sh [--tree-only] [--no-test] [--builtin | --no-hotremove]
#
#   --builtin       DEV_DAX_KMEM_RUST=y: the driver is part of vmlinux (its parameters are
#                   kmem.guard, ... on the command line); the parity suite runs against it
#   --no-hotremove  MEMORY_HOTREMOVE=n (remove_memory() and friends are inline stubs):
#                   compile the driver's objects only (make prepare, then the directory)
#
# The tree is a hard-linked copy of the cached 7.3 source (only the three
# files it changes are real copies: drivers/dax/{Kconfig,Makefile,bus.c});
# tree and build live in the cache, and the build is incremental.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
tree_only=0 test=1 variant=m
for a in "$@"; do
	case "$a" in
	--tree-only) tree_only=1 ;;
	--no-test) test=0 ;;
	--builtin) variant=y ;;
	--no-hotremove) variant=nohotremove ;;
	*) die "intree.sh: unknown argument $a" ;;
	esac
done

"$here/setup.sh"
T=$CACHE/intree/linux
rm -rf "$T"
mkdir -p "$CACHE/intree"
log "hard-linking the 7.3 source into $T"
cp -al "$KSRC" "$T"
D=$T/drivers/dax/kmem-rs
mkdir -p "$D"
(cd "$repo" && tar -c --exclude bindings_generated.rs --exclude '*.o' --exclude '*.ko' \
	--exclude '*.mod*' --exclude '.*.cmd' --exclude '*.d' Kbuild Kconfig src kunit) | tar -x -m -C "$D" # -m: fresh mtimes, so that an incremental build sees every change
for f in Kconfig Makefile bus.c; do
	cp --remove-destination "$KSRC/drivers/dax/$f" "$T/drivers/dax/$f"
done
# The bus hands kmem-type devices to device_dax when no kmem driver is
# configured; the Rust kmem is one.
sed -i 's/!IS_ENABLED(CONFIG_DEV_DAX_KMEM))/!IS_ENABLED(CONFIG_DEV_DAX_KMEM) \&\&\n\t    !IS_ENABLED(CONFIG_DEV_DAX_KMEM_RUST))/' "$T/drivers/dax/bus.c"
grep -q CONFIG_DEV_DAX_KMEM_RUST "$T/drivers/dax/bus.c" || die "could not hook drivers/dax/bus.c"
grep -q kmem-rs "$T/drivers/dax/Kconfig" || sed -i 's|^endif|source "drivers/dax/kmem-rs/Kconfig"\n\nendif|' "$T/drivers/dax/Kconfig"
grep -q kmem-rs "$T/drivers/dax/Makefile" || echo 'obj-$(CONFIG_DEV_DAX_KMEM_RUST) += kmem-rs/' >>"$T/drivers/dax/Makefile"
grep -q kmem-rs/Kconfig "$T/drivers/dax/Kconfig" || die "could not hook drivers/dax/Kconfig"
[ "$tree_only" = 1 ] && { echo "$T"; exit 0; }

OUT=$CACHE/intree/build-$variant
mkdir -p "$OUT"
kmem=$variant
[ "$variant" = nohotremove ] && kmem=m
grep -v -e '^CONFIG_DEV_DAX_KMEM=' -e '^CONFIG_MEMORY_HOTREMOVE=' "$here/config/kernel.config" \
	>"$OUT/fragment.config"
cat >>"$OUT/fragment.config" <<FRAG
# CONFIG_DEV_DAX_KMEM is not set
CONFIG_DEV_DAX_KMEM_RUST=$kmem
FRAG
if [ "$variant" = nohotremove ]; then
	echo '# CONFIG_MEMORY_HOTREMOVE is not set' >>"$OUT/fragment.config"
else
	echo 'CONFIG_MEMORY_HOTREMOVE=y' >>"$OUT/fragment.config"
fi
make -s -C "$T" O="$OUT" "${KMAKE_VARS[@]}" KCONFIG_ALLCONFIG="$OUT/fragment.config" allnoconfig
for opt in CONFIG_DEV_DAX_KMEM_RUST=$kmem CONFIG_RUST=y; do
	grep -qx "$opt" "$OUT/.config" || die "in-tree config lacks $opt"
done
if [ "$variant" = nohotremove ]; then
	grep -q '^# CONFIG_MEMORY_HOTREMOVE is not set' "$OUT/.config" || die "MEMORY_HOTREMOVE still set"
	log "MEMORY_HOTREMOVE=n: make prepare, then drivers/dax/kmem-rs/"
	make -C "$T" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" prepare >"$OUT/build.log" 2>&1 ||
		{ tail -n 30 "$OUT/build.log"; die "make prepare failed (log: $OUT/build.log)"; }
	make -C "$T" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" drivers/dax/kmem-rs/ \
		>>"$OUT/build.log" 2>&1 ||
		{ tail -n 30 "$OUT/build.log"; die "kmem-rs does not build with MEMORY_HOTREMOVE=n (log: $OUT/build.log)"; }
	grep -E 'warning:' "$OUT/build.log" | grep -i kmem && die "warnings in the MEMORY_HOTREMOVE=n build of kmem"
	log "kmem-rs builds with MEMORY_HOTREMOVE=n"
	exit 0
fi
log "building the in-tree kernel (about 7-14 min)"
start=$(date +%s)
make -C "$T" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" bzImage modules >"$OUT/build.log" 2>&1 ||
	{ tail -n 30 "$OUT/build.log"; die "in-tree build failed (log: $OUT/build.log)"; }
rm -rf "$OUT/modroot"
make -s -C "$T" O="$OUT" "${KMAKE_VARS[@]}" INSTALL_MOD_PATH="$OUT/modroot" modules_install >>"$OUT/build.log" 2>&1
touch "$OUT/.kmem-rs-done"
log "in-tree kernel built in $(($(date +%s) - start)) s"
find "$OUT/modroot" -name 'kmem*.ko' | sed 's/^/  /'
[ "$variant" = y ] && { grep -q 'kmem-rs/kmem.ko' "$OUT/modules.builtin" || die "kmem is not built in"; }
grep -E 'warning:' "$OUT/build.log" | grep -i kmem && die "warnings in the in-tree build of kmem"
[ "$test" = 1 ] || exit 0
# The kernel's own modules now carry the Rust kmem.ko (kernel/drivers/dax/kmem-rs/):
# vm-run's "c" mode loads whatever kmem the kernel ships.
which=()
[ "$variant" = y ] && which=(builtin)
KMEM_KBUILD=$OUT "$here/vm-run" --kmem=c "$here/tests/which-kmem.sh" "${which[@]}"
KMEM_KBUILD=$OUT "$here/vm-run" --kmem=c --append=kmem.guard=off "$here/tests/parity.sh"
