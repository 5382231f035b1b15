#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make series-kunit: the driver's KUnit suites the canonical way, on the patched tree:
#   tools/testing/kunit/kunit.py run --arch=x86_64 --kunitconfig=drivers/dax/kmem-rs
# (the .kunitconfig the series adds). kunit.py configures and builds its own kernel (about
# 5 min cold, 10 s warm) and runs it in QEMU. With --check, it also checks that every #[test]
# of the sources ran and passed (make check-intree).
set -euo pipefail
shopt -s lastpipe
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
T=$("$here/intree.sh" --tree-only | tail -n 1)
B=$CACHE/kunit/build
mkdir -p "$B"
cd "$T"
# kunit.py asks QEMU for KVM first; on a machine where KVM initialises but guests fail (TCG
# only), hide /dev/kvm in a private mount namespace so that QEMU falls back to TCG.
mask=()
[ -e /dev/kvm ] && [ "$(id -u)" = 0 ] && mask=(unshare -m sh -c 'mount --bind /dev/null /dev/kvm && exec "$0" "$@"')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"${mask[@]}" python3 tools/testing/kunit/kunit.py run --arch=x86_64 --build_dir="$B" --jobs="${KMEM_JOBS:-3}" \
	--kunitconfig=drivers/dax/kmem-rs \
	--make_options LLVM=1 --make_options RUSTC=/usr/bin/rustc --make_options RUSTDOC=/usr/bin/rustdoc \
	--make_options RUSTFMT=/usr/bin/rustfmt --make_options HOSTRUSTC=/usr/bin/rustc \
	--make_options BINDGEN="$BINDGEN" --timeout=600 | tee "$out"
[ "${1:-}" = --check ] || exit 0
want=$(cat $(find "$here/../src" -name '*.rs' ! -name bindings_generated.rs) | grep -cE '^[[:space:]]*#\[test\]')
ran=$(sed -nE 's/.*=+ \[PASSED\] (dax_kmem_rust[a-z_]*|rust_memory_hotplug) =+$/\1/p' "$out" |
	while read -r suite; do
		sed -nE "s/.*=+ $suite \(([0-9]+) subtests?\) =+\$/\1/p" "$out"
	done | awk '{s += $1} END {print s + 0}')
echo "the driver's suites: $ran tests passed; the sources have $want"
[ "$ran" = "$want" ] && grep -qE 'Testing complete\. Ran [0-9]+ tests: passed: [0-9]+$' "$out"
