#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the Rust kmem against the in-tree C kmem on the same kernel and
# QEMU configuration, alternating boots.  Writes build/bench/results.csv and,
# through scripts/bench_report.py, the table, CSV and plot in
# Documentation/bench/.  Targets are read from the output, never asserted.
#
#   KMEM_BENCH_REPS   repetitions per boot (default 5)
#   KMEM_BENCH_BOOTS  boots per driver and configuration (default 3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"
REPS=${KMEM_BENCH_REPS:-5}
BOOTS=${KMEM_BENCH_BOOTS:-3}
OUTD=$repo/build/bench
"$here/setup.sh"
"$here/kernel.sh"
make -s -C "$repo" modules >/dev/null
# The plot needs matplotlib for Debian's python3.
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
	log "installing python3-matplotlib"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade \
		python3-matplotlib >/dev/null
fi
mkdir -p "$OUTD"
gcc -static -O2 -Wall -o "$OUTD/kmem-bench" "$here/guest/kmem-bench.c"
export KMEM_LOG_DIR=$OUTD/logs KMEM_VM_TIMEOUT=900
csv=$OUTD/results.csv
echo "driver,config,op,blocks,ns,mm_ns,rc" >"$csv"

# collect DRIVER CONFIG -- vm-run args: append the run's BENCH lines to the CSV.
collect() {
	local drv=$1 cfg=$2 out
	shift 3
	out=$("$here/vm-run" "$@") || { echo "$out" | tail -n 5 >&2; die "bench run $drv $cfg failed"; }
	echo "$out" | sed -nE "s/^BENCH op=([a-z_]+) blocks=([0-9]+) ns=([0-9]+) mm_ns=(-?[0-9]+) rc=([0-9]+)$/$drv,$cfg,\1,\2,\3,\4,\5/p" >>"$csv"
	echo "$out" | sed -nE "s/^BENCH op=unrelated_event ns=([0-9]+) rc=([0-9]+)$/$drv,$cfg,unrelated_event,0,\1,-1,\2/p" >>"$csv"
}

for cfg in 1G:1range 2G:1range 4G:1range 2G:4ranges; do
	size=${cfg%%:*} layout=${cfg#*:}
	for ((b = 1; b <= BOOTS; b++)); do
		for drv in c rust; do
			log "bench $cfg boot $b: $drv"
			collect $drv "$cfg" -- --kmem=$drv --dax=$size --append=kmem.guard=off \
				--file="$OUTD/kmem-bench" "$here/tests/bench.sh" "$REPS" "$layout"
		done
	done
done
# Notifier cost: events on a boot memory block that belongs to no device.
for ((b = 1; b <= BOOTS; b++)); do
	for v in none c rust:off rust:owned rust:always; do
		drv=${v%%:*} guard=${v#*:}
		[ "$guard" = "$v" ] && guard=""
		log "notifier bench boot $b: $v"
		collect "$v" notifier -- --kmem=$drv --append=movablecore=512M \
			--file="$OUTD/kmem-bench" "$here/tests/notifier-bench.sh" 500 $guard
	done
done
/usr/bin/python3 "$here/bench_report.py" "$csv" "$repo/Documentation/bench"
