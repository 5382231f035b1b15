# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --node1-dram=512M): a dax device on a node that also has DRAM, and the node's
# memory type across bind, unbind, bind and the node going memoryless and back.
#
# Node 1 has dax0.0 (1 GiB, soft-reserved at 4G) and 512 MiB of DRAM (a DIMM at the start of
# device memory, boot RAM in ZONE_MOVABLE with movable_node), so at boot node 1 has the default
# DRAM memory type (memory_tier4, abstract distance 576) and kmem's probe attaches nothing
# (init_node_memory_type() keeps a node's type).  7.3's dev_dax_kmem_remove() calls
# clear_node_memory_type(node, NULL), which drops the node's map count anyway: the unbind takes
# the DRAM type away, and the next bind attaches kmem's dax type (abstract distance 5 x DRAM,
# memory_tier22) to the DRAM node.  Nothing in sysfs shows it until the node's memory changes:
# once its DRAM is offline (the node memoryless), clear_node_memory_tier() clears the node from
# the dax type instead of the DRAM one, so memory_tier4 still lists node 1; onlined again, node
# 1's DRAM joins memory_tier22.  (Offlining it right after an unbind, with no type at all,
# dereferences NULL: done only when the type is right.)  The fix passes the type probe attached.
#
#   dramnode.sh [fixed|buggy]   what to expect: the fixed behaviour (default for the Rust
#                               driver) or 7.3's (default for the C driver, pristine kmem.ko)
# "obs" lines: the tiers after every step; the C/Rust difference is
# scripts/tests/expected/dramnode.
. /test/lib.sh
WANT=${1:-}
[ -n "$WANT" ] || { [ "$KMEM_RS_MODE" = c ] && WANT=buggy || WANT=fixed; }
DRV=/sys/bus/dax/drivers/kmem
ST=$DAX_BASE/dax0.0/state
NODE1=/sys/devices/system/node/node1
TIERS=/sys/devices/virtual/memory_tiering
# MEMTIER_ADISTANCE_DRAM = 4.5 chunks of 128; kmem's default is 5 x DRAM; tier = adist >> 7.
DRAM=memory_tier$(((4 * 128 + 64) >> 7)) DT=memory_tier$(((5 * (4 * 128 + 64)) >> 7))

# tiers: every memory tier (by id: abstract distance) with its abstract distance range and
# node list.
tiers() {
	local t id
	for t in $(ls -d $TIERS/memory_tier* | sort -V); do
		[ -e "$t/nodelist" ] || continue
		id=${t##*memory_tier}
		echo "${t##*/}[$((id << 7))-$((((id + 1) << 7) - 1))]=$(cat "$t/nodelist")"
	done | tr '\n' ' ' | sed 's/ $//'
}
look() { obs "dramnode:$1" "$(tiers)"; diag "$1: $(tiers); node 1 in $(tier_of 1), MemTotal $(node_kb 1 MemTotal) kB"; }
# set_state STATE: write STATE to dax0.0's state, expecting OK (one result).
set_state() { expect_eq "dax0.0: $1" OK "$(write_errno $ST "$1")"; }
# set_dram STATE: every DRAM block of node 1 to STATE (a few tries: a page being migrated now
# and then makes an offline fail with EBUSY).
set_dram() {
	local b i e
	for b in $DRAM_BLOCKS; do
		for ((i = 0; i < 5; i++)); do
			e=$(write_errno $MEM_BASE/$b/state "$1")
			[ "$e" = OK ] && break
			sleep 0.2
		done
		[ "$e" = OK ] || { diag "$b: $1 -> $e"; return 1; }
	done
}
expect_tiers() { expect_eq "$1" "$2" "$(tiers)"; }

if ! [ -d $NODE1 ] || [ "$(node_kb 1 MemTotal)" = 0 ]; then
	plan 1
	skip "a dax device on a node with DRAM" "node 1 has no DRAM (vm-run --node1-dram=SIZE)"
	exit 0
fi
plan 23
DRAM_KB=$(node_kb 1 MemTotal)
DAXB=" $(dev_blocks dax0.0 | tr '\n' ' ') "
DRAM_BLOCKS=$(for b in $NODE1/memory[0-9]*; do b=${b##*/}; [[ $DAXB == *" $b "* ]] || echo "$b"; done | tr '\n' ' ')
diag "node 1: DRAM $DRAM_KB kB in $DRAM_BLOCKS; dax0.0 [$(cat $DAX_BASE/dax0.0/mapping0/start)-$(cat $DAX_BASE/dax0.0/mapping0/end)] in$DAXB"
expect_eq "dax0.0 on node 1, bound, offline at probe; node 1's DRAM online in ZONE_MOVABLE" \
	"1 kmem offline $(echo $DRAM_BLOCKS | wc -w) online/Movable" \
	"$(cat $DAX_BASE/dax0.0/target_node) $(driver_of dax0.0) $(cat $ST) $(for b in $DRAM_BLOCKS; do
		echo "$(cat $MEM_BASE/$b/state)/$(awk '{print $1}' $MEM_BASE/$b/valid_zones)"; done | sort | uniq -c | awk '{printf "%s %s", $1, $2}')"
look boot
expect_tiers "boot: nodes 0 and 1 in the DRAM tier ($DRAM)" "${DRAM}[512-639]=0-1"
set_state unplugged
set_state online_movable
look online
expect_tiers "dax0.0 online: node 1 stays DRAM (its type is kept), no $DT" "${DRAM}[512-639]=0-1"
set_state unplugged
expect_eq "unbind (unplugged first)" OK "$(write_errno $DRV/unbind dax0.0)"
look unbound
expect_eq "bind again" "OK offline" "$(write_errno $DRV/bind dax0.0) $(cat $ST)"
set_state unplugged
set_state online_movable
look rebound-online
expect_tiers "bound again and online: node 1 still shown DRAM (sysfs is not updated here)" "${DRAM}[512-639]=0-1"
set_state unplugged
# The node's last memory goes offline: NODE_REMOVED_LAST_MEMORY, clear_node_memory_tier().
check "node 1's DRAM offlined: node 1 memoryless" set_dram offline
expect_eq "node 1 MemTotal 0, not in has_memory" "0 no" "$(node_kb 1 MemTotal) $(in_list 1 /sys/devices/system/node/has_memory && echo yes || echo no)"
look memoryless
if [ $WANT = fixed ]; then
	expect_tiers "memoryless: node 1 in no tier" "${DRAM}[512-639]=0"
else
	expect_tiers "memoryless (7.3 bug): $DRAM still lists node 1 (cleared from the dax type instead)" "${DRAM}[512-639]=0-1"
fi
# The node's first memory again: NODE_ADDED_FIRST_MEMORY, set_node_memory_tier().
check "node 1's DRAM onlined again (online_movable)" set_dram online_movable
look dram-back
if [ $WANT = fixed ]; then
	expect_tiers "DRAM back: node 1 in the DRAM tier again, no $DT" "${DRAM}[512-639]=0-1"
else
	expect_tiers "DRAM back (7.3 bug): node 1's DRAM in $DT (the dax type), and still listed in $DRAM" \
		"${DRAM}[512-639]=0-1 ${DT}[2816-2943]=1"
fi
expect_eq "node 1 MemTotal back" "$DRAM_KB" "$(node_kb 1 MemTotal)"
set_state online_movable
look dax-online
set_state unplugged
expect_eq "unbind at the end" OK "$(write_errno $DRV/unbind dax0.0)"
look end
# (Where the fix is wanted, the checks run whatever the tiers read: a regression fails them.)
if [ $WANT = fixed ] || [ "$(tiers)" = "${DRAM}[512-639]=0-1" ]; then
	# With the type right, the node can go memoryless after the unbind too.
	check "after the unbind: node 1's DRAM offlined" set_dram offline
	expect_tiers "node 1 in no tier" "${DRAM}[512-639]=0"
else
	# The 7.3 bug was observed (node 1 in $DT): the unbind cleared the node's type (NULL), and
	# a memoryless node 1 now makes clear_node_memory_tier() dereference it (an Oops in
	# memtier_hotplug_callback with memory_tier_lock held: the guest hangs).  Not done.
	skip "after the unbind: node 1's DRAM offlined" "the node's type is gone (7.3 bug): clear_node_memory_tier() would dereference NULL"
	skip "node 1 in no tier" "not reached"
fi
finish
