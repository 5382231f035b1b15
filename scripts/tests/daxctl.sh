# SPDX-License-Identifier: GPL-2.0
# Guest: daxctl (the real client) drives the device through the kmem driver: the
# daxctl-devices.sh flow of ndctl, adapted to the hmem device.
. "${0%/*}/lib.sh"
plan 27
# The guest image's daxctl: ndctl 81 with contrib/ndctl's series, which drives daxX.Y/state
# (`daxctl list` shows "memory_state"): online-memory and offline-memory move the whole device
# in one write (online_movable; unplugged, no blocks left).  KMEM_DAXCTL=DIR: the daxctl of DIR
# instead, a released one that walks the memory blocks (/opt/ndctl-76.1: Debian 12's;
# /test/ndctl81: Debian 13's): the blocks toggle one by one, state stays offline.
[ -z "${KMEM_DAXCTL:-}" ] || PATH=$KMEM_DAXCTL:$PATH
STATEFUL=no
daxctl list -d $DAX 2>/dev/null | grep -q '"memory_state"' && STATEFUL=yes
diag "daxctl $(daxctl version) ($(command -v daxctl)); drives state: $STATEFUL"
expect_eq "daxctl drives state: the image's yes, a released one (KMEM_DAXCTL) no" \
	"$([ -z "${KMEM_DAXCTL:-}" ] && echo yes || echo no)" "$STATEFUL"
mode_of() { daxctl list -d $DAX 2>/dev/null | tr -d ' \n' | sed -nE 's/.*"mode":"([a-z-]+)".*/\1/p'; }
# dx NAME ARGS...: run daxctl, record its exit status as an observation.
dx() {
	local name=$1 rc
	shift
	daxctl "$@" >/tmp/dx.out 2>&1
	rc=$?
	sed 's/^/# daxctl: /' /tmp/dx.out
	obs "daxctl_$name" "rc=$rc"
	return $rc
}

expect_eq "bound to kmem at start" kmem "$(driver_of $DAX)"
expect_eq "daxctl list: system-ram" system-ram "$(mode_of)"
obs list "$(daxctl list -d $DAX | tr -d ' \n' | sed -E 's/"(size|target_node|align)":[^,}]*,?//g')"

check "daxctl online-memory" dx online online-memory $DAX
expect_eq "blocks online Movable" "8 online/Movable" "$(block_summary $DAX)"
if [ $STATEFUL = yes ]; then
	expect_eq "state online_movable (daxctl wrote it)" online_movable "$(cat $DAX_BASE/$DAX/state)"
else
	expect_eq "state attribute follows (blocks toggled by daxctl)" offline "$(cat $DAX_BASE/$DAX/state)"
fi
obs online_blocks "$(block_summary $DAX)"
check "daxctl offline-memory" dx offline offline-memory $DAX
if [ $STATEFUL = yes ]; then
	expect_eq "unplugged in one write: no blocks" "unplugged 0 blocks" "$(cat $DAX_BASE/$DAX/state) $(block_summary $DAX)"
else
	expect_eq "blocks offline" "8 offline/-" "$(block_summary $DAX)"
fi

check "reconfigure-device -m devdax" dx devdax reconfigure-device -m devdax $DAX
expect_eq "mode devdax" devdax "$(mode_of)"
expect_eq "bound to device_dax" device_dax "$(driver_of $DAX)"
expect_eq "memory removed" "0 0 blocks" "$(kmem_ram_count) $(block_summary $DAX)"

check "reconfigure-device -m system-ram (online, movable)" dx sysram reconfigure-device -m system-ram $DAX
expect_eq "mode system-ram" system-ram "$(mode_of)"
expect_eq "bound to kmem" kmem "$(driver_of $DAX)"
expect_eq "blocks online Movable" "8 online/Movable" "$(block_summary $DAX)"

check "reconfigure-device -f -m devdax (offline per block, then unbind)" dx force_devdax reconfigure-device -f -m devdax $DAX
expect_eq "mode devdax" devdax "$(mode_of)"
expect_eq "memory removed" "0 0 blocks" "$(kmem_ram_count) $(block_summary $DAX)"

echo online >$MEM_BASE/auto_online_blocks
dx policy_refused reconfigure-device -N -m system-ram $DAX
expect_eq "-N refused while the kernel policy auto-onlines" devdax "$(mode_of)"
echo offline >$MEM_BASE/auto_online_blocks

check "reconfigure-device -N -m system-ram" dx sysram_noonline reconfigure-device -N -m system-ram $DAX
expect_eq "state offline" offline "$(cat $DAX_BASE/$DAX/state)"
expect_eq "blocks offline" "8 offline/-" "$(block_summary $DAX)"
check "reconfigure-device -m devdax (memory already offline)" dx devdax2 reconfigure-device -m devdax $DAX
expect_eq "mode devdax" devdax "$(mode_of)"
# Back where it started (another daxctl's transcript may follow in the same boot: parts.sh).
check "reconfigure-device -N -m system-ram (back to the start)" dx sysram_end reconfigure-device -N -m system-ram $DAX
expect_eq "bound to kmem, state offline, blocks offline" "kmem offline 8 offline/-" \
	"$(driver_of $DAX) $(cat $DAX_BASE/$DAX/state) $(block_summary $DAX)"
finish
