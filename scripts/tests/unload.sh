# SPDX-License-Identifier: GPL-2.0
# Guest: unloading and replacing the module while it is in use, one scenario
# after the other, each back to a clean baseline (dax0.0 bound to the Rust kmem, unplugged,
# MemTotal the baseline, nothing of it in /proc/iomem):
#
#   upgrade   the path users take from the C driver: 7.3's C kmem.ko onlines dax0.0 through its
#             state file, an unbind strands the memory ("stuck online until reboot"), rmmod;
#             modprobe loads the Rust module, which takes the memory over and unplugs it
#   notifier  rmmod while two external writers keep sending memoryN/state requests to the
#             owned, online device (guard=owned: refused inside the module's memory notifier);
#             the next modprobe takes over whatever the blocks are then
#   readers   rmmod while readers of the state file, the debugfs file and the parameters run,
#             not paused
#   bind      rmmod during a bind that hot-adds and onlines 1 GiB (auto_online_blocks=
#             online_movable)
#   killunbind  SIGKILL to the task whose unbind (kmem.unbind=unplug) is unplugging memory that
#             a transient page hold keeps from going offline: the unbind completes and keeps
#             the memory, the offline ends with -EINTR, not the unplug's time limit
#
# Where the two sides must have run at once (notifier, readers, bind), the overlap is measured
# with the guest's clock (EPOCHREALTIME) around each write and around rmmod, and required.
. /test/lib.sh
plan 29
DAX=dax0.0
DRV=/sys/bus/dax/drivers/kmem
ST=$DAX_BASE/$DAX/state
P=/sys/module/kmem/parameters
AUTO=$MEM_BASE/auto_online_blocks
S=/tmp/unload
mkdir -p $S
mkfifo $S/nap
exec {NAP}<>$S/nap
nap() { read -r -t "$1" -u $NAP; }
base=$(memtotal_kb)
nb=$(($(cat $DAX_BASE/$DAX/size) / $(block_size)))
# now: dax0.0's line (dev_line).
now() { dev_line $DAX "$base"; }
ONLINE="kmem|online_movable|$nb online/Movable|$nb|1 1"
CLEAN="kmem|unplugged|0 blocks|0|0 0"
rust() { [ -e $P/guard ]; }
# timed_rmmod: rmmod kmem, its start and end in R0, R1 (us), its status in RE.
timed_rmmod() {
	R0=${EPOCHREALTIME/./}
	if rmmod kmem 2>$S/rmmod.err; then RE=OK; else RE="failed: $(cat $S/rmmod.err)"; fi
	R1=${EPOCHREALTIME/./}
}
# rmmod_during ACTOR NAME: two ACTOR ID processes run (each writes "RESULT T0 T1" lines to
# $S/NAME.ID once $S/stop exists); rmmod kmem while they do; their lines in $S/NAME.
rmmod_during() {
	local p1 p2
	rm -f $S/stop
	"$1" 1 &
	p1=$!
	"$1" 2 &
	p2=$!
	nap 0.3
	timed_rmmod
	nap 0.3
	: >$S/stop
	wait $p1 $p2
	cat $S/"$2".1 $S/"$2".2 >$S/"$2"
}
# overlaps FILE: the number of "RESULT T0 T1" lines of FILE whose interval meets [R0, R1].
overlaps() {
	local n=0 t0 t1
	while read -r _ t0 t1; do ((t0 < R1 && t1 > R0)) && n=$((n + 1)); done <"$1"
	echo $n
}

# --- upgrade: from the C driver's stranded memory to the Rust driver ---------------------------
# (A Rust kmem loaded before, as vm-run does without --no-load: unloaded first, dax0.0 unplugged.)
if [ -e /sys/module/kmem ]; then
	echo unplugged >$ST && rmmod kmem || diag "could not unload the kmem loaded before"
fi
# (KMEM_C_KO: another C kmem.ko to upgrade from, e.g. the series' kmem.c.)
c_ko=${KMEM_C_KO:-$(find /lib/modules/"$(uname -r)"/kernel -name 'kmem.ko*' | head -n1)}
check "upgrade: the C kmem.ko loads (${c_ko##*/lib/modules/}) and binds dax0.0" \
	eval "insmod $c_ko && ! rust && [ \"\$(driver_of $DAX)\" = kmem ]"
expect_eq "upgrade: C: unplugged, then online_movable" "OK OK $ONLINE" \
	"$(write_errno $ST unplugged) $(write_errno $ST online_movable) $(now)"
dmesg -c >/dev/null
expect_eq "upgrade: C: the unbind strands the memory, rmmod" "OK |-|$nb online/Movable|$nb|1 1 OK" \
	"$(write_errno $DRV/unbind $DAX) $(now) $(rmmod kmem && echo OK)"
check "upgrade: C: the log says stuck online" dmesg_has "kmem $DAX: mapping0: .* stuck online until reboot"
check "upgrade: modprobe loads the Rust kmem" eval "modprobe kmem && rust"
expect_eq "upgrade: Rust: the memory taken over, online_movable" "$ONLINE" "$(now)"
check "upgrade: Rust: the log says taken over" dmesg_has "kmem $DAX: mapping0: .* taken over"
expect_eq "upgrade: Rust: unplugged removes it all" "OK $CLEAN" "$(write_errno $ST unplugged) $(now)"

# --- notifier: rmmod while external writers are refused inside the module's notifier ---------
expect_eq "notifier: online_movable (the device owned, guard=owned)" "OK owned $ONLINE" \
	"$(write_errno $ST online_movable) $(cat $P/guard) $(now)"
ext() { # ID: offline/online_movable to random blocks until $S/stop; "RESULT T0 T1" lines
	local t0 t1 v b out='' blocks
	read -r -a blocks <<<"$(dev_blocks $DAX | tr '\n' ' ')"
	while [ ! -e $S/stop ]; do
		v=offline
		((RANDOM % 4)) || v=online_movable
		b=${blocks[RANDOM % ${#blocks[@]}]}
		t0=${EPOCHREALTIME/./}
		put $MEM_BASE/$b/state $v "$1"
		t1=${EPOCHREALTIME/./}
		out+="$E $t0 $t1"$'\n'
	done
	printf %s "$out" >$S/ext.$1
}
rmmod_during ext ext
tally_ext=$(cut -d' ' -f1 $S/ext | tally)
during=$(overlaps $S/ext)
diag "notifier: rmmod $RE in $(((R1 - R0) / 1000)) ms; external writes: $tally_ext; $during during the rmmod"
echo "UNLOAD notifier: rmmod $(((R1 - R0) / 1000)) ms, external writes $tally_ext, $during during the rmmod"
expect_eq "notifier: rmmod succeeds" OK "$RE"
check "notifier: external writes were refused (EBUSY) and some ran during the rmmod ($during)" \
	eval "grep -q '^EBUSY' $S/ext && [ $during -gt 0 ]"
expect_eq "notifier: external writes ended only in OK, EBUSY, EINVAL" "" "$(grep -vE '^(OK|EBUSY|EINVAL) ' $S/ext | head -n 3)"
check "notifier: modprobe takes the memory over whatever its blocks" eval "modprobe kmem && [ \"\$(driver_of $DAX)\" = kmem ]"
diag "notifier: after the take-over: $(now)"
expect_eq "notifier: unplugged removes it all" "OK $CLEAN" "$(write_errno $ST unplugged) $(now)"

# --- readers: rmmod while readers run -----------------------------------------------------------
expect_eq "readers: online_movable" "OK $ONLINE" "$(write_errno $ST online_movable) $(now)"
reader() { # ID: read every file of the driver until $S/stop; "RESULT T0 T1" lines
	local t0 t1 f out=''
	while [ ! -e $S/stop ]; do
		for f in $ST /sys/kernel/debug/kmem/$DAX $P/guard $P/online_type $P/unbind; do
			t0=${EPOCHREALTIME/./}
			if read -r -d '' _ 2>/dev/null <$f || [ -e $f ]; then E=OK; else E=GONE; fi
			t1=${EPOCHREALTIME/./}
			out+="$E $t0 $t1"$'\n'
		done
	done
	printf %s "$out" >$S/read.$1
}
rmmod_during reader read
during=$(overlaps $S/read)
diag "readers: rmmod $RE in $(((R1 - R0) / 1000)) ms; reads: $(cut -d' ' -f1 $S/read | tally); $during during the rmmod"
echo "UNLOAD readers: rmmod $(((R1 - R0) / 1000)) ms, reads $(cut -d' ' -f1 $S/read | tally), $during during the rmmod"
expect_eq "readers: rmmod succeeds" OK "$RE"
check "readers: reads ran during the rmmod ($during)" test "$during" -gt 0
expect_eq "readers: the memory stays (unbind=keep)" "|-|$nb online/Movable|$nb|1 1" "$(now)"
expect_eq "readers: modprobe takes it over; unplugged removes it all" "$ONLINE OK $CLEAN" \
	"$(modprobe kmem && now) $(write_errno $ST unplugged) $(now)"

# --- bind: rmmod during a bind that hot-adds and onlines -----------------------------------------
expect_eq "bind: dax0.0 unbound, auto_online_blocks=online_movable" "OK |-|0 blocks|0|0 0" \
	"$(write_errno $DRV/unbind $DAX) $(now)"
echo online_movable >$AUTO
(
	t0=${EPOCHREALTIME/./}
	put $DRV/bind $DAX b
	echo "$E $t0 ${EPOCHREALTIME/./}" >$S/bind
) &
pb=$!
nap 0.02
timed_rmmod
wait $pb
echo offline >$AUTO
read -r be _ <$S/bind
during=$(overlaps $S/bind)
got=$(now)
diag "bind: bind $be, rmmod $RE in $(((R1 - R0) / 1000)) ms, overlapped: $during; then $got"
echo "UNLOAD bind: bind $be, rmmod $RE $(((R1 - R0) / 1000)) ms, overlapped $during"
expect_eq "bind: rmmod succeeds" OK "$RE"
check "bind: the bind and the rmmod overlapped" test "$during" = 1
# Either the bind completed before the driver went away (its memory left online by the unbind
# at rmmod: unbind=keep) or it never bound (nothing added).
check "bind: the device is unbound with its memory online, or with nothing ($be: $got)" \
	eval "[ '$got' = '|-|$nb online/Movable|$nb|1 1' ] || [ '$got' = '|-|0 blocks|0|0 0' ]"
expect_eq "bind: modprobe binds (and takes over what was left); unplugged removes it all" "OK $CLEAN" \
	"$(modprobe kmem && write_errno $ST unplugged) $(now)"

# --- killunbind: SIGKILL to an unbind that is unplugging -----------------------------------------
start=$(cat $DAX_BASE/$DAX/mapping0/start)
expect_eq "killunbind: online_movable, a transient hold in the range, unbind=unplug" "OK $ONLINE" \
	"$(write_errno $ST online_movable) $(now)"
hold "$(printf %x "$start")" "$(printf %x $((start + 0x3fffffff)))" transient >/dev/null
echo unplug >$P/unbind
dmesg -c >/dev/null
(
	put $DRV/unbind $DAX k
	echo "$E" >$S/unbind
) &
pk=$!
nap 1
kill -9 $pk
wait $pk 2>/dev/null
got=$(now)
diag "killunbind: $got; $(dmesg | grep -E "kmem $DAX" | head -n 3 | tr '\n' '|')"
expect_eq "killunbind: the unbind completed, the memory kept online" \
	"|-|$nb online/Movable|$nb|1 1" "$got"
check "killunbind: the offline ended by the signal (-EINTR), not the time limit" \
	dmesg_has "kmem $DAX: unbind: unplug failed \(-4\), keeping the memory"
echo keep >$P/unbind
expect_eq "killunbind: the held page's data intact" intact "$(held_data)"
expect_eq "killunbind: the next bind takes it over; unplugged removes it all" "OK $ONLINE OK $CLEAN" \
	"$(write_errno $DRV/bind $DAX) $(now) $(write_errno $ST unplugged) $(now)"
finish
