# SPDX-License-Identifier: GPL-2.0
# Guest: external memoryN/state writers race with the driver's own transitions
# (guard=owned, device owned).  No external write may slip through, and after
# every transition the device is either fully online or fully removed.
# Argument: number of transitions (default 20).
. /test/lib.sh
# Two checks up front and four on the aggregated counts, whatever N.
plan 6
N=${1:-20}
A=$DAX_BASE/dax0.0/state
expect_eq "guard owned" owned "$(cat /sys/module/kmem/parameters/guard)"
expect_eq "unplugged (takes ownership)" OK "$(write_errno $A unplugged)"
bs=$(block_size)
first=$((0x100000000 / bs))
last=$((first + $(cat $DAX_BASE/dax0.0/size) / bs - 1))

# Writer: offline every block of the device, over and over, until told to stop.
# It pauses while the driver removes blocks: the mm core removes the block
# devices under mem_hotplug_lock, and a writer spinning in memoryN/state then
# makes lockdep report a (false) kn->active/cpu_hotplug_lock/mem_hotplug_lock
# cycle, with either driver.  Writers cannot run during any driver transition
# anyway: both hold device_hotplug_lock.
writer() {
	local i
	while [ ! -e /tmp/stop ]; do
		for ((i = first; i <= last; i++)); do
			gate /tmp/pause /tmp/ack $1
			write_errno $MEM_BASE/memory$i/state offline
		done
	done >>/tmp/writer.$1
}
pause_writers() { pause /tmp/pause /tmp/ack /tmp/exited 1 2; }
resume_writers() { rm -f /tmp/pause; }
# settled DAX: the block summary once no block is in a transient going-* state
# (a refused external write shows one for a moment).
settled() {
	local s i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		s=$(block_summary "$1")
		case "$s" in *going*) sleep 0.05 ;; *) break ;; esac
	done
	echo "$s"
}
writer 1 &
w1=$!
writer 2 &
w2=$!
done_ok=0
bad=0
for ((t = 0; t < N; t++)); do
	e=$(write_errno $A online_movable)
	s=$(settled dax0.0)
	if [ "$e" = OK ] && [ "$s" = "8 online/Movable" ]; then done_ok=$((done_ok + 1)); else diag "online #$t: $e, $s"; bad=$((bad + 1)); fi
	pause_writers
	e=$(write_errno $A unplugged)
	s=$(settled dax0.0)
	resume_writers
	if [ "$e" = OK ] && [ "$s" = "0 blocks" ]; then done_ok=$((done_ok + 1)); else diag "unplug #$t: $e, $s"; bad=$((bad + 1)); fi
done
touch /tmp/stop
wait $w1 $w2
cat /tmp/writer.* >/tmp/all
tried=$(wc -l </tmp/all)
refused=$(grep -c '^EBUSY$' /tmp/all)
allowed=$(grep -c '^OK$' /tmp/all)
# ENOENT: the block does not exist (unplugged); EACCES: rarely, a block being
# created at that instant (its sysfs file not yet fully set up).
gone=$(grep -cE '^(ENOENT|EACCES)$' /tmp/all)
other=$((tried - refused - allowed - gone))
grep -vE '^(EBUSY|OK|ENOENT|EACCES)$' /tmp/all | sort | uniq -c | sed 's/^/# other: /'
diag "external writes tried $tried: refused $refused, allowed $allowed, block absent $gone, other $other"
diag "transitions completed $done_ok of $((2 * N)), inconsistent $bad"
echo "RACE-COUNTS tried=$tried refused=$refused allowed=$allowed absent=$gone other=$other transitions=$done_ok"
expect_eq "every transition completed consistently" "$((2 * N)) 0" "$done_ok $bad"
expect_eq "no external write slipped through" 0 "$allowed"
check "external writes raced with online devices (some refused)" [ "$refused" -gt 0 ]
expect_eq "no other errors" 0 "$other"
finish
