# SPDX-License-Identifier: GPL-2.0
# Guest: a memory notifier that vetoes one block's online or offline (kmem_holdpage's "veto": a
# test helper, never installed; -EPERM from MEM_GOING_ONLINE or MEM_GOING_OFFLINE, as another
# driver's notifier may answer).  The mm core ignores a block that fails to online during a
# hot-add (add_memory_resource() onlines with walk_memory_blocks(..., online_memory_block) and
# drops the error), so what a driver publishes after it is its own doing.
#
#   probe   a bind under an online-at-probe policy (auto_online_blocks=online_movable) with
#           block 3 of dax0.0 vetoed: what the bind returns, what state is published, whether it
#           is true, and whether unplugged then works;
#   plug    online_movable from unplugged with block 3 vetoed, then unplugged;
#   plug2   the same on a device of two ranges, the veto on range 2's first block (the first
#           range was added and onlined before it);
#   unplug2 unplugged from online_movable with range 2's first block's offline vetoed: the
#           atomic unplug must fail and leave every block of both ranges as it was;
#   unbind2 (Rust: kmem.unbind=unplug) an unbind whose unplug is vetoed: the memory stays online,
#           and the next bind takes it over.
#
# Each step is an observation ("obs", compared with the C driver's: expected/veto lists the
# differences) and, where the contract is the same for both drivers, a check.
. /test/lib.sh
if [ "$KMEM_RS_MODE" = rust ]; then plan 25; else plan 14; fi
DAX=dax0.0
DRV=/sys/bus/dax/drivers/kmem
ST=$DAX_BASE/$DAX/state
AUTO=$MEM_BASE/auto_online_blocks
VETOES=/sys/kernel/debug/kmem_holdpage/vetoes
check "kmem_holdpage loaded (the veto)" eval "[ -e $HOLD ] || insmod /test/kmem_holdpage.ko"
bs=$(block_size)
base=$(memtotal_kb)
n1=$(($(cat $DAX_BASE/$DAX/size) / bs)) # dax0.0's blocks (8: 1 GiB)
# veto WHAT START: veto WHAT (online, offline) of the block at physical address START.
veto() { printf 'veto %x %x %s' "$2" $(($2 + bs - 1)) "$1" >$HOLD; }
unveto() { echo unveto >$HOLD; }
vetoes() { cat $VETOES; }
# now: dax0.0's line (dev_line).
now() { dev_line $DAX "$base"; }
# unbound_clean: unbind dax0.0, its memory removed (every block offlined from outside first).
unbound_clean() {
	unveto
	if [ -n "$(driver_of $DAX)" ]; then
		[ "$KMEM_RS_MODE" = rust ] && echo off >/sys/module/kmem/parameters/guard
		set_blocks $DAX offline >/dev/null
		echo $DAX >$DRV/unbind
		[ "$KMEM_RS_MODE" = rust ] && echo owned >/sys/module/kmem/parameters/guard
	fi
	[ "$(now)" = "|-|0 blocks|0|0 0" ]
}
start=$(cat $DAX_BASE/$DAX/mapping0/start)
b3=$((start + 3 * bs))

# --- probe: a bind with every block onlined at once, one of them vetoed -----------------------
check "probe: dax0.0 unbound, its memory removed" unbound_clean
echo online_movable >$AUTO
veto online $b3
v0=$(vetoes)
e=$(write_errno $DRV/bind $DAX)
got=$(now)
obs probe "$e $got"
diag "probe: bind $e, now $got ($(($(vetoes) - v0)) vetoes)"
check "probe: the veto was asked" test "$(vetoes)" -gt "$v0"
if [ "$KMEM_RS_MODE" = rust ]; then
	# The mm core stops onlining at the vetoed block (walk_memory_blocks() ends at the first
	# error: block 3 and every block after it stay offline); the plug finds them offline and undoes the whole add:
	# the bind fails with EIO and leaves nothing behind; the log says why.
	expect_eq "probe: bind fails with EIO, nothing added" "EIO |-|0 blocks|0|0 0" "$e $got"
	check "probe: the log names the failed online" dmesg_has "kmem $DAX: $((n1 - 3)) of $n1 memory blocks failed to online, unplugging"
	unveto
	expect_eq "probe: without the veto the bind succeeds, every block online" \
		"OK kmem|online_movable|$n1 online/Movable|$n1|1 1" "$(write_errno $DRV/bind $DAX) $(now)"
fi
e=$(write_errno $ST unplugged)
obs probe_unplug "$e $(now)"
expect_eq "probe: unplugged then removes everything" "OK kmem|unplugged|0 blocks|0|0 0" "$e $(now)"
echo offline >$AUTO

# vetoed_plug NAME N BLOCK: online_movable with BLOCK's online vetoed (Rust: EIO, unplugged again),
# then unplugged, then online_movable without the veto (N blocks, R reservations).  4 or 3 results.
vetoed_plug() {
	local name=$1 n=$2 r=$3 e got
	veto online "$4"
	e=$(write_errno $ST online_movable)
	got=$(now)
	obs "$name" "$e $got"
	diag "$name: $e, now $got"
	if [ "$KMEM_RS_MODE" = rust ]; then
		expect_eq "$name: fails with EIO, back to unplugged exactly" "EIO kmem|unplugged|0 blocks|0|0 0" "$e $got"
	fi
	e=$(write_errno $ST unplugged)
	obs "${name}_unplug" "$e $(now)"
	expect_eq "$name: unplugged then leaves nothing" "OK kmem|unplugged|0 blocks|0|0 0" "$e $(now)"
	unveto
	expect_eq "$name: without the veto online_movable works" "OK kmem|online_movable|$n online/Movable|$n|$r $r" \
		"$(write_errno $ST online_movable) $(now)"
}

# --- plug: online_movable from unplugged, block 3 vetoed ---------------------------------------
vetoed_plug plug "$n1" 1 $b3

# --- two ranges -------------------------------------------------------------------------------
check "two ranges: dax0.0 unbound, its memory removed" unbound_clean
check "two ranges: dax0.0 rebuilt as two ranges of 256 MiB, bound, unplugged" \
	eval "make_ranges 2 && echo $DAX >$DRV/bind && echo unplugged >$ST"
r2=$(cat $DAX_BASE/$DAX/mapping1/start)
nb=$((2 * (256 << 20) / bs))
vetoed_plug plug2 "$nb" 2 "$r2"

veto offline "$r2"
v0=$(vetoes)
before=$(now)
lines=$(dev_iomem $DAX)
e=$(write_errno $ST unplugged)
got=$(now)
obs unplug2 "$e $got"
diag "unplug2: $e, now $got ($(($(vetoes) - v0)) vetoes)"
check "unplug2: the veto was asked" test "$(vetoes)" -gt "$v0"
check "unplug2: the unplug fails" test "$e" != OK
expect_eq "unplug2: every block of both ranges as before, MemTotal and /proc/iomem too" \
	"$before|$lines" "$got|$(dev_iomem $DAX)"
unveto
expect_eq "unplug2: without the veto unplugged works" "OK kmem|unplugged|0 blocks|0|0 0" \
	"$(write_errno $ST unplugged) $(now)"

if [ "$KMEM_RS_MODE" = rust ]; then
	# An unbind that tries the unplug first (kmem.unbind=unplug): vetoed, the unbind goes on
	# and leaves the memory online; the next bind takes it over.
	P=/sys/module/kmem/parameters
	expect_eq "unbind2: online_movable" OK "$(write_errno $ST online_movable)"
	echo unplug >$P/unbind
	veto offline "$r2"
	lines=$(dev_iomem $DAX)
	expect_eq "unbind2: the unbind returns" OK "$(write_errno $DRV/unbind $DAX)"
	expect_eq "unbind2: unbound, every block still online" "|-|$nb online/Movable|$nb|2 2|$lines" \
		"$(now)|$(dev_iomem $DAX)"
	check "unbind2: the log says the unplug failed" dmesg_has "kmem $DAX: unbind: unplug failed \(-1\), keeping the memory"
	unveto
	echo keep >$P/unbind
	expect_eq "unbind2: the next bind takes the memory over" "OK kmem|online_movable|$nb online/Movable|$nb|2 2" \
		"$(write_errno $DRV/bind $DAX) $(now)"
	expect_eq "unbind2: unplugged then works" "OK kmem|unplugged|0 blocks|0|0 0" \
		"$(write_errno $ST unplugged) $(now)"
fi
finish
