#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile-fail tests of the abstractions' safety by construction: each snippet in
# scripts/compile-fail/ is safe driver code that must be rejected by the compiler, with the
# error its first line (`// expect: REGEX`) names. Each is appended to src/driver.rs of a scratch
# copy of the tree, which is then built: the build must fail, and with that error.
# Prints KTAP (a plan, one result per snippet).
#
#   scripts/compile-fail.sh [SNIPPET...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
W=${KMEM_COMPILE_FAIL_DIR:-$repo/build/compile-fail}
snippets=("$@")
[ ${#snippets[@]} -gt 0 ] || snippets=("$here"/compile-fail/*.rs)

mkdir -p "$W"
# The tree as committed plus the work tree's changes, without build products.
(cd "$repo" && git ls-files -co --exclude-standard | grep -v '^build/' | cpio -pdmu --quiet "$W")
cp "$W/src/driver.rs" "$W/driver.rs.orig"

echo "KTAP version 1"
echo "1..${#snippets[@]}"
n=0 rc=0
for s in "${snippets[@]}"; do
	n=$((n + 1))
	name=$(basename "$s" .rs)
	expect=$(sed -n '1s|^// expect: ||p' "$s")
	{ cat "$W/driver.rs.orig"; echo; echo '#[allow(dead_code, unused, clippy::all)]'; echo "mod compile_fail_$n {"; echo "use kernel::prelude::*;"; sed 1d "$s"; echo "}"; } >"$W/src/driver.rs"
	log=$W/$name.log
	if make -C "$W" -s modules >"$log" 2>&1; then
		echo "# $name: the build succeeded"
		echo "not ok $n $name"
		rc=1
	elif [ -z "$expect" ] || ! grep -qE "$expect" "$log" ||
		grep -E '^error' "$log" | grep -v '^error: aborting due to' | grep -qvE "$expect"; then
		# Every error must be the expected one: a snippet that fails for another reason
		# proves nothing.
		echo "# $name: the build failed, but not (only) with /$expect/:"
		grep -E '^error' "$log" | head -n 5 | sed 's/^/#   /'
		echo "not ok $n $name"
		rc=1
	else
		echo "# $name: $(grep -m1 -oE "$expect" "$log")"
		echo "ok $n $name"
	fi
done
cp "$W/driver.rs.orig" "$W/src/driver.rs"
exit $rc
