#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build the kernel (cached) and the
# modules, run the quality gates, the KUnit suites and every guest suite
# against the Rust driver and (for the differential tests) the in-tree C
# driver.  Ends with "N passed, N failed, N skipped"; exits non-zero on any
# failure.
#
#   KMEM_CHECK_ONLY=REGEX   run only the guest runs whose name matches
#   KMEM_DEBUG=1            (make check-debug) run every guest suite on the debug kernel
#   KMEM_NO_DEBUG=1         skip the debug-kernel subset of make check (counted as skipped)
#   KMEM_DISTRO=full        (make check-distro) only the Debian stock kernel's gates and its full
#                           list of guest runs; make check runs a subset of that list
#   KMEM_NO_DISTRO=1        skip the Debian stock kernel's gates and runs (counted as skipped)
#   KMEM_CXL=full           (make check-cxl) only the CXL guest runs, all of them; make check runs
#                           a subset
#   KMEM_NO_ORACLE_CACHE=1  boot every C reference run (by default a C run whose inputs are those
#                           of an earlier passed run is replayed from $CACHE/oracle: vm-run)
#
# The time each section took is printed at the end ("# time: ...").
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
cd "$repo"

PASS=0 FAIL=0 SKIP=0
LOGDIR=$repo/build/check
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
export KMEM_LOG_DIR=$repo/build/logs
# The C reference driver's passed runs, replayed while nothing they depend on changed (vm-run);
# KMEM_NO_ORACLE_CACHE=1 runs every one of them.
# Only the runs of the C reference driver in a pair with the Rust one (run_pair, run_two) are
# cached: the in-tree runs (kmem is the Rust driver there) and the Rust-only runs always boot.
ORACLE_DIR=$CACHE/oracle ORACLE=""
[ -n "${KMEM_NO_ORACLE_CACHE:-}" ] && ORACLE_DIR=""
unset KMEM_ORACLE_CACHE

pass() { PASS=$((PASS + 1)); echo "PASS: $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
skipped() { SKIP=$((SKIP + 1)); echo "SKIP: $*"; }
# gate NAME COMMAND...: one test, passed iff COMMAND succeeds.
gate() {
	local name=$1 log=$LOGDIR/gate-${1//[^a-zA-Z0-9]/_}.log
	shift
	# make check-distro: only the distribution kernel's own gates; make check-cxl: none.
	[ -n "${DISTRO_ONLY:-}" ] && [[ $name != distro:* ]] && return 0
	[ "${KMEM_CXL:-}" = full ] && return 0
	if "$@" >"$log" 2>&1; then
		pass "$name"
	else
		fail "$name (log: $log)"
		tail -n 20 "$log" | sed 's/^/    /'
		return 1
	fi
}
# summary: one line per guest run name, the Rust driver's results and the C reference's beside
# them (p/f/s: passed, failed, skipped; "!" a failed exit or kernel log; "=" replayed from the
# oracle cache), and the C runs' share of the total.
RUNS=()
summary() {
	[ ${#RUNS[@]} -gt 0 ] || return 0
	local r name mode p f s rc c names=() cp=0 cf=0 cs=0
	declare -A cell=()
	for r in "${RUNS[@]}"; do
		IFS='|' read -r name mode p f s rc c <<<"$r"
		[ -n "${cell[$name:rust]+x}${cell[$name:c]+x}" ] || names+=("$name")
		cell[$name:$mode]="$p/$f/$s$([ "$rc" = 0 ] || echo '!')${c:+=}"
		[ "$mode" = c ] && cp=$((cp + p)) cf=$((cf + f)) cs=$((cs + s))
	done
	echo
	printf '# %-34s %-14s %s\n' "guest run" "Rust p/f/s" "C reference p/f/s"
	for name in "${names[@]}"; do
		printf '# %-34s %-14s %s\n' "$name" "${cell[$name:rust]:--}" "${cell[$name:c]:--}"
	done
	echo "# the C reference's runs: $cp passed, $cf failed, $cs skipped (counted in the total below:" \
		"a failing reference is a broken test)"
}
# section NAME: the time since the previous mark is the previous section's; finish prints them.
SECTIONS=() SECTION="" SECTION_T0=$(date +%s)
JOBS=() ACTIONS=() # the queued guest runs and what reads them (flush, below)
section() {
	local now
	flush
	now=$(date +%s)
	[ -n "$SECTION" ] && SECTIONS+=("$(printf '%5d s  %s' $((now - SECTION_T0)) "$SECTION")")
	SECTION=$1 SECTION_T0=$now
}
finish() {
	section ""
	echo
	local l
	for l in "${SECTIONS[@]}"; do echo "# time: $l"; done
	summary
	local nc=0 nr=0 o
	for o in "$LOGDIR"/*.oracle; do
		[ -f "$o" ] || continue
		nc=$((nc + 1))
		grep -q '^# vm-run: .* replayed from the oracle cache' "${o%.oracle}.txt" && nr=$((nr + 1))
	done
	echo "# oracle: $nr of $nc C reference runs replayed from the cache${ORACLE_DIR:+ ($ORACLE_DIR)}"
	echo "logs: $LOGDIR"
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" = 0 ]
	exit
}

t0=$(date +%s)
section "setup, kernel and modules"
# --- toolchain, kernel, modules ---------------------------------------------------------
"$here/setup.sh" || { fail "toolchain setup"; finish; }
DISTRO_ONLY=""
[ "${KMEM_DISTRO:-}" = full ] && DISTRO_ONLY=1
if [ -n "$DISTRO_ONLY" ]; then
	: # the distribution kernel needs none of the project's kernels
elif ! "$here/kernel.sh"; then
	fail "kernel build"
	finish
elif touch src/kmem.rs src/glue.c && make modules >"$LOGDIR/build.log" 2>&1; then
	# (The sources touched: the build compiles kmem.ko's crate and C glue, W=1, and its log is
	# the no-warnings gate's.)
	pass "build kmem.ko (with its inline KUnit suites) and kmem_holdpage.ko"
else
	fail "build (log: $LOGDIR/build.log)"
	tail -n 30 "$LOGDIR/build.log"
	finish
fi
if [ -n "${KMEM_DEBUG:-}" ]; then
	export KMEM_IN_DEBUG=1 KMEM_VM_TIMEOUT=${KMEM_VM_TIMEOUT:-1200}
	make -s modules-debug >"$LOGDIR/build-debug.log" 2>&1 || { fail "debug build (log: $LOGDIR/build-debug.log)"; finish; }
fi
echo "# setup and build: $(($(date +%s) - t0)) s"

# --- quality gates -------------------------------------------------------------------------
# build_clean MAKE-ARGUMENTS...: the build succeeds (a failed build fails the gate whatever it
# printed: a clippy deny-level finding stops the build), and then prints no warning or error.
build_clean() {
	local out rc
	out=$(make "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" != 0 ]; then
		echo "make $*: exit $rc"
		return 1
	fi
	if grep -E 'warning|error' <<<"$out"; then
		echo "make $*: the warning or error lines above"
		return 1
	fi
}
# The first build above compiled kmem.ko's sources (W=1); its log has no warning or error.
no_warnings() {
	cat "$LOGDIR/build.log"
	if grep -E 'warning|error' "$LOGDIR/build.log"; then
		echo "make modules: the warning or error lines above"
		return 1
	fi
}
clippy_clean() {
	touch src/kmem.rs
	build_clean CLIPPY=1 modules
}
# The driver layer (src/*.rs) reaches C only through the abstractions in src/kernel/, and
# no abstraction imports a driver file (the import graph has no edge upwards and no cycle).
driver_has_no_unsafe() {
	local f rc=0
	for f in src/driver.rs src/hotplug.rs src/guard.rs src/policy.rs src/state.rs src/owners.rs \
		src/debugfs.rs; do
		grep -q '^#!\[deny(unsafe_code)\]' "$f" || { echo "$f: missing #![deny(unsafe_code)]"; rc=1; }
		grep -nE '\bunsafe\b|bindings::|ffi::' "$f" | grep -v 'deny(unsafe_code)' && rc=1
	done
	grep -q '^#!\[deny(unsafe_code)\]' src/kmem.rs || { echo "src/kmem.rs: missing #![deny(unsafe_code)]"; rc=1; }
	grep -nE 'unsafe \{|unsafe fn|bindings::|ffi::' src/kmem.rs && rc=1
	# The one exception: the module's global locks, initialised once in src/globals.rs (their
	# `init()` is unsafe), and nothing else unsafe there.
	grep -nE 'bindings::|ffi::|unsafe fn|unsafe impl' src/globals.rs && rc=1
	grep -nE 'unsafe \{' src/globals.rs | grep -vE 'unsafe \{ (MEMORY_TYPES|OWNERS|ROOT)\.init\(\) \};' && rc=1
	return $rc
}
layers() {
	python3 "$here/importgraph.py" --check "$repo/src"
}
safety_comments() {
	# Every `unsafe {` block has a SAFETY comment: in a `//` comment block that ends at most
	# three lines before it (clippy's undocumented_unsafe_blocks checks the same; this also
	# covers code clippy skips).
	awk '
		FNR == 1 { safety = 0; since = 99; incomment = 0 }
		/^[[:space:]]*\/\// {
			if (!incomment) safety = 0
			if ($0 ~ /SAFETY:/) safety = 1
			incomment = 1; since = 0; next
		}
		{ incomment = 0; since++ }
		/unsafe \{/ && $0 !~ /SAFETY:/ && !(safety && since <= 3) { print FILENAME ":" FNR ": " $0; bad = 1 }
		END { exit bad }' $(find src -name '*.rs' ! -name bindings_generated.rs | sort)
}
section "quality gates (build, series, in-tree builds)"
gate "compiler warnings: none" no_warnings
gate "rustfmt --check (kernel .rustfmt.toml)" make -s rustfmtcheck
gate "make CLIPPY=1: no warnings" clippy_clean
gate "driver layer has no unsafe/bindings" driver_has_no_unsafe
# Safety by construction: safe driver code that would add any range as System RAM, take over a
# resource, or keep an attribute's borrow of the bound device is rejected by the compiler.
gate "compile-fail: the abstractions reject unsound safe code ($(ls "$here"/compile-fail/*.rs | wc -l) snippets)" \
	"$here/compile-fail.sh"
gate "import graph: abstractions never import the driver, no cycles" layers
# The private bindings (src/kernel/bindings.rs) hold only what rust/bindings lacks: every
# `bindings::NAME` the abstractions use (kernel-owned ones are written `kernel::bindings::`) is
# generated by the module-local bindgen step and absent from the kernel crate's bindings. The
# list is what an upstream series adds to rust/bindings and rust/helpers.
private_bindings() {
	local kb names n bad=0 def
	kb=$("$here/kernel.sh" --print-dir)/rust/bindings
	names=$(grep -rhoP '(?<!kernel::)(?<![\w:])bindings::\w+' src/kernel | sed 's/^bindings:://' | sort -u)
	for n in $names; do
		def="pub (fn|const|static mut|struct|type|union) $n\b"
		grep -qE "$def" src/bindings_generated.rs || { echo "$n: not in the private bindings"; bad=1; }
		if grep -qE "$def" "$kb/bindings_generated.rs" "$kb/bindings_helpers_generated.rs"; then
			echo "$n: already in kernel::bindings"
			bad=1
		fi
	done
	echo "$(echo "$names" | wc -w) private names:" $names
	return $bad
}
gate "private bindings: only what rust/bindings lacks" private_bindings
gate "every unsafe block has a SAFETY comment" safety_comments
checkpatch_clean() {
	"$KSRC/scripts/checkpatch.pl" --no-tree --strict --quiet -f src/glue.c src/glue.h \
		src/bindings_helper.h kunit/kmem_holdpage.c scripts/guest/kmem-fuzz.c \
		scripts/guest/kmem-bench.c Kbuild Kconfig
}
gate "checkpatch.pl --strict: C, Kbuild and Kconfig files" checkpatch_clean
# modinfo -p lists every module parameter with its description (C's MODULE_PARM_DESC).
params_listed() {
	local out p
	out=$(modinfo -p "$repo/kmem.ko") || return 1
	echo "$out"
	for p in guard online_type unbind; do
		grep -qE "^$p:.{20,} \(charp\)\$" <<<"$out" || { echo "missing or undescribed: $p"; return 1; }
	done
}
gate "modinfo -p kmem.ko: guard, online_type and unbind, each described" params_listed
# The upstream series (make series): generated from this tree, every patch checkpatch.pl
# --strict clean, applied to a pristine 7.3 source and built there with DEV_DAX_KMEM_RUST=m
# (the parity suite runs against that kmem.ko below), =y and MEMORY_HOTREMOVE=n (where the
# removal calls are inline stubs; these two compile the kernel crate and the driver: make
# prepare + the directory). Each build is skipped when its series and configuration are those
# of the last successful one. The full =y build with the parity suite is make check-intree.
# checkpatch's "does MAINTAINERS need updating?" fires for every patch that adds a file; it is
# replaced by a check that every added file is covered by an F: line of the series' MAINTAINERS.
series_clean() {
	local p f n=0 rc=0 covered
	python3 "$here/series.py" "$KSRC" "$repo/build/series" || return 1
	for p in "$repo"/build/series/00*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		n=$((n + 1))
		"$KSRC/scripts/checkpatch.pl" --strict --quiet --no-tree --ignore FILE_PATH_CHANGES "$p" ||
			{ echo "^ $p"; rc=1; }
		grep -q '^Signed-off-by: ' "$p" || { echo "$p: no Signed-off-by"; rc=1; }
	done
	for f in $(grep -B1 '^new file mode' "$repo"/build/series/00*.patch | sed -n 's|.*diff --git a/\([^ ]*\) b/.*|\1|p'); do
		covered=0
		while read -r pat; do
			[[ $f == "$pat"* ]] && covered=1
		done < <(sed -n 's/^F:\t//p' "$repo/build/series.git/MAINTAINERS" | grep -E '^(rust|drivers/dax)/')
		[ "$covered" = 1 ] || { echo "$f: not covered by MAINTAINERS"; rc=1; }
	done
	echo "$n patches"
	[ "$n" -ge 11 ] || { echo "expected at least 11 patches"; rc=1; }
	return $rc
}
gate "make series: the upstream series, every patch checkpatch.pl --strict clean" series_clean
gate "the series builds in tree with MEMORY_HOTREMOVE=n" "$here/intree.sh" --no-hotremove
gate "the series builds in tree with DEV_DAX_KMEM_RUST=y" "$here/intree.sh" --builtin --compile-only
INTREE_OK=0
gate "the series builds in tree with DEV_DAX_KMEM_RUST=m (kernel and modules)" \
	"$here/intree.sh" --no-test && INTREE_OK=1
# The export restriction survives the series: mm exports __add_memory_driver_managed() to the
# module named kmem only. A call in the kernel crate (rust/kernel.o) would sit in a symbol that
# the kernel exports to every module (each kernel-crate function is EXPORT_SYMBOL_GPL), so none
# may call it, no exported Rust symbol may be its wrapper, and the in-tree kmem.ko must be the
# one that calls it (the #[inline] wrapper is compiled there).
export_restricted() {
	local b=$CACHE/intree/build-m bad=0 ko
	ko=$b/drivers/dax/kmem-rs/kmem.ko
	for f in "$b/rust/kernel.o" "$b/Module.symvers" "$ko"; do
		[ -f "$f" ] || { echo "missing $f (no in-tree =m build)"; return 1; }
	done
	if nm -u "$b/rust/kernel.o" | grep -w __add_memory_driver_managed; then
		echo "rust/kernel.o calls __add_memory_driver_managed()"
		bad=1
	fi
	if grep -P '^\S+\t_R\S*add_memory_driver_managed' "$b/Module.symvers"; then
		echo "Module.symvers exports a Rust wrapper of __add_memory_driver_managed() to every module"
		bad=1
	fi
	nm -u "$ko" | grep -qw __add_memory_driver_managed ||
		{ echo "the in-tree kmem.ko does not call __add_memory_driver_managed() itself"; bad=1; }
	echo "rust/kernel.o: $(nm -u "$b/rust/kernel.o" | grep -c add_memory) references; " \
		"Module.symvers: $(grep -c add_memory_driver_managed "$b/Module.symvers") lines"
	grep add_memory_driver_managed "$b/Module.symvers"
	return $bad
}
# The KUnit suites the canonical way, on the patched tree (kunit.py run: a kernel of its own,
# about 5 min cold, seconds warm), every suite of the sources with all its cases.
gate "in tree: kunit.py run of the series' KUnit suites (series-kunit.sh --check)" \
	"$here/series-kunit.sh" --check
# In tree the parameters belong to the driver module (kp->mod = THIS_MODULE, as C's
# __module_param_call() sets it): every kernel_param of the in-tree kmem.ko's __param section
# (40 bytes each) has a relocation to __this_module at its `mod` field (offset 8).
param_modules() {
	local ko=$CACHE/intree/build-m/drivers/dax/kmem-rs/kmem.ko size n m=0 off sym
	[ -f "$ko" ] || { echo "missing $ko"; return 1; }
	size=$(readelf -SW "$ko" | awk '$2 == "__param" {print $6}')
	n=$((16#${size:-0} / 40))
	while read -r off sym; do
		[ "$sym" = __this_module ] && [ $((16#$off % 40)) = 8 ] && m=$((m + 1))
	done < <(readelf -rW "$ko" | awk '/^Relocation section/ {s = $3} s == "'"'"'.rela__param'"'"'" && NF >= 5 {print $1, $5}')
	echo "__param: $n parameters, $m with mod = __this_module"
	[ "$n" -ge 3 ] && [ "$m" = "$n" ]
}
if [ "$INTREE_OK" = 1 ]; then
	gate "in tree: every parameter of kmem.ko has mod = THIS_MODULE" param_modules
	gate "in tree: only kmem.ko calls __add_memory_driver_managed() (no kernel-crate wrapper exported)" \
		export_restricted
fi
# The same suites also run in kmem.ko (kunit, below). series-kunit.sh --check derives the
# expected suites and case counts from the sources: each #[kunit_tests(NAME)] in src/ with one
# case per #[test] (series-kunit.sh --expected lists them).
# kernel.sh --print-dir, called from a recursive make (MAKEFLAGS with -w), prints one clean
# path and creates nothing.
print_dir_clean() {
	local before after d plain
	before=$(ls -A "$CACHE")
	d=$(MAKEFLAGS=w MAKELEVEL=2 "$here/kernel.sh" --print-dir) || return 1
	plain=$(env -u MAKEFLAGS -u MAKELEVEL "$here/kernel.sh" --print-dir) || return 1
	after=$(ls -A "$CACHE")
	echo "print-dir: '$d' (plain: '$plain')"
	[[ $d =~ ^/[^[:space:]\']+$ ]] || { echo "not one clean path"; return 1; }
	[ "$d" = "$plain" ] || { echo "differs from the plain call"; return 1; }
	[ "$before" = "$after" ] || { echo "the cache changed: $(diff <(echo "$before") <(echo "$after"))"; return 1; }
	if ls -A "$CACHE" | grep -F 'make['; then echo "stray directory in $CACHE"; return 1; fi
}
gate "kernel.sh --print-dir under a recursive make: one path, nothing created" print_dir_clean
# vm-run's splat matcher fires on every kind of kernel report (one real line of each) and on
# nothing in a clean boot's ordinary lines.
splat_matcher() {
	local bad=0 line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		"$here/splat-match" <(echo "$line") >/dev/null || { echo "missed: $line"; bad=1; }
	done <<'LINES'
[   12.345678] WARNING: possible circular locking dependency detected
[   12.345678] INFO: trying to register non-static key.
[   12.345678] BUG kmalloc-32 (Not tainted): Poison overwritten
[   12.345678] kworker/0:1: page allocation failure: order:10, mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null)
[   12.345678] INFO: task cat:123 blocked for more than 20 seconds.
[   12.345678] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [bash:1]
[   12.345678] BUG: KASAN: wild-memory-access in do_raw_spin_lock+0x1/0x2
[   12.345678] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
[   12.345678] unreferenced object 0xffff888100000000 (size 32):
[   12.345678] WARNING: CPU: 0 PID: 1 at mm/memory_hotplug.c:1 foo+0x1/0x2
[   12.345678] WARNING: possible recursive locking detected
[   12.345678] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
LINES
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		"$here/splat-match" <(echo "$line") && { echo "false alarm: $line"; bad=1; }
	done <<'LINES'
[    0.000000] Calibrating delay loop (skipped) preset value.. 8000.00 BogoMIPS (lpj=4000000)
[    1.234567] kmem dax0.0: mapping0: 0x100000000-0x13fffffff stuck online until reboot
[    1.234567] kmemleak: Kernel memory leak detector initialized (mem pool free: 15000)
[    1.234567] kmem dax0.0: guard: refused external offline of memory32 (guard=owned; 0 more refused since last message)
[    1.234567] Memory block size: 128MB
LINES
	return $bad
}
gate "vm-run's splat matcher: every report kind, no false alarm" splat_matcher
# The KTAP parser that counts every guest run's results (scripts/ktap.py), on its own cases.
gate "scripts/ktap.py: its unit tests ($(grep -c '    def test_' "$here/test_ktap.py") cases)" \
	python3 "$here/test_ktap.py"

# --- guest runs ------------------------------------------------------------------------------
# The guest runs of a section are queued and then run two at a time, each guest on one TCG
# thread (vm-run --tcg-single): two such guests share the machine's two cores, and two runs
# take about 60 % of the time of two multi-threaded guests one after the other. A run that
# needs both vCPUs on threads of their own (real concurrency: the race and stress runs) runs
# alone. The results (account), the differentials and anything else that reads a run are
# queued too, and done in order once every run of the section has finished (flush: at the
# next section mark). A C reference run the oracle cache replays takes a second.
# job pool|solo NAME MODE [vm-run options] -- SCRIPT [ARGS]: queue one guest run, with the
# environment it depends on (ORACLE, KMEM_KBUILD, KMEM_VM_TIMEOUT) as it is now.
job() {
	local kind=$1
	shift
	JOBS+=("$kind $(printf 'ORACLE=%q KMEM_KBUILD=%q KMEM_VM_TIMEOUT=%q ' "${ORACLE:-}" \
		"${KMEM_KBUILD:-}" "${KMEM_VM_TIMEOUT:-}") vmrun $(printf '%q ' "$@")")
}
# later COMMAND [ARGS]: run COMMAND when the section's runs have finished.
later() { ACTIONS+=("$(printf '%q ' "$@")"); }
flush() {
	local j kind cmd running=0
	for j in "${JOBS[@]}"; do
		kind=${j%% *} cmd=${j#* }
		if [ "$kind" = solo ]; then
			wait
			running=0
			eval "$cmd"
			continue
		fi
		if [ "$running" -ge 2 ]; then
			wait -n
			running=$((running - 1))
		fi
		eval "TCG_SINGLE=1 $cmd" &
		running=$((running + 1))
	done
	wait
	for j in "${ACTIONS[@]}"; do eval "$j"; done
	JOBS=() ACTIONS=()
}
selected() {
	[ -z "${KMEM_CHECK_ONLY:-}" ] || [[ $1 =~ $KMEM_CHECK_ONLY ]]
}
# run NAME MODE [vm-run options] -- SCRIPT [ARGS]: the KTAP results of one guest run, plus one
# test for well-formed KTAP and one for a clean exit and kernel log. run_solo: the same, the
# guest alone on the machine with a TCG thread per vCPU.
run() {
	local name=$1 mode=$2
	selected "$name" || { skipped "$name [$mode] (not selected by KMEM_CHECK_ONLY)"; return 0; }
	job pool "$@"
	later account "$name" "$mode"
}
run_solo() {
	local name=$1 mode=$2
	selected "$name" || { skipped "$name [$mode] (not selected by KMEM_CHECK_ONLY)"; return 0; }
	job solo "$@"
	later account "$name" "$mode"
}
# run_pair [--upstream] NAME [vm-run options] -- SCRIPT [ARGS]: the Rust run (with --upstream:
# upstream semantics, guard=off) and the C reference run of NAME (the oracle cache may replay
# it).
run_pair() {
	local up=()
	[ "$1" = --upstream ] && { up=("$OFF"); shift; }
	local name=$1
	shift
	if ! selected "$name"; then
		skipped "$name [rust] (not selected by KMEM_CHECK_ONLY)"
		skipped "$name [c] (not selected by KMEM_CHECK_ONLY)"
		return 0
	fi
	job pool "$name" rust "${up[@]}" "$@"
	ORACLE=1 job pool "$name" c "$@"
	later account "$name" rust
	later account "$name" c
}
# run_two "NAME MODE [options] -- SCRIPT [ARGS]" "NAME MODE ...": two runs given as strings (a C
# one is the reference's: the oracle cache may replay it).
run_two() {
	local a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	ORACLE=$([ "${a[1]}" = c ] && echo 1) run "${a[@]}"
	ORACLE=$([ "${b[1]}" = c ] && echo 1) run "${b[@]}"
}
# vmrun NAME MODE [vm-run options] -- SCRIPT [ARGS]: one guest run; its output in
# $LOGDIR/NAME-MODE.txt, its exit status in $LOGDIR/NAME-MODE.rc.
vmrun() {
	local name=$1 mode=$2
	shift 2
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	local out=$LOGDIR/$name-$mode.txt
	[ -n "${KMEM_DEBUG:-}" ] && opts+=(--debug)
	[ -n "${TCG_SINGLE:-}" ] && opts+=(--tcg-single)
	# ORACLE=1 (run_pair's and run_two's C runs): the oracle cache may replay the run.
	KMEM_ORACLE_CACHE=${ORACLE:+$ORACLE_DIR} "$here/vm-run" --kmem="$mode" "${opts[@]}" "$@" >"$out" 2>&1
	echo $? >"$LOGDIR/$name-$mode.rc"
	[ -z "${ORACLE:-}" ] || : >"$LOGDIR/$name-$mode.oracle"
}
account() {
	local name=$1 mode=$2
	local out=$LOGDIR/$name-$mode.txt rc
	rc=$(cat "$LOGDIR/$name-$mode.rc")
	# The results, parsed as KTAP (scripts/ktap.py): a version line, the plan, and exactly as
	# many results as it says, numbered in order.
	local p=0 f=0 s=0 counts krc prob=$LOGDIR/$name-$mode.ktap-problems
	counts=$(python3 "$here/ktap.py" counts "$out" 2>"$prob")
	krc=$?
	read -r p f s <<<"$counts"
	p=${p:-0} f=${f:-0} s=${s:-0}
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
	grep -E '^not ok |^# (want|blocks|vm-run)' "$out" | sed "s|^|    [$name/$mode] |"
	if [ "$krc" != 0 ]; then
		fail "$name [$mode]: not well-formed KTAP: $(head -n 3 "$prob" | paste -sd';') ($out)"
	fi
	local tag=""
	grep -q '^# vm-run: .* replayed from the oracle cache' "$out" && tag=" (oracle cache)"
	# (A --kmem=c run that is not a reference run tests the Rust driver: the in-tree one, or the
	# install path of ours beside the C kmem.ko.)
	local kind=rust
	[ -f "$LOGDIR/$name-$mode.oracle" ] && kind=c
	RUNS+=("$name|$kind|$p|$f|$s|$rc${tag:+|cached}")
	if [ "$rc" = 0 ]; then
		pass "$name [$mode]: $p passed, $f failed, $s skipped; clean exit and kernel log$tag"
	else
		fail "$name [$mode]: guest exit $rc ($p passed, $f failed; output: $out)"
		grep -E '^# ' "$out" | tail -n 8 | sed 's/^/    /'
	fi
}
# differential NAME [RUST_RUN [EXPECTED]]: the "obs" lines of a Rust run (default NAME) and of
# the C run of NAME must match, except for the differences listed in
# scripts/tests/expected/EXPECTED (default RUST_RUN; "< obs ..." for C, "> obs ..." for Rust):
# every one of them, and no other.
differential() { later differential_now "$@"; }
differential_now() {
	local name=$1 rrun=${2:-$1}
	local r=$LOGDIR/$rrun-rust.txt c=$LOGDIR/$name-c.txt exp=$T/expected/${3:-$rrun} got=$LOGDIR/$rrun.diff
	if [ -n "${KMEM_CHECK_ONLY:-}" ] && ! [[ $rrun =~ $KMEM_CHECK_ONLY ]]; then
		skipped "differential $rrun (not selected by KMEM_CHECK_ONLY)"
		return 0
	fi
	if ! [ -f "$r" ] || ! [ -f "$c" ]; then
		fail "differential $rrun: a run is missing"
		return
	fi
	diff <(grep '^obs ' "$c") <(grep '^obs ' "$r") | grep -E '^[<>]' >"$got"
	local n nc want=""
	n=$(grep -c '^obs ' "$r")
	nc=$(grep -c '^obs ' "$c")
	[ -f "$exp" ] && want=$(grep -E '^[<>]' "$exp")
	# A comparison of nothing is no comparison: each run must have observed something.
	if [ "$n" = 0 ] || [ "$nc" = 0 ]; then
		fail "differential $rrun: nothing to compare ($n Rust and $nc C observations)"
	elif [ "$(cat "$got")" = "$want" ]; then
		pass "differential $rrun: Rust and C observed the same ($n observations, $(grep -c '^<' <<<"$want") expected differences)"
	else
		fail "differential $rrun: Rust and C differ other than expected (see $got, expected: $exp)"
		diff <(echo "$want") "$got" | sed 's/^/    /' | head -n 20
	fi
}
# kunit [intree]: load kmem.ko with KUnit enabled (its inline suites run at load) and parse the
# KTAP with the tree's kunit.py. With "intree": the in-tree =m build of the series (its kmem.ko,
# whose suites are the driver's: the abstractions' are in the kernel crate there).
kunit() {
	local name=kunit${1:+-$1}
	if [ -n "${KMEM_CHECK_ONLY:-}" ] && ! [[ $name =~ $KMEM_CHECK_ONLY ]]; then
		skipped "$name (not selected by KMEM_CHECK_ONLY)"
		return 0
	fi
	# The plan: one case per #[test] of the suites in kmem.ko (series-kunit.sh's list of the
	# sources' suites): all of them out of tree, the driver's (dax_kmem_rust*) in tree, where
	# the abstractions' are in the kernel crate.
	local want suites=.
	[ "${1:-}" = intree ] && suites='^dax_kmem_rust'
	want=$("$here/series-kunit.sh" --expected | awk -v s="$suites" '$1 ~ s {n += $2} END {print n + 0}') ||
		{ fail "$name: the sources' suites (series-kunit.sh --expected)"; return; }
	local out=$LOGDIR/$name.txt ktap=$LOGDIR/$name.ktap res
	local opts=(--kmem=none) args=()
	[ -n "${KMEM_DEBUG:-}" ] && opts+=(--debug)
	[ "${1:-}" = intree ] && opts=(--kmem=c --no-load) args=(modprobe)
	if ! "$here/vm-run" "${opts[@]}" --append="kunit.enable=1 kunit.autorun=1" \
		"$here/tests/kunit.sh" "${args[@]}" >"$out" 2>&1; then
		fail "$name: guest run failed ($out)"
		return
	fi
	sed -n '/^KMEM-RS-KTAP-BEGIN/,/^KMEM-RS-KTAP-END/p' "$out" | sed '1d;$d' >"$ktap"
	res=$(python3 "$KSRC/tools/testing/kunit/kunit.py" parse <"$ktap" 2>&1)
	local rc=$?
	echo "$res" >"$LOGDIR/$name.parsed"
	local line p f
	line=$(echo "$res" | grep -E 'Testing complete\. Ran [0-9]+ tests' | tail -n1)
	p=$(echo "$line" | sed -nE 's/.*passed: ([0-9]+).*/\1/p')
	f=$(echo "$line" | sed -nE 's/.*failed: ([0-9]+).*/\1/p')
	p=${p:-0} f=${f:-0}
	echo "$res" | grep -E '\[FAILED\]|\[CRASHED\]' | sed "s/^/    [$name] /"
	PASS=$((PASS + p)) FAIL=$((FAIL + f))
	local ran
	ran=$(echo "$line" | sed -nE 's/.*Ran ([0-9]+) tests.*/\1/p')
	if [ "${ran:-0}" != "$want" ]; then
		fail "$name: ran ${ran:-0} test cases, kmem.ko has $want (#[test])"
	elif [ "$rc" = 0 ] && [ "$p" = "$want" ]; then
		pass "$name: $p test cases passed (kunit.py parse)"
	else
		fail "$name: kunit.py parse exit $rc: $line"
	fi
}

# Every guest suite runs against the Rust driver and, as the reference, the in-tree C
# driver; the differential test then compares what both observed.  The Rust driver runs
# them with guard=off, the upstream semantics, where nothing may differ; and the suites
# that a guard can change also with the shipped default, guard=owned, where exactly the
# differences in scripts/tests/expected/NAME-owned may (and must) appear: owned refuses
# external memoryN/state transitions after a state write, which the desync steps do.
OFF=--append=kmem.guard=off
T=$here/tests
suites=(
	"parity -- $T/parity.sh"
	"kselftest-unbind -- $T/kselftest.sh unbind"
	"multirange -- $T/multirange.sh"
	"daxctl -- $T/daxctl.sh"
	"unbind -- $T/unbind.sh"
	"probe -- $T/probe.sh"
	"probe-nonode --no-numa -- $T/probe.sh nonode"
	"faults-rollback -- $T/faults.sh rollback"
	"faults-multirange -- $T/faults.sh multirange"
	"faults-signal -- $T/faults.sh signal"
	"faults-release -- $T/faults.sh release"
)
# The suites that also run with the shipped default guard=owned.
# (kselftest-unbind runs every step of the plain kselftest and its destructive unbind check,
# so the plain one does not run; the zone each online type uses, and the exact rollback of a
# failed unplug from ZONE_NORMAL, are policy.sh's.)
owned=" parity kselftest-unbind multirange daxctl faults-rollback faults-multirange faults-signal "
owned+=" faults-release "

# --- Debian's stock kernel ---------------------------------------------------------------------
# Debian's own vmlinuz (7.3.4+deb13-amd64, GCC-built, Rust enabled, online at probe) and its own
# dax modules, with the Rust kmem.ko built by scripts/distro.sh in a toolchain twin of Debian's
# build (a trixie root: gcc-14, rustc 1.85.1, bindgen 0.71.1) and the differential against
# Debian's signed C kmem.ko.  The state-contract suites run with memhp_default_state=offline
# (their precondition, as on the project's kernel); the distribution's default online type is
# what the policy, params and install runs boot with.  make check runs the subset marked "*",
# make check-distro all of them.
distro_build() {
	local log=$LOGDIR/distro-build.log
	rm -rf "$repo/build/distro"
	"$here/distro.sh" build "$repo" "$repo/build/distro" >"$log" 2>&1 || { cat "$log"; return 1; }
	cat "$log"
	! grep -E 'warning|error|Skipping BTF' "$log"
}
distro_vermagic() {
	local ours theirs
	ours=$(modinfo -F vermagic "$repo/build/distro/kmem.ko")
	theirs=$(modinfo -F vermagic "$("$here/distro.sh" --print-guest)"/modroot/lib/modules/*/kernel/drivers/dax/kmem.ko.xz)
	echo "Rust: '$ours'; Debian's C kmem.ko: '$theirs'"
	[ -n "$ours" ] && [ "$ours" = "$theirs" ]
}
distro_gates() {
	gate "distro: Debian's kernel packages, the trixie toolchain twin, rust/ products for its .config" \
		"$here/distro.sh" prepare || return 1
	gate "distro: olddefconfig in the twin reproduces Debian's .config and release" \
		"$here/distro.sh" check-config || return 1
	gate "distro: every Rust symbol vmlinux exports is reproduced by the twin's rust/*.o" \
		"$here/distro.sh" check-symbols || return 1
	gate "distro: kmem.ko and kmem_holdpage.ko build for the stock kernel (W=1, no warnings)" \
		distro_build || return 1
	gate "distro: kmem.ko's vermagic is the stock kernel's" distro_vermagic
	gate "distro: every symbol kmem.ko imports is exported by the stock kernel" \
		"$here/distro.sh" check-imports "$repo/build/distro/kmem.ko"
	gate "distro: every symbol kmem_holdpage.ko imports is exported by the stock kernel" \
		"$here/distro.sh" check-imports "$repo/build/distro/kunit/kmem_holdpage.ko"
}
# distro_user_path FLOW DESCRIPTION: one of the user's paths (distro.sh install: `make install`;
# distro.sh dkms: dkms add, build, install) run in the twin into a staging root, which a guest
# copies over Debian's module tree; modprobe must pick the Rust module, whose missing signature
# taints it E on top of O.
distro_user_path() {
	local flow=$1 st=$repo/build/distro-$1/staging
	rm -rf "$repo/build/distro-$flow"
	gate "distro: $2" "$here/distro.sh" "$flow" "$st" || return 0
	run "distro-$flow" c --distro --no-load --file="$st" -- "$T/install.sh" OE "$flow"
}
DOFF=(--distro --append=memhp_default_state=offline)
distro_suites=(
	"*distro-parity ${DOFF[*]} -- $T/parity.sh"
	"*distro-kselftest-unbind ${DOFF[*]} -- $T/kselftest.sh unbind"
	"*distro-multirange ${DOFF[*]} -- $T/multirange.sh"
	"*distro-daxctl ${DOFF[*]} -- $T/daxctl.sh"
	"*distro-faults-rollback ${DOFF[*]} -- $T/faults.sh rollback"
	"distro-faults-multirange ${DOFF[*]} -- $T/faults.sh multirange"
	"distro-faults-signal ${DOFF[*]} -- $T/faults.sh signal"
	"distro-faults-release ${DOFF[*]} -- $T/faults.sh release"
	"distro-unbind ${DOFF[*]} -- $T/unbind.sh"
	"*distro-policy-default=online --distro -- $T/policy.sh default=online"
)
# Rust only, the shipped defaults (guard=owned) on the distribution's default online type.
distro_rust=(
	"distro-parity-owned|parity-owned ${DOFF[*]} -- $T/parity.sh"
	"*distro-params-distro --distro --no-load -- $T/params.sh distro"
	"distro-params-probe-types-distro --distro --no-load -- $T/params.sh probe-types-distro"
)
distro_checks() {
	local full=$1 s words name
	if [ -n "${KMEM_NO_DISTRO:-}" ]; then
		skipped "the Debian stock kernel's gates and runs (KMEM_NO_DISTRO)"
		return 0
	fi
	distro_gates || { fail "distro: no guest runs on the stock kernel (a gate failed)"; return 0; }
	for s in "${distro_suites[@]}"; do
		[ "$full" = 1 ] || [[ $s == \** ]] || continue
		read -r -a words <<<"${s#\*}"
		run_pair --upstream "${words[@]}"
		# The differences the project's kernel expects of the same suite, and no other.
		differential "${words[0]}" "${words[0]}" "${words[0]#distro-}"
	done
	for s in "${distro_rust[@]}"; do
		[ "$full" = 1 ] || [[ $s == \** ]] || continue
		read -r -a words <<<"${s#\*}"
		name=${words[0]%%|*}
		run "$name" rust "${words[@]:1}"
		[[ ${words[0]} == *"|"* ]] && differential "${name%-owned}" "$name" "${words[0]#*|}"
	done
	distro_user_path install "make install in the twin (the user's path) into a staging root"
	# scripts/dkms-make: the headers package's build directory has no rust/, so the build is
	# against prepare-kernel.sh's tree.
	distro_user_path dkms "dkms add/build/install in the twin"
}
# CXL Type 3 memory through the kernel's CXL stack (vm-run --cxl: QEMU 10, a q35 machine with a
# CXL host bridge, root ports, volatile Type 3 devices and a fixed memory window): a RAM region
# made through sysfs, its dax device through `state` and an orderly teardown; the region
# decommitted while the device is online (the drivers differ here: scripts/tests/expected/
# cxl-teardown); two windows (two host bridges), a region in each, two devices on two nodes
# transitioned at once; the distribution's online-at-probe policy; data across a failed and a
# migrating unplug; memory tiers and demotion; a 2-way interleaved region split into two devices
# transitioned at once.  make check runs the runs marked "*", make check-cxl all of them.
# The tiers run keeps the guest's root file system in ramfs (unevictable): node 0's reclaim would
# otherwise demote the shell and its libraries to the CXL node, and TCG executes code from
# emulated CXL memory (MMIO) so slowly that the run stalls for minutes.
cxl_pairs=(
	"*cxl-life --cxl -- $T/cxl.sh life"
	"*cxl-teardown --cxl -- $T/cxl.sh teardown"
	"*cxl-regions --cxl=512M,2 --cxl-bridges -- $T/cxl.sh regions"
	"*cxl-policy --cxl --append=memhp_default_state=online -- $T/cxl.sh policy"
	"cxl-data --cxl -- $T/cxl.sh data"
	"cxl-tiers --cxl --append=rootfstype=ramfs -- $T/cxl.sh tiers"
	"cxl-interleave --cxl=512M,2 -- $T/cxl.sh interleave"
)
# Rust only, both at once: the unplug at the unbind of a deleted device fails on a pinned page
# (the log names the region that took the memory away); Debian's online-at-probe policy puts CXL
# memory into ZONE_NORMAL (cxl-policy: the unplug fails), and the Rust driver's
# online_type=online_movable on top of it makes it removable.
cxl_rust=(
	"cxl-teardown-held rust --cxl -- $T/cxl.sh teardown-held"
	"cxl-policy-movable rust --cxl --append=memhp_default_state=online --append=kmem.online_type=online_movable -- $T/cxl.sh policy"
)
# A range added to a bound kmem device through daxX.Y/mapping (scripts/tests/mapping.sh), on the
# debug kernel with a 1 GiB CXL region: 7.3's C kmem overruns its probe-time data->res[], and its
# run must show exactly that KASAN report, a known upstream bug (scripts/tests/expected/
# known-bug-kmem-mapping; the Rust run has no such allowance); the Rust driver onlines only its
# probe-time range and logs the change.  The series' bus refuses the write (intree-mapping).
cxl_mapping() {
	local why=""
	[ -n "${KMEM_NO_DEBUG:-}" ] && why="KMEM_NO_DEBUG"
	[ -n "${KMEM_CHECK_ONLY:-}" ] && ! [[ cxl-mapping =~ $KMEM_CHECK_ONLY ]] && why="not selected by KMEM_CHECK_ONLY"
	if [ -n "$why" ]; then
		skipped "cxl-mapping [rust] ($why)"
		skipped "cxl-mapping [c] ($why)"
		return 0
	fi
	make -s modules-debug >"$LOGDIR/build-debug-mapping.log" 2>&1 ||
		{ fail "cxl-mapping: the debug kernel and modules (log: $LOGDIR/build-debug-mapping.log)"; return 0; }
	KMEM_VM_TIMEOUT=${KMEM_VM_TIMEOUT:-1200} run_two \
		"cxl-mapping rust --debug --cxl=1G -- $T/mapping.sh" \
		"cxl-mapping c --debug --cxl=1G --known-bug=$T/expected/known-bug-kmem-mapping -- $T/mapping.sh"
}
cxl_checks() {
	local full=$1 s words
	for s in "${cxl_pairs[@]}"; do
		[ "$full" = 1 ] || [[ $s == \** ]] || continue
		read -r -a words <<<"${s#\*}"
		run_pair "${words[@]}"
		differential "${words[0]}"
	done
	run_two "${cxl_rust[0]}" "${cxl_rust[1]}"
	cxl_mapping
}
if [ "${KMEM_CXL:-}" = full ]; then
	section "CXL"
	cxl_checks 1
	finish
fi

if [ -n "$DISTRO_ONLY" ]; then
	section "Debian stock kernel"
	distro_checks 1
	finish
fi

section "KUnit and the differential suites"
kunit
for s in "${suites[@]}"; do
	read -r -a words <<<"$s"
	run_pair --upstream "${words[@]}"
	differential "${words[0]}"
	if [[ $owned == *" ${words[0]} "* ]]; then
		run "${words[0]}-owned" rust "${words[@]:1}"
		differential "${words[0]}" "${words[0]}-owned"
	fi
done

# The in-tree kmem.ko of the upstream series (built by the gate above): the kernel's own kmem
# is the Rust driver, and the parity suite observes exactly what the C driver observes.
intree_differential() {
	local c=$LOGDIR/parity-c.txt r=$LOGDIR/intree-parity-c.txt n
	if [ -n "${KMEM_CHECK_ONLY:-}" ] && ! [[ intree-parity =~ $KMEM_CHECK_ONLY ]]; then
		skipped "differential intree-parity (not selected by KMEM_CHECK_ONLY)"
		return 0
	fi
	[ -f "$c" ] && [ -f "$r" ] || { fail "differential intree-parity: a run is missing"; return; }
	n=$(grep -c '^obs ' "$r")
	if diff <(grep '^obs ' "$c") <(grep '^obs ' "$r") >"$LOGDIR/intree-parity.diff" && [ "$n" -gt 0 ]; then
		pass "differential intree-parity: the in-tree Rust kmem observed what the C driver did ($n observations)"
	else
		fail "differential intree-parity: $n observations, differences in $LOGDIR/intree-parity.diff"
	fi
}
section "in-tree guest runs"
if [ -n "${KMEM_DEBUG:-}" ]; then
	skipped "in-tree guest runs (not on the debug kernel: the in-tree kernel has its own config)"
elif [ "$INTREE_OK" = 1 ]; then
	KMEM_KBUILD=$CACHE/intree/build-m run intree-which c -- "$T/which-kmem.sh"
	KMEM_KBUILD=$CACHE/intree/build-m run intree-parity c $OFF -- "$T/parity.sh"
	later intree_differential
	# The driver's KUnit suites in the in-tree kmem.ko (=m): among them, that the kernel knows
	# its parameters as this module's (kp->mod is THIS_MODULE, taken at the driver's call site).
	KMEM_KBUILD=$CACHE/intree/build-m kunit intree
else
	fail "in-tree guest runs: the series did not build"
fi

# The system online policy: probe and the state contract under each default online type
# (memhp_default_state=, what distribution kernels set: Debian onlines at probe), and the
# auto-movable policy; unplug from ZONE_NORMAL is checked for an exact rollback.  The Rust
# driver keeps its default guard (no memoryN/state writes here).
section "policies"
policies=(
	"default=offline|memhp_default_state=offline"
	"default=online|memhp_default_state=online"
	"default=online_kernel|memhp_default_state=online_kernel"
	"default=online_movable|memhp_default_state=online_movable"
	"auto-movable|memhp_default_state=online memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_numa_aware=0"
)
for p in "${policies[@]}"; do
	run_pair "policy-${p%%|*}" --append="${p#*|}" -- "$T/policy.sh" "${p%%|*}"
	differential "policy-${p%%|*}"
done

# The memory-block guard exists only in the Rust driver.
section "guard and race"
for m in owned always off switch; do
	run guard-$m rust --dax=2G -- "$T/guard.sh" $m
done
run_solo race rust --dax=2G -- "$T/race.sh" 10 5

# The Rust driver's module parameters online_type and unbind, and its take-over of memory an
# unbind or rmmod left online (the C driver has none of this: Rust only, shipped guard=owned).
section "params"
params=(
	"params-probe-types --no-load -- $T/params.sh probe-types"
	"params-probe-types-distro --no-load --append=memhp_default_state=online -- $T/params.sh probe-types-distro"
	"params-probe-online --no-load -- $T/params.sh probe-online"
	"params-invalid --no-load -- $T/params.sh invalid"
	"params-distro --no-load --append=memhp_default_state=online -- $T/params.sh distro"
	"params-cmdline --no-load --append=memhp_default_state=online --append=kmem.online_type=online_movable -- $T/params.sh cmdline"
	"params-unbind-unplug -- $T/params.sh unbind-unplug"
	"params-unbind-multirange -- $T/params.sh unbind-multirange"
	"params-adopt -- $T/params.sh adopt"
	"params-adopt-multirange -- $T/params.sh adopt-multirange"
	"params-adopt-states -- $T/params.sh adopt-states"
)
for s in "${params[@]}"; do
	read -r -a words <<<"$s"
	run "${words[0]}" rust "${words[@]:1}"
done

# Paths no other suite exercises, both drivers (the Rust one with its shipped default guard:
# no external block writes while a device is bound), one boot per scenario: memory tiers,
# memory groups under auto-movable, memmap_on_memory, a reservation conflict on the second
# range, rmmod while online and reload, unbind/rmmod while an unplug retries, SIGKILL during
# hot-add, two devices of one region at once, data surviving a failed unplug.
section "paths"
paths=(
	"paths-tiers -- $T/paths.sh tiers"
	"paths-groups --dax=3G --append=memory_hotplug.online_policy=auto-movable -- $T/paths.sh groups"
	"paths-memmap --append=memory_hotplug.memmap_on_memory=1 -- $T/paths.sh memmap"
	"paths-conflict -- $T/paths.sh conflict"
	"paths-rmmod --dax=2G -- $T/paths.sh rmmod"
	"paths-retry -- $T/paths.sh retry"
	"paths-killadd --dax=4G -- $T/paths.sh killadd"
	"paths-concurrent --dax=2G -- $T/paths.sh concurrent 2"
	"paths-data -- $T/paths.sh data"
	"dramnode --node1-dram=512M -- $T/dramnode.sh"
)
for s in "${paths[@]}"; do
	read -r -a words <<<"$s"
	run_pair "${words[@]}"
	differential "${words[0]}"
done

section "CXL"
cxl_checks 0
section "in-tree C fixes"

# The series' C fixes on its in-tree kernel (not the debug kernel): the bus refuses a mapping
# write to a bound device (mapping.sh refused) for the in-tree Rust kmem, and for the series'
# C kmem.c built out of tree against that kernel (a module named kmem, loaded from updates/);
# the node with DRAM keeps its type across bind/unbind (dramnode.sh fixed) with both.
if [ -z "${KMEM_DEBUG:-}" ] && [ "$INTREE_OK" = 1 ]; then
	KC=$repo/build/intree-kmem-c
	KMEM_KBUILD=$CACHE/intree/build-m run intree-mapping c --cxl=1G -- "$T/mapping.sh" refused
	KMEM_KBUILD=$CACHE/intree/build-m run intree-dramnode c --node1-dram=512M -- "$T/dramnode.sh" fixed
	if gate "the series' kmem.c builds out of tree against its in-tree kernel (kmem.ko)" \
		"$T/build-kmem-c.sh" "$CACHE/intree/linux" "$CACHE/intree/build-m" "$KC"; then
		KMEM_KBUILD=$CACHE/intree/build-m run intree-mapping-kmemc rust --cxl=1G --modules="$KC" \
			-- "$T/mapping.sh" refused
		KMEM_KBUILD=$CACHE/intree/build-m run intree-dramnode-kmemc rust --node1-dram=512M \
			--modules="$KC" -- "$T/dramnode.sh" fixed
	fi
fi

# Adversarial runs of the Rust driver: reload cycles, fuzzing, concurrency, permissions.
section "adversarial (reload, notifier, fuzz, stress, perms, debugfs)"
gcc -static -O2 -Wall -o "$repo/build/kmem-fuzz" "$here/guest/kmem-fuzz.c" ||
	fail "build the guest fuzzer"
run reload rust $OFF -- "$T/reload.sh" 20
# make bench's notifier run, small, under instruction counting (what it times is make bench's;
# here it has to run and check what it checks): the C and the Rust module loaded in turn in one
# guest, twice each, eight one-block devices bound to each (one module notifier, eight guards),
# events on boot memory and on one device's block, each module unloaded with its devices bound.
gcc -static -O2 -Wall -o "$repo/build/kmem-bench" "$here/guest/kmem-bench.c" ||
	fail "build the guest timer"
run notifier-devices rust --icount --append=movablecore=512M --file="$repo/build/kmem-bench" \
	-- "$T/notifier-bench.sh" 20 8 2
run fuzz rust $OFF --file="$repo/build/kmem-fuzz" -- "$T/fuzz.sh" 50000
run_solo stress rust -- "$T/stress.sh" "${KMEM_STRESS_SECS:-20}" paused
# External users are not paused during removals: lockdep's dependency checking is off because
# a memoryN writer inside its store when the mm core removes that block makes kernfs's drain
# annotation report a false kn->active -> cpu_hotplug_lock -> mem_hotplug_lock cycle (writers
# only trylock device_hotplug_lock); WARN/BUG/KASAN/hung task/soft lockup stay on.
run_solo stress-unpaused rust --append=lockdep.prove_locking=0 -- "$T/stress.sh" "${KMEM_STRESS_SECS:-20}" unpaused
run perms rust -- "$T/perms.sh"
run debugfs rust -- "$T/debugfs.sh"

# The install path: `make install` into a staging root, copied into a guest
# whose modules include the in-tree C kmem.ko; Debian's kmod must pick ours.
section "install"
rm -rf "$repo/build/staging"
if make -s install INSTALL_MOD_PATH="$repo/build/staging" >"$LOGDIR/install.log" 2>&1; then
	pass "make install into a staging root"
	run install c --no-load --file="$repo/build/staging" -- "$T/install.sh"
else
	fail "make install (log: $LOGDIR/install.log)"
fi

section "Debian stock kernel"
distro_checks 0
section "debug kernel"

# The debug kernel (KASAN, kmemleak with a scan after every scenario, lockdep,
# DEBUG_OBJECTS, ...) on the scenarios most likely to corrupt or leak memory.
# make check-debug runs every suite on it instead (and sets KMEM_IN_DEBUG).
# (The unbind-while-online scenario runs five times in debug-leakcheck, with the take-over and
# rmmod, ten in make check-debug, which runs every suite on the debug kernel: unbind, the
# destructive kselftest, rollback, reload, the memory-tier paths, stress.)
debug_runs=(
	"debug-leakcheck rust --debug --dax=2G --kmemleak-report-only -- $T/leakcheck.sh 5"
	"debug-faults-signal rust --debug $OFF -- $T/faults.sh signal"
	"debug-stress rust --debug -- $T/stress.sh 10 paused"
)
if [ -n "${KMEM_IN_DEBUG:-}" ]; then
	# check-debug: every suite above already ran on the debug kernel; add the leak check,
	# and the C driver's figures for it (counted, not judged: they are the reference's).
	run debug-leakcheck rust --dax=2G --kmemleak-report-only -- "$T/leakcheck.sh" 10
	run debug-leakcheck c --dax=2G --kmemleak-report-only -- "$T/leakcheck.sh" 10
	flush
	grep -h '^LEAKS ' "$LOGDIR"/debug-leakcheck-*.txt 2>/dev/null | sed 's/^/# /'
elif [ -n "${KMEM_NO_DEBUG:-}" ]; then
	for r in "${debug_runs[@]}"; do
		read -r -a words <<<"$r"
		skipped "${words[0]} [${words[1]}] (KMEM_NO_DEBUG)"
	done
elif make -s modules-debug >"$LOGDIR/build-debug.log" 2>&1; then
	pass "build the debug kernel and modules"
	export KMEM_VM_TIMEOUT=${KMEM_VM_TIMEOUT:-1200}
	# The leak check (one TCG thread, about two minutes) beside the signal abort (one TCG
	# thread) and then the stress run (both vCPUs on threads of their own, truly parallel).
	read -r -a leak <<<"${debug_runs[0]}"
	read -r -a sig <<<"${debug_runs[1]}"
	read -r -a str <<<"${debug_runs[2]}"
	if [ -n "${KMEM_CHECK_ONLY:-}" ]; then
		run "${leak[@]}"
		run "${sig[@]}"
		run_solo "${str[@]}"
		flush
	else
		vmrun "${leak[0]}" "${leak[1]}" --tcg-single "${leak[@]:2}" &
		{ vmrun "${sig[0]}" "${sig[1]}" --tcg-single "${sig[@]:2}"; vmrun "${str[@]}"; } &
		wait
		account "${leak[0]}" "${leak[1]}"
		account "${sig[0]}" "${sig[1]}"
		account "${str[0]}" "${str[1]}"
	fi
	grep -h '^LEAKS ' "$LOGDIR"/debug-leakcheck-*.txt 2>/dev/null | sed 's/^/# /'
else
	fail "build the debug kernel and modules (log: $LOGDIR/build-debug.log)"
fi
flush
grep -h -E '^(RACE|FUZZ|STRESS|RELOAD|SIGNAL)' "$LOGDIR"/*.txt 2>/dev/null | sed 's/^/# /'

echo "# total: $(($(date +%s) - t0)) s"
finish
