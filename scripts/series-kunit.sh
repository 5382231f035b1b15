#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make series-kunit: the driver's KUnit suites the canonical way, on the patched tree:
#   tools/testing/kunit/kunit.py run --arch=x86_64 --kunitconfig=drivers/dax/kmem-rs
# (the .kunitconfig the series adds). kunit.py configures and builds its own kernel (about
# 5 min cold, 10 s warm) and runs it in QEMU. With --check, it also checks that every suite of
# the sources (each #[kunit_tests(NAME)] in src/) passed with as many cases as it has #[test]s,
# and that nothing else ran or failed (make check-intree).
#
#   scripts/series-kunit.sh [--check]
#   scripts/series-kunit.sh --expected        the suites and case counts the sources declare
#                                             (of KMEM_KUNIT_SRC if set, else src/)
#   scripts/series-kunit.sh --check-log FILE  the --check verdict on a saved kunit.py run output
#                                             (neither of these two builds or runs anything)
set -euo pipefail
shopt -s lastpipe
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# expected_suites: "NAME COUNT" for each #[kunit_tests(NAME)] in src/ (or KMEM_KUNIT_SRC, e.g.
# an in-tree driver directory), COUNT the #[test]s after it in its file (up to the next
# #[kunit_tests]); a #[test] outside any suite is an error.
expected_suites() {
	local f bad=0
	find "${KMEM_KUNIT_SRC:-$here/../src}" -name '*.rs' ! -name bindings_generated.rs | sort | while read -r f; do
		awk -v f="$f" '
			/^[[:space:]]*#\[kunit_tests\(/ {
				s = $0; sub(/.*#\[kunit_tests\(/, "", s); sub(/\).*/, "", s)
				order[++n] = s; count[s] += 0; next
			}
			/^[[:space:]]*#\[test\]/ {
				if (n == 0) { print f ":" FNR ": #[test] outside a #[kunit_tests] module" > "/dev/stderr"; bad = 1; next }
				count[order[n]]++
			}
			END { for (i = 1; i <= n; i++) print order[i], count[order[i]]; exit bad }' "$f" || bad=1
	done
	return $bad
}

# check_log FILE: every expected suite passed with its number of cases, no other suite of the
# run failed, and kunit.py's summary has no failure, skip or crash.
check_log() {
	local out=$1 want total=0 bad=0 name n got
	want=$(expected_suites) || return 1
	[ -n "$want" ] || { echo "no #[kunit_tests] suite in src/"; return 1; }
	while read -r name n; do
		total=$((total + n))
		got=$(sed -nE "s/.*=+ $name \(([0-9]+) subtests?\) =+\$/\1/p" "$out" | head -n1)
		if [ "${got:-}" != "$n" ]; then
			echo "suite $name: ${got:-no} subtests in the run, the sources have $n #[test]s"
			bad=1
		elif ! grep -qE "=+ \[PASSED\] $name =+\$" "$out"; then
			echo "suite $name: not [PASSED]"
			bad=1
		else
			echo "suite $name: $n of $n passed"
		fi
	done <<<"$want"
	if grep -E '\[(FAILED|CRASHED|SKIPPED)\]' "$out"; then
		echo "^ failed, crashed or skipped cases"
		bad=1
	fi
	grep -qE 'Testing complete\. Ran [0-9]+ tests: passed: [0-9]+$' "$out" ||
		{ echo "kunit.py's summary is not all passed: $(grep -E 'Testing complete' "$out" || echo none)"; bad=1; }
	echo "the driver's suites: $(wc -l <<<"$want"), $total cases expected from the sources"
	return $bad
}

case "${1:-}" in
--expected) expected_suites; exit ;;
--check-log) check_log "$2"; exit ;;
--check | "") ;;
*) die "series-kunit.sh: unknown argument $1" ;;
esac

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
check_log "$out"
