# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --append=movablecore=512M): the cost of memory events on blocks
# that belong to no dax device.  Arguments: CYCLES [GUARD].  Finds a boot
# memory block in ZONE_MOVABLE and offlines/onlines it CYCLES times, timing each
# write; each write raises two memory events (GOING_*, then the result).
. /test/lib.sh
N=${1:-200}
[ -n "${2:-}" ] && echo "$2" >/sys/module/kmem/parameters/guard
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
[ -n "$blk" ] || { echo "no removable boot block in ZONE_MOVABLE"; exit 1; }
diag "toggling $(basename $blk)"
/test/kmem-bench $blk/state offline,online_movable $((2 * N)) | sed -E 's/^/BENCH op=unrelated_event /'
