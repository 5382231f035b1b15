# SPDX-License-Identifier: GPL-2.0
# Guest: the tree's conformance test, tools/testing/selftests/dax/dax-kmem-hotplug.sh,
# against the loaded kmem.  Argument "unbind" also runs its destructive
# unbind-while-online check (DAX_KMEM_TEST_UNBIND=1).  Its KTAP result lines are
# counted by the host like every other guest test, and repeated as "obs" lines
# for the differential comparison with the C driver.
. "${0%/*}/lib.sh"
[ "${1:-}" = unbind ] && export DAX_KMEM_TEST_UNBIND=1
# The plan is the upstream test's (ktap_set_plan 10): a run that skips everything
# ("1..0") must not count as a pass, so its own plan line (and its "TAP version 13" header)
# is not passed on.
plan 10
# With the guard refusing external memoryN/state writes (the Rust driver's default,
# guard=owned), the upstream test's two desync steps cannot offline a block behind the
# driver's back and skip (the test discards the errno).  Such a skip is not a pass by
# itself: it becomes one only if the guard logged the refusal of the upstream's own write
# and a replay of the step's writes, errno visible, gets EBUSY for each with the guard's
# refusal count (debugfs) raised by as many.  The step passing is a failure (an external
# offline got through).  The kernel log is read from /dev/kmsg: the upstream's unbind step
# clears the ring buffer.
guarded=0
if guard_refuses; then
	guarded=1
	echo "kselftest.sh: the upstream test starts" >/dev/kmsg
	cat /dev/kmsg >/tmp/kmsg.out 2>/dev/null &
	kmsg=$!
fi
# (The device: KMEM_DAX, else the upstream's own choice; the test: KMEM_KSELFTEST, else the
# guest's copy.)
DAX_KMEM_TEST_DEV=${KMEM_DAX:-auto} bash "${KMEM_KSELFTEST:-/kselftest/dax/dax-kmem-hotplug.sh}" >/tmp/ktap.out 2>&1
rc=$?
DESYNC1='could not locate a device block to offline for desync test'
DESYNC2='could not offline all device blocks for desync-unbind test'

# refused_count DAX: the guard's count of refused external transitions of DAX (debugfs).
refused_count() {
	sed -nE 's/^external transitions: allowed [0-9]+, refused ([0-9]+),.*/\1/p' "/sys/kernel/debug/kmem/$1"
}
# replay DAX: the two desync steps' writes again, each errno seen; sets V1 and V2 to
# "ok ..." or "not ok ..." for the two steps.  REFUSED: the blocks the guard logged as
# refused during the upstream run, in order (each step's first write: the upstream's
# bind-policy step in between binds the device again, and a new binding logs its first
# refusal whatever the rate limit).
replay() {
	local dax=$1 st=$DAX_BASE/$1/state blocks n b0 r0 r1 r2 e e1 all s1 s2 logged
	read -r -a logged <<<"$REFUSED"
	[ -e "$DAX_BASE/$dax/driver" ] || write_errno /sys/bus/dax/drivers/kmem/bind "$dax" >/dev/null
	e="$(write_errno "$st" unplugged) $(write_errno "$st" online_movable)"
	read -r -a blocks <<<"$(dev_blocks "$dax" | tr '\n' ' ')"
	n=${#blocks[@]}
	b0=${blocks[0]:-none}
	diag "replay on $dax ($n blocks from $b0): unplugged, online_movable: $e; upstream run's refusals: ${REFUSED:-none}"
	r0=$(refused_count "$dax")
	e1=$(write_errno "$MEM_BASE/$b0/state" offline)
	r1=$(refused_count "$dax")
	all=$(set_blocks "$dax" offline)
	r2=$(refused_count "$dax")
	s2="$(cat "$st") $(block_summary "$dax")"
	write_errno "$st" unplugged >/dev/null
	s1="logged: ${logged[0]:-none}; replayed: $e1, refused +$((r1 - r0))"
	if [ "$e" = "OK OK" ] && [ "${logged[0]:-}" = "$b0" ] && [ "$e1" = EBUSY ] && [ $((r1 - r0)) = 1 ]; then
		V1="ok desync step refused by the guard ($s1)"
	else
		V1="not ok desync step not refused as it should be: want logged: $b0; replayed: EBUSY, refused +1; got $s1"
	fi
	s1="logged: ${logged[1]:-none}; replayed on every block: $all, refused +$((r2 - r1)), then $s2"
	if [ "$e" = "OK OK" ] && [ "${logged[1]:-}" = "$b0" ] && [ "$all" = "$n EBUSY" ] &&
		[ $((r2 - r1)) = "$n" ] && [ "$s2" = "online_movable $n online/Movable" ]; then
		V2="ok desync-unbind step refused by the guard ($s1)"
	else
		V2="not ok desync-unbind step not refused as it should be: want logged: $b0; replayed on every block: $n EBUSY, refused +$n, then online_movable $n online/Movable; got $s1"
	fi
}
if [ "$guarded" = 1 ]; then
	sleep 0.2
	kill "$kmsg"
	wait "$kmsg" 2>/dev/null
	dax=$(sed -nE 's/^# using (dax[0-9]+\.[0-9]+) .*/\1/p' /tmp/ktap.out)
	REFUSED=$(sed -n '/kselftest.sh: the upstream test starts/,$p' /tmp/kmsg.out |
		sed -nE "s/.*kmem ${dax:-$DAX}: guard: refused external offline of (memory[0-9]+) .*/\1/p" | tr '\n' ' ')
	REFUSED=${REFUSED% }
	replay "${dax:-$DAX}"
	while IFS= read -r l; do
		if [[ $l =~ ^ok\ ([0-9]+)\ $DESYNC1\ \#\ SKIP$ ]]; then
			l="${V1%%desync*}${BASH_REMATCH[1]} desync${V1#*desync}"
		elif [[ $l =~ ^ok\ ([0-9]+)\ $DESYNC2\ \#\ SKIP$ ]]; then
			l="${V2%%desync*}${BASH_REMATCH[1]} desync${V2#*desync}"
		elif [[ $l =~ ^ok\ ([0-9]+)\ (.*(pre-offlined|stale online state).*)$ ]]; then
			l="not ok ${BASH_REMATCH[1]} - the guard let an external offline through: ${BASH_REMATCH[2]}"
		fi
		echo "$l"
	done </tmp/ktap.out >/tmp/ktap.conv
	mv /tmp/ktap.conv /tmp/ktap.out
fi
grep -vE '^(1\.\.[0-9]+|K?TAP version [0-9]+)$' /tmp/ktap.out
grep -qxE '1\.\.10' /tmp/ktap.out || echo "# upstream plan changed: $(grep -E '^1\.\.[0-9]+$' /tmp/ktap.out)"
# The observations carry MemTotal changes, not MemTotal itself: a kernel with KASLR (a
# distribution's) boots with a few kB more or less each time.
sed -nE 's/^((not )?ok) [0-9]+ (.*)$/obs kselftest \1 \3/p' /tmp/ktap.out | while IFS= read -r l; do
	while [[ $l =~ ^(.*)MemTotal\ ([0-9]+)\ -\>\ ([0-9]+)\ kB(.*)$ ]]; do
		l="${BASH_REMATCH[1]}MemTotal change $((BASH_REMATCH[3] - BASH_REMATCH[2])) kB${BASH_REMATCH[4]}"
	done
	echo "$l"
done
exit $rc
