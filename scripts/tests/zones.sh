# SPDX-License-Identifier: GPL-2.0
# Guest: the zone each online type really uses, and an unplug from it that is
# all-or-nothing.  Argument: online | online_kernel | online_movable.
. /test/lib.sh
# 6 checks up to the unplug, 5 on its outcome (the same number whether it succeeds or fails).
plan 11
TYPE=$1
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
node=$(cat $DAX_BASE/$DAX/target_node)
n=$(( $(cat $DAX_BASE/$DAX/size) / $(block_size) ))
case $TYPE in
online_movable) zone=Movable ;;
*) zone=Normal ;;
esac

expect_eq "unplugged" OK "$(write_errno $ST unplugged)"
base_kb=$(memtotal_kb)
expect_eq "$TYPE from unplugged" OK "$(write_errno $ST $TYPE)"
expect_eq "state $TYPE" "$TYPE" "$(cat $ST)"
s=$(block_summary $DAX)
expect_eq "$TYPE: every block online in $zone (valid_zones)" "$n online/$zone" "$s"
obs "${TYPE}_blocks" "$s"
managed=$(awk -v node="$node" -v z="$zone" '$1=="Node" && $2==node"," {cur=$4} cur==z && $1=="managed" {print $2; exit}' /proc/zoneinfo)
check "$TYPE: /proc/zoneinfo node $node zone $zone manages the pages" [ "${managed:-0}" -gt 0 ]
up_kb=$(memtotal_kb)
check "$TYPE: MemTotal grew" [ "$up_kb" -gt "$base_kb" ]

# Unplug: from ZONE_NORMAL it may fail (unmovable allocations landed there); either
# way it is all-or-nothing and the state stays truthful.
e=$(write_errno $ST unplugged)
diag "unplug from $TYPE: $e"
# Which of the two it was is compared with the C driver: a split (one driver OK, the other
# EBUSY) fails the differential.
obs "unplug_from_$TYPE" "$e"
obs "after_unplug_from_$TYPE" "$(cat $ST) $(block_summary $DAX) memtotal_change=$(($(memtotal_kb) - up_kb))"
failure_logged() { dmesg_has "hotremove failed, device left online: -16"; }
no_failure_logged() { ! failure_logged; }
check "unplug from $TYPE: OK, or EBUSY ($e)" contains "$e" '^(OK|EBUSY)$'
if [ "$e" = OK ]; then
	expect_eq "unplug succeeded: state unplugged" unplugged "$(cat $ST)"
	expect_eq "unplug succeeded: no blocks left" "0 blocks" "$(block_summary $DAX)"
	expect_eq "unplug succeeded: MemTotal back" "$base_kb" "$(memtotal_kb)"
	check "unplug succeeded: no failure logged" no_failure_logged
else
	expect_eq "unplug failed: state still $TYPE" "$TYPE" "$(cat $ST)"
	expect_eq "unplug failed: every block still online in $zone" "$n online/$zone" "$(block_summary $DAX)"
	expect_eq "unplug failed: MemTotal unchanged" "$up_kb" "$(memtotal_kb)"
	check "unplug failed: error logged" failure_logged
fi
finish
