#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build the guest kernel out of tree, cached outside the repo.
#
#   scripts/kernel.sh [--variant=main|debug] [--print-dir]
#
# The build directory is keyed by kernel version + hash of the config
# fragment(s) + rustc version, so a second run (or CI on the same machine)
# reuses it.  Every fragment line is checked against the resulting .config.
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
*) die "kernel.sh: unknown variant '$variant' (main|debug)" ;;
esac

[ -f "$KSRC/Makefile" ] || die "no kernel source at $KSRC (run scripts/setup.sh)"
kver=$(kernel_version) || die "cannot read the kernel version from $KSRC/Makefile"
key=$( (cat "${frags[@]}"; /usr/bin/rustc --version; echo "$kver") | sha256sum | cut -c1-12)
OUT=$CACHE/build-$kver-$variant-$key

if [ "$print_dir" = 1 ]; then
	echo "$OUT"
	exit 0
fi

if [ -f "$OUT/.kmem-rs-done" ]; then
	log "kernel $kver ($variant) cached in $OUT"
	exit 0
fi

mkdir -p "$OUT"
cat "${frags[@]}" >"$OUT/fragment.config"
log "configuring kernel $kver ($variant) in $OUT"
make -s -C "$KSRC" O="$OUT" "${KMAKE_VARS[@]}" KCONFIG_ALLCONFIG="$OUT/fragment.config" allnoconfig >"$OUT/config.log" 2>&1 ||
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
		make -s -C "$KSRC" O="$OUT" "${KMAKE_VARS[@]}" rustavailable >&2 || true
	fi
	die "kernel config fragment not fully applied (see above)"
fi

log "building kernel $kver ($variant): about 9-14 min on 2 cores"
start=$(date +%s)
if ! make -C "$KSRC" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" bzImage modules >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	die "kernel build failed (log: $OUT/build.log)"
fi
rm -rf "$OUT/modroot"
make -s -C "$KSRC" O="$OUT" "${KMAKE_VARS[@]}" INSTALL_MOD_PATH="$OUT/modroot" modules_install >>"$OUT/build.log" 2>&1 ||
	die "modules_install failed (log: $OUT/build.log)"
log "kernel built in $(($(date +%s) - start)) s"
touch "$OUT/.kmem-rs-done"
