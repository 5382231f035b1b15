#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# In-tree build of the upstream series: emit it (scripts/stack.py), apply it to a
# pristine copy of the Linux 7.3 source, build that kernel with DEV_DAX_KMEM_RUST=m (and the C
# DEV_DAX_KMEM off), and run the parity guest suite against the resulting kmem.ko.
#
#   scripts/intree.sh [--tree-only] [--no-test] [--builtin | --no-hotremove | --compile-only]
#                     [--upto=NAME]
#
#   --builtin       DEV_DAX_KMEM_RUST=y: the driver is part of vmlinux (its parameters are
#                   kmem.guard, ... on the command line); the parity suite runs against it
#   --no-hotremove  MEMORY_HOTREMOVE=n and NUMA=n (remove_memory() and friends, and the memory
#                   tier calls, are inline stubs): compile the kernel crate and the driver only
#                   (make prepare, the directory)
#   --compile-only  with --builtin: the same compile-only build for DEV_DAX_KMEM_RUST=y
#   --upto=NAME     the stack up to the end of series NAME only (series/series: v1 is the
#                   driver with the C driver's behaviour), in a tree and build of its own
#                   ($CACHE/intree/linux-NAME, build-VARIANT-NAME); the test is which-kmem
#                   alone (the matrix runs the differentials against that build)
#
# The tree is a hard-linked copy of the cached 7.3 source (the files the series changes are
# real copies); tree and build live in the cache, and the build is incremental. A build whose
# series and configuration are those of the last successful one is not repeated.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tree_only=0 test=1 variant=m compile_only=0 upto=""
for a in "$@"; do
	case "$a" in
	--tree-only) tree_only=1 ;;
	--no-test) test=0 ;;
	--builtin) variant=y ;;
	--no-hotremove) variant=nohotremove compile_only=1 ;;
	--compile-only) compile_only=1 ;;
	--upto=*) upto=${a#--upto=} ;;
	*) die "intree.sh: unknown argument $a" ;;
	esac
done
[ "$compile_only" = 1 ] && [ "$variant" = y ] && variant=y-compile

"$here/setup.sh"
sfx=${upto:+-$upto}
S=$CACHE/intree/series$sfx
log "generating the series${upto:+ up to $upto} into $S"
python3 "$here/stack.py" emit "$KSRC" "$S" --placeholder ${upto:+--upto "$upto"} >/dev/null
T=$CACHE/intree/linux$sfx
patches=$(for p in "$S"/0*.patch; do [[ $p == */0000-cover-letter.patch ]] || echo "$p"; done)
# The cover letter carries the date; the patches themselves are reproducible.
series_id=$(cat $patches | sha256sum | cut -c1-16)
if [ "$(cat "$T/.kmem-rs-tree" 2>/dev/null)" = "$series_id" ]; then
	log "$T already has this series ($series_id)"
else
	rm -rf "$T"
	mkdir -p "$CACHE/intree"
	log "hard-linking the 7.3 source into $T and applying the series"
	cp -al "$KSRC" "$T"
	# The files the series changes become real copies (git apply would write through the links).
	for f in $(sed -n 's|^--- a/||p' $patches | sort -u); do
		[ ! -e "$KSRC/$f" ] || cp --remove-destination "$KSRC/$f" "$T/$f"
	done
	for p in $patches; do
		(cd "$T" && git apply --whitespace=error-all "$p") || die "$(basename "$p") does not apply to 7.3"
	done
	echo "$series_id" >"$T/.kmem-rs-tree"
fi
grep -q CONFIG_DEV_DAX_KMEM_RUST "$T/drivers/dax/bus.c" || die "the series did not hook drivers/dax/bus.c"
[ "$tree_only" = 1 ] && { echo "$T"; exit 0; }

OUT=$CACHE/intree/build-$variant$sfx
mkdir -p "$OUT"
kmem=$variant
[ "$variant" = nohotremove ] && kmem=m
[ "$variant" = y-compile ] && kmem=y
grep -v -e '^CONFIG_DEV_DAX_KMEM=' -e '^CONFIG_MEMORY_HOTREMOVE=' "$here/config/kernel.config" \
	>"$OUT/fragment.config"
cat >>"$OUT/fragment.config" <<FRAG
# CONFIG_DEV_DAX_KMEM is not set
CONFIG_DEV_DAX_KMEM_RUST=$kmem
FRAG
if [ "$variant" = nohotremove ]; then
	sed -i -e '/^CONFIG_NUMA=/d' -e '/^CONFIG_[A-Z0-9_]*_NUMA=/d' -e '/^CONFIG_NUMA_/d' "$OUT/fragment.config"
	printf '# CONFIG_MEMORY_HOTREMOVE is not set\n# CONFIG_NUMA is not set\n' >>"$OUT/fragment.config"
else
	echo 'CONFIG_MEMORY_HOTREMOVE=y' >>"$OUT/fragment.config"
fi
make -s -C "$T" O="$OUT" "${KMAKE_VARS[@]}" KCONFIG_ALLCONFIG="$OUT/fragment.config" allnoconfig
for opt in CONFIG_DEV_DAX_KMEM_RUST=$kmem CONFIG_RUST=y; do
	grep -qx "$opt" "$OUT/.config" || die "in-tree config lacks $opt"
done
stamp=$( (echo "$series_id"; cat "$OUT/.config"; echo "$compile_only clippy") | sha256sum | cut -c1-16)
if [ "$(cat "$OUT/.kmem-rs-series" 2>/dev/null)" = "$stamp" ]; then
	log "the series and configuration are those of the last successful build ($stamp): not rebuilt"
	built=1
else
	built=0
	rm -f "$OUT/.kmem-rs-series"
fi
[ "$variant" = nohotremove ] &&
	{ grep -q '^# CONFIG_MEMORY_HOTREMOVE is not set' "$OUT/.config" || die "MEMORY_HOTREMOVE still set"; } &&
	{ ! grep -q '^CONFIG_NUMA=y' "$OUT/.config" || die "NUMA still set"; }
if [ "$compile_only" = 1 ] && [ "$built" = 1 ]; then
	exit 0
elif [ "$compile_only" = 1 ]; then
	log "$variant: make prepare, then drivers/dax/kmem-rs/"
	# With clippy, as series-bisect builds every patch: the kernel crate's and the driver's
	# lints (a clippy warning names its file on a later line, so every warning line counts).
	make -C "$T" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" CLIPPY=1 prepare >"$OUT/build.log" 2>&1 ||
		{ tail -n 30 "$OUT/build.log"; die "make prepare failed (log: $OUT/build.log)"; }
	make -C "$T" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" CLIPPY=1 drivers/dax/kmem-rs/ \
		>>"$OUT/build.log" 2>&1 ||
		{ tail -n 30 "$OUT/build.log"; die "kmem-rs does not build ($variant; log: $OUT/build.log)"; }
	grep -E '(^|: )warning' "$OUT/build.log" && die "warnings in the $variant build"
	echo "$stamp" >"$OUT/.kmem-rs-series"
	log "the series builds ($variant)"
	exit 0
fi
if [ "$built" = 0 ]; then
	log "building the in-tree kernel (about 7-14 min cold)"
	start=$(date +%s)
	make -C "$T" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" bzImage modules >"$OUT/build.log" 2>&1 ||
		{ tail -n 30 "$OUT/build.log"; die "in-tree build failed (log: $OUT/build.log)"; }
	rm -rf "$OUT/modroot"
	make -s -C "$T" O="$OUT" "${KMAKE_VARS[@]}" INSTALL_MOD_PATH="$OUT/modroot" modules_install >>"$OUT/build.log" 2>&1
	touch "$OUT/.kmem-rs-done"
	log "in-tree kernel built in $(($(date +%s) - start)) s"
fi
find "$OUT/modroot" -name 'kmem*.ko' | sed 's/^/  /'
[ "$variant" = y ] && { grep -q 'kmem-rs/kmem.ko' "$OUT/modules.builtin" || die "kmem is not built in"; }
grep -E 'warning:' "$OUT/build.log" | grep -iE 'kmem|rust/' && die "warnings in the in-tree build"
echo "$stamp" >"$OUT/.kmem-rs-series"
[ "$test" = 1 ] || exit 0
# The kernel's own modules now carry the Rust kmem.ko (kernel/drivers/dax/kmem-rs/):
# vm-run's "c" mode loads whatever kmem the kernel ships.
which=()
[ "$variant" = y ] && which=(builtin)
[ "$upto" = v1 ] && which=(v1)
KMEM_KBUILD=$OUT "$here/vm-run" --kmem=c "$here/tests/which-kmem.sh" "${which[@]}"
[ -n "$upto" ] && exit 0
KMEM_KBUILD=$OUT "$here/vm-run" --kmem=c --append=kmem.guard=off "$here/tests/parity.sh"
