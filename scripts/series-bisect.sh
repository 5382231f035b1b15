#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make series-bisect: build the upstream series after every patch (not in make check).
#
# The series is applied one patch at a time to a pristine copy of the 7.3 source, and after
# each one the tree is built with DEV_DAX_KMEM_RUST=m (the configuration of intree.sh; before
# the driver patch the option does not exist yet and the kernel builds without it): vmlinux,
# the modules, and with CLIPPY=1, without a warning. After each patch that changes the driver,
# the parity suite runs against that kmem.ko in a guest (the driver of its own patch, without its
# later features, must already behave like the C driver), and so do the driver's KUnit suites
# of that state (loaded with KUnit enabled; as many cases as that tree's #[test]s, all passed).
# Incremental in one build directory: 5-30 s per patch after the first build; each step's time
# and the total are printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
"$here/setup.sh"
S=$CACHE/bisect/series
T=$CACHE/bisect/linux
OUT=$CACHE/bisect/build
mkdir -p "$CACHE/bisect" "$OUT"
python3 "$here/stack.py" emit "$KSRC" "$S" --placeholder >/dev/null
rm -rf "$T"
cp -al "$KSRC" "$T"
for f in $(sed -n 's|^--- a/||p' "$S"/0*.patch | sort -u); do
	[ ! -e "$KSRC/$f" ] || cp --remove-destination "$KSRC/$f" "$T/$f"
done
grep -v -e '^CONFIG_DEV_DAX_KMEM=' "$here/config/kernel.config" >"$OUT/fragment.config"
printf '# CONFIG_DEV_DAX_KMEM is not set\nCONFIG_DEV_DAX_KMEM_RUST=m\n' >>"$OUT/fragment.config"
# kunit_at N: the driver's KUnit suites in the kmem.ko of patch N.
kunit_at() {
	local want res line ran failed
	want=$(KMEM_KUNIT_SRC=$T/drivers/dax/kmem-rs "$here/series-kunit.sh" --expected |
		awk '$1 ~ /^dax_kmem_rust/ {n += $2} END {print n + 0}')
	KMEM_KBUILD=$OUT "$here/vm-run" --kmem=c --no-load --append="kunit.enable=1 kunit.autorun=1" \
		"$here/tests/kunit.sh" modprobe >"$OUT/kunit-$1.txt" 2>&1 ||
		{ echo "   KUnit after patch $1: guest run failed ($OUT/kunit-$1.txt)"; return 1; }
	sed -n '/^KMEM-RS-KTAP-BEGIN/,/^KMEM-RS-KTAP-END/p' "$OUT/kunit-$1.txt" | sed '1d;$d' >"$OUT/kunit-$1.ktap"
	res=$(python3 "$KSRC/tools/testing/kunit/kunit.py" parse <"$OUT/kunit-$1.ktap" 2>&1 || true)
	line=$(grep -E 'Testing complete\. Ran [0-9]+ tests' <<<"$res" | tail -n1)
	ran=$(sed -nE 's/.*Ran ([0-9]+) tests.*/\1/p' <<<"$line")
	failed=$(sed -nE 's/.*failed: ([0-9]+).*/\1/p' <<<"$line")
	if [ "${ran:-0}" = "$want" ] && [ "${failed:-0}" = 0 ] && [ "$want" -gt 0 ]; then
		echo "   KUnit after patch $1: $ran of $want cases passed"
	else
		echo "   KUnit after patch $1: ${line:-no summary} (the tree has $want cases; $OUT/kunit-$1.txt)"
		return 1
	fi
}
t0=$(date +%s)
n=0
for p in "$S"/0*.patch; do
	case "$p" in */0000-cover-letter.patch) continue ;; esac
	n=$((n + 1))
	(cd "$T" && git apply "$p")
	make -s -C "$T" O="$OUT" "${KMAKE_VARS[@]}" KCONFIG_ALLCONFIG="$OUT/fragment.config" allnoconfig
	start=$(date +%s)
	if make -C "$T" O="$OUT" "${KMAKE_VARS[@]}" -j"${KMEM_JOBS:-3}" CLIPPY=1 bzImage modules \
		>"$OUT/build-$n.log" 2>&1; then
		w=$(grep -cE '(^|: )warning' "$OUT/build-$n.log" || true)
		echo "ok $n $(basename "$p") ($(($(date +%s) - start)) s, $w warnings)"
		[ "$w" = 0 ] || { grep -E '(^|: )warning' "$OUT/build-$n.log" | head -n 5; exit 1; }
	else
		echo "not ok $n $(basename "$p") (log: $OUT/build-$n.log)"
		tail -n 20 "$OUT/build-$n.log"
		exit 1
	fi
	if grep -q '^+++ b/drivers/dax/kmem-rs/' "$p"; then
		step=$(date +%s)
		rm -rf "$OUT/modroot"
		make -s -C "$T" O="$OUT" "${KMAKE_VARS[@]}" INSTALL_MOD_PATH="$OUT/modroot" modules_install
		touch "$OUT/.kmem-rs-done"
		append=()
		[ -f "$T/drivers/dax/kmem-rs/guard.rs" ] && append=(--append=kmem.guard=off)
		if KMEM_KBUILD=$OUT "$here/vm-run" --kmem=c "${append[@]}" "$here/tests/parity.sh" \
			>"$OUT/parity-$n.txt" 2>&1; then
			echo "   parity after patch $n: $(grep -c '^ok ' "$OUT/parity-$n.txt") of $(grep -m1 -E '^1\.\.' "$OUT/parity-$n.txt" | cut -d. -f3) passed"
		else
			echo "   parity after patch $n failed ($OUT/parity-$n.txt)"
			grep '^not ok' "$OUT/parity-$n.txt" | head -n 5
			exit 1
		fi
		kunit_at "$n" || exit 1
		echo "   guest runs after patch $n: $(($(date +%s) - step)) s"
	fi
done
echo "the series builds after each of its $n patches ($(($(date +%s) - t0)) s)"
