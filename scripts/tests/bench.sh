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
# Five checks on the aggregated results (and one on the 4-range layout), whatever REPS.
case $LAYOUT in 4ranges) plan 6 ;; *) plan 5 ;; esac
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
B=/test/kmem-bench

if [ "$LAYOUT" = 4ranges ]; then
	make_ranges 4 && echo $DAX >$DRV/bind
	nr=$(ls -d $DAX_BASE/$DAX/mapping[0-9]* | wc -l)
	expect_eq "dax0.0 rebuilt as 4 ranges and bound" "4 kmem" "$nr $(driver_of $DAX)"
fi
blocks=$(( $(cat $DAX_BASE/$DAX/size) / $(block_size) ))

mm() {
	local l
	l=$(grep '^last:' /sys/kernel/debug/kmem/$DAX 2>/dev/null) || { echo -1; return; }
	sed -nE 's/.* mm_ns=([0-9]+).*/\1/p' <<<"$l"
}
# measure OP FILE VALUE: one timed write; its errno number (0: success) is
# appended to /tmp/rc.OP.
measure() {
	local out ns rc m=-1
	out=$($B "$2" "$3")
	ns=$(sed -nE 's/ns=([0-9]+).*/\1/p' <<<"$out")
	rc=$(sed -nE 's/.* rc=([0-9]+)/\1/p' <<<"$out")
	[ "$2" = "$ST" ] && m=$(mm)
	echo "BENCH op=$1 blocks=$blocks ns=$ns mm_ns=$m rc=$rc"
	echo "${rc:-none}" >>/tmp/rc.$1
	[ "$rc" = 0 ]
}
# rcs OP: the errno numbers of OP's writes, collapsed ("5x0").
rcs() { sort /tmp/rc.$1 2>/dev/null | uniq -c | awk '{printf "%s%sx%s", (NR>1?" ":""), $1, $2}'; }

for ((r = 0; r < REPS; r++)); do
	# bind (probe): the blocks are added offline (auto_online_blocks=offline).
	echo unplugged >$ST
	echo $DAX >$DRV/unbind
	measure bind $DRV/bind $DAX
	echo unplugged >$ST
	measure unplugged_to_online_movable $ST online_movable
	measure online_movable_to_unplugged $ST unplugged
done
expect_eq "bind: every write succeeded" "${REPS}x0" "$(rcs bind)"
expect_eq "unplugged -> online_movable: every write succeeded" "${REPS}x0" "$(rcs unplugged_to_online_movable)"
expect_eq "online_movable -> unplugged: every write succeeded" "${REPS}x0" "$(rcs online_movable_to_unplugged)"
# The kernel zone last: its unplug may fail for good (unmovable pages), which
# ends the series.
for ((r = 0; r < REPS; r++)); do
	measure unplugged_to_online $ST online || break
	measure online_to_unplugged $ST unplugged || break
done
check "unplugged -> online: every write succeeded ($(rcs unplugged_to_online))" \
	contains "$(rcs unplugged_to_online)" '^[1-9][0-9]*x0$'
# EBUSY is 16.
check "online -> unplugged: each write succeeded, or failed with EBUSY and ended the series ($(rcs online_to_unplugged))" \
	contains "$(rcs online_to_unplugged)" '^([1-9][0-9]*x0|([0-9]+x0 )?1x16)$'
finish
