# SPDX-License-Identifier: GPL-2.0
# Guest: the life of dax0.0 under the Rust kmem, step by step (make demo).
. /test/lib.sh
# One check per write shown (state writes, the unbind), the module load and the end state.
plan 10
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
# title TEXT: a step's heading.
title() { echo; echo "== $*"; }
# do_write VALUE WANT: show a write to state and check its result.
do_write() {
	local e
	e=$(write_errno $ST "$1")
	printf '   $ echo %s > %s  ->  %s\n' "$1" "$ST" "$e"
	expect_eq "echo $1 > state: $2" "$2" "$e"
}

echo "dax0.0: $(($(cat $DAX_BASE/$DAX/size) >> 20)) MiB on node $(cat $DAX_BASE/$DAX/target_node), memory blocks of $(($(block_size) >> 20)) MiB"
title "1. before any kmem driver is loaded"
show
title "2. modprobe kmem: $(modinfo -F filename kmem)"
modprobe kmem
check "modprobe kmem loaded the Rust driver" kmem_is_expected
echo "   $(modinfo -F description kmem)"
echo "   auto_online_blocks=$(cat $MEM_BASE/auto_online_blocks): the blocks are added offline"
show
title "3. online the device in ZONE_MOVABLE"
do_write unplugged OK
do_write online_movable OK
show
title "4. a rejected write changes nothing"
do_write online_kernel EBUSY
do_write offline EINVAL
show
title "5. unplug: every block offlined and removed in one step"
do_write unplugged OK
show
title "6. re-online: the reservations are taken again, the blocks added and onlined"
do_write online_movable OK
show
title "7. unplug, then unbind: nothing is left behind"
do_write unplugged OK
e=$(write_errno /sys/bus/dax/drivers/kmem/unbind $DAX)
echo "   $ echo $DAX > /sys/bus/dax/drivers/kmem/unbind -> $e"
expect_eq "unbind: OK" OK "$e"
show
expect_eq "nothing left behind: no blocks, no reservation, no System RAM (kmem)" "0 blocks 0 0" \
	"$(block_summary $DAX) $(dev_reserved $DAX) $(kmem_ram_count)"
echo
echo "kernel log of the driver:"
dmesg | grep -E "kmem( |:)" | grep -v "command line" | sed 's/^/   /'
finish
