# SPDX-License-Identifier: GPL-2.0
# Guest: paths no other suite exercises, one scenario per boot (the first argument):
#
#   tiers       memory tiers: the dax node's tier (kmem's memory type, abstract distance
#               5 x DRAM) after probe, online, unplug, a clean unbind and a stranding one,
#               rmmod and reload
#   groups      memory groups seen through memory_hotplug.online_policy=auto-movable:
#               `online` places each device's static group as a whole
#               (vm-run --dax=3G --append=memory_hotplug.online_policy=auto-movable)
#   memmap      memmap_on_memory set on the unbound dax device: blocks carry their own memmap,
#               MemTotal grows by less than the size, unplug works
#               (vm-run --append=memory_hotplug.memmap_on_memory=1)
#   conflict    reservation conflicts on a two-range device: the second range taken (partial
#               success) and the first range taken (nothing kept)
#   rmmod       rmmod with one device online and one offline, then reload (vm-run --dax=2G)
#   retry       unbind and rmmod while an unplug retries on a transient page hold, and a
#               SIGKILL to that unplug while the unbind waits
#   killadd     SIGKILL to the writer of a large hot-add (vm-run --dax=4G)
#   concurrent  two devices of one region transitioning in parallel; ROUNDS (second argument,
#               default 3) rounds of six parallel steps (vm-run --dax=2G)
#   data        a tmpfs file on the device's node and a held page survive a failed and an
#               aborted unplug, and the file a successful one
#
# After every step the invariants are checked: each bound device's state agrees with its
# blocks and /proc/iomem entries, and MemTotal is the boot baseline plus every online block
# of any "System RAM (kmem)" range.  "obs" lines are driver-independent facts.
. /test/lib.sh
SCEN=${1:-}
DRV=/sys/bus/dax/drivers/kmem
ST=$DAX_BASE/dax0.0/state
P=/sys/module/memory_hotplug/parameters
TIERS=/sys/devices/virtual/memory_tiering
MIB=$((1 << 20))
BS=$(block_size)
BS_KB=$((BS / 1024))
# Per online block: the part of MemTotal its memmap takes when it lives on the memory.
MEMMAP_KB=0
# No kmem memory is online at boot (auto_online_blocks=offline): the baseline.
BASE_KB=$(memtotal_kb)
N0=$(($(cat $DAX_BASE/dax0.0/size) / BS))

# kmem_online: online blocks in every "System RAM (kmem)" range (any device, bound or not).
# No forks (as the invariants below: they are checked after every step).
kmem_online() {
	local line range s e i st n=0
	while IFS= read -r line; do
		[[ $line == *" : System RAM (kmem)" ]] || continue
		range=${line%% :*}
		range=${range// /}
		s=$((0x${range%-*}))
		e=$((0x${range#*-}))
		for ((i = s / BS; i <= e / BS; i++)); do
			rd st $MEM_BASE/memory$i/state && [ "$st" = online ] && n=$((n + 1))
		done
	done </proc/iomem
	echo $n
}
# dev_problems DEV: what disagrees between a bound DEV's state, its blocks and /proc/iomem.
dev_problems() {
	local d=$1 st res rng kids nres=0 span=0 s e i blocks=() nb b bst want z zset="" IO_RES DB
	local -A zones=()
	rd st $DAX_BASE/$d/state || return 0 # unbound: checked by the scenario
	iomem_now "$d"
	for res in "${IO_RES[@]}"; do
		read -r rng kids <<<"$res"
		nres=$((nres + 1))
		[ "$kids" = "System RAM (kmem)@$rng" ] || echo "$d: reservation $rng has children '$kids'"
		s=$((0x${rng%-*}))
		e=$((0x${rng#*-}))
		span=$((span + (e - s + 1) / BS))
	done
	dev_block_numbers "$d"
	for i in "${DB[@]}"; do [ -d "$MEM_BASE/memory$i" ] && blocks+=("memory$i"); done
	nb=${#blocks[@]}
	if [ "$st" = unplugged ]; then
		[ "$nres" = 0 ] || echo "$d: unplugged with $nres reservations"
		[ "$nb" = 0 ] || echo "$d: unplugged with $nb blocks"
		return 0
	fi
	[ "$nres" -ge 1 ] || echo "$d: $st without a reservation"
	[ "$nb" = "$span" ] || echo "$d: $nb blocks in $span reserved blocks"
	case $st in offline) want=offline ;; online | online_kernel | online_movable) want=online ;; *) echo "$d: state '$st'"; return 0 ;; esac
	for b in "${blocks[@]}"; do
		rd bst $MEM_BASE/$b/state
		[ "$bst" = $want ] || echo "$d: $st, but $b is $bst"
		[ $want = online ] && read -r z _ <$MEM_BASE/$b/valid_zones && zones[$z]=1
	done
	[ $want = online ] || return 0
	# The zones, sorted, each followed by a space.
	for z in Device DMA DMA32 Movable Normal "${!zones[@]}"; do
		[ -n "${zones[$z]:-}" ] && zset+="$z " && unset "zones[$z]"
	done
	case "$st:$zset" in
	"online_movable:Movable " | "online_kernel:Normal " | "online:Movable " | "online:Normal ") ;;
	*) echo "$d: $st with blocks in zones: $zset" ;;
	esac
}
# problems DEV...: dev_problems of each DEV, and MemTotal against the baseline.
problems() {
	local d want got
	for d in "$@"; do dev_problems "$d"; done
	want=$((BASE_KB + $(kmem_online) * (BS_KB - MEMMAP_KB)))
	got=$(memtotal_kb)
	[ "$want" = "$got" ] || echo "MemTotal $got kB, want $want kB (baseline $BASE_KB + online kmem blocks)"
}
# inv NAME DEV...: one result: no problems.
inv() {
	local name=$1 p l
	shift
	p=$(problems "$@")
	if [ -z "$p" ]; then
		ok "invariants $name"
	else
		while read -r l; do diag "$l"; done <<<"$p"
		not_ok "invariants $name"
	fi
}
# step_inv DEV VALUE WANT [DEV...]: step (guest lib), then the invariants of DEV and the other
# DEVs (two results).
step_inv() {
	step "$1" "$2" "$3"
	inv "after $1 $2" "$1" "${@:4}"
}
mapping() { echo "$(cat $DAX_BASE/$1/mapping$2/start 2>/dev/null)-$(cat $DAX_BASE/$1/mapping$2/end 2>/dev/null)"; }
iomem_names() { grep -E "dax0|kmem" /proc/iomem | sed 's/^ *[0-9a-f]*-[0-9a-f]* : //' | tr '\n' '|'; }
kmem_log() { dmesg | grep -E "kmem dax0" | sed 's/^\[[ 0-9.]*\] //' | tr '\n' '|'; }
alive() { local p; for p in "$@"; do [ -d /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat)" != Z ] || return 1; done; }
module_state() { [ -d /sys/module/kmem ] && echo loaded || echo absent; }
start() { expect_eq "at boot: dax0.0 bound, its $N0 blocks offline" "kmem offline $N0 offline/-" "$(driver_of dax0.0) $(cat $ST) $(block_summary dax0.0)"; }

# --- memory tiers ---------------------------------------------------------------------------
tiers() { local t; for t in $TIERS/memory_tier*; do [ -e "$t/nodelist" ] && echo "${t##*/}=$(cat $t/nodelist)"; done | tr '\n' ' '; }
scen_tiers() {
	# MEMTIER_ADISTANCE_DRAM = 4.5 chunks of 128; kmem's default is 5 x DRAM; tier = adist >> 7.
	local DRAM=memory_tier$(((4 * 128 + 64) >> 7)) DT=memory_tier$(((5 * (4 * 128 + 64)) >> 7))
	plan 39
	start
	expect_eq "after probe (blocks offline): node 0 in $DRAM, node 1 in no tier" "$DRAM none" "$(tier_of 0) $(tier_of 1)"
	obs tiers:probe "$(tiers)"
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	expect_eq "online: node 1 in $DT (kmem's memory type, abstract distance 5 x DRAM)" "$DRAM $DT" "$(tier_of 0) $(tier_of 1)"
	obs tiers:online "$(tiers)"
	step_inv dax0.0 unplugged OK
	expect_eq "unplugged: node 1 in no tier, $DT gone" "none absent" "$(tier_of 1) $([ -d $TIERS/$DT ] && echo present || echo absent)"
	# A clean unbind clears the node's memory type; a new probe sets it again.
	expect_eq "unbind (unplugged first)" OK "$(write_errno $DRV/unbind dax0.0)"
	expect_eq "unbound, nothing left, MemTotal at baseline" " 0 0 $BASE_KB" "$(driver_of dax0.0) $(kmem_ram_count) $(dev_reserved dax0.0) $(memtotal_kb)"
	# (dax bus, either driver) memmap_on_memory needs memory_hotplug.memmap_on_memory.
	expect_eq "memmap_on_memory=1 without memory_hotplug.memmap_on_memory: EOPNOTSUPP" EOPNOTSUPP "$(write_errno $DAX_BASE/dax0.0/memmap_on_memory 1)"
	expect_eq "memmap_on_memory still 0" 0 "$(cat $DAX_BASE/dax0.0/memmap_on_memory)"
	expect_eq "bind again" OK "$(write_errno $DRV/bind dax0.0)"
	expect_eq "re-probed: offline, node 1 in no tier" "offline none" "$(cat $ST) $(tier_of 1)"
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	expect_eq "online after the re-probe: node 1 in $DT again" "$DT" "$(tier_of 1)"
	# A stranding unbind keeps the memory type: the stranded blocks can be onlined again.
	expect_eq "unbind while online" OK "$(write_errno $DRV/unbind dax0.0)"
	inv "after the stranding unbind"
	expect_eq "stranded: 8 blocks online, node 1 still in $DT" "8 online/Movable $DT" "$(block_summary dax0.0) $(tier_of 1)"
	obs tiers:stranded "$(tiers)"
	expect_eq "the stranded blocks offlined through memoryN/state" "8 OK" "$(set_blocks dax0.0 offline)"
	expect_eq "all offline: node 1 in no tier" none "$(tier_of 1)"
	inv "after offlining the stranded blocks"
	expect_eq "the stranded blocks onlined (online_movable)" "8 OK" "$(set_blocks dax0.0 online_movable)"
	expect_eq "node 1 back in $DT, not the DRAM default: the memory type stayed attached" "$DT" "$(tier_of 1)"
	inv "after onlining the stranded blocks"
	expect_eq "rmmod kmem" OK "$(rmmod kmem 2>&1 && echo OK)"
	expect_eq "after rmmod: stranded blocks offlined and onlined" "8 OK 8 OK" "$(set_blocks dax0.0 offline) $(set_blocks dax0.0 online_movable)"
	expect_eq "after rmmod: node 1 in $DT (the node holds its own reference)" "$DT" "$(tier_of 1)"
	expect_eq "modprobe kmem" OK "$(modprobe kmem 2>&1 && echo OK)"
	check "reloaded the same driver" kmem_is_expected
	if [ "$KMEM_RS_MODE" = rust ]; then
		# Deliberate difference: the Rust driver takes the stranded memory over.
		expect_eq "the stranded device is taken over (not owned: blocks stay writable)" \
			"kmem online_movable" "$(driver_of dax0.0) $(cat $ST)"
	else
		expect_eq "the stranded device does not bind again" "" "$(driver_of dax0.0)"
	fi
	expect_eq "after the re-probe: blocks offlined and onlined" "8 OK 8 OK" "$(set_blocks dax0.0 offline) $(set_blocks dax0.0 online_movable)"
	expect_eq "after the re-probe: node 1 in $DT" "$DT" "$(tier_of 1)"
	obs tiers:end "$(tiers)"
	inv "at the end"
}

# --- memory groups (auto-movable) -------------------------------------------------------------
# split_three: with a 3 GiB dax0.0 (vm-run --dax=3G), dax0.0, dax0.1 and dax0.2 of 1 GiB each,
# bound to kmem (blocks offline).
split_three() {
	local region i
	region=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
	echo dax0.0 >$DRV/unbind && echo 0 >$DAX_BASE/dax0.0/size && echo $((1 << 30)) >$DAX_BASE/dax0.0/size || return 1
	for i in 1 2; do
		echo 1 >$region/create && echo $((1 << 30)) >$DAX_BASE/dax0.$i/size || return 1
	done
	for i in 0 1 2; do echo dax0.$i >$DRV/bind || return 1; done
}
scen_groups() {
	plan 38
	start
	expect_eq "online_policy from the command line" auto-movable "$(cat $P/online_policy)"
	check "split into dax0.0, dax0.1 and dax0.2 of 1 GiB (one static memory group each)" split_three
	inv "after the split" dax0.0 dax0.1 dax0.2
	# Not NUMA-aware: node 1 has no early kernel memory of its own; the system ratio applies.
	echo N >$P/auto_movable_numa_aware
	echo 301 >$P/auto_movable_ratio
	step_inv dax0.0 unplugged OK dax0.1 dax0.2
	step_inv dax0.1 unplugged OK dax0.0 dax0.2
	step_inv dax0.2 unplugged OK dax0.0 dax0.1
	step_inv dax0.0 online OK dax0.1 dax0.2
	expect_eq "ratio 301%: online puts the group in ZONE_MOVABLE" "8 online/Movable" "$(block_summary dax0.0)"
	step_inv dax0.0 unplugged OK dax0.1 dax0.2
	echo 20 >$P/auto_movable_ratio
	step_inv dax0.0 online_movable OK dax0.1 dax0.2
	step_inv dax0.0 unplugged OK dax0.1 dax0.2
	# 50% of ~3 GiB early kernel memory: one 1 GiB group fits in ZONE_MOVABLE, two do not.
	echo 50 >$P/auto_movable_ratio
	step_inv dax0.0 online OK dax0.1 dax0.2
	expect_eq "ratio 50%: the first group fits: Movable" "8 online/Movable" "$(block_summary dax0.0)"
	step_inv dax0.1 online OK dax0.0 dax0.2
	expect_eq "ratio 50%: the second group, counted with the first, does not: all of it Normal" "8 online/Normal" "$(block_summary dax0.1)"
	step_inv dax0.0 unplugged OK dax0.1 dax0.2
	step_inv dax0.0 online OK dax0.1 dax0.2
	expect_eq "ratio 50%, dax0.1 Normal: dax0.0 fits again: Movable" "8 online/Movable" "$(block_summary dax0.0)"
	step_inv dax0.0 unplugged OK dax0.1 dax0.2
	# 20%: about 600 MiB may be Movable; half of the group would fit, but a group is one unit.
	echo 20 >$P/auto_movable_ratio
	step_inv dax0.0 online OK dax0.1 dax0.2
	expect_eq "ratio 20%: the whole group Normal (4 of its 8 blocks alone would fit)" "8 online/Normal" "$(block_summary dax0.0)"
	# NUMA-aware (the default): node 1 has no kernel memory of its own, nothing on it is Movable.
	echo Y >$P/auto_movable_numa_aware
	echo 301 >$P/auto_movable_ratio
	step_inv dax0.2 online OK dax0.0 dax0.1
	expect_eq "NUMA-aware, ratio 301%: node 1 has no early kernel memory: Normal" "8 online/Normal" "$(block_summary dax0.2)"
}

# --- memmap_on_memory -------------------------------------------------------------------------
scen_memmap() {
	local grow size_kb=$((N0 * BS_KB)) mm_kb=$((BS / 4096 * 64 / 1024))
	plan 35
	start
	expect_eq "memory_hotplug.memmap_on_memory" Y "$(cat $P/memmap_on_memory)"
	expect_eq "memmap_on_memory=1 while bound: EBUSY (dax bus)" EBUSY "$(write_errno $DAX_BASE/dax0.0/memmap_on_memory 1)"
	expect_eq "memmap_on_memory still 0" 0 "$(cat $DAX_BASE/dax0.0/memmap_on_memory)"
	step_inv dax0.0 unplugged OK
	expect_eq "unbind" OK "$(write_errno $DRV/unbind dax0.0)"
	expect_eq "memmap_on_memory=1 on the unbound device" "OK 1" "$(write_errno $DAX_BASE/dax0.0/memmap_on_memory 1) $(cat $DAX_BASE/dax0.0/memmap_on_memory)"
	expect_eq "bind" OK "$(write_errno $DRV/bind dax0.0)"
	expect_eq "bound, blocks added offline" "offline $N0 offline/-" "$(cat $ST) $(block_summary dax0.0)"
	# 64-byte struct page: 2 MiB of memmap per 128 MiB block.
	MEMMAP_KB=$mm_kb
	inv "after bind with memmap_on_memory" dax0.0
	expect_eq "the same value while bound: OK" OK "$(write_errno $DAX_BASE/dax0.0/memmap_on_memory 1)"
	expect_eq "another value while bound: EBUSY" EBUSY "$(write_errno $DAX_BASE/dax0.0/memmap_on_memory 0)"
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	grow=$(($(memtotal_kb) - BASE_KB))
	diag "memmap on memory: MemTotal +$grow kB for $size_kb kB"
	obs memmap:grow_kb "$grow"
	check "MemTotal grew by less than the size ($grow < $size_kb kB)" [ "$grow" -lt "$size_kb" ]
	expect_eq "MemTotal grew by the size less $mm_kb kB of memmap per block" $((N0 * (BS_KB - mm_kb))) "$grow"
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	step_inv dax0.0 unplugged OK
	# The same device without the memmap on its memory: the full size.
	expect_eq "unbind" OK "$(write_errno $DRV/unbind dax0.0)"
	expect_eq "memmap_on_memory=0" "OK 0" "$(write_errno $DAX_BASE/dax0.0/memmap_on_memory 0) $(cat $DAX_BASE/dax0.0/memmap_on_memory)"
	expect_eq "bind" OK "$(write_errno $DRV/bind dax0.0)"
	MEMMAP_KB=0
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	expect_eq "memmap_on_memory=0: MemTotal grew by the full size" "$size_kb" "$(($(memtotal_kb) - BASE_KB))"
	step_inv dax0.0 unplugged OK
}

# --- reservation conflicts on a two-range device ------------------------------------------------
scen_conflict() {
	local R e log
	R=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
	sz() { write_errno $DAX_BASE/$1/size $(($2 * MIB)); }
	plan 35
	start
	step_inv dax0.0 unplugged OK
	expect_eq "unbind dax0.0" OK "$(write_errno $DRV/unbind dax0.0)"
	# dax0.1 takes [4.5G, 4.75G) and strands it: online, then unbound.
	e="$(sz dax0.0 0) $(sz dax0.0 512) $(write_errno $R/create 1) $(sz dax0.1 256)"
	expect_eq "dax0.0 512 MiB, new dax0.1 256 MiB after it" "OK OK OK OK" "$e"
	expect_eq "dax0.1 at 0x120000000" "0x120000000-0x12fffffff" "$(mapping dax0.1 0)"
	expect_eq "bind dax0.1" OK "$(write_errno $DRV/bind dax0.1)"
	step_inv dax0.1 unplugged OK
	step_inv dax0.1 online_movable OK
	expect_eq "unbind dax0.1 while online" OK "$(write_errno $DRV/unbind dax0.1)"
	expect_eq "stranded: dax0.1's range still reserved, its 2 blocks online" "1 2 online/Movable" "$(dev_reserved dax0.1) $(block_summary dax0.1)"
	inv "after stranding dax0.1"
	# dax0.0: [4G, 4.25G) and the stranded [4.5G, 4.75G), with dax0.2 as the gap.
	e="$(sz dax0.1 0) $(sz dax0.0 256) $(write_errno $R/create 1) $(sz dax0.2 256) $(sz dax0.0 512)"
	expect_eq "dax0.0 rebuilt around dax0.2" "OK OK OK OK OK" "$e"
	expect_eq "dax0.0: the second range over the stranded one" "0x100000000-0x10fffffff 0x120000000-0x12fffffff" "$(mapping dax0.0 0) $(mapping dax0.0 1)"
	dmesg -c >/dev/null
	expect_eq "bind dax0.0 (second range taken): partial success" OK "$(write_errno $DRV/bind dax0.0)"
	expect_eq "the first range added (2 blocks offline), the second not reserved" "offline 1 2 offline/-" "$(cat $ST) $(dev_reserved dax0.0) $(block_summary dax0.0)"
	log=$(kmem_log)
	diag "$log"
	obs conflict:bind_log "$log"
	expect_eq "logged once: mapping1 could not reserve region" 1 "$(dmesg | grep -c 'kmem dax0.0: mapping1: 0x120000000-0x12fffffff could not reserve region')"
	inv "after the partial bind" dax0.0
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	expect_eq "online: the first range only" "1 2 online/Movable" "$(dev_reserved dax0.0) $(block_summary dax0.0)"
	expect_eq "the online logged the conflict again" 2 "$(dmesg | grep -c 'kmem dax0.0: mapping1: 0x120000000-0x12fffffff could not reserve region')"
	step_inv dax0.0 unplugged OK
	# dax0.0: the stranded range first, then [4.25G, 4.5G): nothing may be kept.
	expect_eq "unbind dax0.0" OK "$(write_errno $DRV/unbind dax0.0)"
	e="$(sz dax0.0 0) $(sz dax0.2 0) $(sz dax0.2 512) $(sz dax0.0 256) $(sz dax0.2 256) $(sz dax0.0 512)"
	expect_eq "dax0.0 rebuilt: stranded range first" "OK OK OK OK OK OK" "$e"
	expect_eq "dax0.0: the first range over the stranded one" "0x120000000-0x12fffffff 0x110000000-0x11fffffff" "$(mapping dax0.0 0) $(mapping dax0.0 1)"
	dmesg -c >/dev/null
	e=$(write_errno $DRV/bind dax0.0)
	obs conflict:bind_first_taken "$e"
	expect_eq "bind dax0.0 (first range taken): EBUSY" EBUSY "$e"
	expect_eq "not bound, nothing reserved (the free second range not kept)" " 0" "$(driver_of dax0.0) $(dev_reserved dax0.0)"
	check "logged: mapping0 could not reserve region" dmesg_has "kmem dax0.0: mapping0: 0x120000000-0x12fffffff could not reserve region"
	inv "after the failed bind"
	obs conflict:iomem "$(iomem_names)"
}

# --- rmmod with a device online, then reload ----------------------------------------------------
scen_rmmod() {
	local log
	if [ "$KMEM_RS_MODE" = rust ]; then plan 28; else plan 27; fi
	start
	check "split into dax0.0 and dax0.1 of 1 GiB" split_two
	step_inv dax0.0 unplugged OK dax0.1
	step_inv dax0.0 online_movable OK dax0.1
	dmesg -c >/dev/null
	expect_eq "rmmod kmem with dax0.0 online and dax0.1 offline" OK "$(rmmod kmem 2>&1 && echo OK)"
	expect_eq "module gone, both unbound" "absent [] []" "$(module_state) [$(driver_of dax0.0)] [$(driver_of dax0.1)]"
	expect_eq "dax0.0 stranded (reserved, 8 blocks online), dax0.1 removed" "1 8 online/Movable 0 0 blocks" "$(dev_reserved dax0.0) $(block_summary dax0.0) $(dev_reserved dax0.1) $(block_summary dax0.1)"
	inv "after rmmod"
	log=$(kmem_log)
	diag "$log"
	obs rmmod:log "$log"
	expect_eq "one line names the stranded range" 1 "$(dmesg | grep -c 'kmem dax0.0: mapping0: 0x100000000-0x13fffffff stuck online until reboot')"
	expect_eq "/proc/iomem: only the stranded range" "dax0.0|System RAM (kmem)|" "$(iomem_names)"
	dmesg -c >/dev/null
	expect_eq "modprobe kmem" OK "$(modprobe kmem 2>&1 && echo OK)"
	check "reloaded the same driver" kmem_is_expected
	if [ "$KMEM_RS_MODE" = rust ]; then
		# Deliberate difference: the reload takes dax0.0's stranded range over.
		expect_eq "reload: dax0.1 bound again (offline), dax0.0 taken over (online_movable)" \
			"[kmem] online_movable kmem offline 8 offline/-" \
			"[$(driver_of dax0.0)] $(cat $DAX_BASE/dax0.0/state) $(driver_of dax0.1) $(cat $DAX_BASE/dax0.1/state) $(block_summary dax0.1)"
		check "the reload logged dax0.0's take-over" dmesg_has "kmem dax0.0: mapping0: 0x100000000-0x13fffffff taken over: left added by an earlier unbind"
		inv "after the reload" dax0.0 dax0.1
		obs rmmod:rebind "$(driver_of dax0.0)"
		expect_eq "dax0.0: unplugged (taken-over memory removed)" OK "$(write_errno $DAX_BASE/dax0.0/state unplugged)"
		inv "after dax0.0 unplugged" dax0.0 dax0.1
	else
		expect_eq "reload: dax0.1 bound again (offline), dax0.0 not" "[] kmem offline 8 offline/-" "[$(driver_of dax0.0)] $(driver_of dax0.1) $(cat $DAX_BASE/dax0.1/state) $(block_summary dax0.1)"
		check "the reload logged dax0.0's conflict" dmesg_has "kmem dax0.0: mapping0: 0x100000000-0x13fffffff could not reserve region"
		inv "after the reload" dax0.1
		e=$(write_errno $DRV/bind dax0.0)
		obs rmmod:rebind "$e"
		expect_eq "explicit bind of dax0.0: EBUSY" EBUSY "$e"
	fi
	step_inv dax0.1 unplugged OK
	step_inv dax0.1 online_movable OK
	step_inv dax0.1 unplugged OK
	expect_eq "rmmod kmem again (dax0.1 unplugged)" OK "$(rmmod kmem 2>&1 && echo OK)"
	if [ "$KMEM_RS_MODE" = rust ]; then
		expect_eq "/proc/iomem: nothing left" "" "$(iomem_names)"
	else
		expect_eq "/proc/iomem: still only the stranded range" "dax0.0|System RAM (kmem)|" "$(iomem_names)"
	fi
	inv "at the end"
}

# --- unbind and rmmod while an unplug retries -------------------------------------------------------
# bg_unplug: start `echo unplugged > state` in the background (pid in $w).
bg_unplug() { (echo unplugged >$ST) 2>/dev/null & w=$!; }
scen_retry() {
	local w u m rw ru rm t0 ms r
	plan 36
	start
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	# A: unbind waits for the retrying unplug; the hold is released 2 s later.
	check "hold a transient page" hold 0x100000000 0x13fffffff transient
	bg_unplug
	sleep 1
	t0=$(now_us)
	r=$( { timeout 5 cat $ST; } 2>&1)
	ms=$((($(now_us) - t0) / 1000))
	# (Not waiting for the unplug: a read that waited would time out after 5 s, since the hold
	# is released only later; the bound is the property, not a speed, which a loaded debug
	# kernel can take a second or more for.)
	expect_eq "state read while the unplug retries: the committed state, not waiting ($ms ms)" "online_movable 1" "$r $((ms < 4000))"
	(echo dax0.0 >$DRV/unbind) 2>/dev/null &
	u=$!
	sleep 2
	check "unbind waits: unplug and unbind still running after 2 s" alive $w $u
	t0=$(now_us)
	r=$( { timeout 5 cat $ST; } 2>&1)
	ms=$((($(now_us) - t0) / 1000))
	case "$r" in *"No such device"*) r=ENODEV ;; *"No such file"*) r=ENOENT ;; esac
	diag "state read during the unbind: '$r' in $ms ms"
	obs retry:read_during_unbind "$r"
	check "reading state during the unbind does not wait for it ($ms ms)" [ "$ms" -lt 4000 ]
	release >/dev/null
	t0=$(now_us)
	wait $w
	rw=$?
	wait $u
	ru=$?
	diag "unplug and unbind done $((($(now_us) - t0) / 1000)) ms after the release"
	expect_eq "after the release: the unplug and the unbind completed" "0 0" "$rw $ru"
	expect_eq "unbound, nothing left" "[] 0 0 0 blocks" "[$(driver_of dax0.0)] $(kmem_ram_count) $(dev_reserved dax0.0) $(block_summary dax0.0)"
	inv "after the unbind"
	# B: rmmod waits the same way.
	expect_eq "bind dax0.0 again" OK "$(write_errno $DRV/bind dax0.0)"
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	check "hold a transient page" hold 0x100000000 0x13fffffff transient
	bg_unplug
	sleep 1
	rmmod kmem >/tmp/rmmod.out 2>&1 &
	m=$!
	sleep 2
	check "rmmod waits: unplug and rmmod still running after 2 s" alive $w $m
	release >/dev/null
	wait $w
	rw=$?
	wait $m
	rm=$?
	diag "rmmod: $(cat /tmp/rmmod.out)"
	expect_eq "after the release: the unplug and rmmod completed" "0 0" "$rw $rm"
	expect_eq "module gone, nothing left" "absent 0 0" "$(module_state) $(kmem_ram_count) $(dev_reserved dax0.0)"
	inv "after rmmod"
	# C: SIGKILL to the retrying unplug while the unbind waits: the unbind strands the memory.
	expect_eq "modprobe kmem" OK "$(modprobe kmem 2>&1 && echo OK)"
	expect_eq "reloaded, dax0.0 bound offline" "kmem offline" "$(driver_of dax0.0) $(cat $ST)"
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	check "hold a transient page" hold 0x100000000 0x13fffffff transient
	bg_unplug
	sleep 1
	dmesg -c >/dev/null
	(echo dax0.0 >$DRV/unbind) 2>/dev/null &
	u=$!
	sleep 2
	check "unbind waits: unplug and unbind still running after 2 s" alive $w $u
	t0=$(now_us)
	kill -9 $w
	wait $w 2>/dev/null
	rw=$?
	wait $u
	ru=$?
	ms=$((($(now_us) - t0) / 1000))
	expect_eq "the unplug killed, the unbind completed" "137 0" "$rw $ru"
	check "the unbind completed within 5 s of the SIGKILL ($ms ms)" [ "$ms" -lt 5000 ]
	expect_eq "stranded: unbound, reserved, 8 blocks online" "[] 1 8 online/Movable" "[$(driver_of dax0.0)] $(dev_reserved dax0.0) $(block_summary dax0.0)"
	inv "after the stranding unbind"
	check "logged: stuck online until reboot" dmesg_has "kmem dax0.0: mapping0: 0x100000000-0x13fffffff stuck online until reboot"
	expect_eq "the held page intact" intact "$(held_data)"
}

# --- SIGKILL during hot-add ---------------------------------------------------------------------------
scen_killadd() {
	local r w rc at t0 ms killed=0
	plan $((4 + 4 * 3))
	start
	step_inv dax0.0 unplugged OK
	for r in 1 2 3; do
		t0=$(now_us)
		(echo online_movable >$ST) 2>/dev/null &
		w=$!
		# Once the range is in /proc/iomem the write is inside the hot-add: kill it at once.
		until grep -q 'System RAM (kmem)' /proc/iomem || ! alive $w; do :; done
		kill -9 $w
		# (One state file a word: sysfs names.)
		# shellcheck disable=SC2046
		at=$(grep -ls '^online' $(dev_blocks dax0.0 | sed "s|^|$MEM_BASE/|; s|$|/state|") </dev/null | wc -l)
		wait $w 2>/dev/null
		rc=$?
		[ $rc = 137 ] && killed=$((killed + 1))
		ms=$((($(now_us) - t0) / 1000))
		diag "round $r: SIGKILL, then $at of $N0 blocks online; writer exit $rc; $ms ms"
		expect_eq "round $r: the hot-add ran to completion" "online_movable $N0 online/Movable" "$(cat $ST) $(block_summary dax0.0)"
		obs "killadd:$r" "$(cat $ST) $(block_summary dax0.0)"
		inv "after SIGKILL during hot-add, round $r" dax0.0
		step_inv dax0.0 unplugged OK
	done
	check "the SIGKILL hit the writer inside the hot-add ($killed of 3 rounds)" [ $killed -ge 1 ]
}

# --- two devices of one region in parallel ---------------------------------------------------------------
scen_concurrent() {
	local rounds=${2:-3} r pair e p bad t0 s0 s1
	plan $((7 + rounds))
	start
	check "split into dax0.0 and dax0.1 of 1 GiB" split_two
	step_inv dax0.0 unplugged OK dax0.1
	step_inv dax0.1 unplugged OK dax0.0
	for ((r = 1; r <= rounds; r++)); do
		bad=""
		t0=$(now_us)
		for pair in "online_movable online_movable" "unplugged unplugged" "online_movable unplugged" \
			"unplugged online_movable" "online_movable online_movable" "unplugged unplugged"; do
			set -- $pair
			e=$(par dax0.0 "$1" dax0.1 "$2")
			s0=$(cat $DAX_BASE/dax0.0/state)
			s1=$(cat $DAX_BASE/dax0.1/state)
			[ "$e" = "OK OK" ] || bad="$bad [$pair: $e]"
			[ "$s0 $s1" = "$1 $2" ] || bad="$bad [$pair: states $s0 $s1]"
			p=$(problems dax0.0 dax0.1 | tr '\n' ';')
			[ -z "$p" ] || bad="$bad [$pair: $p]"
			obs "concurrent:$r:$1:$2" "$e $(block_summary dax0.0) | $(block_summary dax0.1)"
		done
		diag "round $r: $((($(now_us) - t0) / 1000)) ms"
		expect_eq "round $r: six parallel steps, each write OK, both states as written, invariants hold" "" "$bad"
	done
	inv "at the end" dax0.0 dax0.1
}

# --- data survives failed unplugs -------------------------------------------------------------------------
scen_data() {
	local sum before n1 w
	plan 25
	start
	step_inv dax0.0 unplugged OK
	step_inv dax0.0 online_movable OK
	mkdir -p /mnt/n1
	check "tmpfs with mpol=bind:1" mount -t tmpfs -o size=256m,mpol=bind:1 tmpfs /mnt/n1
	check "file a: 64 MiB of random data" dd if=/dev/urandom of=/mnt/n1/a bs=1M count=64 2>/dev/null
	n1=$(node_shmem 1)
	check "file a is on node 1 (node 1 Shmem $n1 kB)" [ "${n1:-0}" -ge $((60 * 1024)) ]
	sum=$(sums /mnt/n1)
	before=$(snapshot dax0.0)
	# The hold in the last block: the first seven blocks are offlined (their pages migrated
	# to node 0) before the unplug fails and onlines them again.
	check "hold a reserved page in the last block" hold 0x138000000 0x13fffffff reserved
	expect_eq "unplug fails: EBUSY" EBUSY "$(write_errno $ST unplugged)"
	expect_eq "rolled back: state, every block's state and zone, MemTotal" "$before" "$(snapshot dax0.0)"
	inv "after the failed unplug" dax0.0
	diag "node 1 Shmem after the failed unplug: $(node_shmem 1) kB"
	expect_eq "file a intact after the failed unplug" "$sum" "$(sums /mnt/n1)"
	expect_eq "the held page intact" intact "$(held_data)"
	check "file b: 64 MiB of random data" dd if=/dev/urandom of=/mnt/n1/b bs=1M count=64 2>/dev/null
	n1=$(node_shmem 1)
	check "file b is on node 1 (node 1 Shmem $n1 kB)" [ "${n1:-0}" -ge $((60 * 1024)) ]
	sum=$(sums /mnt/n1)
	check "hold a transient page" hold 0x100000000 0x13fffffff transient
	bg_unplug
	sleep 2
	check "the unplug retries" alive $w
	kill -9 $w
	wait $w 2>/dev/null
	expect_eq "SIGKILL: rolled back exactly" "$before" "$(snapshot dax0.0)"
	inv "after the aborted unplug" dax0.0
	diag "node 1 Shmem after the aborted unplug: $(node_shmem 1) kB"
	expect_eq "files a and b intact after the aborted unplug" "$sum" "$(sums /mnt/n1)"
	expect_eq "the held page intact" intact "$(held_data)"
	step_inv dax0.0 unplugged OK
	expect_eq "files a and b intact after the unplug, node 1 without file pages" "$sum 0" "$(sums /mnt/n1) $(node_shmem 1)"
	umount /mnt/n1
}

case "$SCEN" in
tiers | groups | memmap | conflict | rmmod | retry | killadd | concurrent | data) "scen_$SCEN" "$@" ;;
*)
	plan 1
	not_ok "unknown scenario '$SCEN' (tiers groups memmap conflict rmmod retry killadd concurrent data)"
	;;
esac
finish
