# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --dax=2G): the memory-block guard (module parameter "guard").
# dax0.0 and dax0.1 (1 GiB each) are bound to kmem; only dax0.0's state is
# ever written, so dax0.1 shows what happens to a device that is not owned.
# Argument: owned | always | off | switch.
. /test/lib.sh
# The per-block client the guard refuses: Debian 12's daxctl (ndctl 76.1).  (The guest image's
# daxctl drives state, which no guard mode refuses: daxctl.sh and daxctl-patched.sh.)
PATH=/opt/ndctl-76.1:$PATH
MODE=${1:-}
# Invalid guard values (switch).
BAD=(bogus $'\n' " owned" OWNED "owned " owned$'\n\n')
# Three common checks, then the mode's own.
case $MODE in
owned) plan $((3 + 25)) ;;
always) plan $((3 + 14)) ;;
off) plan $((3 + 6)) ;;
switch) plan $((3 + 11 + ${#BAD[@]})) ;;
*) plan 1; not_ok "argument: owned, always, off or switch (got '$MODE')"; finish; exit ;;
esac
P=/sys/module/kmem/parameters/guard
A=$DAX_BASE/dax0.0/state
check "two 1 GiB devices bound to kmem" split_two
expect_eq "default guard is owned" owned "$(cat $P)"
[ "$MODE" = switch ] || echo "$MODE" >$P
expect_eq "guard=$MODE" "${MODE/switch/owned}" "$(cat $P)"
dmesg -c >/dev/null

case $MODE in
owned)
	# Before the first state write: the legacy per-block tools work.
	expect_eq "before ownership: daxctl online-memory" 0 "$(daxctl online-memory dax0.0 >/dev/null 2>&1; echo $?)"
	expect_eq "blocks online Movable" "8 online/Movable" "$(block_summary dax0.0)"
	expect_eq "before ownership: daxctl offline-memory" 0 "$(daxctl offline-memory dax0.0 >/dev/null 2>&1; echo $?)"
	expect_eq "blocks offline" "8 offline/-" "$(block_summary dax0.0)"
	expect_eq "before ownership: hand-written online_movable per block" "8 OK" "$(set_blocks dax0.0 online_movable)"
	expect_eq "before ownership: hand-written offline per block" "8 OK" "$(set_blocks dax0.0 offline)"
	# The first state write takes ownership.
	expect_eq "unplugged" OK "$(write_errno $A unplugged)"
	expect_eq "online_movable" OK "$(write_errno $A online_movable)"
	expect_eq "owned: external offline refused with EBUSY" "8 EBUSY" "$(set_blocks dax0.0 offline)"
	expect_eq "state and blocks unchanged" "online_movable 8 online/Movable" "$(cat $A) $(block_summary dax0.0)"
	check "refusal logged with device, block and mode" dmesg_has "kmem dax0.0: guard: refused external offline of memory[0-9]+ \(guard=owned"
	check "refusal says what to do instead" dmesg_has "kmem dax0.0: guard: refused .*\(guard=owned; dax0.0 is managed through /sys/bus/dax/devices/dax0.0/state: write unplugged there to remove its memory, or set /sys/module/kmem/parameters/guard to off;"
	expect_eq "one line per second at most" 1 "$(dmesg | grep -c 'guard: refused')"
	expect_eq "daxctl offline-memory fails" 1 "$([ "$(daxctl offline-memory dax0.0 >/dev/null 2>&1; echo $?)" != 0 ] && echo 1)"
	expect_eq "blocks still online" "8 online/Movable" "$(block_summary dax0.0)"
	expect_eq "the other device's blocks change freely" "8 OK" "$(set_blocks dax0.1 online_movable)"
	expect_eq "... and back" "8 OK" "$(set_blocks dax0.1 offline)"
	expect_eq "unplug through state works" OK "$(write_errno $A unplugged)"
	expect_eq "re-online through state works" OK "$(write_errno $A online_movable)"
	expect_eq "blocks online Movable" "8 online/Movable" "$(block_summary dax0.0)"
	expect_eq "unplugged" OK "$(write_errno $A unplugged)"
	# Unbind ends ownership.
	expect_eq "unbind" OK "$(write_errno /sys/bus/dax/drivers/kmem/unbind dax0.0)"
	expect_eq "bind" OK "$(write_errno /sys/bus/dax/drivers/kmem/bind dax0.0)"
	expect_eq "after rebind: external online allowed again" "8 OK" "$(set_blocks dax0.0 online_movable)"
	expect_eq "after rebind: external offline allowed again" "8 OK" "$(set_blocks dax0.0 offline)"
	;;
always)
	expect_eq "right after probe: external online refused" "8 EBUSY" "$(set_blocks dax0.0 online_movable)"
	expect_eq "... on every device" "8 EBUSY" "$(set_blocks dax0.1 online_movable)"
	expect_eq "blocks still offline" "8 offline/-" "$(block_summary dax0.0)"
	rc=$(daxctl online-memory dax0.0 >/tmp/dx 2>&1; echo $?)
	sed 's/^/# daxctl: /' /tmp/dx
	check "daxctl online-memory fails with an error" [ "$rc" != 0 ]
	expect_eq "no half-changed device: every block offline" "8 offline/-" "$(block_summary dax0.0)"
	expect_eq "state still offline" offline "$(cat $A)"
	expect_eq "state writes still work: unplugged" OK "$(write_errno $A unplugged)"
	expect_eq "online_movable" OK "$(write_errno $A online_movable)"
	expect_eq "blocks online Movable" "8 online/Movable" "$(block_summary dax0.0)"
	expect_eq "external offline refused" "8 EBUSY" "$(set_blocks dax0.0 offline)"
	expect_eq "unplugged" OK "$(write_errno $A unplugged)"
	# Auto-onlining inside the driver's own add (probe) is the driver's transition.
	expect_eq "unbind dax0.1" OK "$(write_errno /sys/bus/dax/drivers/kmem/unbind dax0.1)"
	echo online_movable >$MEM_BASE/auto_online_blocks
	expect_eq "bind dax0.1 with auto_online_blocks=online_movable" OK "$(write_errno /sys/bus/dax/drivers/kmem/bind dax0.1)"
	echo offline >$MEM_BASE/auto_online_blocks
	expect_eq "auto-onlined at probe despite guard=always" "online_movable 8 online/Movable" "$(cat $DAX_BASE/dax0.1/state) $(block_summary dax0.1)"
	;;
off)
	expect_eq "unplugged" OK "$(write_errno $A unplugged)"
	expect_eq "online_movable" OK "$(write_errno $A online_movable)"
	expect_eq "off: external offline allowed on an owned device" "8 OK" "$(set_blocks dax0.0 offline)"
	expect_eq "state reads stale online_movable (upstream semantics)" online_movable "$(cat $A)"
	expect_eq "unplugged still works" OK "$(write_errno $A unplugged)"
	expect_eq "nothing logged" 0 "$(dmesg | grep -c 'guard:')"
	;;
switch)
	expect_eq "unplugged" OK "$(write_errno $A unplugged)"
	expect_eq "online_movable" OK "$(write_errno $A online_movable)"
	b=$(dev_blocks dax0.0 | head -n1)
	expect_eq "owned: external offline refused" EBUSY "$(write_errno $MEM_BASE/$b/state offline)"
	echo off >$P
	expect_eq "switched to off: the next external offline is allowed" OK "$(write_errno $MEM_BASE/$b/state offline)"
	expect_eq "off: external online allowed" OK "$(write_errno $MEM_BASE/$b/state online_movable)"
	echo always >$P
	expect_eq "switched to always: the other device is guarded" "8 EBUSY" "$(set_blocks dax0.1 online_movable)"
	echo owned >$P
	expect_eq "switched to owned: the other device is free again" "8 OK" "$(set_blocks dax0.1 online_movable)"
	for bad in "${BAD[@]}"; do
		expect_eq "guard=$(printf '%q' "$bad") -> EINVAL" EINVAL "$(write_errno $P "$bad")"
	done
	expect_eq "guard=off$'\\n' accepted" OK "$(write_errno $P off$'\n')"
	expect_eq "parameter reads off" off "$(cat $P)"
	check "invalid value logged" dmesg_has "kmem: invalid parameter value bogus; expected one of off, owned, always"
	expect_eq "guard is root-only writable (0644)" "-rw-r--r--" "$(ls -l $P | cut -c1-10)"
	;;
esac
finish
