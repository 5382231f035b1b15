#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build the kernel (cached) and the
# modules, run the quality gates, the KUnit suites and every guest suite
# against the Rust driver and (for the differential tests) the in-tree C
# driver.  Ends with "N passed, N failed, N skipped"; exits non-zero on any
# failure.  The guest runs of each target are the lines of scripts/tests/matrix.
#
#   KMEM_CHECK_ONLY=REGEX   run only the guest runs whose name matches (the others: skipped)
#   KMEM_DEBUG=1            (make check-debug) run every guest suite on the debug kernel
#   KMEM_NO_DEBUG=1         skip the debug-kernel subset of make check (counted as skipped)
#   KMEM_DISTRO=full        (make check-distro) only the Debian stock kernel's gates and its full
#                           list of guest runs; make check runs a subset of that list
#   KMEM_NO_DISTRO=1        skip the Debian stock kernel's gates and runs (counted as skipped)
#   KMEM_CXL=full           (make check-cxl) only the CXL guest runs, all of them; make check runs
#                           a subset
#   KMEM_NDCTL=full         (make check-ndctl) only the Debian stock kernel's gates and the runs of
#                           pmem-backed dax, ndctl 81 and the patched daxctl (on Debian's kernel and
#                           the project's), all of them; make check runs a subset
#   KMEM_NO_ORACLE_CACHE=1  boot every C reference run (by default a C run whose inputs are those
#                           of an earlier passed run is replayed from $CACHE/oracle: vm-run)
#
# The time each section took is printed at the end ("# time: ...").
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
cd "$repo" || exit 1

PASS=0 FAIL=0 SKIP=0
LOGDIR=$repo/build/check
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
export KMEM_LOG_DIR=$repo/build/logs
# The C reference driver's passed runs, replayed while nothing they depend on changed (vm-run);
# KMEM_NO_ORACLE_CACHE=1 runs every one of them.
# Only the C reference driver's runs (the matrix's kinds pair, pair-off and ref) are cached: the
# in-tree runs (kmem is the Rust driver there) and the Rust driver's runs always boot.
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
	[ -n "${DISTRO_ONLY:-}${NDCTL_ONLY:-}" ] && [[ $name != distro:* ]] && return 0
	# (make check-cxl: only the gates of the distribution's tools its runs need.)
	[ "${KMEM_CXL:-}" = full ] && [[ $name != distro:* ]] && return 0
	local t0=$SECONDS
	if "$@" >"$log" 2>&1; then
		pass "$name"
		echo "# gate time: $((SECONDS - t0)) s  $name"
	else
		fail "$name (log: $log)"
		tail -n 20 "$log" | sed 's/^/    /'
		return 1
	fi
}
# bg_gate NAME COMMAND...: a gate whose work neither a prerequisite nor a guest run uses (it
# builds in directories of its own): queued, and run in a subshell of its own beside the guest
# runs of flush (the gates are mostly one process at a time; the guest runs keep both cores busy
# only together with them). Its result lines join the others when it has finished.
BG_GATES=() BG_PID=""
bg_gate() { BG_GATES+=("$(printf '%q ' gate "$@")"); }
bg_gates_start() {
	[ ${#BG_GATES[@]} -gt 0 ] && [ -z "$BG_PID" ] || return 0
	(
		t0=$SECONDS
		for g in "${BG_GATES[@]}"; do eval "$g"; done
		echo "# gates beside the guest runs: $((SECONDS - t0)) s"
	) >"$LOGDIR/gates-beside.out" 2>&1 &
	BG_PID=$!
}
# lane_end PID OUT: wait for a lane of gates, print its result lines and count them.
lane_end() {
	wait "$1"
	cat "$2"
	PASS=$((PASS + $(grep -c '^PASS: ' "$2")))
	FAIL=$((FAIL + $(grep -c '^FAIL: ' "$2")))
}
bg_gates_end() {
	if [ -n "$EARLY_PID" ]; then
		lane_end "$EARLY_PID" "$LOGDIR/gates-early.out"
		EARLY_PID=""
	fi
	[ -n "$BG_PID" ] || return 0
	lane_end "$BG_PID" "$LOGDIR/gates-beside.out"
	BG_PID="" BG_GATES=()
}
# early_gates NAME COMMAND [ARGS] ; NAME COMMAND [ARGS] ...: bg_gates that build no kernel and
# use neither the toolchain twin nor anything a prerequisite makes, started at once in a lane
# of their own beside the foreground gates and the prerequisites, which are mostly one process
# at a time and leave the second core idle (before: beside the guest runs, whose cores they
# shared). Their result lines join the others with bg_gate's.
EARLY_PID=""
early_gates() {
	local lane=() cur=() a
	for a in "$@" ";"; do
		if [ "$a" = ";" ]; then
			[ ${#cur[@]} = 0 ] || lane+=("$(printf '%q ' gate "${cur[@]}")")
			cur=()
		else
			cur+=("$a")
		fi
	done
	(
		t0=$SECONDS
		for g in "${lane[@]}"; do eval "$g"; done
		echo "# gates beside the foreground gates: $((SECONDS - t0)) s"
	) >"$LOGDIR/gates-early.out" 2>&1 &
	EARLY_PID=$!
}
# replayed OUTPUT: the run whose OUTPUT this is was replayed from the oracle cache (vm-run's note).
replayed() { grep -q '^# vm-run: .* replayed from the oracle cache' "$1"; }
# summary: one line per guest run name, the Rust driver's results and the C reference's beside
# them (p/f/s: passed, failed, skipped; "!" a failed exit or kernel log; "=" replayed from the
# oracle cache), and the C runs' share of the total.
RUNS=()
summary() {
	[ ${#RUNS[@]} -gt 0 ] || return 0
	local r name mode p f s rc c names=() cp=0 cf=0 cs=0 nc=0 nr=0
	declare -A cell=()
	for r in "${RUNS[@]}"; do
		IFS='|' read -r name mode p f s rc c <<<"$r"
		[ -n "${cell[$name:rust]+x}${cell[$name:c]+x}" ] || names+=("$name")
		cell[$name:$mode]="$p/$f/$s$([ "$rc" = 0 ] || echo '!')${c:+=}"
		[ "$mode" = c ] && cp=$((cp + p)) cf=$((cf + f)) cs=$((cs + s)) nc=$((nc + 1))
		[ -n "$c" ] && nr=$((nr + 1))
	done
	echo
	printf '# %-34s %-14s %s\n' "guest run" "Rust p/f/s" "C reference p/f/s"
	for name in "${names[@]}"; do
		printf '# %-34s %-14s %s\n' "$name" "${cell[$name:rust]:--}" "${cell[$name:c]:--}"
	done
	echo "# the C reference's checks: $cp passed, $cf failed, $cs skipped (not in the total below," \
		"where each reference run counts once: passed if it passed every check, a failing" \
		"reference being a broken test)"
	echo "# oracle: $nr of $nc C reference runs replayed from the cache${ORACLE_DIR:+ ($ORACLE_DIR)}"
}
# section NAME: the time since the previous mark is the previous section's host time (builds,
# gates, prerequisites); its guest runs, queued (job) and run together at the end, are charged to
# it by their guest seconds. finish prints both.
SECTIONS=() SECTION="" SECTION_T0=$(date +%s)
declare -A SEC_HOST=() RUN_SECTION=()
JOBS=() JOB_KEYS=() ACTIONS=() # the queued guest runs and what reads them (flush, below)
section() {
	local now
	now=$(date +%s)
	[ -n "$SECTION" ] && SEC_HOST[$SECTION]=$((now - SECTION_T0))
	SECTION=$1 SECTION_T0=$now
	[ -z "$1" ] || SECTIONS+=("$1")
}
# guest_secs NAME-MODE: the guest seconds of a run that booted (0 for one the oracle cache
# replayed, or that did not run).
guest_secs() {
	local out=$LOGDIR/$1.txt
	[ -f "$out" ] || { echo 0; return; }
	replayed "$out" && { echo 0; return; }
	grep -h '^# console log: ' "$out" | tail -n1 | sed -nE 's/.*\(([0-9.]+) s\)$/\1/p' | grep . || echo 0
}
# times: per section its host time and its guest runs' guest seconds, and the guest runs' wall
# time in all.
times() {
	local sec k g total=0 all=0
	declare -A gs=() gn=()
	for k in "${!RUN_SECTION[@]}"; do
		sec=${RUN_SECTION[$k]}
		g=$(guest_secs "$k")
		gs[$sec]=$(awk -v a="${gs[$sec]:-0}" -v b="$g" 'BEGIN {print a + b}')
		gn[$sec]=$((${gn[$sec]:-0} + 1))
	done
	for sec in "${SECTIONS[@]}"; do
		printf '# time: %5d s host, %6.1f s in %3d guest runs  %s\n' "${SEC_HOST[$sec]:-0}" \
			"${gs[$sec]:-0}" "${gn[$sec]:-0}" "$sec"
		total=$((total + ${SEC_HOST[$sec]:-0}))
		all=$(awk -v a="$all" -v b="${gs[$sec]:-0}" 'BEGIN {print a + b}')
	done
	printf '# time: %5d s host in all; %.0f guest seconds, run in %d s (two guests at a time)\n' \
		"$total" "$all" "$GUEST_WALL"
}
finish() {
	flush
	section ""
	echo
	times
	summary
	echo "logs: $LOGDIR"
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" = 0 ]
	exit
}

# --- guest runs ------------------------------------------------------------------------------
# Every guest run of the matrix is queued, and once the matrix has been read (its prerequisites
# built, its gates run) they run two at a time, each guest on one TCG thread (vm-run
# --tcg-single): two such guests share the machine's two cores, and two runs take about 60 % of
# the time of two multi-threaded guests one after the other. The longest start first. A run that
# needs both vCPUs on threads of their own (real concurrency: the race and stress runs) runs
# alone, before the others. The results (account), the differentials and anything else that
# reads a run are queued too, and done in the matrix's order once every run has finished
# (flush). A C reference run the oracle cache replays takes a second.
# job pool|solo NAME MODE [vm-run options] -- SCRIPT [ARGS]: queue one guest run, with the
# environment it depends on (ORACLE, KMEM_KBUILD, KMEM_VM_TIMEOUT) as it is now.
job() {
	local kind=$1
	shift
	JOBS+=("$kind $(printf 'ORACLE=%q KMEM_KBUILD=%q KMEM_VM_TIMEOUT=%q ' "${ORACLE:-}" \
		"${KMEM_KBUILD:-}" "${KMEM_VM_TIMEOUT:-}") vmrun $(printf '%q ' "$@")")
	JOB_KEYS+=("$1-$2")
	RUN_SECTION[$1-$2]=$SECTION
}
# later COMMAND [ARGS]: run COMMAND once every queued run has finished (flush).
later() { ACTIONS+=("$(printf '%q ' "$@")"); }
# The last booted time of each run (NAME-MODE SECONDS), to start the longest first.
RUN_SECONDS=$CACHE/run-seconds
declare -A LAST_SECS=()
if [ -f "$RUN_SECONDS" ]; then
	while read -r k v; do LAST_SECS[$k]=$v; done <"$RUN_SECONDS"
fi
GUEST_WALL=0
flush() {
	local i j k cmd order=() t0 g fin
	local -A live=()
	[ ${#JOBS[@]} -gt 0 ] || { bg_gates_start; bg_gates_end; run_actions; return; }
	t0=$(date +%s)
	# The solo runs first, each the only guest (the gates beside the guest runs start with them:
	# each solo run lasts a fixed time or number of rounds, and its vCPUs keep their TCG threads);
	# then the others two at a time, the longest (by its last booted time; 30 s if unknown)
	# first, so that no long run is left alone at the end.
	bg_gates_start
	for i in "${!JOBS[@]}"; do
		j=${JOBS[$i]}
		[ "${j%% *}" = solo ] && eval "${j#* }"
	done
	mapfile -t order < <(for i in "${!JOBS[@]}"; do
		j=${JOBS[$i]}
		[ "${j%% *}" = pool ] && echo "${LAST_SECS[${JOB_KEYS[$i]}]:-30} $i"
	done | sort -k1,1gr -k2,2n | cut -d' ' -f2)
	for i in "${order[@]}"; do
		cmd=${JOBS[$i]#* }
		if [ ${#live[@]} -ge 2 ]; then
			wait -n -p fin "${!live[@]}"
			unset "live[$fin]"
		fi
		eval "TCG_SINGLE=1 $cmd" &
		live[$!]=1
	done
	[ ${#live[@]} = 0 ] || wait "${!live[@]}"
	GUEST_WALL=$((GUEST_WALL + $(date +%s) - t0))
	bg_gates_end
	for k in "${JOB_KEYS[@]}"; do
		g=$(guest_secs "$k")
		[ "$g" = 0 ] || LAST_SECS[$k]=$g
	done
	for k in "${!LAST_SECS[@]}"; do echo "$k ${LAST_SECS[$k]}"; done | sort >"$RUN_SECONDS.tmp" &&
		mv "$RUN_SECONDS.tmp" "$RUN_SECONDS"
	JOBS=() JOB_KEYS=()
	run_actions
}
run_actions() {
	local a
	for a in "${ACTIONS[@]}"; do eval "$a"; done
	ACTIONS=()
}
selected() {
	[ -z "${KMEM_CHECK_ONLY:-}" ] || [[ $1 =~ $KMEM_CHECK_ONLY ]]
}

t0=$(date +%s)
section "setup, kernel and modules"
# --- toolchain, kernel, modules ---------------------------------------------------------
"$here/setup.sh" || { fail "toolchain setup"; finish; }
DISTRO_ONLY="" NDCTL_ONLY=""
[ "${KMEM_DISTRO:-}" = full ] && DISTRO_ONLY=1
# (make check-ndctl: the distribution kernel's gates too, and the project's kernel and modules for
# the runs on it.)
[ "${KMEM_NDCTL:-}" = full ] && NDCTL_ONLY=1
if [ -n "$DISTRO_ONLY" ]; then
	: # the distribution kernel needs none of the project's kernels
elif ! "$here/kernel.sh"; then
	fail "kernel build"
	finish
elif touch src/kmem.rs src/glue.c src/compat.c && make modules >"$LOGDIR/build.log" 2>&1; then
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
# kmem.ko for the debug kernel, built beside the gates when that kernel is cached (only then: a
# kernel build beside the gates' in-tree kernel builds would be two at a time); need_debug
# waits for it.
DEBUG_BUILD_PID=""
if [ -z "${KMEM_DEBUG:-}" ] && [ -z "${KMEM_NO_DEBUG:-}" ] && [ -z "${DISTRO_ONLY:-}${NDCTL_ONLY:-}" ] &&
	[ -f "$("$here/kernel.sh" --variant=debug --print-dir 2>/dev/null)/.kmem-rs-done" ]; then
	make -s modules-debug >"$LOGDIR/build-debug.log" 2>&1 &
	DEBUG_BUILD_PID=$!
fi

# The guests' daxctl, cxl and ndctl (scripts/mkinitramfs puts them in every guest image): ndctl
# 81 with contrib/ndctl's series, built in the trixie twin beside the gates; the guest runs
# wait for it (need_ndctl_patched).
"$here/distro.sh" ndctl-patched "$repo/build/ndctl-patched" >"$LOGDIR/ndctl-patched.log" 2>&1 &
NDCTL_PATCHED_PID=$!

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
# (In a copy of the tree, as compile-fail.sh builds: the kmem.ko the guest runs load is the
# first build's, and this one runs beside them.)
clippy_clean() {
	local w=$repo/build/clippy
	rm -rf "$w"
	mkdir -p "$w"
	git ls-files -co --exclude-standard | grep -v '^build/' | cpio -pdmu --quiet "$w" || return 1
	build_clean -C "$w" CLIPPY=1 modules
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
		END { exit bad }' "${RUST_FILES[@]}"
}
mapfile -t RUST_FILES < <(find src -name '*.rs' ! -name bindings_generated.rs | sort)
section "quality gates (build, series, in-tree builds)"
gate "compiler warnings: none" no_warnings
gate "rustfmt --check (kernel .rustfmt.toml)" make -s rustfmtcheck
# Debian's shellcheck on every shell script, at its warning level: the host's scripts by their
# shebangs, the guest's suites and library as bash. Not reported: SC1091 (a sourced file the host
# does not have: the guest's /test/lib.sh) and SC2317 (code reached only through a function
# name passed as an argument: gate NAME FUNCTION, check NAME FUNCTION).
shellcheck_clean() {
	local host=() guest=() f
	for f in scripts/* scripts/guest/* .ci/run; do
		[ -f "$f" ] && head -n1 "$f" | grep -qE '^#!.*(ba)?sh' && host+=("$f")
	done
	guest=(scripts/guest/lib.sh scripts/tests/*.sh)
	echo "${#host[@]} host scripts, ${#guest[@]} guest scripts"
	shellcheck -S warning -e SC1091,SC2317 -f gcc "${host[@]}" &&
		shellcheck -s bash -S warning -e SC1091,SC2317 -f gcc "${guest[@]}"
}
# Safety by construction (compile-fail): safe driver code that would add any range as System
# RAM, take over a resource, or keep an attribute's borrow of the bound device is rejected by
# the compiler.
early_gates "make CLIPPY=1: no warnings" clippy_clean \; \
	"compile-fail: the abstractions reject unsound safe code ($(ls "$here"/compile-fail/*.rs | wc -l) snippets)" \
	"$here/compile-fail.sh" \; \
	"shellcheck: every shell script, no warning" shellcheck_clean
gate "driver layer has no unsafe/bindings" driver_has_no_unsafe
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
	"$KSRC/scripts/checkpatch.pl" --no-tree --strict --quiet -f src/glue.c src/glue.h src/compat.c src/compat.h \
		src/bindings_helper.h kunit/kmem_holdpage.c scripts/guest/kmem-fuzz.c \
		scripts/guest/kmem-bench.c scripts/guest/kmem-failnth.c Kbuild Kconfig
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
# The patch stack (series/*.patch, scripts/stack.py) is the source of every state of the series;
# its tip must be the tree tested here, file for file after the lexical rewrite, and src/ has no
# line that only the series reads (Documentation/kmem-rust-series.rst).
no_series_markers() { ! grep -rn 'series(' src; }
gate "src/ has no series markers" no_series_markers
gate "series/: the tip of the patch stack is this tree (stack.py verify)" \
	python3 "$here/stack.py" verify "$KSRC"
# (Shown failing on the series before the bus.c hunk joined the driver patch: its patch 3 used
# CONFIG_DEV_DAX_KMEM_RUST, which patch 8 defined.)
gate "series/: every patch uses only Kconfig symbols defined once it applies (stack.py kconfig)" \
	python3 "$here/stack.py" kconfig "$KSRC"
# The upstream series (make series): emitted from the stack, every patch checkpatch.pl
# --strict clean, applied to a pristine 7.3 source and built there with DEV_DAX_KMEM_RUST=m
# (the parity suite runs against that kmem.ko below), =y and MEMORY_HOTREMOVE=n (where the
# removal calls are inline stubs; these two compile the kernel crate and the driver: make
# prepare + the directory). Each build is skipped when its series and configuration are those
# of the last successful one. The full =y build with the parity suite is make check-intree.
# checkpatch's "does MAINTAINERS need updating?" fires for every patch that adds a file; it is
# replaced by a check that every added file is covered by an F: line of the series' MAINTAINERS.
series_clean() {
	local p f n=0 rc=0 covered
	python3 "$here/stack.py" emit "$KSRC" "$repo/build/series" --placeholder || return 1
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
bg_gate "the series builds in tree with MEMORY_HOTREMOVE=n and NUMA=n" "$here/intree.sh" --no-hotremove
bg_gate "the series builds in tree with DEV_DAX_KMEM_RUST=y" "$here/intree.sh" --builtin --compile-only
INTREE_OK=0
gate "the series builds in tree with DEV_DAX_KMEM_RUST=m (kernel and modules)" \
	"$here/intree.sh" --no-test && INTREE_OK=1
# v1, the series' first part (the driver with the C driver's behaviour), in a tree and build of
# its own: the matrix runs its differentials against the C driver (kbuild=intree-v1).
INTREE_V1_OK=0
gate "v1 of the series (patches 1-$(python3 "$here/stack.py" upto "$KSRC" v1)) builds in tree with DEV_DAX_KMEM_RUST=m" \
	"$here/intree.sh" --no-test --upto=v1 && INTREE_V1_OK=1
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
bg_gate "in tree: kunit.py run of the series' KUnit suites (series-kunit.sh --check)" \
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
	if find "$CACHE" -mindepth 1 -maxdepth 1 -name '*make\[*' | grep .; then
		echo "stray directory in $CACHE"
		return 1
	fi
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
[    1.234567] kmem dax0.0: guard: refused external offline of memory32 (guard=owned; dax0.0 is managed through /sys/bus/dax/devices/dax0.0/state: write unplugged there to remove its memory, or set /sys/module/kmem/parameters/guard to off; 0 more refused since last message)
[    1.234567] Memory block size: 128MB
LINES
	return $bad
}
gate "vm-run's splat matcher: every report kind, no false alarm" splat_matcher
# The KTAP parser that counts every guest run's results (scripts/ktap.py), on its own cases.
gate "scripts/ktap.py: its unit tests ($(grep -c '    def test_' "$here/test_ktap.py") cases)" \
	python3 "$here/test_ktap.py"

# --- one guest run, and its results ----------------------------------------------------------
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
	# ORACLE=1 (a reference run): the oracle cache may replay the run.
	KMEM_ORACLE_CACHE=${ORACLE:+$ORACLE_DIR} "$here/vm-run" --kmem="$mode" "${opts[@]}" "$@" >"$out" 2>&1
	local rc=$?
	echo "$rc" >"$LOGDIR/$name-$mode.rc"
	[ -z "${ORACLE:-}" ] || : >"$LOGDIR/$name-$mode.oracle"
	# (Its KTAP parsed here, beside the other guest runs, for account.)
	python3 "$here/ktap.py" counts "$out" >"$LOGDIR/$name-$mode.counts" 2>"$LOGDIR/$name-$mode.ktap-problems"
	echo $? >>"$LOGDIR/$name-$mode.counts"
	# (Progress while the queue runs; the results come once every run has finished.)
	echo "# ran $name [$mode]: exit $rc, $(guest_secs "$name-$mode") guest seconds"
}
account() {
	local name=$1 mode=$2
	local out=$LOGDIR/$name-$mode.txt rc
	rc=$(cat "$LOGDIR/$name-$mode.rc")
	# The results, parsed as KTAP (scripts/ktap.py): a version line, the plan, and exactly as
	# many results as it says, numbered in order.
	local p=0 f=0 s=0 counts krc prob=$LOGDIR/$name-$mode.ktap-problems
	# (vmrun parsed it: the counts, then ktap.py's exit status.)
	counts=$(head -n1 "$LOGDIR/$name-$mode.counts")
	krc=$(sed -n 2p "$LOGDIR/$name-$mode.counts")
	read -r p f s <<<"$counts"
	p=${p:-0} f=${f:-0} s=${s:-0}
	# (A --kmem=c run that is not a reference run tests the Rust driver: the in-tree one, or the
	# install path of ours beside the C kmem.ko.)
	local kind=rust
	[ -f "$LOGDIR/$name-$mode.oracle" ] && kind=c
	# The product's results are counted; a reference run is one result (below): its checks
	# are the oracle's, shown beside the Rust driver's in the summary.
	[ "$kind" = c ] || PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
	grep -E '^ *not ok |^ *# (want|blocks|vm-run)' "$out" | sed "s|^|    [$name/$mode] |"
	if [ "$krc" != 0 ]; then
		fail "$name [$mode]: not well-formed KTAP: $(head -n 3 "$prob" | paste -sd';') ($out)"
	fi
	local tag=""
	replayed "$out" && tag=" (oracle cache)"
	RUNS+=("$name|$kind|$p|$f|$s|$rc${tag:+|cached}")
	if [ "$kind" = c ] && [ "$f" != 0 ]; then
		fail "$name [$mode]: the C reference failed $f of its checks: a broken test ($out)"
	elif [ "$rc" = 0 ]; then
		pass "$name [$mode]: $p passed, $f failed, $s skipped; clean exit and kernel log$tag"
	else
		fail "$name [$mode]: guest exit $rc ($p passed, $f failed; output: $out)"
		grep -E '^# ' "$out" | tail -n 8 | sed 's/^/    /'
	fi
}
# differential NAME RUN EXPECTED MODE [TAG]: the "obs" lines of RUN (its --kmem=MODE run: the
# Rust driver) and of the C reference run of NAME must match, except for the differences listed
# in scripts/tests/expected/EXPECTED ("< obs ..." for C, "> obs ..." for Rust): every one of
# them, and no other. With TAG: RUN's "obs@TAG" lines (the parts of a parts.sh run with
# @TAG, e.g. guard=owned), instead of its "obs" lines.
differential() {
	local name=$1 rrun=$2 tag=${5:-}
	local r=$LOGDIR/$rrun-$4.txt c=$LOGDIR/$name-c.txt exp=$T/expected/$3
	local got=$LOGDIR/$rrun${tag:+-${tag#*=}}.diff label=$rrun${tag:+ ($tag)}
	if ! [ -f "$r" ] || ! [ -f "$c" ]; then
		fail "differential $label: a run is missing"
		return
	fi
	local robs
	robs=$(sed -n "s/^obs${tag:+@$tag} /obs /p" "$r")
	diff <(grep '^obs ' "$c") <(echo "$robs") | grep -E '^[<>]' >"$got"
	local n nc want=""
	n=$(grep -c '^obs ' <<<"$robs")
	nc=$(grep -c '^obs ' "$c")
	[ -f "$exp" ] && want=$(grep -E '^[<>]' "$exp")
	# A comparison of nothing is no comparison: each run must have observed something.
	if [ "$n" = 0 ] || [ "$nc" = 0 ]; then
		fail "differential $label: nothing to compare ($n Rust and $nc C observations)"
	elif [ "$(cat "$got")" = "$want" ]; then
		pass "differential $label: Rust and C observed the same ($n observations, $(grep -c '^<' <<<"$want") expected differences)"
	else
		fail "differential $label: Rust and C differ other than expected (see $got, expected: $exp)"
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
	# (The boot is queued with the other guest runs, with the kernel build it boots
	# (KMEM_KBUILD); kunit_account reads it, with the sources whose #[test]s it counts.)
	local mode=none load=() arg=()
	[[ ${1:-} == intree* ]] && mode=c load=(--no-load) arg=(modprobe)
	job pool "$name" "$mode" "${load[@]}" --append="kunit.enable=1 kunit.autorun=1" -- \
		"$here/tests/kunit.sh" "${arg[@]}"
	later kunit_account "${1:-}" "$mode" "${KMEM_KUNIT_SRC:-}"
}
# kunit_account [intree|intree-v1] MODE [SOURCES]: the results of kunit's run (vm-run --kmem=MODE),
# against the #[test]s of SOURCES (default: src/).
kunit_account() {
	local name=kunit${1:+-$1}
	# The plan: one case per #[test] of the suites in kmem.ko (series-kunit.sh's list of the
	# sources' suites): all of them out of tree, the driver's (dax_kmem_rust*) in tree, where
	# the abstractions' are in the kernel crate.
	local want suites=.
	[[ ${1:-} == intree* ]] && suites='^dax_kmem_rust'
	want=$(KMEM_KUNIT_SRC=${3:-} "$here/series-kunit.sh" --expected | awk -v s="$suites" '$1 ~ s {n += $2} END {print n + 0}') ||
		{ fail "$name: the sources' suites (series-kunit.sh --expected)"; return; }
	local out=$LOGDIR/$name-$2.txt ktap=$LOGDIR/$name.ktap res
	if [ "$(cat "$LOGDIR/$name-$2.rc" 2>/dev/null)" != 0 ]; then
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

# --- the guest runs: scripts/tests/matrix ----------------------------------------------------
# Every guest suite runs against the Rust driver and, where both apply, against the C reference
# driver, and a differential compares what both observed.  The matrix says which runs make up
# each target; this is its interpreter.
T=$here/tests
OFF=--append=kmem.guard=off
TARGET=check
[ -n "${KMEM_DEBUG:-}" ] && TARGET=debug
[ "${KMEM_CXL:-}" = full ] && TARGET=cxl
[ -n "$DISTRO_ONLY" ] && TARGET=distro
[ -n "$NDCTL_ONLY" ] && TARGET=ndctl

# --- prerequisites (needs=NAME: need_NAME, made once) ---------------------------------------
# Debian's own vmlinuz (7.3.4+deb13-amd64, GCC-built, Rust enabled, online at probe) and its own
# dax modules, with the Rust kmem.ko built by scripts/distro.sh in a toolchain twin of Debian's
# build (a trixie root: gcc-14, rustc 1.85.1, bindgen 0.71.1) and the differential against
# Debian's signed C kmem.ko.
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
	# (make check-distro builds it before its install path: need_distro_deb.)
	[ -n "$DISTRO_ONLY$NDCTL_ONLY" ] || bg_gate "$DEB_GATE" "$here/distro.sh" deb "$repo/build/distro-deb"
}
DEB_GATE="distro: the Debian package kmem-rs-dkms (debian/) builds in the twin, lintian --pedantic clean"
# need_distro_deb: that package built, then the user's path with it in the twin (distro.sh
# deb-user: apt install pulls the dependencies, DKMS builds and installs the module; the headers
# of two more kernels installed after it, Debian 13's 6.12, which DKMS must skip, and the cloud
# flavour of 7.3.4, for which it must build; apt remove takes the modules and the prepared trees
# away), the updates/ tree it installed kept for a guest.
need_distro_deb() {
	gate "$DEB_GATE" "$here/distro.sh" deb "$repo/build/distro-deb" &&
		gate "distro: the package's user path in the twin: apt install -t trixie-backports (DKMS builds kmem.ko), new kernels' headers (6.12 skipped, 7.3.4 cloud built), apt remove" \
			"$here/distro.sh" deb-user "$repo/build/distro-deb/user"
}
# distro_user_path FLOW DESCRIPTION: one of the user's paths (distro.sh install: `make install`;
# distro.sh dkms: dkms add, build, install) run in the twin into a staging root, which a guest
# copies over Debian's module tree; modprobe must pick the Rust module, whose missing signature
# taints it E on top of O.
need_distro() {
	distro_gates || { fail "distro: no guest runs on the stock kernel (a gate failed)"; return 1; }
}
# need_distro_install, need_distro_dkms: one of the user's paths (distro.sh install: `make
# install`; distro.sh dkms: dkms add, build, install) run in the twin into a staging root.
distro_user_path() {
	rm -rf "$repo/build/distro-$1"
	gate "distro: $2" "$here/distro.sh" "$1" "$repo/build/distro-$1/staging"
}
need_distro_install() { distro_user_path install "make install in the twin (the user's path) into a staging root"; }
need_distro_dkms() { distro_user_path dkms "dkms add/build/install in the twin"; }
# need_distro_cxl: Debian 13's cxl tool with its libraries, for the CXL runs on Debian's kernel.
need_distro_cxl() {
	gate "distro: Debian 13's cxl tool (ndctl 81) and its libraries for the guest" \
		"$here/distro.sh" cxl-tool "$repo/build/distro-cxl"
}
# need_ndctl81, need_ndctl_tests: Debian 13's ndctl, daxctl, cxl and jq for the guest; the test/
# directory of its ndctl source (release 81), unmodified.
need_ndctl81() {
	gate "distro: Debian 13's ndctl, daxctl, cxl (ndctl 81) and jq with their libraries for the guest" \
		"$here/distro.sh" ndctl-tools "$repo/build/ndctl81"
}
need_ndctl_tests() {
	gate "distro: ndctl's own tests (test/ of Debian 13's ndctl 81 source, the archive's sha256, unmodified)" \
		"$here/distro.sh" ndctl-tests "$repo/build/ndctl-test"
}
# need_ndctl_patched: that ndctl with the project's daxctl series (contrib/ndctl), built in the
# twin beside the gates (every guest image has it).
need_ndctl_patched() {
	local name="ndctl 81 with contrib/ndctl's patches builds in the twin (meson, no warnings): the guests' daxctl, cxl and ndctl"
	if wait "$NDCTL_PATCHED_PID"; then
		pass "$name"
	else
		fail "$name (log: $LOGDIR/ndctl-patched.log)"
		tail -n 20 "$LOGDIR/ndctl-patched.log" | sed 's/^/    /'
		return 1
	fi
}
# need_cxltest: the cxltest kernel (the CXL core as modules), the kernel's cxl_test mock modules
# built for it (scripts/cxltest.sh: linked with GNU ld, no warnings) and kmem.ko for it.
need_cxltest() {
	if make -s modules-cxltest >"$LOGDIR/build-cxltest.log" 2>&1; then
		pass "build the cxltest kernel, the kernel's cxl_test modules and kmem.ko for it"
	else
		fail "build the cxltest kernel, cxl_test and kmem.ko (log: $LOGDIR/build-cxltest.log)"
		tail -n 20 "$LOGDIR/build-cxltest.log" | sed 's/^/    /'
		return 1
	fi
}
need_intree() {
	[ "$INTREE_OK" = 1 ] || { fail "in-tree guest runs: the series did not build"; return 1; }
}
need_intree_v1() {
	[ "$INTREE_V1_OK" = 1 ] || { fail "in-tree guest runs of v1: v1 did not build"; return 1; }
}
need_kmemc() {
	gate "the series' kmem.c builds out of tree against its in-tree kernel (kmem.ko)" \
		"$T/build-kmem-c.sh" "$CACHE/intree/linux" "$CACHE/intree/build-m" "$repo/build/intree-kmem-c"
}
# The fault suites' kmem_holdpage.ko (out of tree only) built for the series' in-tree kernel, for
# vm-run --kmem=c --modules (the guest loads the kernel's own kmem, the in-tree Rust one).
intree_hold() {
	local d=$repo/build/intree-hold
	rm -rf "$d" && mkdir -p "$d/kunit" && cp "$repo/kunit/kmem_holdpage.c" "$d/kunit/" &&
		printf 'obj-m := kunit/kmem_holdpage.o\n' >"$d/Kbuild" &&
		make -s -C "$CACHE/intree/linux" O="$CACHE/intree/build-m" "${KMAKE_VARS[@]}" M="$d" modules
}
need_intreehold() {
	gate "kmem_holdpage.ko builds against the series' in-tree kernel" intree_hold
}
# The series' kmem.c (its kmem.c fixes, the leak fix among them) against the debug kernel, a
# build of pristine 7.3: those fixes need nothing else of the series (bus.c's fix is not in that
# kernel). Its run on the debug kernel must be kmemleak clean where 7.3's kmem.c leaks
# (expected/known-leak-kmem-remove).
need_kmemcdebug() {
	gate "the series' kmem.c builds out of tree against the debug kernel (kmem.ko)" \
		"$T/build-kmem-c.sh" "$KSRC" "$("$here/kernel.sh" --variant=debug --print-dir)" \
		"$repo/build/debug-kmem-c" "$CACHE/intree/linux/drivers/dax/kmem.c" &&
		mkdir -p "$repo/build/debug-kmem-c/kunit" &&
		cp "$repo/build/debug/kunit/kmem_holdpage.ko" "$repo/build/debug-kmem-c/kunit/"
}
need_debug() {
	[ -n "${KMEM_DEBUG:-}" ] && return 0 # built before the gates
	local ok
	if [ -n "$DEBUG_BUILD_PID" ]; then
		wait "$DEBUG_BUILD_PID" && ok=1
	else
		make -s modules-debug >"$LOGDIR/build-debug.log" 2>&1 && ok=1
	fi
	if [ -n "${ok:-}" ]; then
		pass "build the debug kernel and modules"
	else
		fail "build the debug kernel and modules (log: $LOGDIR/build-debug.log)"
		return 1
	fi
}
need_fuzz() {
	gcc -static -O2 -Wall -o "$repo/build/kmem-fuzz" "$here/guest/kmem-fuzz.c" ||
		{ fail "build the guest fuzzer"; return 1; }
}
need_sweep() {
	gcc -static -O2 -Wall -o "$repo/build/kmem-failnth" "$here/guest/kmem-failnth.c" ||
		{ fail "build the guest's fail-nth writer"; return 1; }
}
need_bench() {
	gcc -static -O2 -Wall -o "$repo/build/kmem-bench" "$here/guest/kmem-bench.c" ||
		{ fail "build the guest timer"; return 1; }
}
need_staging() {
	rm -rf "$repo/build/staging"
	if make -s install INSTALL_MOD_PATH="$repo/build/staging" >"$LOGDIR/install.log" 2>&1; then
		pass "make install into a staging root"
	else
		fail "make install (log: $LOGDIR/install.log)"
		return 1
	fi
}
declare -A NEED=()
need() {
	local n=${1//-/_}
	if [ -z "${NEED[$n]+x}" ]; then
		"need_$n"
		NEED[$n]=$?
	fi
	return "${NEED[$n]}"
}

# matrix_line NAME KIND TARGETS [KEY=VALUE]... [OPTION]... -- SCRIPT [ARGS]: one run of the
# matrix (scripts/tests/matrix says what each field means).
PENDING_SECTION=""
matrix_line() {
	local name=$1 kind=$2 targets=$3 w diff="" expect="" owned="" cleak="" needs="" kbuild="" timeout="" why="" n
	shift 3
	[[ ,$targets, == *,$TARGET,* ]] || return 0
	if [ -n "$PENDING_SECTION" ]; then
		section "$PENDING_SECTION"
		PENDING_SECTION=""
	fi
	local opts=() args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		w=${1//\$T/$T}
		w=${w//\$REPO/$repo}
		case $w in
		diff=*) diff=${w#diff=} ;;
		expect=*) expect=${w#expect=} ;;
		owned=*) owned=${w#owned=} ;;
		cleak=*) cleak=${w#cleak=} ;;
		needs=*) needs=${w#needs=} ;;
		kbuild=intree) kbuild=$CACHE/intree/build-m ;;
		kbuild=intree-v1) kbuild=$CACHE/intree/build-m-v1 ;;
		timeout=*) timeout=${w#timeout=} ;;
		--*) opts+=("$w") ;;
		*) fail "matrix: $name: unknown field '$w'"; return 0 ;;
		esac
		shift
	done
	[ "${1:-}" = -- ] || { fail "matrix: $name: no '-- SCRIPT'"; return 0; }
	shift
	for w in "$@"; do
		w=${w//\$STRESS_SECS/${KMEM_STRESS_SECS:-10}}
		args+=("${w//\$REPO/$repo}")
	done
	# What is not run is counted as skipped, with the reason: one per run and per differential.
	selected "$name" || why="not selected by KMEM_CHECK_ONLY"
	[ -z "$why" ] && [ -n "${KMEM_NO_DEBUG:-}" ] && [[ " ${opts[*]} " == *" --debug "* ]] && why="KMEM_NO_DEBUG"
	[ -z "$why" ] && [ -n "${KMEM_NO_DISTRO:-}" ] && [[ " ${opts[*]} " == *" --distro "* ]] && why="KMEM_NO_DISTRO"
	if [ -z "$why" ]; then
		for n in ${needs//,/ }; do
			need "$n" || { why="needs $n, which failed"; break; }
		done
	fi
	local modes=()
	case $kind in
	pair | pair-off) modes=(rust c) ;;
	rust | solo) modes=(rust) ;;
	ref | c) modes=(c) ;;
	kunit)
		if [ -n "$why" ]; then skipped "$name ($why)"; return 0; fi
		case $1 in
		out-of-tree) kunit ;;
		intree) KMEM_KBUILD=$kbuild kunit intree ;;
		intree-v1) KMEM_KBUILD=$kbuild KMEM_KUNIT_SRC=$CACHE/intree/linux-v1/drivers/dax/kmem-rs kunit intree-v1 ;;
		*) fail "matrix: $name: unknown KUnit run '$1'" ;;
		esac
		return 0
		;;
	*) fail "matrix: $name: unknown kind '$kind'"; return 0 ;;
	esac
	if [ -n "$why" ]; then
		for w in "${modes[@]}"; do skipped "$name [$w] ($why)"; done
		[ "$kind" = pair ] || [ "$kind" = pair-off ] || [ -n "$diff" ] && skipped "differential $name ($why)"
		[ -z "$owned" ] || skipped "differential $name (guard=owned) ($why)"
		return 0
	fi
	args=("$T/$1" "${args[@]:1}")
	# One run per mode (a C run of a pair or a ref is the reference's: the oracle cache may
	# replay it), its results, and the differential: a pair's own, or diff= against the C run of
	# another.
	local m up=() pool=pool oracle cup=()
	[ "$kind" = pair-off ] && up=("$OFF")
	# (cleak=FILE: on the debug kernel, the C run must show kmemleak's report of that known leak.)
	if [ -n "$cleak" ] && { [ -n "${KMEM_DEBUG:-}" ] || [[ " ${opts[*]} " == *" --debug "* ]]; }; then
		cup=("--known-leak=$T/expected/$cleak")
	fi
	[ "$kind" = solo ] && pool=solo
	for m in "${modes[@]}"; do
		oracle=""
		[ "$m" = c ] && [ "$kind" != c ] && oracle=1
		if [ "$m" = rust ]; then
			KMEM_KBUILD=$kbuild KMEM_VM_TIMEOUT=${KMEM_VM_TIMEOUT:-$timeout} \
				job "$pool" "$name" rust "${up[@]}" "${opts[@]}" -- "${args[@]}"
		else
			ORACLE=$oracle KMEM_KBUILD=$kbuild KMEM_VM_TIMEOUT=${KMEM_VM_TIMEOUT:-$timeout} \
				job pool "$name" c "${cup[@]}" "${opts[@]}" -- "${args[@]}"
		fi
		later account "$name" "$m"
	done
	case $kind in
	pair | pair-off)
		later differential "$name" "$name" "${expect:-$name}" rust
		[ -z "$owned" ] || later differential "$name" "$name" "$owned" rust guard=owned
		;;
	*) [ -z "$diff" ] || later differential "$diff" "$name" "${expect:-$name}" "${modes[0]}" ;;
	esac
}

[ -n "${KMEM_DEBUG:-}" ] && export KMEM_VM_TIMEOUT=${KMEM_VM_TIMEOUT:-1200}
# (Read whole first: the gates and builds that prerequisites run must not read the matrix as
# their standard input.)
mapfile -t MATRIX <"$T/matrix"
need ndctl_patched || { fail "no guest runs: the guests' daxctl, cxl and ndctl did not build"; finish; }
for line in "${MATRIX[@]}"; do
	read -r -a words <<<"$line"
	[ ${#words[@]} -gt 0 ] || continue
	case ${words[0]} in
	\#*) continue ;;
	\[*) PENDING_SECTION=${line:1:${#line}-2}; continue ;;
	esac
	matrix_line "${words[@]}" </dev/null
done
section "" # (the host time of the last section ends here)
flush
grep -h -E '^(RACE|FUZZ|STRESS|RELOAD|SIGNAL|LEAKS|OVERLAP|UNLOAD)' "$LOGDIR"/*.txt 2>/dev/null | sed 's/^/# /'

echo "# total: $(($(date +%s) - t0)) s"
finish
