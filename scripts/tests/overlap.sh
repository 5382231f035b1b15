# SPDX-License-Identifier: GPL-2.0
# Guest (make check: a solo run, each vCPU on a TCG thread of its own): operations on one device
# that really run at the same time, with no token between them, and a measured overlap.
#
# dax0.0 is rebuilt as two ranges of 256 MiB (make_ranges 2; dax0.1, the gap between them, is a
# second device of the same region).  Each round first brings the devices to a start state one
# step at a time, then starts two actors at once (both wait on one FIFO, then read a line each),
# each a forked subshell that takes the guest's clock (EPOCHREALTIME: bash's, nothing in the
# guest adjusts it), makes one write (open, write, close) and takes the clock again.  Two writes
# overlapped if their intervals intersect: both writers were inside the kernel at once.  The
# overlap is measured by the writers alone, independently of the driver, and every kind of pair
# must overlap at least once in every run.  Once both have returned, with nothing else writing:
#
#   owned (guard=owned, the shipped default)  the two results and the state reached must be those
#       of the two writes made one after the other, in one order or the other (the driver's
#       serial contract, below: "model"); and the device must be consistently in that state
#       (state file, its blocks and zones, its /proc/iomem reservations and their System RAM
#       (kmem) children, MemTotal; and dax0.1's).  Pairs: state || state (different targets, and
#       equal ones), state || unbind, state || bind, state || bind or unbind of dax0.1 (a probe of
#       another device of the region).  Throughout, a reader reads both state files, the debugfs
#       file and the module's parameters: every state it reads is one of the three a device can
#       report.
#   off (guard=off, upstream semantics)  the driver plugs (online_movable from unplugged) or
#       unplugs (from online_movable) while two external writers send offline and online_movable
#       to random memoryN/state of the device until the driver's write returns (at most 40
#       each; they succeed: no guard).  A plug either succeeds or fails with EIO having removed everything (its
#       check after onlining finds a block an external writer offlined); an unplug removes
#       everything or fails with every block and reservation still there; at the end no block
#       contradicts the state the driver reports unless an external offline succeeded in that
#       round, every block is online in ZONE_MOVABLE or offline, and MemTotal is the baseline
#       plus exactly what is online (nothing lost).  Needs lockdep.prove_locking=0 (stress.sh
#       unpaused: a memoryN writer inside its store while the mm core removes the block makes
#       lockdep report a false kn->active cycle); WARN, BUG and the hung task detector stay on.
#
# Arguments: MODE (owned | off), ROUNDS (default 30).
. /test/lib.sh
MODE=${1:-owned}
ROUNDS=${2:-30}
case $MODE in
owned) CLASSES=(SS SSE SU SB SP); plan 13 ;;
off) CLASSES=(XP XU); plan 9 ;;
*) plan 1; not_ok "mode: owned or off (got '$MODE')"; finish; exit ;;
esac
D0=dax0.0
D1=dax0.1
ST=$DAX_BASE/$D0/state
DRV=/sys/bus/dax/drivers/kmem
S=/tmp/overlap
mkdir -p $S
mkfifo $S/nap $S/gate
exec {NAP}<>$S/nap {GATE}<>$S/gate
nap() { read -r -t "$1" -u $NAP; }
# violation KIND TEXT
violation() { echo "$2" >>$S/viol.$1; }
nviol() { local n=0 _l; [ -e $S/viol.$1 ] && while read -r _l; do n=$((n + 1)); done <$S/viol.$1; echo $n; }

setup() {
	make_ranges 2 && echo $D0 >$DRV/bind && echo $D1 >$DRV/bind && echo unplugged >$ST &&
		echo $MODE >/sys/module/kmem/parameters/guard
}
check "dax0.0 rebuilt as two ranges of 256 MiB, dax0.1 (the gap) bound, guard=$MODE" setup
expect_eq "two vCPUs online" 2 "$(nproc)"
bs=$(block_size)
nb=$((2 * (256 << 20) / bs))
nb1=$(((256 << 20) / bs))
base=$(memtotal_kb)
BLOCKS=() BLOCKS1=()
for m in 0 1; do
	s=$(cat $DAX_BASE/$D0/mapping$m/start)
	for ((i = 0; i < (256 << 20) / bs; i++)); do BLOCKS+=($((s / bs + i))); done
done
s=$(cat $DAX_BASE/$D1/mapping0/start)
for ((i = 0; i < nb1; i++)); do BLOCKS1+=($((s / bs + i))); done

# observe: OD = dax0.0's state as the model names it (un, of, om: bound and unplugged, offline,
# online_movable; U0, U1: unbound with no memory, with its memory left online), M = "" if the
# device (and dax0.1) is consistently in it, else what differs.  No forks.
observe() {
	local wb wio wmt=$base d1 w1
	dev_now $D0 "${BLOCKS[@]}"
	case $DS in
	-) OD=U0 && [ "$BN" != "0 blocks" ] && OD=U1 ;;
	unplugged) OD=un ;;
	offline) OD=of ;;
	online_movable) OD=om ;;
	*) OD="?$DS" ;;
	esac
	case $OD in
	un | U0) wb="0 blocks" wio="0 0" ;;
	of) wb="$nb offline/-" wio="2 2" ;;
	*) wb="$nb online/Movable" wio="2 2" wmt=$((base + nb * bs / 1024)) ;;
	esac
	M=
	[ "$BN|$IO|$MT" = "$wb|$wio|$wmt" ] || M="dax0.0 $DS: want $wb|$wio|$wmt, got $BN|$IO|$MT"
	d1=$(driver_of $D1)
	dev_now $D1 "${BLOCKS1[@]}"
	w1="0 blocks|0 0"
	[ -n "$d1" ] && w1="$nb1 offline/-|1 1"
	[ "$BN|$IO" = "$w1" ] || M+="${M:+; }dax0.1 ${d1:-unbound}: want $w1, got $BN|$IO"
}
# goto D: bring dax0.0 to D one step at a time (a failed step is a violation).
goto() {
	observe
	[ "$OD" = "$1" ] && [ -z "$M" ] && return 0
	case $OD in U0 | U1) put $DRV/bind $D0 s ;; esac
	put $ST unplugged s
	case $1 in
	om) put $ST online_movable s ;;
	of) put $DRV/unbind $D0 s && put $DRV/bind $D0 s ;;
	U0) put $DRV/unbind $D0 s ;;
	U1) put $ST online_movable s && put $DRV/unbind $D0 s ;;
	esac
	observe
	[ "$OD" = "$1" ] && [ -z "$M" ] || violation setup "to $1: got $OD ($M)"
}
# model D OP: the driver's serial contract: ME, the result of OP on dax0.0 in state D (ABSENT:
# the state file is not there: ENOENT, EACCES, or ENODEV once removed under an open file), MD,
# the state after it.
model() {
	ME=OK MD=$1
	case $1:$2 in
	U?:st:*) ME=ABSENT ;;
	*:st:offline) ME=EINVAL ;;
	*:st:unplugged) MD=un ;;
	un:st:online_movable) MD=om ;;
	om:st:online_movable) ;;
	of:st:online_movable) ME=EBUSY ;;
	un:unbind | of:unbind) MD=U0 ;;
	om:unbind) MD=U1 ;;
	U?:unbind) ME=ENODEV ;;
	U0:bind) MD=of ;;
	U1:bind) MD=om ;;
	*:bind) ME=EBUSY ;;
	*) ME="?" ;;
	esac
}
is() { [ "$1" = "$2" ] || { [ "$1" = ABSENT ] && [[ $2 =~ ^(ENOENT|EACCES|ENODEV)$ ]]; }; }
# serial D0 OPA EA OPB EB D: the results EA, EB and the state D are those of OPA then OPB from
# D0 (an OPB on dax0.1 is independent of dax0.0: OK whatever the order).
serial() {
	local d
	model "$1" "$2"
	is "$ME" "$3" || return 1
	d=$MD
	case $4 in
	bind1 | unbind1) [ "$5" = OK ] || return 1 ;;
	*)
		model "$d" "$4"
		is "$ME" "$5" || return 1
		d=$MD
		;;
	esac
	[ "$d" = "$6" ]
}
# do_op OP ID: one write (st:VALUE to dax0.0's state; bind, unbind of dax0.0; bind1, unbind1 of
# dax0.1; x:N:VALUE, an external write of VALUE to memoryN/state); E its result (put).
do_op() {
	case $1 in
	st:*) put $ST "${1#st:}" "$2" ;;
	bind | unbind) put $DRV/$1 $D0 "$2" ;;
	bind1 | unbind1) put $DRV/${1%1} $D1 "$2" ;;
	x:*)
		local b=${1#x:}
		put "$MEM_BASE/memory${b%%:*}/state" "${b#*:}" "$2"
		;;
	esac
}
# timed OP ID: do_op, timed: adds "OP RESULT T0 T1" (microseconds) to the caller's OUT.
timed() {
	local t0=${EPOCHREALTIME/./}
	do_op "$1" "$2"
	OUT+="$1 $E $t0 ${EPOCHREALTIME/./}"$'\n'
}
# actor ID OP...: wait at the gate, then make each write, timed; the lines in $S/r.ID.
actor() {
	local id=$1 op OUT=''
	shift
	read -r _ <&$GATE
	for op in "$@"; do timed "$op" "$id"; done
	printf %s "$OUT" >$S/r.$id
	: >$S/adone
}
# ext_actor ID: at the gate, then external writes (offline or online_movable, each to a random
# block of dax0.0), timed as actor's, until the driver's write has returned (at most 40).
ext_actor() {
	local id=$1 k v OUT=''
	read -r _ <&$GATE
	for ((k = 0; k < 40; k++)); do
		[ -e $S/adone ] && break
		v=offline
		((RANDOM % 2)) && v=online_movable
		timed "x:${BLOCKS[RANDOM % nb]}:$v" "$id"
	done
	printf %s "$OUT" >$S/r.$id
}
# go N: open the gate for the N actors just started (each reads one line) and wait for them.
go() {
	nap 0.05
	local i lines=
	for ((i = 0; i < $1; i++)); do lines+=$'go\n'; done
	printf %s "$lines" >&$GATE
	wait "${PIDS[@]}"
	PIDS=()
}
pick() { P=${*:RANDOM % $# + 1:1}; }
declare -A OVL=() RUNS=() OVUS=()

reader() {
	local n=0 bad=0 f v
	while [ ! -e $S/stop ]; do
		for f in $ST $DAX_BASE/$D1/state; do
			v=
			read -r v 2>/dev/null <$f
			[[ -z $v || $v =~ ^(unplugged|offline|online_movable)$ ]] || bad=$((bad + 1))
		done
		for f in /sys/kernel/debug/kmem/$D0 /sys/kernel/debug/kmem/$D1 /sys/module/kmem/parameters/*; do
			read -r -d '' _ 2>/dev/null <$f
		done
		n=$((n + 1))
	done
	echo "$n $bad" >$S/reader
}

PIDS=()
ext_ok=0 ext_ok_during=0
declare -A XE=() DR=()
for ((r = 0; r < ROUNDS; r++)); do
	c=${CLASSES[r % ${#CLASSES[@]}]}
	rm -f $S/r.*
	case $c in
	SS | SSE | SU | SB | SP)
		case $c in
		SS) pick un om of && d0=$P && pick unplugged online_movable offline && a=$P &&
			b=$a && while [ "$b" = "$a" ]; do pick unplugged online_movable offline && b=$P; done &&
			a=st:$a b=st:$b ;;
		SSE) pick un om && d0=$P && pick unplugged online_movable && a=st:$P b=st:$P ;;
		SU) pick un om of && d0=$P && pick unplugged online_movable && a=st:$P b=unbind ;;
		SB) pick U0 U1 && d0=$P && pick unplugged online_movable && a=st:$P b=bind ;;
		SP) pick un om && d0=$P && pick unplugged online_movable && a=st:$P b=bind1 &&
			[ -n "$(driver_of $D1)" ] && b=unbind1 ;;
		esac
		goto $d0
		[ -n "${RPID:-}" ] || { reader & RPID=$!; }
		actor a $a &
		PIDS+=($!)
		actor b $b &
		PIDS+=($!)
		go 2
		read -r _ ea ta0 ta1 <$S/r.a
		read -r _ eb tb0 tb1 <$S/r.b
		observe
		if ! serial $d0 $a "$ea" $b "$eb" "$OD" && ! serial $d0 $b "$eb" $a "$ea" "$OD"; then
			violation serial "from $d0: $a $ea || $b $eb -> $OD"
		fi
		[ -z "$M" ] || violation state "from $d0: $a $ea || $b $eb: $M"
		ov=$(((ta1 < tb1 ? ta1 : tb1) - (ta0 > tb0 ? ta0 : tb0)))
		;;
	XP | XU)
		case $c in
		XP) d0=un a=st:online_movable ;;
		XU) d0=om a=st:unplugged ;;
		esac
		goto $d0
		rm -f $S/adone
		ext_actor x1 &
		PIDS+=($!)
		ext_actor x2 &
		PIDS+=($!)
		actor a $a &
		PIDS+=($!)
		go 3
		read -r _ ea ta0 ta1 <$S/r.a
		DR[$c:$ea]=$((${DR[$c:$ea]:-0} + 1))
		ov=0 okoff=0
		cat $S/r.x1 $S/r.x2 >$S/x
		while read -r op e t0 t1; do
			XE[$e]=$((${XE[$e]:-0} + 1))
			[[ $e =~ ^(OK|EINVAL|EBUSY|ENOENT|EACCES|ENODEV)$ ]] || violation ext "$op: $e"
			[ "$e" = OK ] && ext_ok=$((ext_ok + 1))
			[ "$e" = OK ] && [ "${op##*:}" = offline ] && okoff=$((okoff + 1))
			o=$(((ta1 < t1 ? ta1 : t1) - (ta0 > t0 ? ta0 : t0)))
			((o > 0)) && ov=$((ov + o)) && [ "$e" = OK ] && ext_ok_during=$((ext_ok_during + 1))
		done <$S/x
		# What the driver's write may end in, and what the device must then be.
		dev_now $D0 "${BLOCKS[@]}"
		on=0 off=0 other=0
		for b in "${BLOCKS[@]}"; do
			if [ -e $MEM_BASE/memory$b ]; then
				read -r s <$MEM_BASE/memory$b/state
				z=-
				[ "$s" = online ] && read -r z _ <$MEM_BASE/memory$b/valid_zones
				case $s/$z in online/Movable) on=$((on + 1)) ;; offline/-) off=$((off + 1)) ;; *) other=$((other + 1)) ;; esac
			fi
		done
		got="$ea $DS $((on + off + other)) $IO $MT"
		case $c:$ea in
		XP:OK | XU:EBUSY) want="$ea online_movable $nb 2 2 $((base + on * bs / 1024))" ;;
		XP:EIO | XU:OK) want="$ea unplugged 0 0 0 $base" ;;
		*) want="OK or EIO (plug), OK or EBUSY (unplug)" ;;
		esac
		[ "$got" = "$want" ] || violation xstate "$c: want $want, got $got"
		((other == 0)) || violation xstate "$c: $other blocks neither online/Movable nor offline"
		((off <= okoff)) || violation xstate "$c ($ea): $off blocks offline, $okoff external offlines succeeded"
		;;
	esac
	RUNS[$c]=$((${RUNS[$c]:-0} + 1))
	((ov > 0)) && OVL[$c]=$((${OVL[$c]:-0} + 1)) && OVUS[$c]=$((${OVUS[$c]:-0} + ov))
done
[ -z "${RPID:-}" ] || { : >$S/stop; wait "$RPID"; }

line="OVERLAP $MODE $ROUNDS rounds:"
for c in "${CLASSES[@]}"; do line+=" $c ${OVL[$c]:-0}/${RUNS[$c]:-0} overlapped (${OVUS[$c]:-0} us);"; done
[ $MODE = off ] && line+=" external writes: $(for e in "${!XE[@]}"; do printf '%s=%s ' "$e" "${XE[$e]}"; done)(OK during the driver's write: $ext_ok_during); driver: $(for e in "${!DR[@]}"; do printf '%s=%s ' "$e" "${DR[$e]}"; done)"
echo "$line"
for k in setup serial state ext xstate; do
	[ -e $S/viol.$k ] && head -n 5 $S/viol.$k | sed "s/^/# violation ($k): /"
done
expect_eq "every start state reached one step at a time" 0 "$(nviol setup)"
for c in "${CLASSES[@]}"; do
	check "$c: the writes overlapped in at least one of ${RUNS[$c]:-0} rounds (${OVL[$c]:-0})" test "${OVL[$c]:-0}" -gt 0
done
case $MODE in
owned)
	expect_eq "every pair's results and end state are those of the two writes in some order" 0 "$(nviol serial)"
	expect_eq "after every pair: state, blocks, zones, iomem, MemTotal consistent (both devices)" 0 "$(nviol state)"
	read -r rn rbad <$S/reader
	echo "# reader: $rn rounds, $rbad state reads outside unplugged, offline, online_movable"
	check "the reader read throughout ($rn rounds)" test "$rn" -gt 0
	expect_eq "every state the reader read is one a device can report" 0 "$rbad"
	;;
off)
	expect_eq "external writes failed only with EINVAL, EBUSY, ENOENT, EACCES, ENODEV" 0 "$(nviol ext)"
	check "external writes succeeded during the driver's writes ($ext_ok_during of $ext_ok)" test "$ext_ok_during" -gt 0
	expect_eq "after every driver write: plugged with every block, or nothing; nothing lost" 0 "$(nviol xstate)"
	;;
esac
goto un
expect_eq "final: dax0.0 bound, unplugged, consistent" "kmem un " "$(driver_of $D0) $OD $M"
finish
