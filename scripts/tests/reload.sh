# SPDX-License-Identifier: GPL-2.0
# Guest: N cycles (default 50) of modprobe (bind), online_movable, unplug,
# unbind, rmmod: MemTotal back to baseline and nothing left every time.  On the
# debug kernel, vm-run's kmemleak scan at the end must be clean.
. /test/lib.sh
# The setup, then one check aggregating every cycle, whatever N.
plan 2
N=${1:-50}
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
setup() {
	[ "$(write_errno $ST unplugged)" = OK ] &&
		[ "$(write_errno /sys/bus/dax/drivers/kmem/unbind $DAX)" = OK ] &&
		rmmod kmem && [ "$(kmem_ram_count) $(dev_reserved $DAX)" = "0 0" ]
}
check "setup: unplugged, unbound, kmem unloaded, nothing left" setup
base=$(memtotal_kb)
bad=0
t0=$(now_us)
for ((i = 1; i <= N; i++)); do
	r=""
	modprobe kmem || r="$r modprobe"
	kmem_is_expected || r="$r driver"
	[ "$(cat $ST 2>/dev/null)" = offline ] || r="$r bind"
	[ "$(write_errno $ST unplugged)" = OK ] || r="$r unplug1"
	[ "$(write_errno $ST online_movable)" = OK ] || r="$r online"
	[ "$(memtotal_kb)" -gt "$base" ] || r="$r memtotal-up"
	[ "$(write_errno $ST unplugged)" = OK ] || r="$r unplug2"
	[ "$(memtotal_kb)" = "$base" ] || r="$r memtotal-down"
	[ "$(write_errno /sys/bus/dax/drivers/kmem/unbind $DAX)" = OK ] || r="$r unbind"
	rmmod kmem || r="$r rmmod"
	[ "$(kmem_ram_count) $(dev_reserved $DAX)" = "0 0" ] || r="$r leftover"
	[ "$(memtotal_kb)" = "$base" ] || r="$r memtotal-end"
	if [ -n "$r" ]; then
		bad=$((bad + 1))
		diag "cycle $i failed:$r"
	fi
done
ms=$((($(now_us) - t0) / 1000))
diag "$N cycles in $ms ms"
echo "RELOAD-CYCLES $N $ms"
expect_eq "$N reload cycles, each back to baseline MemTotal $base kB with nothing left" 0 "$bad"
finish
