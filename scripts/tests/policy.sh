# SPDX-License-Identifier: GPL-2.0
# Guest: the system online policy.  What a device looks like at probe under each
# default online type, the state contract from that probe state, and unplugs from
# ZONE_NORMAL: they may fail, and then every block must be exactly as before.
# One argument selects the scenario; the host boots each with its kernel arguments:
#
#   default=TYPE   memhp_default_state=TYPE (offline | online | online_kernel |
#                  online_movable): probe state, blocks, zones and memory, then the
#                  contract from there; online and online_kernel end in ZONE_NORMAL
#                  (the distribution default, CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO)
#   auto-movable   memhp_default_state=online memory_hotplug.online_policy=auto-movable
#                  memory_hotplug.auto_movable_numa_aware=0: "online" lands in
#                  ZONE_MOVABLE (node 1 has no boot memory: with the default NUMA-aware
#                  ratio it would be ZONE_NORMAL, checked last) and unplugs
#
# Every scenario's last step is an unplug from ZONE_NORMAL; its outcome is compared
# between the drivers, and when it fails the rollback is checked exactly (state, each
# block's state and zones, MemTotal, the node's MemTotal, the device's /proc/iomem lines).
# On this guest it fails every time, for both drivers: node 1 has no other memory, so
# the first block onlined to ZONE_NORMAL receives an unmovable slab page (pfn 0x100000,
# dumped in the log) that no unplug can migrate.
. "${0%/*}/lib.sh"
SCENARIO=${1:-}
ST=$DAX_BASE/$DAX/state
AUTO=$MEM_BASE/auto_online_blocks
PARAM=/sys/module/memory_hotplug/parameters

# Results per step, for the plan.
N_PROBE=6 N_REJECT=11 N_UNPLUG=5 N_REPLUG=3
case $SCENARIO in
default=offline | default=online_movable)
	plan $((N_PROBE + N_REJECT + 2 * (1 + N_UNPLUG) + 2 * N_REPLUG + N_UNPLUG)) ;;
default=online | default=online_kernel)
	plan $((N_PROBE + N_REJECT + N_UNPLUG)) ;;
auto-movable)
	plan $((1 + N_PROBE + N_REJECT + 2 * (1 + N_UNPLUG) + 1 + 2 * N_REPLUG + N_UNPLUG)) ;;
*)
	plan 1
	not_ok "unknown scenario '$SCENARIO' (default=TYPE | auto-movable)"
	exit 1
	;;
esac

node=$(cat $DAX_BASE/$DAX/target_node)
n=$(($(cat $DAX_BASE/$DAX/size) / $(block_size)))
size_kb=$((n * $(block_size) / 1024))

# full: state, every block's state and valid_zones, MemTotal, the node's MemTotal
# and the device's /proc/iomem lines, for exact comparison.
full() {
	snapshot $DAX
	echo "node$node=$(node_memtotal "$node")"
	dev_iomem $DAX
}
# The zone "online" picks for this device under the policy of the moment.
ONLINE_ZONE=Normal
[ "$SCENARIO" = auto-movable ] && ONLINE_ZONE=Movable
# zone_of TYPE: the zone TYPE uses on this node.
zone_of() {
	case $1 in
	online_movable) echo Movable ;;
	online) echo $ONLINE_ZONE ;;
	*) echo Normal ;;
	esac
}
# summary_of TYPE: block_summary of a device plugged with TYPE.
summary_of() {
	if [ "$1" = offline ]; then echo "$n offline/-"; else echo "$n online/$(zone_of "$1")"; fi
}

# probe TYPE: the device as the boot left it, with the default online type TYPE.
probe() {
	local t=$1 want_kb=$size_kb
	[ "$t" = offline ] && want_kb=0
	check "bound to kmem" [ "$(driver_of $DAX)" = kmem ]
	expect_eq "auto_online_blocks reads $t (memhp_default_state)" "$t" "$(cat $AUTO)"
	obs auto_online_blocks "$(cat $AUTO)"
	expect_eq "probe state is $t" "$t" "$(cat $ST)"
	obs probe_state "$(cat $ST)"
	expect_eq "probe added every block, $(summary_of "$t")" "$(summary_of "$t")" "$(block_summary $DAX)"
	obs probe_blocks "$(block_summary $DAX)"
	expect_eq "node $node MemTotal at probe: $want_kb kB" "$want_kb" "$(node_memtotal "$node")"
	obs probe_node_kb "$(node_memtotal "$node")"
	expect_eq "/proc/iomem: reservation $DAX with one System RAM (kmem) child" "1 1" \
		"$(dev_reserved $DAX) $(kmem_ram_count)"
	obs probe_iomem "$(dev_iomem $DAX | sed 's/^ *//' | tr '\n' '|')"
}

# reject: from the current (plugged) state S, writes that are refused get their
# errno, the current state is a no-op, and nothing changes.
reject() {
	local s before e input t want
	s=$(cat $ST)
	before=$(full)
	for input in offline offline$'\n' bogus " online"; do
		e=$(write_errno $ST "$input")
		obs "write[$s,$(printf '%q' "$input")]" "$e"
		expect_eq "$s: write $(printf '%q' "$input") -> EINVAL" EINVAL "$e"
	done
	for t in online online_kernel online_movable; do
		for input in $t $t$'\n'; do
			want=EBUSY
			[ "$t" = "$s" ] && want=OK
			e=$(write_errno $ST "$input")
			obs "write[$s,$(printf '%q' "$input")]" "$e"
			expect_eq "$s: write $(printf '%q' "$input") -> $want" $want "$e"
		done
	done
	expect_eq "$s: refused writes and no-ops changed nothing (state, blocks, zones, MemTotal, iomem)" \
		"$before" "$(full)"
}

# unplug LABEL [WANT]: unplug from the current state.  Success: nothing left, MemTotal
# down by exactly what was online.  Failure: EBUSY, everything exactly as before, also after
# a second attempt, and the contract still holds.  N_UNPLUG results either way, plus
# one when WANT (the required outcome) is given.
unplug() {
	local label=$1 want=${2:-} s before kb drop blocks e e2 t got exp
	s=$(cat $ST)
	before=$(full)
	kb=$(memtotal_kb)
	blocks=$(block_summary $DAX)
	drop=$size_kb
	[ "$s" = offline ] && drop=0
	dmesg -c >/dev/null
	e=$(write_errno $ST unplugged)
	diag "$label: unplug from $s ($blocks): $e"
	obs "unplug[$label]" "$e"
	[ -n "$want" ] && expect_eq "$label: unplug from $s -> $want" "$want" "$e"
	if [ "$e" = OK ]; then
		expect_eq "$label: state unplugged" unplugged "$(cat $ST)"
		expect_eq "$label: no blocks, no System RAM (kmem), reservation released" "0 blocks 0 0" \
			"$(block_summary $DAX) $(kmem_ram_count) $(dev_reserved $DAX)"
		expect_eq "$label: MemTotal down by exactly the online memory ($drop kB)" "$drop" "$((kb - $(memtotal_kb)))"
		expect_eq "$label: node $node has no memory left" 0 "$(node_memtotal "$node")"
		expect_eq "$label: unplugged again is a no-op" "OK unplugged" "$(write_errno $ST unplugged) $(cat $ST)"
	else
		expect_eq "$label: unplug from $s failed with EBUSY" EBUSY "$e"
		expect_eq "$label: rollback exact: state, blocks, zones, MemTotal, node MemTotal, iomem" "$before" "$(full)"
		check "$label: failure logged" dmesg_has "kmem $DAX: hotremove failed, device left online: -16"
		# What pinned the block (the mm core dumps the first unmovable page).
		dmesg | sed 's/^\[[ 0-9.]*\] //' | grep -E '^(page:|flags:|page_type:)' | head -n 3 |
			while read -r l; do diag "| $l"; done
		e2=$(write_errno $ST unplugged)
		expect_eq "$label: a second unplug fails the same way, nothing changes" "EBUSY
$before" "$e2
$(full)"
		got="" exp=""
		for t in online online_kernel online_movable offline; do
			got+="$t=$(write_errno $ST $t) "
			if [ $t = "$s" ]; then exp+="$t=OK "; elif [ $t = offline ]; then exp+="$t=EINVAL "; else exp+="$t=EBUSY "; fi
		done
		obs "after_failed_unplug[$label]" "$got"
		expect_eq "$label: after the failure: $s is a no-op, the rest refused, nothing changes" "$exp
$before" "$got
$(full)"
	fi
}

# managed_kb ZONE: the pages the node's ZONE manages (/proc/zoneinfo), in kB.
PAGE_KB=$(awk '/^KernelPageSize:/ {print $2; exit}' /proc/self/smaps)
managed_kb() {
	awk -v node="$node" -v z="$1" -v pk="$PAGE_KB" '
		$1 == "Node" { cur = ($2 == node ",") ? $4 : "" }
		cur == z && $1 == "managed" { print $2 * pk; exit }' /proc/zoneinfo
}
# replug TYPE: plug from unplugged; every block online in TYPE's zone, node memory back, and
# the zone manages the device's pages.
replug() {
	local t=$1 e z before
	z=$(zone_of $t)
	before=$(managed_kb $z)
	e=$(write_errno $ST $t)
	expect_eq "$t from unplugged" OK "$e"
	expect_eq "$t: state, every block online in $z, node $node MemTotal" \
		"$t|$(summary_of $t)|$size_kb" "$(cat $ST)|$(block_summary $DAX)|$(node_memtotal "$node")"
	obs "replug[$t]" "$e $(cat $ST) $(block_summary $DAX) $(node_memtotal "$node")"
	expect_eq "$t: /proc/zoneinfo node $node zone $z manages $size_kb kB more" \
		"$size_kb" "$(($(managed_kb $z) - ${before:-0}))"
}

case $SCENARIO in
default=offline)
	probe offline
	reject
	unplug from-probe-offline OK
	replug online_movable
	unplug movable OK
	# Runtime "online" with the default policy (contig-zones): ZONE_NORMAL.
	replug online
	unplug normal-online
	;;
default=online | default=online_kernel)
	# The distribution default: the device comes up online in ZONE_NORMAL.
	t=${SCENARIO#default=}
	probe $t
	reject
	unplug normal-probe-$t
	;;
default=online_movable)
	probe online_movable
	reject
	unplug from-probe-movable OK
	replug online_movable
	unplug movable OK
	replug online_kernel
	unplug normal-online_kernel
	;;
auto-movable)
	expect_eq "memory_hotplug: online_policy auto-movable, auto_movable_numa_aware N" \
		"auto-movable N" "$(cat $PARAM/online_policy) $(cat $PARAM/auto_movable_numa_aware)"
	probe online
	reject
	unplug from-probe-auto-movable OK
	replug online
	unplug auto-movable OK
	# NUMA-aware ratio: node 1 has no boot-time kernel memory, so nothing of it may
	# be ZONE_MOVABLE and "online" falls back to ZONE_NORMAL.
	expect_eq "auto_movable_numa_aware=Y at run time" OK "$(write_errno $PARAM/auto_movable_numa_aware Y)"
	ONLINE_ZONE=Normal
	replug online
	unplug normal-auto-movable-numa-aware
	;;
esac
finish
