# SPDX-License-Identifier: GPL-2.0
# Guest: a device with two discontiguous ranges (built through the dax region's
# create/size files): both ranges are added, unplugged and re-onlined together.
. /test/lib.sh
# 19 checks up to the unplug from ZONE_NORMAL, 4 on its outcome whether it succeeds or fails.
plan 23
DAX=dax0.0
DRV=/sys/bus/dax/drivers/kmem
MIB=$((1 << 20))
ST=$DAX_BASE/$DAX/state

check "dax0.0 (offline) unbound and rebuilt as two ranges with dax0.1 as the gap" make_ranges 2
expect_eq "dax0.1 holds the gap" $((256 * MIB)) "$(cat $DAX_BASE/dax0.1/size)"
m0=$(cat $DAX_BASE/$DAX/mapping0/start 2>/dev/null)-$(cat $DAX_BASE/$DAX/mapping0/end 2>/dev/null)
m1=$(cat $DAX_BASE/$DAX/mapping1/start 2>/dev/null)-$(cat $DAX_BASE/$DAX/mapping1/end 2>/dev/null)
diag "mapping0 $m0, mapping1 $m1"
expect_eq "two discontiguous ranges" "0x100000000-0x10fffffff 0x120000000-0x12fffffff" "$m0 $m1"
obs ranges "$m0 $m1"

expect_eq "bind dax0.0 to kmem" OK "$(write_errno $DRV/bind $DAX)"
expect_eq "state offline" offline "$(cat $ST)"
expect_eq "two reservations" 2 "$(dev_reserved $DAX)"
expect_eq "two System RAM (kmem) children" 2 "$(kmem_ram_count)"
expect_eq "4 blocks offline" "4 offline/-" "$(block_summary $DAX)"

expect_eq "unplugged" OK "$(write_errno $ST unplugged)"
expect_eq "both ranges removed" "0 0" "$(kmem_ram_count) $(dev_reserved $DAX)"
base_kb=$(memtotal_kb)
expect_eq "online_movable" OK "$(write_errno $ST online_movable)"
expect_eq "both ranges added, 4 blocks Movable" "2 4 online/Movable" "$(kmem_ram_count) $(block_summary $DAX)"
expect_eq "MemTotal +512 MiB" $((base_kb + 512 * 1024)) "$(memtotal_kb)"
obs movable "$(kmem_ram_count) $(block_summary $DAX) +$(( $(memtotal_kb) - base_kb )) kB"

# One block of the second range offlined behind the driver's back: the single
# unplug still removes both ranges.
# With the shipped default (guard=owned) the guard refuses that offline; the step
# then runs with the guard off.
b=$(dev_blocks $DAX | tail -n1)
e=$(write_errno $MEM_BASE/$b/state offline)
obs external_offline_of_owned_block "$e"
if guard_refuses; then
	expect_eq "external offline of $b (second range) refused by the guard" EBUSY "$e"
	guard_was=$(cat /sys/module/kmem/parameters/guard)
	echo off >/sys/module/kmem/parameters/guard
	write_errno $MEM_BASE/$b/state offline >/dev/null
else
	expect_eq "external offline of $b (second range)" OK "$e"
fi
expect_eq "$b offline, the rest online" "1 offline/-, 3 online/Movable" "$(block_summary $DAX)"
expect_eq "unplugged removes both ranges" OK "$(write_errno $ST unplugged)"
[ -n "${guard_was:-}" ] && echo "$guard_was" >/sys/module/kmem/parameters/guard
expect_eq "nothing left" "0 0 0 blocks" "$(kmem_ram_count) $(dev_reserved $DAX) $(block_summary $DAX)"
expect_eq "MemTotal back to baseline" "$base_kb" "$(memtotal_kb)"

# From ZONE_NORMAL the unplug may fail; it must then fail for both ranges.
expect_eq "online_kernel" OK "$(write_errno $ST online_kernel)"
up_kb=$(memtotal_kb)
e=$(write_errno $ST unplugged)
diag "unplug from online_kernel: $e"
# Which of the two it was is compared with the C driver (a split fails the differential).
obs unplug_from_online_kernel "$e"
obs after_unplug_from_online_kernel "$(kmem_ram_count) $(dev_reserved $DAX) $(cat $ST) $(block_summary $DAX)"
check "unplug from online_kernel: OK, or EBUSY ($e)" contains "$e" '^(OK|EBUSY)$'
if [ "$e" = OK ]; then
	expect_eq "both ranges removed" "0 0 0 blocks" "$(kmem_ram_count) $(dev_reserved $DAX) $(block_summary $DAX)"
	expect_eq "MemTotal back to baseline" "$base_kb" "$(memtotal_kb)"
	expect_eq "state unplugged" unplugged "$(cat $ST)"
else
	expect_eq "neither range removed" "2 2 4 online/Normal" "$(kmem_ram_count) $(dev_reserved $DAX) $(block_summary $DAX)"
	expect_eq "MemTotal unchanged" "$up_kb" "$(memtotal_kb)"
	expect_eq "state unchanged" online_kernel "$(cat $ST)"
fi
finish
