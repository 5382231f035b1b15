# SPDX-License-Identifier: GPL-2.0
# Guest: one benchmark boot (make bench).  Arguments: REPS [LAYOUT]
#   LAYOUT "1range" (default): dax0.0 as booted (size from vm-run --dax)
#   LAYOUT "4ranges": dax0.0 made of 4 discontiguous 256 MiB ranges (--dax=2G)
# Prints "BENCH op=OP blocks=N ns=WALL mm_ns=MM rc=ERRNO" per measurement;
# mm_ns (time inside the memory hotplug calls) comes from the Rust driver's
# debugfs view, and is -1 for the C driver.
. /test/lib.sh
REPS=${1:-5}
LAYOUT=${2:-1range}
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
B=/test/kmem-bench

if [ "$LAYOUT" = 4ranges ]; then
	make_ranges 4 || exit 1
	echo $DAX >$DRV/bind
	diag "ranges: $(ls -d $DAX_BASE/$DAX/mapping[0-9]* | wc -l)"
fi
blocks=$(( $(cat $DAX_BASE/$DAX/size) / $(block_size) ))

mm() {
	local l
	l=$(grep '^last:' /sys/kernel/debug/kmem/$DAX 2>/dev/null) || { echo -1; return; }
	sed -nE 's/.* mm_ns=([0-9]+).*/\1/p' <<<"$l"
}
# measure OP FILE VALUE: one timed write.
measure() {
	local out ns rc m=-1
	out=$($B "$2" "$3")
	ns=$(sed -nE 's/ns=([0-9]+).*/\1/p' <<<"$out")
	rc=$(sed -nE 's/.* rc=([0-9]+)/\1/p' <<<"$out")
	[ "$2" = "$ST" ] && m=$(mm)
	echo "BENCH op=$1 blocks=$blocks ns=$ns mm_ns=$m rc=$rc"
	[ "$rc" = 0 ]
}

for ((r = 0; r < REPS; r++)); do
	# bind (probe): the blocks are added offline (auto_online_blocks=offline).
	echo unplugged >$ST
	echo $DAX >$DRV/unbind
	measure bind $DRV/bind $DAX
	echo unplugged >$ST
	measure unplugged_to_online_movable $ST online_movable
	measure online_movable_to_unplugged $ST unplugged
done
# The kernel zone last: its unplug may fail for good (unmovable pages).
for ((r = 0; r < REPS; r++)); do
	measure unplugged_to_online $ST online || break
	measure online_to_unplugged $ST unplugged || break
done
