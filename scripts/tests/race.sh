# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --dax=2G; chrt comes with the guest image): external memoryN/state writers
# race with the driver's own multi-range transitions, and get in between their
# per-range steps.  Rust driver only (the C driver has no guard and no counter).
#
# dax0.0 is rebuilt as 4 ranges of 256 MiB (make_ranges 4).  A plug adds each
# range with its own __add_memory_driver_managed(), which takes and drops
# device_hotplug_lock; between two ranges, and after the last one until the
# transition ends, an external memoryN/state writer can take the lock and send
# its request while the driver's transition is in progress (the unplug holds the
# lock for all ranges: no window there).  That window is a few microseconds of
# driver code, and a writer that finds the lock taken sleeps 5 ms (msleep, tick
# aligned) before it retries: left to chance, a window is rarely hit (without the
# help below: 1 request in 10 plugs and 5 binds, 1 in 60 plugs of our runs).  So
# the test opens every window on purpose.  An "interleaver", SCHED_FIFO and
# pinned to CPU 0 with the transition, keeps writing the state of another kmem
# device (dax0.1, the 256 MiB gap after range 0) and so waits on
# device_hotplug_lock while the driver adds a range.  When the driver drops the
# lock, the wakeup makes the interleaver preempt it there and then, still inside
# its transition; the interleaver runs its own device's transition and then
# spins 8 ms on CPU 0: the lock is free, the driver cannot run, and the external
# writers (pinned to CPU 1, in the kernel's trylock/msleep retry loop) get in.
# The debugfs counter "during a driver transition" counts exactly those.
#
# Phase 1, guard=owned, dax0.0 owned: PLUGS plugs (online_movable) and unplugs.
#   Writers send offline (refused: EBUSY) and online_movable (a no-op on an
#   online block: EINVAL).
# Phase 2, guard=always: BINDS unbind/bind cycles.  The probe adds the ranges
#   offline (auto_online_blocks=offline): a writer's online_movable to a block of
#   an earlier range is an online request during the transition (refused: EBUSY),
#   offline is a no-op (EINVAL).
# After every transition the device must be wholly in its new state (state file,
# blocks, its /proc/iomem reservations and "System RAM (kmem)" children,
# MemTotal); no external write may succeed; every writer's result must be EBUSY,
# EINVAL, ENOENT or EACCES; and every refusal the guard counted must have reached
# a writer as EBUSY (and nothing else gave one).
#
# The writers and the interleaver pause while dax0.0's memory is removed (unplug,
# unbind): the mm core removes the memory block devices under mem_hotplug_lock,
# and a memoryN sysfs writer inside its store at that moment makes lockdep
# report a (false) kn->active/cpu_hotplug_lock/mem_hotplug_lock cycle, with
# either driver (Documentation/kmem-rust-design.rst, "Known kernel behaviour").
# The interleaver's own removals are of dax0.1's blocks, which no writer touches.
#
# Arguments: PLUGS (default 10) and BINDS (default 5).
. /test/lib.sh
# Four setup checks, five per phase, five on the writers and the interleaver, whatever the arguments.
plan 19
PLUGS=${1:-10}
BINDS=${2:-5}
W=6 # external writers
D0=dax0.0
D1=dax0.1
A=$DAX_BASE/$D0/state
DRV=/sys/bus/dax/drivers/kmem
DBG=/sys/kernel/debug/kmem/$D0
R=/tmp/race
mkdir -p $R
CHRT=$(command -v chrt || echo /test/chrt)

expect_eq "guard owned (the default)" owned "$(cat /sys/module/kmem/parameters/guard)"
setup() {
	make_ranges 4 && echo $D0 >$DRV/bind && echo $D1 >$DRV/bind &&
		echo unplugged >$A && echo unplugged >$DAX_BASE/$D1/state
}
check "dax0.0 rebuilt as 4 ranges of 256 MiB, dax0.1 (a gap) bound too, both unplugged" setup
expect_eq "dax0.0: 4 mappings, unplugged, no blocks" "4 unplugged 0 blocks" \
	"$(ls -d $DAX_BASE/$D0/mapping[0-9]* | wc -l) $(cat $A) $(block_summary $D0)"
bs=$(block_size)
nb=$((4 * (256 << 20) / bs))
base=$(memtotal_kb)
BLOCKS=()
for ((m = 0; m < 4; m++)); do
	s=$(cat $DAX_BASE/$D0/mapping$m/start)
	for ((i = 0; i < (256 << 20) / bs; i++)); do BLOCKS+=($((s / bs + i))); done
done

# The checks after every transition run while the writers hammer on CPU 1; they
# fork nothing (dev_now reads everything with bash builtins) and set variables
# rather than print.
# consistent WANT_STATE WANT_BLOCKS N: M = "" if dax0.0 reads WANT_STATE ("-": not
# bound), its blocks are WANT_BLOCKS, it has N reservations and N System RAM (kmem)
# children, and MemTotal is the baseline plus what is online (dax0.0: 1 GiB,
# dax0.1: 256 MiB); else what differs.
consistent() {
	local s1 emt=$base
	dev_now $D0 "${BLOCKS[@]}"
	read -r s1 <$DAX_BASE/$D1/state
	case $DS in online*) emt=$((emt + 1048576)) ;; esac
	case $s1 in online*) emt=$((emt + 262144)) ;; esac
	M="$DS | $BN | $IO | $MT"
	[ "$M" = "$1 | $2 | $3 $3 | $emt" ] && M= || M="want '$1 | $2 | $3 $3 | $emt', got '$M'"
}

# --- participants: the external writers (1..W) and the interleaver (0) ----------------------
# Pause protocol: the controller writes a generation to $R/paused; each participant
# acknowledges it on the ack FIFO, then blocks on its own FIFO until "go PHASE" or
# "stop".  Once every participant has acknowledged, none is inside a write.
mkfifo $R/ack $R/nap
exec {ACK}<>$R/ack {NAP}<>$R/nap
GO=()
for ((i = 0; i <= W; i++)); do
	mkfifo $R/go.$i
	exec {fd}<>$R/go.$i
	GO[i]=$fd
done
PHASE=0
# wait_go ID: if a pause is raised, acknowledge it and wait; returns 1 on stop.
wait_go() {
	local g cmd
	read -r g 2>/dev/null <$R/paused || return 0
	echo "$1 $g" >&$ACK
	read -r cmd PHASE <&${GO[$1]}
	[ "$cmd" = go ]
}
npart=$((W + 1))
# raise_pause, then collect_acks: pause every participant.
raise_pause() {
	G=$RANDOM$RANDOM
	echo $G >$R/paused
}
collect_acks() {
	local n=0 id ag
	while ((n < npart)); do
		read -r id ag <&$ACK
		[ "$ag" = "$G" ] && n=$((n + 1))
	done
}
pause_all() { raise_pause; collect_acks; }
resume_all() {
	local i
	rm -f $R/paused
	for ((i = 0; i <= W; i++)); do echo "go $1" >&${GO[i]}; done
}
stop_all() {
	local i
	for ((i = 0; i <= W; i++)); do echo stop >&${GO[i]}; done
}
# writer ID: on CPU 1, write a random request to a random present block of
# dax0.0, without forking (open, write and close in this shell), and count the
# results per phase, request and errno name.
writer() {
	local id=$1 f req res line E
	local -A C=()
	local REQ1=(offline offline offline online_movable) REQ2=(online_movable online_movable online_movable offline)
	taskset -p 2 $BASHPID >/dev/null 2>&1 || echo "writer $id: taskset failed" >>$R/errors
	: >$R/ready.$id
	while wait_go $id; do
		f=$MEM_BASE/memory${BLOCKS[RANDOM % nb]}/state
		[ -e $f ] || { read -r -t 0.001 -u $NAP; continue; }
		if ((PHASE == 1)); then req=${REQ1[RANDOM % 4]}; else req=${REQ2[RANDOM % 4]}; fi
		if printf %s $req 2>$R/err.$id >$f; then
			res=OK
		else
			read -r line <$R/err.$id
			errno_name "$line"
			res=$E
		fi
		C[$PHASE $req $res]=$((${C[$PHASE $req $res]:-0} + 1))
	done
	for k in "${!C[@]}"; do echo "$k ${C[$k]}"; done >$R/tally.$id
}
# interleaver: SCHED_FIFO on CPU 0; alternates dax0.1 between online_movable and
# unplugged, each write followed by 8 ms of spinning and a 4 ms nap (which lets
# the driver retake the lock and start its next range).
interleaver() {
	local ok=0 fail=0 i=0 t S=(online_movable unplugged)
	if "$CHRT" -f -p 10 $BASHPID >/dev/null 2>&1 && taskset -p 1 $BASHPID >/dev/null 2>&1; then
		: >$R/ready.0
	else
		echo "interleaver: cannot run SCHED_FIFO on CPU 0 ($CHRT)" >>$R/errors
	fi
	while wait_go 0; do
		if printf %s ${S[i]} 2>>$R/interleaver.err >$DAX_BASE/$D1/state; then ok=$((ok + 1)); else fail=$((fail + 1)); fi
		i=$((1 - i))
		t=$((${EPOCHREALTIME/./} + 8000))
		while ((${EPOCHREALTIME/./} < t)); do :; done
		read -r -t 0.004 -u $NAP
	done
	echo "$ok $fail" >$R/interleaver
}

# The controller and with it every transition of dax0.0 run on CPU 0.
taskset -p 1 $$ >/dev/null 2>&1
raise_pause
interleaver &
for ((i = 1; i <= W; i++)); do writer $i & done
collect_acks
all_ready() { [ "$(ls $R/ready.* | wc -l)" = $npart ] && ! [ -e $R/errors ]; }
check "interleaver SCHED_FIFO on CPU 0, $W writers on CPU 1" all_ready
cat $R/errors 2>/dev/null | sed 's/^/# /'

# counters: "allowed refused during" from the debugfs view of dax0.0.
counters() { sed -nE 's/^external transitions: allowed ([0-9]+), refused ([0-9]+), during a driver transition ([0-9]+)$/\1 \2 \3/p' $DBG; }

# --- phase 1: plugs and unplugs under guard=owned ---------------------------------------------
t0=${EPOCHREALTIME/./}
done1=0 bad1=0 ptime=0 utime=0
for ((t = 0; t < PLUGS; t++)); do
	resume_all 1
	a=${EPOCHREALTIME/./}
	e=$(write_errno $A online_movable)
	ptime=$((ptime + ${EPOCHREALTIME/./} - a))
	pause_all
	consistent online_movable "$nb online/Movable" 4
	if [ "$e" = OK ] && [ -z "$M" ]; then done1=$((done1 + 1)); else diag "plug #$t: $e $M"; bad1=$((bad1 + 1)); fi
	a=${EPOCHREALTIME/./}
	e=$(write_errno $A unplugged)
	utime=$((utime + ${EPOCHREALTIME/./} - a))
	consistent unplugged "0 blocks" 0
	if [ "$e" = OK ] && [ -z "$M" ]; then done1=$((done1 + 1)); else diag "unplug #$t: $e $M"; bad1=$((bad1 + 1)); fi
done
read -r A1 R1 DUR1 <<<"$(counters)"
diag "phase 1: $PLUGS plugs in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms (plugging $((ptime / 1000)) ms, unplugging $((utime / 1000)) ms); guard: allowed $A1, refused $R1, during a driver transition $DUR1"
expect_eq "phase 1: every plug and unplug completed consistently" "$((2 * PLUGS)) 0" "$done1 $bad1"
check "phase 1: external offline requests arrived during a plug (during > 0)" [ "${DUR1:-0}" -gt 0 ]
expect_eq "phase 1: none allowed (guard=owned, owned)" 0 "$A1"
# refused_covers R D: some requests were refused, at least as many as arrived during a transition.
refused_covers() { [ "${1:-0}" -gt 0 ] && [ "${1:-0}" -ge "${2:-0}" ]; }
check "phase 1: refused > 0, at least 'during'" refused_covers "$R1" "$DUR1"
expect_eq "phase 1: debugfs still shows the device owned" "owned: yes (guard=owned)" "$(grep '^owned:' $DBG)"

# --- phase 2: unbind/bind cycles under guard=always ------------------------------------------
echo always >/sys/module/kmem/parameters/guard
t0=${EPOCHREALTIME/./}
done2=0 bad2=0 A2=0 R2=0 DUR2=0 ptime=0 utime=0
for ((t = 0; t < BINDS; t++)); do
	a=${EPOCHREALTIME/./}
	e=$(write_errno $DRV/unbind $D0)
	utime=$((utime + ${EPOCHREALTIME/./} - a))
	consistent - "0 blocks" 0
	if [ "$e" = OK ] && [ -z "$M" ]; then done2=$((done2 + 1)); else diag "unbind #$t: $e $M"; bad2=$((bad2 + 1)); fi
	resume_all 2
	a=${EPOCHREALTIME/./}
	e=$(write_errno $DRV/bind $D0)
	ptime=$((ptime + ${EPOCHREALTIME/./} - a))
	pause_all
	consistent offline "$nb offline/-" 4
	if [ "$e" = OK ] && [ -z "$M" ]; then done2=$((done2 + 1)); else diag "bind #$t: $e $M"; bad2=$((bad2 + 1)); fi
	# Each bind has a new view: add up its counters before the next unbind.
	read -r ca cr cd <<<"$(counters)"
	A2=$((A2 + ${ca:-0})) R2=$((R2 + ${cr:-0})) DUR2=$((DUR2 + ${cd:-0}))
done
echo owned >/sys/module/kmem/parameters/guard
diag "phase 2: $BINDS binds in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms (binding $((ptime / 1000)) ms, unbinding $((utime / 1000)) ms); guard: allowed $A2, refused $R2, during a driver transition $DUR2"
expect_eq "phase 2: every unbind and bind completed consistently" "$((2 * BINDS)) 0" "$done2 $bad2"
check "phase 2: external online requests arrived during a probe's plug (during > 0)" [ "$DUR2" -gt 0 ]
expect_eq "phase 2: none allowed (guard=always)" 0 "$A2"
check "phase 2: refused > 0, at least 'during'" refused_covers "$R2" "$DUR2"
expect_eq "phase 2: dax0.0 bound and offline" "kmem offline" "$(driver_of $D0) $(cat $A)"

# --- the writers' and the interleaver's own accounts ------------------------------------------
stop_all
wait
cat $R/tally.* >$R/all
sum() { awk -v re="$1" '$0 ~ re { s += $NF } END { print s + 0 }' $R/all; }
tried=$(sum .)
ok_w=$(sum ' OK ')
busy1=$(sum '^1 .* EBUSY ') busy2=$(sum '^2 .* EBUSY ')
other=$(awk '$3 !~ /^(EBUSY|EINVAL|ENOENT|EACCES)$/' $R/all)
awk '{ n[$1 " " $2 " " $3] += $4 } END { for (k in n) print k, n[k] }' $R/all | sort | sed 's/^/# phase, request, result, count: /'
read -r iok ifail <$R/interleaver
diag "interleaver: $iok dax0.1 transitions, $ifail failed"
echo "RACE-COUNTS tried=$tried allowed=$((A1 + A2)) ok=$ok_w refused=$R1+$R2 during=$DUR1+$DUR2 writer-ebusy=$busy1+$busy2 transitions=$((done1 + done2)) interleaved=$iok"
expect_eq "no external write succeeded (writers' own count)" 0 "$ok_w"
expect_eq "every external write failed with EBUSY, EINVAL, ENOENT or EACCES" "" "$other"
expect_eq "every refusal the guard counted reached a writer as EBUSY, and no other EBUSY" "$R1 $R2" "$busy1 $busy2"
both_tried() { [ "$(sum '^1 offline ')" -gt 0 ] && [ "$(sum '^2 online_movable ')" -gt 0 ]; }
check "the writers sent offline in phase 1 and online_movable in phase 2" both_tried
expect_eq "interleaver: every dax0.1 transition succeeded" "0" "${ifail:-?}"
finish
