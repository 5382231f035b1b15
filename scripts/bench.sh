#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the Rust kmem against the in-tree C kmem on the same kernel and QEMU
# configuration.  Writes build/bench/results.csv and, through scripts/bench_report.py, the
# plots beside it and the tables of Documentation/bench/results.md.  Targets are read from the output, never asserted.
#
# By default every guest runs under QEMU's instruction counting (-icount shift=0,sleep=off):
# the guest's clock advances 1 ns per instruction and never with the host's time, so a
# write's time is its instruction count (and that of the work it waits for), the same on a
# loaded or an idle host, and two guests run side by side.  Expedited RCU grace periods
# (rcupdate.rcu_expedited=1) keep timer-tick waits out of the counts; a smaller set of runs
# keeps the default grace periods, with the writes spread over every phase of the 4 ms tick,
# to show what they add; and one configuration runs on Debian's stock kernel (no lockdep or
# other debugging: the production configuration), with the module built for it.
#
#   KMEM_BENCH_CLOCK    icount (default) or wall (no instruction counting: host time, noisy)
#   KMEM_BENCH_BOOTS    boots per driver and configuration (default 2)
#   KMEM_BENCH_REPS     measured rounds per boot (default 6; 3 from 16 GiB up), after
#   KMEM_BENCH_WARM     warm-up rounds (default 2; 1 from 16 GiB up)
#   KMEM_BENCH_PROBE_REPS  measured probe rounds per boot (default 32; 6 from 16 GiB up; 2 with
#                       the default grace periods, whose runs report no probe)
#   KMEM_BENCH_SIZES    single-range device sizes in GiB (default "1 2 4 16 64")
#   KMEM_BENCH_EXTRA    further SIZE:LAYOUT:RCU[:BOOTS] configurations (default "2G:4ranges:exp:4
#                       16G:32ranges:exp 1G:1range:default 4G:1range:default 1G:1range:distro
#                       2G:4ranges:distro"; RCU exp or default, or distro: Debian's kernel,
#                       expedited; BOOTS: boots per driver, default KMEM_BENCH_BOOTS)
#   KMEM_BENCH_DEVICES  bound-device counts of the notifier runs (default "1 8 64")
#   KMEM_BENCH_CYCLES   offline/online cycles of an unrelated block per variant and boot in
#                       the notifier runs (300), split over
#   KMEM_BENCH_NOTIFIER_ROUNDS  rounds: each variant loaded this many times per boot (3)
#   KMEM_BENCH_BEFORE   the revision whose module is measured as "before" in the notifier runs
#                       (default: the last one with a notifier per device; "" skips it)
#   KMEM_BENCH_JOBS     guests at once (default 2; icount makes them independent)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
CLOCK=${KMEM_BENCH_CLOCK:-icount}
BOOTS=${KMEM_BENCH_BOOTS:-2}
SIZES=${KMEM_BENCH_SIZES:-1 2 4 16 64}
DEVICES=${KMEM_BENCH_DEVICES:-1 8 64}
CYCLES=${KMEM_BENCH_CYCLES:-300}
NOTIFIER_ROUNDS=${KMEM_BENCH_NOTIFIER_ROUNDS:-3}
BEFORE=${KMEM_BENCH_BEFORE-a744cca}
JOBS=${KMEM_BENCH_JOBS:-2}
PHASE=250000 # 16 phases per 4 ms tick
OUTD=$repo/build/bench
case $CLOCK in icount | wall) ;; *) die "KMEM_BENCH_CLOCK must be icount or wall" ;; esac
t_start=$(date +%s)
"$here/setup.sh"
"$here/kernel.sh"
make -s -C "$repo" modules >/dev/null
# The plot needs matplotlib for Debian's python3; GNU time reports the host's memory.
for p in python3-matplotlib:/usr/lib/python3/dist-packages/matplotlib time:/usr/bin/time; do
	[ -e "${p#*:}" ] && continue
	log "installing ${p%%:*}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade \
		"${p%%:*}" >/dev/null
done
rm -rf "$OUTD"
mkdir -p "$OUTD/runs"
gcc -static -O2 -Wall -o "$OUTD/kmem-bench" "$here/guest/kmem-bench.c"
export KMEM_LOG_DIR=$OUTD/logs KMEM_VM_TIMEOUT=1800
clockargs=()
[ "$CLOCK" = icount ] && clockargs=(--icount)

# The module before the module-wide notifier, built from that revision's tree.
if [ -n "$BEFORE" ]; then
	log "building the module of $BEFORE (the notifier runs' \"before\")"
	mkdir -p "$OUTD/before"
	git -C "$repo" archive "$BEFORE" | tar -x -C "$OUTD/before"
	make -s -C "$OUTD/before" modules >"$OUTD/before.log" 2>&1 || { cat "$OUTD/before.log"; die "build of $BEFORE failed"; }
	cp "$OUTD/before/kmem.ko" "$OUTD/kmem-before.ko"
fi

# Debian's kernel and the module built for it (scripts/distro.sh; make check prepares both).
distro=""
if grep -q ':distro' <<<"${KMEM_BENCH_EXTRA-:distro}"; then
	distro=1
	log "preparing Debian's kernel and building the module for it"
	"$here/distro.sh" prepare >"$OUTD/distro.log" 2>&1 &&
		"$here/distro.sh" build "$repo" "$OUTD/distro" >>"$OUTD/distro.log" 2>&1 ||
		{ tail -n 20 "$OUTD/distro.log"; die "Debian's kernel or the module for it failed"; }
	if [ -n "$BEFORE" ]; then
		"$here/distro.sh" build "$OUTD/before" "$OUTD/distro-before" >>"$OUTD/distro.log" 2>&1 ||
			{ tail -n 20 "$OUTD/distro.log"; die "the module of $BEFORE for Debian's kernel failed"; }
		cp "$OUTD/distro-before/kmem.ko" "$OUTD/distro-before/kmem-before.ko"
	fi
fi

# job ID VM-RUN-ARGS...: runs one guest in the background (at most JOBS at once); its output
# goes to runs/ID.out, its host time and peak memory to runs/ID.time.
job() {
	local id=$1
	shift
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
	log "bench $id"
	(
		/usr/bin/time -f "%e %M" -o "$OUTD/runs/$id.time" "$here/vm-run" "${clockargs[@]}" \
			--file="$OUTD/kmem-bench" "$@" >"$OUTD/runs/$id.out" 2>&1 ||
			echo "# bench: guest failed" >>"$OUTD/runs/$id.out"
	) &
}

# Transitions: drivers alternate, every configuration with expedited grace periods ("exp");
# 1 and 4 GiB also with the default ones ("default").
configs=()
for s in $SIZES; do configs+=("${s}G:1range:exp"); done
# The 4-range device boots four times: its boots differ by up to 1.4 % (the others by less),
# more than two boots per driver resolve.
read -ra extra <<<"${KMEM_BENCH_EXTRA-2G:4ranges:exp:4 16G:32ranges:exp 1G:1range:default 4G:1range:default 1G:1range:distro 2G:4ranges:distro}"
configs+=("${extra[@]}")
for cfg in "${configs[@]}"; do
	IFS=: read -r size layout rcu boots <<<"$cfg"
	boots=${boots:-$BOOTS}
	reps=${KMEM_BENCH_REPS:-6} warm=${KMEM_BENCH_WARM:-2} preps=${KMEM_BENCH_PROBE_REPS:-32}
	if [ "${size%G}" -ge 16 ]; then
		reps=${KMEM_BENCH_REPS:-3} warm=${KMEM_BENCH_WARM:-1} preps=${KMEM_BENCH_PROBE_REPS:-6}
	fi
	[ "$rcu" = default ] && preps=${KMEM_BENCH_PROBE_REPS:-2}
	append=kmem.guard=off kargs=()
	[ "$rcu" = default ] || append="$append rcupdate.rcu_expedited=1"
	# Debian adds memory online at probe; offline here, as on the project's kernel.
	[ "$rcu" = distro ] && append="$append memhp_default_state=offline" \
		kargs=(--distro --modules="$OUTD/distro")
	for ((b = 1; b <= boots; b++)); do
		kzone=online_kernel
		[ $((b % 2)) = 0 ] && kzone=online
		for drv in c rust; do
			job "t.$drv.$size.$layout.$rcu.$b" "${kargs[@]}" --kmem=$drv --dax="$size" --append="$append" \
				"$here/tests/bench.sh" "$reps" "$layout" "$warm" "$PHASE" "$kzone" "$preps"
		done
	done
done
# The guard's cost: events on a boot block that belongs to no device, with N devices bound;
# the shipped default guard=owned.  Every boot loads each variant in turn (C, this module and
# the module of $BEFORE), NOTIFIER_ROUNDS times; on the project's kernel ("ab") and, with the
# distro configuration, on Debian's ("abd": no lockdep, whose hash tables make every lock's
# cost depend on where a module happens to be loaded).
for n in $DEVICES; do
	dax=$(((n * 128 + 1023) / 1024))
	[ "$dax" -ge 1 ] || dax=1
	for k in ab ${distro:+abd}; do
		kargs=(--kmem=rust ${BEFORE:+--file="$OUTD/kmem-before.ko"})
		append="movablecore=512M rcupdate.rcu_expedited=1"
		[ "$k" = abd ] && kargs=(--distro --modules="$OUTD/distro" --kmem=rust
			${BEFORE:+--file="$OUTD/distro-before/kmem-before.ko"}) \
			append="$append memhp_default_state=offline"
		for ((b = 1; b <= BOOTS; b++)); do
			job "n.$k.$n.$b" "${kargs[@]}" --dax="$dax" --append="$append" \
				"$here/tests/notifier-bench.sh" "$((CYCLES / NOTIFIER_ROUNDS))" "$n" "$NOTIFIER_ROUNDS"
		done
	done
done
wait

# Collect: driver,config,rcu,op,blocks,round,ns,mm_ns,mig,rc,boot (notifier runs: config
# devices=N).
csv=$OUTD/results.csv
host=$OUTD/host.csv
echo "driver,config,rcu,op,blocks,round,ns,mm_ns,mig,rc,boot" >"$csv"
echo "run,host_s,max_rss_kib,status" >"$host"
failed=0
for out in "$OUTD"/runs/*.out; do
	id=$(basename "$out" .out)
	IFS=. read -r kind drv a c d b <<<"$id"
	status=ok
	if grep -qE '^not ok|^# bench: guest failed|^# vm-run:' "$out"; then
		status=failed failed=$((failed + 1))
		log "warning: bench run $id failed:"
		grep -E '^not ok|^#' "$out" | head -n 8 >&2
	fi
	echo "$id,$(tr ' ' ',' <"$OUTD/runs/$id.time" | tail -n1),$status" >>"$host"
	if [ "$kind" = t ]; then
		sed -nE "s/^BENCH op=([a-z_]+) blocks=([0-9]+) round=(-?[0-9]+) ns=([0-9]+) mm_ns=(-?[0-9]+) mig=(-?[0-9]+) rc=([0-9]+)$/$drv,$a:$c,$d,\1,\2,\3,\4,\5,\6,\7,$b/p" "$out" >>"$csv"
	else
		# n.ab.N.BOOT (n.abd: Debian's kernel): variant and round from each line.
		k=exp
		[ "$drv" = abd ] && k=distro
		sed -nE "s/^BENCH op=([a-z_]+) devices=([0-9]+) variant=([a-z]+) round=([0-9]+) ns=([0-9]+) rc=([0-9]+)$/\3,devices=\2,$k,\1,0,\4,\5,-1,-1,\6,$c/p" "$out" >>"$csv"
	fi
done
/usr/bin/python3 "$here/bench_report.py" "$csv" "$host" "$repo/Documentation/bench" \
	"$CLOCK" "$(($(date +%s) - t_start))"
[ "$failed" = 0 ] || die "$failed bench runs failed (their results are left out; see $OUTD/runs)"
