#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build the guest kernel out of tree, cached outside the repo.
#
#   scripts/kernel.sh [--variant=main|debug|cxltest] [--print-dir]
#
# The build directory is keyed by kernel version + hash of the config
# fragment(s) + rustc version + the patches applied, so a second run (or CI on the
# same machine) reuses it.  Every fragment line is checked against the resulting .config.
# The debug kernel carries the series' mm fixes (series/series: the part "mm-hotadd", the
# hot-add error path that the fault sweep needs fixed), applied to a copy of the source
# (hard links but for the patched files) keyed by the patches' hash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

variant=main
print_dir=0
for a in "$@"; do
	case "$a" in
	--variant=*) variant=${a#--variant=} ;;
	--print-dir) print_dir=1 ;;
	*) die "kernel.sh: unknown argument '$a'" ;;
	esac
done

frags=("$here/config/kernel.config")
case "$variant" in
main) ;;
debug) frags+=("$here/config/debug.config") ;;
cxltest) frags+=("$here/config/cxltest.config") ;;
*) die "kernel.sh: unknown variant '$variant' (main|debug|cxltest)" ;;
esac

[ -f "$KSRC/Makefile" ] || die "no kernel source at $KSRC (run scripts/setup.sh)"
kver=$(kernel_version) || die "cannot read the kernel version from $KSRC/Makefile"
series_dir=$(cd "$here/../series" && pwd)
patches=()
if [ "$variant" = debug ]; then
	mapfile -t patches < <(awk '/^#= /{part=$2; sub(/:$/, "", part); next}
		/^[^#]/ && part == "mm-hotadd" {print $1}' "$series_dir/series")
fi
key=$( (cat "${frags[@]}"; /usr/bin/rustc --version; echo "$kver"
	for p in "${patches[@]}"; do cat "$series_dir/$p"; done) | sha256sum | cut -c1-12)
OUT=$CACHE/build-$kver-$variant-$key
SRC=$KSRC
if [ "${#patches[@]}" -gt 0 ]; then
	SRC=$CACHE/src-$kver-$( (for p in "${patches[@]}"; do cat "$series_dir/$p"; done) | sha256sum | cut -c1-12)
fi

if [ "$print_dir" = 1 ]; then
	echo "$OUT"
	exit 0
fi

if [ -f "$OUT/.kmem-rs-done" ]; then
	log "kernel $kver ($variant) cached in $OUT"
	exit 0
fi

if [ "$SRC" != "$KSRC" ] && [ ! -f "$SRC/.kmem-rs-patched" ]; then
	log "patching a copy of $KSRC: ${patches[*]}"
	rm -rf "$SRC.tmp"
	cp -al "$KSRC" "$SRC.tmp"
	for p in "${patches[@]}"; do
		# Break the hard link of each file the patch changes before patching it.
		while IFS= read -r f; do
			[ -e "$SRC.tmp/$f" ] || continue
			cp -p "$SRC.tmp/$f" "$SRC.tmp/$f.kmem-rs" && mv "$SRC.tmp/$f.kmem-rs" "$SRC.tmp/$f"
		done < <(sed -n 's|^+++ b/||p' "$series_dir/$p")
		patch -d "$SRC.tmp" -p1 -s --no-backup-if-mismatch <"$series_dir/$p" || die "$p does not apply to $KSRC"
	done
	touch "$SRC.tmp/.kmem-rs-patched"
	mv "$SRC.tmp" "$SRC"
fi

mkdir -p "$OUT"
# A later fragment's line for an option overrides an earlier one's (as in Kconfig): the
# fragment keeps the last line for each option, in the order of first appearance.
cat "${frags[@]}" | awk '{opt = $0
	if (opt ~ /^CONFIG_[A-Za-z0-9_]*=/) sub(/=.*/, "", opt)
	else if (opt ~ /^# CONFIG_[A-Za-z0-9_]* is not set$/) { sub(/^# /, "", opt); sub(/ .*/, "", opt) }
	else { lines[++n] = $0; next }
	if (!(opt in at)) { at[opt] = ++n }
	lines[at[opt]] = $0 }
	END { for (i = 1; i <= n; i++) print lines[i] }' >"$OUT/fragment.config"
log "configuring kernel $kver ($variant) in $OUT"
make -s -C "$SRC" O="$OUT" "${KMAKE_VARS[@]}" KCONFIG_ALLCONFIG="$OUT/fragment.config" allnoconfig >"$OUT/config.log" 2>&1 ||
	{ cat "$OUT/config.log" >&2; die "allnoconfig failed"; }

# Kconfig silently drops options whose dependencies are missing: check all.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$OUT/.config" || { echo "  missing: $line" >&2; bad=1; }
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -q "^$opt=" "$OUT/.config"; then
			echo "  should be unset: $opt ($(grep "^$opt=" "$OUT/.config"))" >&2
			bad=1
		fi
		;;
	esac
done <"$OUT/fragment.config"
if [ "$bad" = 1 ]; then
	if grep -q '^CONFIG_RUST=y' "$OUT/fragment.config" && ! grep -q '^CONFIG_RUST=y' "$OUT/.config"; then
		make -s -C "$SRC" O="$OUT" "${KMAKE_VARS[@]}" rustavailable >&2 || true
	fi
	die "kernel config fragment not fully applied (see above)"
fi

log "building kernel $kver ($variant): about 9-14 min on 2 cores"
start=$(date +%s)
if ! make -C "$SRC" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" bzImage modules >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	die "kernel build failed (log: $OUT/build.log)"
fi
rm -rf "$OUT/modroot"
make -s -C "$SRC" O="$OUT" "${KMAKE_VARS[@]}" INSTALL_MOD_PATH="$OUT/modroot" modules_install >>"$OUT/build.log" 2>&1 ||
	die "modules_install failed (log: $OUT/build.log)"
log "kernel built in $(($(date +%s) - start)) s"
touch "$OUT/.kmem-rs-done"
