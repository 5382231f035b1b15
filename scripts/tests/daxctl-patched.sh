# SPDX-License-Identifier: GPL-2.0
# Guest: the guest image's daxctl, ndctl 81 with the project's series
# (contrib/ndctl: daxctl drives daxX.Y/state when the kmem driver has it) on the guest's dax0.0,
# the only memory of node 1: the flows a daxctl that walks memory blocks cannot do here, with
# either driver and, for the Rust driver, any guard mode (the argument: owned, always or off; the
# C driver has no guard). A device driven through state (owned), offlined by daxctl into
# unplugged (no memory blocks, node 1 without memory), listed, onlined again, reconfigured to
# devdax and back from there, an offline the kernel must roll back (a reserved page in the last
# block: EBUSY, the device as it was, and daxctl says so), and --no-movable.
. "${0%/*}/lib.sh"
GUARD=${1:-owned}
plan 19
P=/sys/module/kmem/parameters/guard
[ "$KMEM_RS_MODE" != rust ] || echo "$GUARD" >$P
A=$DAX_BASE/dax0.0/state
# dx NAME ARGS...: run daxctl; its exit status an observation (and DX_RC), its output
# diagnostics (and DX).
dx() {
	local name=$1
	shift
	DX=$(daxctl "$@" 2>&1)
	DX_RC=$?
	sed 's/^/# daxctl: /' <<<"$DX"
	obs "daxctl_$name" "rc=$DX_RC"
	return $DX_RC
}
# field NAME: a field of daxctl list -d dax0.0.
field() { daxctl list -d dax0.0 2>/dev/null | tr -d ' \n' | sed -nE "s/.*\"$1\":\"?([^\",}]*).*/\\1/p"; }
expect_eq "ndctl 81 with the series; bound to kmem, blocks offline${KMEM_RS_MODE/c/}" \
	"81 kmem 8 offline/- $([ "$KMEM_RS_MODE" = rust ] && echo "$GUARD")" \
	"$(daxctl version | cut -d- -f1) $(driver_of dax0.0) $(block_summary dax0.0) $(cat $P 2>/dev/null)"
expect_eq "state written: unplugged, online_movable (the device owned with guard=owned)" "OK OK" \
	"$(write_errno $A unplugged) $(write_errno $A online_movable)"
check "daxctl offline-memory" dx offline offline-memory dax0.0
expect_eq "unplugged in one step: no blocks, node 1 without memory" "unplugged 0 blocks 0" \
	"$(cat $A) $(block_summary dax0.0) $(node_memtotal 1)"
expect_eq "daxctl list: memory_state unplugged, 0 of 0 blocks online (not -2)" "unplugged 0 0 system-ram" \
	"$(field memory_state) $(field online_memblocks) $(field total_memblocks) $(field mode)"
obs list_unplugged "$(field memory_state) $(field online_memblocks)/$(field total_memblocks)"
# (As daxctl's per-block walk does: "already offline", exit status 1.)
dx offline_again offline-memory dax0.0
expect_eq "daxctl offline-memory again: nothing to do (exit 1, as without the series)" "1 already offline" \
	"$DX_RC $(grep -oE 'already offline' <<<"$DX" | head -n1)"
check "daxctl online-memory (from unplugged)" dx online online-memory dax0.0
expect_eq "online_movable in one step, every block Movable" "online_movable 8 online/Movable" "$(cat $A) $(block_summary dax0.0)"
check "daxctl offline-memory" dx offline2 offline-memory dax0.0
check "daxctl reconfigure-device -m devdax (from unplugged)" dx devdax reconfigure-device -m devdax dax0.0
expect_eq "devdax: bound to device_dax, nothing added" "device_dax 0" "$(driver_of dax0.0) $(kmem_ram_count)"
check "daxctl reconfigure-device -m system-ram (onlines)" dx sysram reconfigure-device -m system-ram dax0.0
expect_eq "system-ram: kmem, online_movable, every block Movable" "kmem online_movable 8 online/Movable" \
	"$(driver_of dax0.0) $(cat $A) $(block_summary dax0.0)"
# An offline the kernel cannot complete: a reserved page in the last block.
check "hold a reserved page in the last block" hold 0x138000000 0x13fffffff reserved
dx offline_busy offline-memory dax0.0
expect_eq "daxctl offline-memory fails: EBUSY, and says the device was left as it was" \
	"Device or resource busy|memory left online_movable, as it was" \
	"$(grep -oE 'Device or resource busy' <<<"$DX" | head -n1)|$(grep -oE 'memory left [a-z_]+, as it was' <<<"$DX" | head -n1)"
expect_eq "rolled back: online_movable, every block online Movable" "online_movable 8 online/Movable" \
	"$(cat $A) $(block_summary dax0.0)"
release >/dev/null
check "released: daxctl reconfigure-device -f -m devdax (offline in one step, unbind)" \
	dx force_devdax reconfigure-device -f -m devdax dax0.0
# Last (ZONE_NORMAL memory may not go offline again): --no-movable leaves the zone to the kernel.
check "daxctl reconfigure-device -m system-ram --no-movable" dx sysram_nomovable reconfigure-device -m system-ram --no-movable dax0.0
expect_eq "online: the kernel's zone (Normal here)" "online 8 online/Normal" "$(cat $A) $(block_summary dax0.0)"
finish
