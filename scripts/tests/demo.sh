# SPDX-License-Identifier: GPL-2.0
# Guest: the life of dax0.0 under the Rust kmem, step by step (make demo).
. /test/lib.sh
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
show() {
	local drv st
	drv=$(driver_of $DAX)
	st=$(cat $ST 2>/dev/null || echo "-")
	printf '   driver=%s  state=%s  MemTotal=%s kB\n' "${drv:--}" "$st" "$(memtotal_kb)"
	printf '   memory blocks: %s\n' "$(block_summary $DAX)"
	grep -E "$DAX|kmem" /proc/iomem | sed 's/^/   iomem: /'
}
step() { echo; echo "== $*"; }
do_write() {
	printf '   $ echo %s > %s  ->  %s\n' "$1" "$ST" "$(write_errno $ST "$1")"
}

echo "dax0.0: $(($(cat $DAX_BASE/$DAX/size) >> 20)) MiB on node $(cat $DAX_BASE/$DAX/target_node), memory blocks of $(($(block_size) >> 20)) MiB"
step "1. before any kmem driver is loaded"
show
step "2. modprobe kmem: $(modinfo -F filename kmem)"
modprobe kmem
echo "   $(modinfo -F description kmem)"
echo "   auto_online_blocks=$(cat $MEM_BASE/auto_online_blocks): the blocks are added offline"
show
step "3. online the device in ZONE_MOVABLE"
do_write unplugged
do_write online_movable
show
step "4. a rejected write changes nothing"
do_write online_kernel
do_write offline
show
step "5. unplug: every block offlined and removed in one step"
do_write unplugged
show
step "6. re-online: the reservations are taken again, the blocks added and onlined"
do_write online_movable
show
step "7. unplug, then unbind: nothing is left behind"
do_write unplugged
echo "   $ echo $DAX > /sys/bus/dax/drivers/kmem/unbind -> $(write_errno /sys/bus/dax/drivers/kmem/unbind $DAX)"
show
echo
echo "kernel log of the driver:"
dmesg | grep -E "kmem( |:)" | grep -v "command line" | sed 's/^/   /'
