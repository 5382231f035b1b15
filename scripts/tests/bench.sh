# SPDX-License-Identifier: GPL-2.0
# Guest: one benchmark boot (make bench).  Arguments: REPS LAYOUT WARM PHASE_NS KZONE PREPS
#   LAYOUT "1range": dax0.0 as booted (size from vm-run --dax)
#   LAYOUT "Nranges": dax0.0 rebuilt from N discontiguous 256 MiB ranges (make_ranges;
#          vm-run --dax must hold 512 MiB per range)
#   WARM   rounds of each cycle run first and reported as warm-up (round < 0)
#   PHASE_NS  kmem-bench's phase step: write i starts i * PHASE_NS after a tick
#   KZONE  online_kernel or online: the kernel-zone online measured once at the end
#   PREPS  measured probe rounds (default REPS): a probe varies more from one round to the
#          next than a transition (the memmap and memory block devices it creates), and costs
#          little, so it gets more rounds
# Prints "BENCH op=OP blocks=N round=R ns=WALL mm_ns=MM mig=PAGES rc=ERRNO" per write; mm_ns
# (time inside the memory hotplug calls) comes from the Rust driver's debugfs view, -1 for C;
# mig is the number of pages the kernel migrated during the write (/proc/vmstat).
. /test/lib.sh
REPS=${1:-6}
LAYOUT=${2:-1range}
WARM=${3:-2}
PHASE=${4:-0}
KZONE=${5:-online_kernel}
PREPS=${6:-$REPS}
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
B=/test/kmem-bench
nr=${LAYOUT%ranges}
# The layout (with N ranges), then one check per measured operation.
[ "$LAYOUT" = 1range ] && plan 5 || plan 6
if [ "$LAYOUT" != 1range ]; then
	make_ranges "$nr" && echo $DAX >$DRV/bind
	got=$(ls -d $DAX_BASE/$DAX/mapping[0-9]* | wc -l)
	expect_eq "dax0.0 rebuilt as $nr ranges and bound" "$nr kmem" "$got $(driver_of $DAX)"
fi
blocks=$(( $(cat $DAX_BASE/$DAX/size) / $(block_size) ))
# Let the boot's background work (deferred initcalls, async probes, module loads on Debian's
# kernel) finish before anything is timed: under instruction counting an idle guest's clock
# jumps ahead, so the wait costs host time only for work that would otherwise land in a write.
sleep 10
[ -d /sys/kernel/debug/kmem ] && export KMEM_BENCH_DEBUGFS=/sys/kernel/debug/kmem/$DAX
export KMEM_BENCH_VMSTAT=1

# emit OP FIRST_ROUND: kmem-bench's lines on stdin as BENCH lines of OP, rounds from FIRST_ROUND;
# appends their errno numbers to /tmp/rc.OP.
emit() {
	local r=$2 line ns rc mm mig
	while read -r line; do
		ns=$(sed -nE 's/^ns=([0-9]+).*/\1/p' <<<"$line")
		rc=$(sed -nE 's/.* rc=([0-9]+).*/\1/p' <<<"$line")
		mm=$(sed -nE 's/.* mm_ns=(-?[0-9]+).*/\1/p' <<<"$line")
		mig=$(sed -nE 's/.* mig=(-?[0-9]+).*/\1/p' <<<"$line")
		echo "BENCH op=$1 blocks=$blocks round=$r ns=$ns mm_ns=${mm:--1} mig=${mig:--1} rc=$rc"
		[ "$r" -ge 0 ] && echo "$rc" >>/tmp/rc.$1
		r=$((r + 1))
	done
}
# rcs OP: the errno numbers of OP's measured writes, collapsed ("6x0").
rcs() { tally 2>/dev/null </tmp/rc.$1; }

# Probe: bind with the blocks added offline (auto_online_blocks=offline), unplug, unbind.
for ((r = -WARM; r < PREPS; r++)); do
	echo unplugged >$ST
	echo $DAX >$DRV/unbind
	$B $DRV/bind $DAX 1 "$PHASE" | emit probe $r
done
expect_eq "probe: every bind succeeded" "${PREPS}x0" "$(rcs probe)"

# unplugged <-> online_movable, 2 * (WARM + REPS) writes with no fork in between.
echo unplugged >$ST
$B $ST online_movable,unplugged $((2 * (WARM + REPS))) "$PHASE" >/tmp/movable.out
awk 'NR % 2 == 1' /tmp/movable.out | emit online_movable $((-WARM))
awk 'NR % 2 == 0' /tmp/movable.out | emit unplug_from_movable $((-WARM))
expect_eq "online_movable and its unplug: every write succeeded" "${REPS}x0 ${REPS}x0" \
	"$(rcs online_movable) $(rcs unplug_from_movable)"

# The kernel zone, once per boot (its unplug usually fails for good: unmovable kernel
# allocations land in ZONE_NORMAL at once, as in the C driver's selftest).
$B $ST $KZONE 1 "$PHASE" | emit $KZONE 0
$B $ST unplugged 1 "$PHASE" | emit unplug_from_kernel 0
expect_eq "$KZONE: the write succeeded" "1x0" "$(rcs $KZONE)"
# EBUSY is 16.
check "unplug from ZONE_NORMAL: succeeded, or failed with EBUSY ($(rcs unplug_from_kernel))" \
	contains "$(rcs unplug_from_kernel)" '^1x(0|16)$'
finish
