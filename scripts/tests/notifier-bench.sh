# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --append=movablecore=512M): the cost of memory events on blocks
# that belong to no dax device.  Arguments: CYCLES [GUARD].  Finds a boot
# memory block in ZONE_MOVABLE and offlines/onlines it CYCLES times, timing each
# write; each write raises two memory events (GOING_*, then the result).
. /test/lib.sh
N=${1:-200}
# The guard set (with GUARD), a block found, every timed write done and successful.
if [ -n "${2:-}" ]; then plan 3; else plan 2; fi
if [ -n "${2:-}" ]; then
	echo "$2" >/sys/module/kmem/parameters/guard
	expect_eq "guard=$2" "$2" "$(cat /sys/module/kmem/parameters/guard)"
fi
blk=""
for b in $(ls -d $MEM_BASE/memory* | sort -V -r); do
	[ "$(cat $b/state)" = online ] || continue
	[ "$(cat $b/valid_zones)" = Movable ] || continue
	[ "$(cat $b/removable 2>/dev/null)" = 1 ] || continue
	case " $(dev_blocks dax0.0 | tr '\n' ' ') " in *" $(basename $b) "*) continue ;; esac
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
	sed -E 's/^/BENCH op=unrelated_event /' /tmp/bench.out
	expect_eq "$((2 * N)) timed writes, every one succeeded (exit $rc)" "$((2 * N))x0" \
		"$(sed -nE 's/.* rc=([0-9]+)$/\1/p' /tmp/bench.out | sort | uniq -c | awk '{printf "%s%sx%s", (NR>1?" ":""), $1, $2}')"
else
	skip "timed writes" "no block to toggle"
fi
finish
