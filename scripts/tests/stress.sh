# SPDX-License-Identifier: GPL-2.0
# Guest: concurrency stress for SECONDS (default 60): two writers of random
# valid states on the device (unplugged and online_movable: from a kernel zone an
# unplug may fail for good, which would end the run's transitions; the zones
# and fault suites cover that), a bind/unbind loop, two external memoryN/state
# writers and a reader of every sysfs file, all at once, with guard=always.
# At the end the invariants must hold: state matches the blocks, no range is
# half-removed, MemTotal is consistent, no external write got through.
#
# External users pause while the driver removes memory (unplug or unbind): the
# mm core removes memory block devices under mem_hotplug_lock, and a memoryN
# sysfs user in flight at that moment makes lockdep report a false
# kn->active -> cpu_hotplug_lock -> mem_hotplug_lock cycle (with either driver;
# writers only trylock device_hotplug_lock, so there is no deadlock).
. /test/lib.sh
# Seven checks on the final state and the aggregated counts, whatever SECONDS.
plan 7
SECS=${1:-60}
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
echo always >/sys/module/kmem/parameters/guard
echo unplugged >$ST
base=$(memtotal_kb)
bs=$(block_size)
first=$((0x100000000 / bs))
last=$((first + $(cat $DAX_BASE/$DAX/size) / bs - 1))
EXT=3 # external users: 2 writers + 1 reader
end=$(($(now_us) + SECS * 1000000))
mkdir -p /tmp/s

# Removal section: one remover at a time, external users paused and idle.
removal_begin() {
	until mkdir /tmp/s/rmlock 2>/dev/null; do sleep 0.005; done
	pause /tmp/s/pause /tmp/s/ack /tmp/s/exited 1 2 3
}
removal_end() { rm -f /tmp/s/pause; rmdir /tmp/s/rmlock; }

# The binder pauses the state writers too: an online write between its unplug
# and its unbind would be an unbind while online, which leaks the memory until
# reboot by design (the unbind suite covers it).
state_writer() {
	local ok=0 fail=0 s
	local W=(unplugged online_movable)
	while (($(now_us) < end)); do
		gate /tmp/s/bpause /tmp/s/back $1
		s=${W[RANDOM % 2]}
		if [ $s = unplugged ]; then
			removal_begin
			[ "$(write_errno $ST $s)" = OK ] && ok=$((ok + 1)) || fail=$((fail + 1))
			removal_end
		else
			[ "$(write_errno $ST $s)" = OK ] && ok=$((ok + 1)) || fail=$((fail + 1))
		fi
	done
	touch /tmp/s/wexited.$1
	echo "writer$1 ok=$ok failed=$fail" >/tmp/s/result.w$1
}
binder() {
	local n=0 e
	while (($(now_us) < end)); do
		sleep 1
		pause /tmp/s/bpause /tmp/s/back /tmp/s/wexited 1 2
		removal_begin
		e=$(write_errno $ST unplugged)
		if [ "$e" = OK ] && [ "$(write_errno $DRV/unbind $DAX)" = OK ]; then
			[ "$(write_errno $DRV/bind $DAX)" = OK ] && n=$((n + 1)) || echo "bind failed" >>/tmp/s/errors
		fi
		removal_end
		rm -f /tmp/s/bpause
	done
	echo "binder cycles=$n" >/tmp/s/result.b
}
ext_writer() {
	local i tried=0 refused=0 allowed=0 other=0 e
	while (($(now_us) < end)); do
		gate /tmp/s/pause /tmp/s/ack $1
		i=$((first + RANDOM % (last - first + 1)))
		[ -e $MEM_BASE/memory$i ] || { sleep 0.01; continue; }
		e=$(write_errno $MEM_BASE/memory$i/state $( ((RANDOM % 2)) && echo offline || echo online_movable))
		tried=$((tried + 1))
		case $e in EBUSY) refused=$((refused + 1)) ;; OK) allowed=$((allowed + 1)) ;; *) other=$((other + 1)); echo "$e" >>/tmp/s/other ;; esac
	done
	touch /tmp/s/exited.$1
	echo "ext$1 tried=$tried refused=$refused allowed=$allowed other=$other" >/tmp/s/result.e$1
}
reader() {
	local n=0 f
	while (($(now_us) < end)); do
		gate /tmp/s/pause /tmp/s/ack $1
		for f in $ST /sys/module/kmem/parameters/guard $DAX_BASE/$DAX/size $MEM_BASE/memory$first/state \
			$MEM_BASE/memory$first/valid_zones $MEM_BASE/memory$last/state /proc/iomem /proc/meminfo; do
			cat $f >/dev/null 2>&1
		done
		n=$((n + 1))
	done
	touch /tmp/s/exited.$1
	echo "reader rounds=$n" >/tmp/s/result.r
}

state_writer 1 &
state_writer 2 &
binder &
ext_writer 1 &
ext_writer 2 &
reader 3 &
wait
cat /tmp/s/result.* | sed 's/^/# /'
cat /tmp/s/errors 2>/dev/null | sed 's/^/# error: /'
sort /tmp/s/other 2>/dev/null | uniq -c | sed 's/^/# external write result: /'
echo "STRESS-COUNTS $SECS s: $(cat /tmp/s/result.* | tr '\n' ' ')"

s=$(cat $ST)
b=$(block_summary $DAX)
mt=$(memtotal_kb)
diag "final: state $s, blocks $b, MemTotal $mt (baseline $base)"
expect_eq "still bound to kmem" kmem "$(driver_of $DAX)"
case $s in
unplugged) want="0 blocks"; wmt=$base ;;
offline) want="8 offline/-"; wmt=$base ;;
online_movable) want="8 online/Movable"; wmt=$((base + 1048576)) ;;
online | online_kernel) want="8 online/Normal"; wmt=$((base + 1048576)) ;;
*) want="?"; wmt=0 ;;
esac
expect_eq "state $s matches the blocks" "$want" "$b"
expect_eq "MemTotal consistent with state $s" "$wmt" "$mt"
case $s in unplugged) r=0 ;; *) r=1 ;; esac
expect_eq "no range half-removed: reservation and System RAM (kmem) both present or both absent" "$r $r" "$(dev_reserved $DAX) $(kmem_ram_count)"
expect_eq "no external write got through" 0 "$(cat /tmp/s/result.e* | sed -nE 's/.*allowed=([0-9]+).*/\1/p' | awk '{s+=$1} END{print s+0}')"
expect_eq "no bind failures" 0 "$(cat /tmp/s/errors 2>/dev/null | wc -l)"
check "state writers made transitions" grep -qE 'ok=[1-9]' /tmp/s/result.w1
finish
