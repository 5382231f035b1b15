# SPDX-License-Identifier: GPL-2.0
# Guest: the kmem contract on $DAX (KMEM_DAX, else dax0.0: 1 GiB, node 1), step by step.  Runs
# against either driver (KMEM_RS_MODE); "obs" lines are compared between the
# Rust and the C driver by the host.
. "${0%/*}/lib.sh"
# Rejected inputs in the offline state (EINVAL, then EBUSY) and unplug/online cycles.
EINVAL_INPUTS=("offline" "offline"$'\n' "bogus_state" "ONLINE" "online"$'\n'$'\n' " online" "online " "onlin" "online_movablee" "unplug" "offline_movable")
EBUSY_INPUTS=(online online_kernel online_movable online_movable$'\n')
CYCLES=3
# 55 fixed checks, one per rejected input, three per cycle.
plan $((54 + ${#EINVAL_INPUTS[@]} + ${#EBUSY_INPUTS[@]} + 3 * CYCLES))
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
node=$(cat $DAX_BASE/$DAX/target_node)
nblocks=$(( $(cat $DAX_BASE/$DAX/size) / $(block_size) ))

# state_is WANT: the attribute reads WANT.
state_is() { [ "$(cat $ST)" = "$1" ]; }
# blocks_are SUMMARY: every device block matches, e.g. "8 online/Movable".
blocks_are() { local s; s=$(block_summary $DAX); [ "$s" = "$1" ] || { diag "blocks: $s"; return 1; }; }
on_node() {
	local b
	for b in $(dev_blocks $DAX); do
		[ -e /sys/devices/system/node/node$node/$b ] || { diag "$b not on node$node"; return 1; }
	done
}
nothing_added() { [ "$(kmem_ram_count)" = 0 ] && [ -z "$(dev_blocks $DAX)" ]; }

check "bound to kmem" [ "$(driver_of $DAX)" = kmem ]
obs driver "$(driver_of $DAX)"

# --- probe: blocks added with the default policy (offline here) ---------------
expect_eq "probe state follows auto_online_blocks (offline)" offline "$(cat $ST)"
obs probe_state "$(cat $ST)"
check "probe added every block, offline" blocks_are "$nblocks offline/-"
obs probe_blocks "$(block_summary $DAX)"
check "probe blocks on target_node $node" on_node
check "reservation named after the device" [ "$(dev_reserved $DAX)" = 1 ]
check "one 'System RAM (kmem)' child" [ "$(kmem_ram_count)" = 1 ]
obs iomem_names "$(grep -E "$DAX|kmem" /proc/iomem | sed 's/^ *[0-9a-f]*-[0-9a-f]* : //' | tr '\n' '|')"

# --- rejected writes: errno, and nothing changes ------------------------------
base_kb=$(memtotal_kb)
for input in "${EINVAL_INPUTS[@]}"; do
	e=$(write_errno $ST "$input")
	obs "write_offline_state[$(printf '%q' "$input")]" "$e"
	expect_eq "write $(printf '%q' "$input") in offline -> EINVAL" EINVAL "$e"
done
for input in "${EBUSY_INPUTS[@]}"; do
	e=$(write_errno $ST "$input")
	obs "write_offline_state[$(printf '%q' "$input")]" "$e"
	expect_eq "write $(printf '%q' "$input") in offline -> EBUSY" EBUSY "$e"
done
check "rejected writes left state offline" state_is offline
check "rejected writes left blocks offline" blocks_are "$nblocks offline/-"
expect_eq "rejected writes left MemTotal" "$base_kb" "$(memtotal_kb)"

# --- unplug from offline --------------------------------------------------------
expect_eq "unplugged from offline" OK "$(write_errno $ST unplugged$'\n')"
check "state unplugged" state_is unplugged
check "no blocks, no System RAM (kmem)" nothing_added
check "reservation released" [ "$(dev_reserved $DAX)" = 0 ]
expect_eq "unplugged again is a no-op" OK "$(write_errno $ST unplugged)"
check "still unplugged" state_is unplugged
base_kb=$(memtotal_kb)
obs unplugged_errs "$(write_errno $ST offline) $(write_errno $ST junk)"
check "offline rejected while unplugged" state_is unplugged

# --- online_movable --------------------------------------------------------------
expect_eq "online_movable from unplugged" OK "$(write_errno $ST online_movable)"
check "state online_movable" state_is online_movable
check "every block online in ZONE_MOVABLE" blocks_are "$nblocks online/Movable"
check "blocks on target_node $node" on_node
mov_kb=$(memtotal_kb)
check "MemTotal grew" [ "$mov_kb" -gt "$base_kb" ]
obs movable_growth_kb "$((mov_kb - base_kb))"
obs movable_blocks "$(block_summary $DAX)"
expect_eq "online_movable again is a no-op" OK "$(write_errno $ST online_movable$'\n')"
for input in online online_kernel offline; do
	e=$(write_errno $ST $input)
	obs "write_movable_state[$input]" "$e"
done
expect_eq "online_kernel while online_movable -> EBUSY" EBUSY "$(write_errno $ST online_kernel)"
expect_eq "online while online_movable -> EBUSY" EBUSY "$(write_errno $ST online)"
check "still online_movable, blocks unchanged" blocks_are "$nblocks online/Movable"
check "state unchanged" state_is online_movable
expect_eq "MemTotal unchanged" "$mov_kb" "$(memtotal_kb)"

# --- unplug (no newline) ----------------------------------------------------------
expect_eq "unplugged from online_movable" OK "$(write_errno $ST unplugged)"
check "state unplugged" state_is unplugged
check "nothing left added" nothing_added
expect_eq "MemTotal back to baseline" "$base_kb" "$(memtotal_kb)"

# --- cycles: each online above baseline, each unplug exactly back -------------------
for ((i = 1; i <= CYCLES; i++)); do
	a=$(write_errno $ST online_movable)
	up=$(memtotal_kb)
	b=$(write_errno $ST unplugged)
	down=$(memtotal_kb)
	expect_eq "cycle $i: online_movable, unplugged" OKOK "$a$b"
	check "cycle $i: MemTotal above baseline when online" [ "$up" -gt "$base_kb" ]
	expect_eq "cycle $i: MemTotal exactly baseline after unplug" "$base_kb" "$down"
done
check "no leftover reservation after cycles" [ "$(dev_reserved $DAX)" = 0 ]

# --- desync: a block offlined behind the driver's back, then unplug ------------------
write_errno $ST online_movable >/dev/null
b=$(dev_blocks $DAX | head -n1)
e=$(write_errno $MEM_BASE/$b/state offline)
obs external_offline_of_owned_block "$e"
if guard_refuses; then
	# The shipped default (guard=owned): the device was written through `state`, so
	# the guard refuses; the desync steps below then run with the guard off.
	expect_eq "external offline of $b refused by the guard" EBUSY "$e"
	check "the refused offline left $b online" [ "$(cat $MEM_BASE/$b/state)" = online ]
	guard_was=$(cat /sys/module/kmem/parameters/guard)
	echo off >/sys/module/kmem/parameters/guard
	write_errno $MEM_BASE/$b/state offline >/dev/null
else
	expect_eq "external offline of $b" OK "$e"
	check "$b offline" [ "$(cat $MEM_BASE/$b/state)" = offline ]
fi
check "state still reads online_movable" state_is online_movable
e=$(write_errno $ST unplugged)
obs desync_unplug "$e"
expect_eq "unplugged with one block offline" OK "$e"
check "nothing left added" nothing_added

# --- unbind with stale state: all blocks offlined externally, unbind removes ---------
write_errno $ST online_movable >/dev/null
for b in $(dev_blocks $DAX); do echo offline >$MEM_BASE/$b/state; done
check "state still reads online_movable" state_is online_movable
expect_eq "unbind" OK "$(write_errno $DRV/unbind $DAX)"
check "unbind removed everything" nothing_added
check "unbind released the reservation" [ "$(dev_reserved $DAX)" = 0 ]
check "no state file while unbound" [ ! -e $ST ]
expect_eq "MemTotal back to baseline" "$base_kb" "$(memtotal_kb)"
[ -n "${guard_was:-}" ] && echo "$guard_was" >/sys/module/kmem/parameters/guard

# --- bind honours auto_online_blocks --------------------------------------------------
echo online_movable >$MEM_BASE/auto_online_blocks
expect_eq "rebind with auto_online_blocks=online_movable" OK "$(write_errno $DRV/bind $DAX)"
check "state online_movable at bind" state_is online_movable
check "blocks Movable at bind" blocks_are "$nblocks online/Movable"
obs bind_movable "$(cat $ST) $(block_summary $DAX)"
expect_eq "unplugged" OK "$(write_errno $ST unplugged)"
expect_eq "unbind while unplugged" OK "$(write_errno $DRV/unbind $DAX)"
echo offline >$MEM_BASE/auto_online_blocks
expect_eq "rebind with auto_online_blocks=offline" OK "$(write_errno $DRV/bind $DAX)"
check "state offline at bind" state_is offline
obs bind_offline "$(cat $ST) $(block_summary $DAX)"

# --- module unload with the device bound and offline ----------------------------------
# (A built-in kmem, scripts/intree.sh --builtin, cannot be unloaded: its unbind does the same.)
if [ "$(modinfo -F filename kmem 2>/dev/null)" = "(builtin)" ]; then
	expect_eq "built in: unbind instead of rmmod" OK "$(write_errno $DRV/unbind $DAX)"
else
	expect_eq "rmmod kmem" OK "$(rmmod kmem 2>&1 && echo OK)"
fi
check "rmmod removed the offline memory" nothing_added
check "rmmod released the reservation" [ "$(dev_reserved $DAX)" = 0 ]
expect_eq "MemTotal back to baseline" "$base_kb" "$(memtotal_kb)"
finish
