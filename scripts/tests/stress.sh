# SPDX-License-Identifier: GPL-2.0
# Guest: concurrency stress of the Rust driver for SECONDS (default 60), with
# guard=always.  All at once: two state writers, a binder (unplug, unbind, bind),
# two external memoryN/state writers and a reader of every related file.
#
# The driver-side actors (state writers and binder) take turns through a lock
# (a one-byte token in a FIFO); each checks, still holding it, the result of
# every write it made against what that step allows, and then the invariants:
# state vs blocks vs /proc/iomem (the reservation and its "System RAM (kmem)"
# child) vs MemTotal, and the debugfs count of allowed external transitions (0).
# Meanwhile the external writers keep hammering (guard=always: every request is
# refused, EBUSY, or fails as a no-op, EINVAL, or on a block that is not there,
# ENOENT or EACCES; never OK) and the reader keeps reading.
#
# Mode (second argument):
#   paused    (default, full lockdep) the external writers and the reader pause
#             while the driver removes memory (an unplug, an unbind);
#   unpaused  nothing pauses.  Needs the kernel argument lockdep.prove_locking=0:
#             when the mm core removes a memory block device (under
#             mem_hotplug_lock) while a memoryN sysfs user is inside its store,
#             kernfs's drain annotation makes lockdep report a
#             kn->active -> cpu_hotplug_lock -> mem_hotplug_lock cycle, with
#             either driver.  It is a false positive: the writers only trylock
#             device_hotplug_lock and restart, so the drain always completes
#             (Documentation/kmem-rust-design.rst, "Known kernel behaviour").
#             Only lockdep's dependency checking is off; WARN, BUG, KASAN (debug
#             kernel), the hung task (20 s) and soft lockup detectors stay on.
#             A write whose block is removed under it fails with ENODEV.
. /test/lib.sh
# Ten checks whatever SECONDS and the mode.
plan 10
SECS=${1:-60}
MODE=${2:-paused}
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
DBG=/sys/kernel/debug/kmem/$DAX
S=/tmp/s
mkdir -p $S
case $MODE in
paused) want_prove=1 EXT_ALLOWED="EBUSY|EINVAL|ENOENT|EACCES" ;;
unpaused) want_prove=0 EXT_ALLOWED="EBUSY|EINVAL|ENOENT|EACCES|ENODEV" ;;
*) want_prove="? (mode: paused or unpaused)" EXT_ALLOWED=- ;;
esac

echo always >/sys/module/kmem/parameters/guard
echo unplugged >$ST
expect_eq "mode $MODE: guard=always, dax0.0 unplugged" "always unplugged" \
	"$(cat /sys/module/kmem/parameters/guard) $(cat $ST)"
expect_eq "detectors: lockdep prove_locking=$want_prove, hung task timeout 20 s, soft lockup watchdog on" \
	"$want_prove 20 1" \
	"$(cat /sys/module/lockdep/parameters/prove_locking 2>/dev/null) $(cat /proc/sys/kernel/hung_task_timeout_secs) $(cat /proc/sys/kernel/soft_watchdog)"
base=$(memtotal_kb)
bs=$(block_size)
first=$((0x100000000 / bs))
nb=$(($(cat $DAX_BASE/$DAX/size) / bs))
last=$((first + nb - 1))
BLOCKS=()
for ((b = first; b <= last; b++)); do BLOCKS+=("$b"); done
end=$((${EPOCHREALTIME/./} + SECS * 1000000))

# --- fork-free helpers (bash builtins only) ---------------------------------------------------
mkfifo $S/nap
exec {NAP}<>$S/nap
nap() { read -r -t "$1" -u $NAP; }
# allowed_now: AL = the debugfs count of allowed external transitions ("-" if unbound).
allowed_now() {
	local line
	AL=-
	[ -e $DBG ] || return 0
	while read -r line; do
		[[ $line =~ ^external\ transitions:\ allowed\ ([0-9]+), ]] && AL=${BASH_REMATCH[1]} && break
	done <$DBG
}
# consistent WANT: M = "" if dax0.0 is consistently WANT (unplugged, offline,
# online_movable, or "-": unbound), else what differs.  A block caught in
# going-offline is an external request being refused at that instant: read again.
consistent() {
	local want=$1 i wb wio wmt wal=0
	case $want in
	-) wb="0 blocks" wio="0 0" wmt=$base wal=- ;;
	unplugged) wb="0 blocks" wio="0 0" wmt=$base ;;
	offline) wb="$nb offline/-" wio="1 1" wmt=$base ;;
	online_movable) wb="$nb online/Movable" wio="1 1" wmt=$((base + nb * bs / 1024)) ;;
	esac
	for ((i = 0; i < 20; i++)); do
		dev_now $DAX "${BLOCKS[@]}"
		[[ $BN == *going* ]] || break
		nap 0.002
	done
	allowed_now
	M="state $DS, blocks $BN, iomem $IO, MemTotal $MT, allowed $AL"
	if [ "$M" = "state $want, blocks $wb, iomem $wio, MemTotal $wmt, allowed $wal" ]; then
		M=
	else
		M="want state $want, blocks $wb, iomem $wio, MemTotal $wmt, allowed $wal; got $M"
	fi
}

# --- the driver-side lock and the pause of the external users ---------------------------------
mkfifo $S/lock
exec {LOCK}<>$S/lock
printf x >&$LOCK
lock() { read -r -n 1 -u "$LOCK" _; }
unlock() { printf x >&$LOCK; }
# Pause (paused mode only): $S/paused holds a generation while a removal is under
# way (empty otherwise); each external user (1, 2: writers; 3: reader) writes it to
# $S/ack.ID and waits on its FIFO.  Once every one has acknowledged (or left),
# none is inside a read or write.
EXT=3
: >$S/paused
GO=()
for ((i = 1; i <= EXT; i++)); do
	mkfifo $S/go.$i
	exec {fd}<>$S/go.$i
	GO[i]=$fd
done
gate() {
	local g=""
	read -r g <$S/paused
	[ -n "$g" ] || return 0
	echo "$g" >$S/ack.$1
	read -r _ <&"${GO[$1]}"
}
removal_begin() {
	[ $MODE = paused ] || return 0
	local g=$RANDOM$RANDOM i a
	echo $g >$S/paused
	for ((i = 1; i <= EXT; i++)); do
		while :; do
			a=
			read -r a 2>/dev/null <$S/ack.$i
			[ "$a" = $g ] || [ -e $S/exited.$i ] && break
			nap 0.001
		done
	done
}
removal_end() {
	[ $MODE = paused ] || return 0
	local i
	: >$S/paused
	for ((i = 1; i <= EXT; i++)); do [ -e $S/exited.$i ] || echo go >&${GO[i]}; done
}
# ext_done ID: an external user leaves (a pause no longer waits for it).
ext_done() { : >$S/exited.$1; }
# violation KIND TEXT
violation() { echo "$2" >>$S/viol.$1; }

# --- actors -----------------------------------------------------------------------------------
# state_writer ID: random requests, each checked against what the state it was
# made in allows: onlining only from unplugged (else EBUSY), the current state a
# no-op, "offline" never writable (EINVAL).  No online_kernel from unplugged: an
# unplug from a kernel zone may fail for good, which would end the transitions
# (the zones and faults suites cover it).
state_writer() {
	local id=$1 s0 req want wst n=0 moved=0
	local R=(unplugged online_movable unplugged online_movable online_kernel offline)
	while ((${EPOCHREALTIME/./} < end)); do
		lock
		read -r s0 <$ST
		req=${R[RANDOM % ${#R[@]}]}
		[ $s0 = unplugged ] && [ $req = online_kernel ] && req=online_movable
		case $s0:$req in
		*:offline) want=EINVAL wst=$s0 ;;
		*:unplugged) want=OK wst=unplugged ;;
		unplugged:online_movable) want=OK wst=online_movable ;;
		online_movable:online_movable) want=OK wst=online_movable ;;
		*) want=EBUSY wst=$s0 ;;
		esac
		[ $req = unplugged ] && [ $s0 != unplugged ] && removal_begin
		put $ST $req w$id
		[ $req = unplugged ] && [ $s0 != unplugged ] && removal_end
		n=$((n + 1))
		[ "$E" = OK ] && [ $s0 != $wst ] && moved=$((moved + 1))
		[ "$E" = "$want" ] || violation write "$req from $s0: $E, allowed $want"
		consistent $wst
		[ -z "$M" ] || violation state "after $req from $s0 ($E): $M"
		unlock
		nap 0.0$((RANDOM % 10))
	done
	echo "writer$id writes=$n transitions=$moved" >$S/result.w$id
}
# binder: every second, unplug, unbind and bind, each checked and followed by the invariants.
binder() {
	local n=0 s0
	while ((${EPOCHREALTIME/./} < end)); do
		nap 1
		lock
		read -r s0 <$ST
		[ $s0 != unplugged ] && removal_begin
		put $ST unplugged b
		[ $s0 != unplugged ] && removal_end
		[ "$E" = OK ] || violation bind "unplugged from $s0: $E, allowed OK"
		consistent unplugged
		[ -z "$M" ] || violation bstate "after unplugged from $s0: $M"
		removal_begin
		put $DRV/unbind $DAX b
		removal_end
		[ "$E" = OK ] || violation bind "unbind: $E, allowed OK"
		consistent -
		[ -z "$M" ] || violation bstate "after unbind: $M"
		put $DRV/bind $DAX b
		[ "$E" = OK ] || violation bind "bind: $E, allowed OK"
		consistent offline
		[ -z "$M" ] || violation bstate "after bind: $M"
		n=$((n + 1))
		unlock
	done
	echo "binder cycles=$n" >$S/result.b
}
# ext_writer ID: random external requests on random blocks of the device.
ext_writer() {
	local id=$1 b req n=0
	local -A C=()
	local R=(offline online_movable online_kernel online)
	while ((${EPOCHREALTIME/./} < end)); do
		gate $id
		b=$((first + RANDOM % nb))
		req=${R[RANDOM % 4]}
		put $MEM_BASE/memory$b/state $req e$id
		C[$E]=$((${C[$E]:-0} + 1))
		[[ $E =~ ^($EXT_ALLOWED)$ ]] || violation ext "memory$b $req: $E"
		n=$((n + 1))
		nap 0.001
	done
	ext_done $id
	local k out="ext$id tried=$n"
	for k in "${!C[@]}"; do out+=" $k=${C[$k]}"; done
	echo "$out" >$S/result.e$id
}
reader() {
	local n=0 f
	while ((${EPOCHREALTIME/./} < end)); do
		gate $1
		for f in $ST /sys/module/kmem/parameters/guard $DAX_BASE/$DAX/size $DBG \
			$MEM_BASE/memory$first/state $MEM_BASE/memory$first/valid_zones \
			$MEM_BASE/memory$last/state $MEM_BASE/memory$last/valid_zones /proc/iomem /proc/meminfo; do
			read -r -d '' _ 2>/dev/null <$f
		done
		n=$((n + 1))
	done
	ext_done $1
	echo "reader rounds=$n" >$S/result.r
}

state_writer 1 &
state_writer 2 &
binder &
ext_writer 1 &
ext_writer 2 &
reader 3 &
wait

cat $S/result.* | sed 's/^/# /'
for k in write state bind bstate ext; do
	[ -e $S/viol.$k ] && sort $S/viol.$k | uniq -c | sort -rn | head -n 5 | sed "s/^/# violation ($k): /"
done
nviol() { cat $S/viol.$1 2>/dev/null | wc -l; }
field() { cat $S/result.* | tr ' ' '\n' | sed -n "s/^$1=//p" | awk '{s += $1} END {print s + 0}'; }
writes=$(field writes) moved=$(field transitions) cycles=$(field cycles)
tried=$(field tried) busy=$(field EBUSY) ext_oks=$(field OK) rounds=$(field rounds)
echo "STRESS-COUNTS $MODE $SECS s: state writes $writes (transitions $moved), binder cycles $cycles," \
	"external tried $tried (EBUSY $busy, OK $ext_oks), reader rounds $rounds," \
	"violations: write $(nviol write) state $(nviol state) bind $(nviol bind) bstate $(nviol bstate) ext $(nviol ext)"

expect_eq "state writes: every result is what its step allows" 0 "$(nviol write)"
expect_eq "after every state write: state, blocks, iomem, MemTotal, debugfs consistent" 0 "$(nviol state)"
expect_eq "binder: every unplug, unbind and bind OK" 0 "$(nviol bind)"
expect_eq "after every binder step: consistent" 0 "$(nviol bstate)"
expect_eq "no external write succeeded" 0 "$ext_oks"
expect_eq "external writes failed only with ${EXT_ALLOWED//|/, }" 0 "$(nviol ext)"
all_worked() { [ "$moved" -gt 0 ] && [ "$cycles" -gt 0 ] && [ "$busy" -gt 0 ] && [ "$rounds" -gt 0 ]; }
check "every actor worked: transitions, bind cycles, refused external writes, reads" all_worked
s=-
[ -e $ST ] && read -r s <$ST
consistent "$s"
expect_eq "final: bound to kmem, state $s consistent" "kmem " "$(driver_of $DAX) $M"
finish
