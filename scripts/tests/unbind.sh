# SPDX-License-Identifier: GPL-2.0
# Guest (destructive): unbind while online never offlines: the range is leaked
# with one error line naming it, the names stay valid after rmmod, and a later
# bind of the device fails cleanly with the C driver; the Rust driver takes the
# memory over (state from its blocks) and unplugs it.
. /test/lib.sh
if [ "$KMEM_RS_MODE" = rust ]; then plan 18; else plan 16; fi
DAX=dax0.0
DRV=/sys/bus/dax/drivers/kmem
ST=$DAX_BASE/$DAX/state

expect_eq "unplugged" OK "$(write_errno $ST unplugged)"
base_kb=$(memtotal_kb)
expect_eq "online_movable" OK "$(write_errno $ST online_movable)"
up_kb=$(memtotal_kb)
dmesg -c >/dev/null
expect_eq "unbind while online returns" OK "$(write_errno $DRV/unbind $DAX)"
expect_eq "unbound" "" "$(driver_of $DAX)"
log=$(dmesg | grep -E "kmem $DAX" | sed 's/^\[[ 0-9.]*\] //')
diag "$log"
obs unbind_log "$(echo "$log" | tr '\n' '|')"
expect_eq "one line names the leaked range" 1 "$(echo "$log" | grep -c "mapping0: 0x100000000-0x13fffffff stuck online until reboot")"
expect_eq "memory stays: MemTotal unchanged" "$up_kb" "$(memtotal_kb)"
expect_eq "blocks still online" "8 online/Movable" "$(block_summary $DAX)"
check "/proc/iomem still names the device and the RAM" grep -q "System RAM (kmem)" /proc/iomem
# The leaked memory is still usable: allocate 256 MiB on its node (node 1 has no
# other memory), write a pattern to every page and read it back.
insmod /test/kmem_holdpage.ko
echo "touch 1 65536" >$HOLD
expect_eq "leaked memory usable: 65536 pages allocated, written and verified" \
	"touched node=1 pages=65536 verified=65536" "$(cat $HOLD)"
rmmod kmem_holdpage
expect_eq "rmmod kmem" OK "$(rmmod kmem 2>&1 && echo OK)"
names=$(grep -E "dax0.0|kmem" /proc/iomem | sed 's/^ *[0-9a-f]*-[0-9a-f]* : //' | tr '\n' '|')
expect_eq "/proc/iomem names intact after module unload" "dax0.0|System RAM (kmem)|" "$names"
obs iomem_after_rmmod "$names"
expect_eq "leaked blocks can still be offlined and onlined" OK "$(write_errno "$MEM_BASE/$(dev_blocks $DAX | head -n1)/state" offline)"
modprobe kmem
check "reloaded the same driver" kmem_is_expected
if [ "$KMEM_RS_MODE" = rust ]; then
	# Deliberate difference: the next probe takes the stranded range over.
	obs reload_binds "$(driver_of $DAX)"
	expect_eq "reload: the stranded device is bound again" kmem "$(driver_of $DAX)"
	check "reload logged the take-over" dmesg_has "kmem $DAX: mapping0: 0x100000000-0x13fffffff taken over: left added by an earlier unbind"
	expect_eq "taken over as it is: one block offline, 7 online (state online)" \
		"online 1 offline/-, 7 online/Movable" "$(cat $ST) $(block_summary $DAX)"
	expect_eq "unplugged: the memory is removed, MemTotal back to before the online" \
		"OK $base_kb" "$(write_errno $ST unplugged) $(memtotal_kb)"
	expect_eq "/proc/iomem: nothing left" "" "$(grep -E "dax0.0|kmem" /proc/iomem)"
else
	obs reload_binds "$(driver_of $DAX)"
	expect_eq "reload: the leaked device does not bind" "" "$(driver_of $DAX)"
	e=$(write_errno $DRV/bind $DAX)
	check "explicit bind fails cleanly ($e)" [ "$e" != OK ]
	check "reload logged the reservation conflict" dmesg_has "mapping0: 0x100000000-0x13fffffff could not reserve region"
fi
finish
