# SPDX-License-Identifier: GPL-2.0
# Guest: the read-only debugfs view of the Rust driver (/sys/kernel/debug/kmem).
. /test/lib.sh
plan 19
D=/sys/kernel/debug/kmem
ST=$DAX_BASE/dax0.0/state
echo owned >/sys/module/kmem/parameters/guard
check "view: one file per device" [ -f $D/dax0.0 ]
check "view: the 'leaked' file" [ -f $D/leaked ]
expect_eq "view files are read-only, root only" "-r--------" "$(ls -l $D/dax0.0 | cut -c1-10)"
v=$(cat $D/dax0.0)
check "view shows the state" contains "$v" "^state: offline$"
check "view shows ownership" contains "$v" "^owned: no \(guard=owned\)$"
check "view shows the range" contains "$v" "^mapping0: 0x100000000-0x13fffffff$"
expect_eq "view lists 8 blocks" 8 "$(grep -c '^  memory' <<<"$v")"
expect_eq "offline blocks have no zone" 8 "$(grep -c '^  memory[0-9]*: offline or absent$' <<<"$v")"
write_errno $ST unplugged >/dev/null
write_errno $ST online_movable >/dev/null
v=$(cat $D/dax0.0)
check "state follows" contains "$v" "^state: online_movable$"
check "owned after a state write" contains "$v" "^owned: yes"
expect_eq "blocks shown in ZONE_MOVABLE" 8 "$(grep -c '^  memory[0-9]*: Movable$' <<<"$v")"
check "last transition: request, result and timings" contains "$v" "^last: request=online_movable result=0 total_ns=[1-9][0-9]* mm_ns=[1-9][0-9]* driver_ns=[0-9]+$"
expect_eq "transitions counted" "transitions: 2" "$(grep '^transitions' <<<"$v")"
write_errno $MEM_BASE/memory32/state offline >/dev/null
check "guard refusals counted" contains "$(cat $D/dax0.0)" "refused [1-9]"
write_errno $ST online_kernel >/dev/null
check "a failed write is recorded with its errno" contains "$(cat $D/dax0.0)" "^last: request=online_kernel result=-16 "
expect_eq "nothing leaked yet" "" "$(cat $D/leaked)"
write_errno /sys/bus/dax/drivers/kmem/unbind dax0.0 >/dev/null
check "unbind removed the device's file" [ ! -e $D/dax0.0 ]
expect_eq "the leaked range is listed" "dax0.0 mapping0: 0x100000000-0x13fffffff" "$(cat $D/leaked)"
rmmod kmem
check "rmmod removed the directory" [ ! -e $D ]
finish
