# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --append=movablecore=512M): the cost of memory events on a block that belongs
# to no dax device, with DEVICES bound devices.  Arguments: CYCLES DEVICES [GUARD].
#   DEVICES  0: dax0.0 as booted, left unbound; N > 0: the dax region is split into N devices
#            of one memory block each (dax0.0 .. dax0.N-1, through the region's create/size
#            files; vm-run --dax must be at least N blocks), each bound to the loaded kmem, so
#            N devices watch the system's memory events (their memory is added offline)
#   GUARD    the Rust module's guard parameter (off, owned, always)
# Finds a boot memory block in ZONE_MOVABLE and offlines/onlines it CYCLES times (kmem-bench,
# no fork or sleep between writes), timing each write; each write raises two memory events (GOING_*,
# then the result).  Prints "BENCH op=unrelated_event devices=N ns=T rc=R" per write.  With
# DEVICES > 0 and kmem loaded, then the transitions of a device among N: dax0.0's state
# written online_movable/unplugged CYCLES / 5 times each ("BENCH op=own_online" and
# "op=own_unplug": the events of its one block go to its own guard, and before the module had
# one notifier, to every device's).
. /test/lib.sh
N=${1:-200}
DEVICES=${2:-0}
GUARD=${3:-}
DRV=/sys/bus/dax/drivers/kmem
# The guard (with GUARD); the devices (with DEVICES > 0); a block found; every write succeeded;
# the device's own writes (with DEVICES > 0 and kmem loaded).
own=0
[ "$DEVICES" -gt 0 ] && [ -d /sys/module/kmem ] && own=1
plan $((2 + (${#GUARD} > 0) + (DEVICES > 0) + own))
if [ -n "$GUARD" ]; then
	echo "$GUARD" >/sys/module/kmem/parameters/guard
	expect_eq "guard=$GUARD" "$GUARD" "$(cat /sys/module/kmem/parameters/guard)"
fi
if [ "$DEVICES" -gt 0 ]; then
	blk_bytes=$(block_size)
	region=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
	[ -e $DAX_BASE/dax0.0/driver ] && echo dax0.0 >$DAX_BASE/dax0.0/driver/unbind
	echo "$blk_bytes" >$DAX_BASE/dax0.0/size
	for ((i = 1; i < DEVICES; i++)); do
		echo 1 >$region/create
		echo "$blk_bytes" >$DAX_BASE/dax0.$i/size
	done
	bound=0
	for ((i = 0; i < DEVICES; i++)); do
		if [ -d /sys/module/kmem ]; then
			echo dax0.$i >$DRV/bind 2>/dev/null || true
			[ "$(driver_of dax0.$i)" = kmem ] && bound=$((bound + 1))
		fi
	done
	want=$DEVICES
	[ -d /sys/module/kmem ] || want=0
	expect_eq "$DEVICES devices of one block, $want of them bound to kmem" "$DEVICES $want" \
		"$(ls -d $DAX_BASE/dax0.* | wc -l) $bound"
fi
blk=""
devblocks=" $(for d in $DAX_BASE/dax0.*; do dev_blocks "${d##*/}"; done | tr '\n' ' ') "
for b in $(ls -d $MEM_BASE/memory* | sort -V -r); do
	[ "$(cat $b/state)" = online ] || continue
	[ "$(cat $b/valid_zones)" = Movable ] || continue
	[ "$(cat $b/removable 2>/dev/null)" = 1 ] || continue
	case $devblocks in *" $(basename $b) "*) continue ;; esac
	# Some blocks hold pages that cannot migrate (the initramfs): take one that offlines.
	echo offline >$b/state 2>/dev/null || continue
	echo online_movable >$b/state || continue
	blk=$b
	break
done
check "found a removable boot block in ZONE_MOVABLE (${blk:-none})" [ -n "$blk" ]
if [ -n "$blk" ]; then
	/test/kmem-bench $blk/state offline,online_movable $((2 * N)) >/tmp/bench.out
	rc=$?
	sed -E "s/^/BENCH op=unrelated_event devices=$DEVICES /" /tmp/bench.out
	expect_eq "$((2 * N)) timed writes, every one succeeded (exit $rc)" "$((2 * N))x0" \
		"$(sed -nE 's/.* rc=([0-9]+).*$/\1/p' /tmp/bench.out | sort | uniq -c | awk '{printf "%s%sx%s", (NR>1?" ":""), $1, $2}')"
else
	skip "timed writes" "no block to toggle"
fi
if [ "$own" = 1 ]; then
	m=$((N / 5))
	echo unplugged >$DAX_BASE/dax0.0/state
	/test/kmem-bench $DAX_BASE/dax0.0/state online_movable,unplugged $((2 * m)) >/tmp/own.out
	rc=$?
	awk 'NR % 2 == 1' /tmp/own.out | sed -E "s/^/BENCH op=own_online devices=$DEVICES /"
	awk 'NR % 2 == 0' /tmp/own.out | sed -E "s/^/BENCH op=own_unplug devices=$DEVICES /"
	expect_eq "dax0.0: $((2 * m)) timed writes, every one succeeded (exit $rc)" "$((2 * m))x0" \
		"$(sed -nE 's/.* rc=([0-9]+).*$/\1/p' /tmp/own.out | sort | uniq -c | awk '{printf "%s%sx%s", (NR>1?" ":""), $1, $2}')"
fi
finish
