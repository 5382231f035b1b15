# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --cxl): CXL Type 3 volatile memory through the kernel's CXL stack.  A RAM
# region is created by `cxl create-region -t ram` where the run's cxl tool can (ndctl 77 or
# later: the image's and Debian 13's are 81), otherwise through the sysfs ABI
# (Documentation/ABI/testing/sysfs-bus-cxl; Debian 12's ndctl 76.1, KMEM_CXL=/opt/ndctl-76.1,
# answers "not supported yet"); dax_cxl makes a kmem-type dax device of it on the window's NUMA node, and
# kmem binds it.  One scenario per boot:
#   life        cxl list; the device's life through `state`; the orderly teardown (unplug,
#               decommit, delete), after which the memdev makes a new region
#   data        data on CXL memory (2 x 16 MiB) survives a failed unplug, and a successful unplug of a
#               movable device migrates it off
#   tiers       the CXL node's memory tier is below DRAM's; demotion from node 0 to the CXL
#               node under (proactive) reclaim; an unplug migrates the demoted pages back
#               (boot with rootfstype=ramfs: see scripts/check.sh)
#   teardown    the region decommitted while the device is online, then its memory used
#   teardown-held  the same with a page the unplug cannot move
#   interleave  (--cxl=SIZE,2) one region 2-way interleaved over two memdevs, split into two
#               dax devices transitioned at the same time
#   regions     (--cxl=SIZE,2 --cxl-bridges) two windows, a region in each: two dax devices on
#               two nodes transitioned at the same time
#   policy      (--append=memhp_default_state=online) the distribution's online-at-probe policy,
#               and (Rust) kmem.online_type=online_movable on top of it
. /test/lib.sh
# The cxl tool: the guest image's (ndctl 81 with contrib/ndctl's series, which unplugs a
# region's dax devices through state), else the run's: Debian 13's (ndctl 81; vm-run
# --file=build/ndctl81 in the project's guests, --file=build/distro-cxl in Debian's), the
# series' (--file=build/ndctl-patched), or KMEM_CXL=/opt/ndctl-76.1: Debian 12's, which cannot
# make RAM regions (they are made through sysfs).  CXLTOOL: which one.
CXLTOOL=image
for d in /test/distro-cxl /test/ndctl81 /test/ndctl-patched ${KMEM_CXL:-}; do
	[ -x "$d/cxl" ] || continue
	CXLTOOL=$(basename "$d") PATH=$d:$PATH
done
# PATCHED_CXL: the tool is the series'.
PATCHED_CXL=no
case $CXLTOOL in image | ndctl-patched) PATCHED_CXL=yes ;; esac
SCEN=$1
C=/sys/bus/cxl/devices
NODES=/sys/devices/system/node
MIB=$((1 << 20))

# --- the sysfs region ABI (endpoint_decoder, memdevs_of, region_create: guest lib.sh) -------
# region_delete [REGION]: decommit the region (its dax device goes away), delete it from its
# root decoder, free its endpoint decoders' DPA.
region_delete() {
	local r=${1:-$REGION} k eps="" root d
	# With the series' cxl: cxl disable-region, then destroy-region.  (Debian 13's cannot
	# disable a region whose device is unplugged without --force: scen_tool.)
	if [ $PATCHED_CXL = yes ]; then
		cxl disable-region "$r" && cxl destroy-region "$r"
		return
	fi
	for ((k = 0; k < $(cat $C/$r/interleave_ways); k++)); do eps+=" $(cat $C/$r/target$k)"; done
	root=$(basename "$(dirname "$(readlink -f $C/$r)")")
	echo 0 >$C/$r/commit || return 1
	echo "$r" >$C/$root/delete_region || return 1
	for d in $eps; do echo 0 >$C/$d/dpa_size || return 1; done
}
# cxl_makes_ram_regions: the guest's cxl tool creates RAM regions (ndctl 77 or later).
cxl_makes_ram_regions() {
	local v
	v=$(cxl version 2>/dev/null) || return 1
	[ "${v%%.*}" -ge 77 ] 2>/dev/null
}
# region_make WAYS PER_DEV_BYTES: a RAM region over the first WAYS memdevs of decoder0.0, as
# region_create (guest lib.sh) sets REGION and DAX, made by `cxl create-region -t ram` where the
# tool can, otherwise by region_create through sysfs; MADE_BY says which.
region_make() {
	local i m mds
	MADE_BY=sysfs
	cxl_makes_ram_regions || { region_create "$@"; return; }
	MADE_BY="cxl create-region"
	# (No process substitution: the project's guests have no /dev/fd.)
	read -r -a mds <<<"$(memdevs_of decoder0.0 | head -n "$1" | tr '\n' ' ')"
	[ "${#mds[@]}" = "$1" ] || return 1
	REGION=$(cxl create-region -m -t ram -d decoder0.0 -w "$1" -g 4096 -s $(($1 * $2)) "${mds[@]}" |
		sed -nE 's/.*"region":"(region[0-9]+)".*/\1/p')
	[ -n "$REGION" ] || return 1
	# (The tool enabled the region: its dax device comes as region_create waits for it.)
	for ((i = 0; i < 200; i++)); do
		DAX=$(basename "$(ls -d $C/$REGION/dax_region*/dax*.* 2>/dev/null | head -n1)" 2>/dev/null)
		m=$DAX_BASE/$DAX/mapping0
		[ -n "$DAX" ] && [ -e $DAX_BASE/$DAX/driver ] && [ -e $m/start ] && [ -e $m/page_offset ] && return 0
		sleep 0.05
	done
	return 1
}
vmstat() { awk -v k="$1" '$1 == k {print $2}' /proc/vmstat; }
# look DAX WANT_STATE WANT_BLOCKS WANT_DELTA_KB: state, blocks, MemTotal and the CXL node's
# MemTotal (both relative to the baseline BASE_KB) as expected.
look() {
	local got
	got="$(cat $DAX_BASE/$1/state) $(block_summary "$1") +$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
	expect_eq "$1: state, blocks, MemTotal, node $NODE MemTotal" "$2 $3 +$4 node$NODE=$4" "$got"
	obs "$SCEN:look:$1" "$got"
}
blocks_of() { block_summary "$1" | awk '{print $1}'; }
# range_of DAX: "START END" of its first mapping, for kmem_holdpage.
range_of() { echo "$(cat $DAX_BASE/$1/mapping0/start) $(cat $DAX_BASE/$1/mapping0/end)"; }

# setup WAYS [MEMDEVS]: the memdevs and the root decoder as cxl lists them, a region, its dax device bound
# to the kmem under test on the window's node.  9 results.
setup() {
	local ways=${1:-1} memdevs=${2:-${1:-1}} per list n i
	per=$((512 * MIB))
	# A kernel with the CXL drivers as modules (Debian's): no udev in the guest loads them. The
	# memdevs and their endpoints appear asynchronously.
	modprobe -q -a cxl_acpi cxl_pci cxl_mem dax_cxl 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		n=$(ls -d $C/endpoint*/decoder*.0 2>/dev/null | wc -l)
		[ "$n" -ge "$memdevs" ] && break
		sleep 0.05
	done
	list=$(cxl list -M 2>&1)
	n=$(grep -c '"memdev":"mem' <<<"$list")
	expect_eq "cxl list -M: $memdevs memdev(s)" "$memdevs" "$n"
	list=$(cxl list -D -d root 2>&1)
	check "cxl list -D -d root: decoder0.0, volatile capable" \
		contains "$(tr -d ' \n' <<<"$list")" '"decoder":"decoder0.0".*"volatile_capable":true'
	diag "cxl $(cxl version), memdev size $(cat $C/mem0/ram/size 2>/dev/null)"
	per=$(($(cat $C/mem0/ram/size)))
	# The baseline: MemTotal before the region exists.
	BASE_KB=$(memtotal_kb)
	check "a ${ways}-way RAM region of $((ways * per / MIB)) MiB, committed, its dax device bound" region_make "$ways" "$per"
	diag "$REGION -> $DAX ($(readlink -f $DAX_BASE/$DAX))"
	# ndctl 81's cxl makes the region; ndctl 76.1's cannot: it is made through sysfs.
	if [ "$CXLTOOL" = ndctl-76.1 ]; then
		expect_eq "the region made through sysfs (Debian 12's cxl: ndctl 76.1)" "76.1 sysfs" "$(cxl version) ${MADE_BY:-}"
	else
		expect_eq "the region made by cxl create-region ($CXLTOOL: ndctl 81)" "81 cxl create-region" "$(cxl version | cut -d- -f1) ${MADE_BY:-}"
	fi
	expect_eq "$REGION committed, ${ways}-way" "1 $ways" "$(cat $C/$REGION/commit) $(cat $C/$REGION/interleave_ways)"
	NODE=$(cat $DAX_BASE/$DAX/target_node)
	# The SRAT describes node 0 only: the CFMWS window gets a node of its own.
	expect_eq "$DAX on the window's own node" 1 "$NODE"
	expect_eq "$DAX: $((ways * per / MIB)) MiB, bound to kmem" "$((ways * per)) kmem" "$(cat $DAX_BASE/$DAX/size) $(driver_of $DAX)"
	# A kmem-type device (its region has IORESOURCE_DAX_KMEM): bound to kmem at creation, no
	# explicit bind; daxctl sees it as system-ram.
	check "daxctl list: $DAX in system-ram mode" contains "$(daxctl list -d $DAX 2>&1 | tr -d ' \n')" '"mode":"system-ram"'
	NB=$((ways * per / $(block_size)))
	obs "$SCEN:setup" "$REGION ways=$ways $DAX node=$NODE size=$(cat $DAX_BASE/$DAX/size)"
	# At probe: the system's policy (auto_online_blocks): the project's kernels add offline;
	# Debian's kernel onlines (into ZONE_NORMAL: the window's node has no other memory), as
	# memhp_default_state=online does; the Rust driver's online_type can override.
	local auto
	rd auto $MEM_BASE/auto_online_blocks
	case $auto in
	online | online_kernel) PROBE="$auto $NB online/Normal" ;;
	online_movable) PROBE="online_movable $NB online/Movable" ;;
	*) PROBE="offline $NB offline/-" ;;
	esac
	case " $(cat /proc/cmdline) " in
	*" kmem.online_type=online_movable "*) PROBE="online_movable $NB online/Movable" ;;
	esac
	expect_eq "$DAX at probe: ${PROBE% *}" "$PROBE" "$(cat $DAX_BASE/$DAX/state) $(block_summary $DAX)"
}

scen_life() {
	plan $((9 + 23))
	setup 1
	local kb=$((NB * $(block_size) / 1024))
	step $DAX unplugged OK
	look $DAX unplugged "0 blocks" 0
	step $DAX online_movable OK
	look $DAX online_movable "$NB online/Movable" $kb
	check "node $NODE has memory" in_list "$NODE" $NODES/has_memory
	step $DAX unplugged OK
	look $DAX unplugged "0 blocks" 0
	# Re-plug.  (Not into ZONE_NORMAL: kernel allocations there would pin the memory, and the
	# orderly teardown below needs a successful unplug.)
	step $DAX online_movable OK
	look $DAX online_movable "$NB online/Movable" $kb
	# --- the orderly teardown: unplug first, then decommit and delete the region -------------
	step $DAX unplugged OK
	look $DAX unplugged "0 blocks" 0
	local old=$DAX
	check "decommit and delete $REGION, free the DPA" region_delete
	check "$old is gone with its region" [ ! -e $DAX_BASE/$old ]
	expect_eq "nothing stranded: MemTotal at baseline, node $NODE empty" "0 0" "$(($(memtotal_kb) - BASE_KB)) $(node_memtotal $NODE)"
	check "no dmesg line about memory stuck online" bash -c '! dmesg | grep -q "stuck online"'
	# The memdev is free again: a new region, a new dax device, bound.
	check "the memdev makes a new region" region_make 1 $(($(cat $C/mem0/ram/size)))
	diag "new region $REGION -> $DAX"
	expect_eq "the new device: offline at probe, bound to kmem" "offline $NB offline/- kmem" "$(cat $DAX_BASE/$DAX/state) $(block_summary $DAX) $(driver_of $DAX)"
	step $DAX unplugged OK
	step $DAX online_movable OK
	look $DAX online_movable "$NB online/Movable" $kb
	step $DAX unplugged OK
	look $DAX unplugged "0 blocks" 0
	step $DAX online_movable OK
}

scen_data() {
	plan $((9 + 17))
	setup 1
	step $DAX unplugged OK
	step $DAX online_movable OK
	mkdir -p /mnt/cxl
	check "tmpfs with mpol=bind:$NODE" mount -t tmpfs -o size=256m,mpol=bind:$NODE tmpfs /mnt/cxl
	local t0 sum before n
	t0=$(now_us)
	check "file a: 16 MiB of random data on node $NODE" dd if=/dev/urandom of=/mnt/cxl/a bs=1M count=16 2>/dev/null
	diag "wrote 16 MiB to CXL memory in $((($(now_us) - t0) / 1000)) ms"
	n=$(node_shmem $NODE)
	check "file a is on node $NODE (Shmem there $n kB)" [ "$n" -ge $((15 * 1024)) ]
	sum=$(sums /mnt/cxl)
	before=$(snapshot $DAX)
	# A page held in the last block: the unplug offlines (migrates) the others, then fails.
	read -r _ e <<<"$(range_of $DAX)"
	check "hold a reserved page in the device's last block" hold "$(printf '%#x' $((e + 1 - $(block_size))))" "$e" reserved
	expect_eq "unplug fails: EBUSY" EBUSY "$(write_errno $DAX_BASE/$DAX/state unplugged)"
	expect_eq "rolled back exactly: state, every block, MemTotal" "$before" "$(snapshot $DAX)"
	obs "$SCEN:failed-unplug" "$(cat $DAX_BASE/$DAX/state) $(block_summary $DAX)"
	expect_eq "file a intact after the failed unplug" "$sum" "$(sums /mnt/cxl)"
	expect_eq "the held page intact" intact "$(held_data)"
	check "file b: 16 MiB more on node $NODE" dd if=/dev/urandom of=/mnt/cxl/b bs=1M count=16 2>/dev/null
	sum=$(sums /mnt/cxl)
	# (The failed unplug migrated file a's pages in the blocks it offlined to node 0.)
	n=$(node_shmem $NODE)
	diag "node $NODE Shmem before the unplug: $n kB"
	check "file b is on node $NODE" [ "$n" -ge $((15 * 1024)) ]
	t0=$(now_us)
	step $DAX unplugged OK
	diag "unplug with $n kB to migrate: $((($(now_us) - t0) / 1000)) ms"
	expect_eq "both files intact, migrated off (node $NODE without memory)" "$sum 0" "$(sums /mnt/cxl) $(node_memtotal "$NODE")"
	expect_eq "their pages now on node 0" 1 "$([ "$(node_shmem 0)" -ge $((32 * 1024)) ] && echo 1)"
	step $DAX online_movable OK
	expect_eq "files intact after the re-plug" "$sum" "$(sums /mnt/cxl)"
}

scen_tiers() {
	plan $((9 + 12))
	setup 1
	step $DAX unplugged OK
	step $DAX online_movable OK
	local t0 t1 sum d0 d1 n
	t0=$(tier_of 0) t1=$(tier_of $NODE)
	diag "tiers: node 0 in $t0, node $NODE in $t1"
	obs "$SCEN:tiers" "node0=$t0 node$NODE=$t1"
	own_tier() { [ "$t1" != none ] && [ "$t1" != "$t0" ]; }
	check "node $NODE in a tier of its own" own_tier
	check "the CXL node's tier is below DRAM's (${t1#memory_tier} > ${t0#memory_tier})" [ "${t1#memory_tier}" -gt "${t0#memory_tier}" ]
	expect_eq "demotion_enabled on" OK "$(write_errno /sys/kernel/mm/numa/demotion_enabled 1)"
	mkdir -p /mnt/cxl
	check "tmpfs on node 0 (mpol=bind:0)" mount -t tmpfs -o size=256m,mpol=bind:0 tmpfs /mnt/cxl
	check "file a: 64 MiB of random data on node 0" dd if=/dev/urandom of=/mnt/cxl/a bs=1M count=64 2>/dev/null
	sum=$(sums /mnt/cxl)
	d0=$(vmstat pgdemote_proactive)
	# Proactive reclaim of node 0 (the reclaim that pressure runs, without the minutes of
	# filling 3 GiB under TCG): with demotion on and a lower tier, anonymous and shmem pages
	# are demoted, not dropped (there is no swap).  A node's reclaim runs only when its page
	# cache is above min_unmapped_pages; with RECLAIM_UNMAP (zone_reclaim_mode 4) shmem counts.
	# EAGAIN: less than asked for was reclaimed; the demotion counter tells what happened.
	#
	# From the reclaim to the unplug that migrates the demoted pages back, this shell forks
	# nothing (builtins only): reclaim also demotes its own stack pages, and a signal (SIGCHLD)
	# then makes the kernel XSAVE the FPU state into a signal frame on that stack, in emulated
	# CXL memory, which crashes QEMU 10.0.2's TCG now and then (SIGSEGV in access_stq).
	local e=OK u=OK k v err
	echo 4 >/proc/sys/vm/zone_reclaim_mode
	# (The errno of a failed write, read with builtins: errno_name forks nothing.)
	if ! echo 32M 2>/tmp/reclaim.err >$NODES/node0/reclaim; then
		read -r err </tmp/reclaim.err
		errno_name "$err"
		e=$E
	fi
	echo 0 >/proc/sys/vm/zone_reclaim_mode
	while read -r k v; do [ "$k" = pgdemote_proactive ] && d1=$v; done </proc/vmstat
	n=0
	while read -r _ _ k v _; do [ "$k" = Shmem: ] && n=$v; done <$NODES/node$NODE/meminfo
	echo unplugged 2>/tmp/unplug.err >$DAX_BASE/$DAX/state || u=ERR
	# Forks are safe again: every page of node $NODE is back on node 0.
	check "proactive reclaim of 32 MiB on node 0: OK or EAGAIN ($e$([ $e = OK ] || echo ": $(cat /tmp/reclaim.err)"))" \
		contains "$e" '^(OK|EAGAIN)$'
	diag "pgdemote_proactive $d0 -> $d1, node $NODE Shmem $n kB"
	demoted() { [ $((d1 - d0)) -gt 0 ] && [ "$n" -gt 0 ]; }
	check "pages demoted to node $NODE ($((d1 - d0)) pages; Shmem there $n kB)" demoted
	obs "$SCEN:demoted" "$([ "$n" -gt 0 ] && echo yes)"
	expect_eq "$DAX: unplugged -> OK (with the demoted pages on it)" OK "$u$(cat /tmp/unplug.err)"
	obs "$SCEN:$DAX:unplugged" "$u $(cat $DAX_BASE/$DAX/state) $(block_summary $DAX)"
	expect_eq "the unplug migrated them back: file intact, node $NODE without memory" "$sum 0" "$(sums /mnt/cxl) $(node_memtotal "$NODE")"
	expect_eq "demotion_enabled off" OK "$(write_errno /sys/kernel/mm/numa/demotion_enabled 0)"
}

# The region is torn down while its device's memory is online, with data on it.  The CXL core
# unbinds the region's dax device (kmem's unbind), then resets the region's decoders: memory
# still online is then backed by nothing (under QEMU reads return zeroes, writes are dropped).
# The C driver leaves it online; the Rust driver sees its device deleted (not merely unbound)
# and unplugs it first, migrating the data off; teardown-held pins a page so that this unplug
# fails, and the Rust driver says which region took the memory away.
zeroes() { [ "$(tr -d '\0' <"$1" | wc -c)" = 0 ]; }
scen_teardown() {
	local held=0
	[ "$SCEN" = teardown-held ] && held=1
	plan $((9 + 7 + held + 5))
	setup 1
	step $DAX unplugged OK
	step $DAX online_movable OK
	mkdir -p /mnt/cxl
	check "tmpfs with mpol=bind:$NODE" mount -t tmpfs -o size=256m,mpol=bind:$NODE tmpfs /mnt/cxl
	check "file a: 16 MiB of random data on node $NODE" dd if=/dev/urandom of=/mnt/cxl/a bs=1M count=16 2>/dev/null
	local sum old=$DAX e up kb=$((NB * $(block_size) / 1024))
	sum=$(sums /mnt/cxl)
	if [ $held = 1 ]; then
		read -r _ e <<<"$(range_of $DAX)"
		check "hold a reserved page in the device's last block" hold "$(printf '%#x' $((e + 1 - $(block_size))))" "$e" reserved
	fi
	dmesg -c >/dev/null
	expect_eq "decommit $REGION while $old is online" OK "$(write_errno $C/$REGION/commit 0)"
	expect_eq "$old is gone, $REGION's decoders are reset (commit 0)" "gone 0" "$([ -e $DAX_BASE/$old ] || echo gone) $(cat $C/$REGION/commit)"
	local log
	log=$(dmesg)
	sed 's/^/# dmesg: /' <<<"$log"
	up=$(($(memtotal_kb) - BASE_KB))
	diag "after the decommit: MemTotal +$up kB, node $NODE MemTotal $(node_memtotal $NODE) kB, Shmem $(node_shmem $NODE) kB"
	obs "$SCEN:after-decommit" "+$up node$NODE=$(node_memtotal $NODE)"
	local a b
	a=$(zeroes /mnt/cxl/a && echo zeroes || { [ "$(sums /mnt/cxl)" = "$sum" ] && echo intact || echo changed; })
	diag "file a after the decommit: $a"
	obs "$SCEN:file-a" "$a"
	# Use the memory: new pages on the node, written and read back.
	dd if=/dev/urandom of=/tmp/b bs=1M count=8 2>/dev/null
	check "file b: 8 MiB copied to node $NODE's tmpfs" cp /tmp/b /mnt/cxl/b
	b=$(zeroes /mnt/cxl/b && echo zeroes || { cmp -s /tmp/b /mnt/cxl/b && echo intact || echo changed; })
	diag "file b read back: $b"
	obs "$SCEN:file-b" "$b"
	if [ "$KMEM_RS_MODE" = c ] || [ $held = 1 ]; then
		# The memory stays online, stranded: the reference driver's behaviour (and the Rust
		# driver's when the unplug cannot move a page).
		expect_eq "stranded: MemTotal and node $NODE still +$kb kB" "+$kb node$NODE=$kb" "+$up node$NODE=$(node_memtotal $NODE)"
		check "dmesg: stuck online until reboot" contains "$log" "$old: Hotplug regions stuck online until reboot"
		expect_eq "data on the stranded memory is lost (reads return zeroes)" zeroes "$b"
		if [ $held = 1 ]; then
			check "dmesg: the unplug at unbind failed" contains "$log" "$old: unbind: unplug failed"
			check "dmesg: the device's provider named" contains "$log" "$old: deleted by its provider \(dax_region[0-9]+, under $REGION\) with memory online"
		else
			check "dmesg: no unplug was tried" bash -c "! grep -q 'unbind: ' <<<'$log'"
			expect_eq "file a lost too (reads return zeroes)" zeroes "$a"
		fi
	else
		expect_eq "unplugged at unbind: MemTotal at baseline, node $NODE empty" "+0 node$NODE=0" "+$up node$NODE=$(node_memtotal $NODE)"
		check "dmesg: unbind: memory unplugged" contains "$log" "$old: unbind: memory unplugged"
		check "dmesg: nothing stuck online" bash -c "! grep -q 'stuck online' <<<'$log'"
		expect_eq "file a intact: migrated off before the decoders were reset" intact "$a"
		expect_eq "file b intact (on node 0: the CXL node has no memory)" intact "$b"
	fi
}

# One region interleaved over two memdevs (2-way, 4 KiB granularity: consecutive 4 KiB go to
# alternate devices), its dax device rebuilt as two devices of half the size through the dax
# region's create/size files, both bound, their transitions written at the same time.
# three_rounds: unplugged and online_movable written to D0 and D1 at once, three times.  6 results.
three_rounds() {
	local r e
	for r in 1 2 3; do
		for v in unplugged online_movable; do
			e=$(par "$D0" "$v" "$D1" "$v")
			expect_eq "round $r, at once: $D0 and $D1 $v" "OK OK $v $v" "$e $(cat $DAX_BASE/$D0/state) $(cat $DAX_BASE/$D1/state)"
			obs "$SCEN:$r:$v" "$e $(block_summary $D0) | $(block_summary $D1)"
		done
	done
}
scen_interleave() {
	plan $((9 + 14))
	setup 2
	local half drv=/sys/bus/dax/drivers/kmem region kb
	half=$(($(cat $DAX_BASE/$DAX/size) / 2))
	kb=$((half / 1024))
	expect_eq "both memdevs are targets of $REGION" "$(endpoint_decoders | tr '\n' ' ')" "$(cat $C/$REGION/target0) $(cat $C/$REGION/target1) "
	region=$(dirname "$(readlink -f $DAX_BASE/$DAX)")/dax_region
	D0=$DAX
	check "$D0 unbound and shrunk to half, a second device of the other half" bash -c "
		echo $D0 >$drv/unbind && echo 0 >$DAX_BASE/$D0/size && echo $half >$DAX_BASE/$D0/size &&
		echo 1 >$region/create"
	D1=$(cat $region/seed)
	check "$D1 sized, both bound" bash -c "echo $half >$DAX_BASE/$D1/size && echo $D0 >$drv/bind && echo $D1 >$drv/bind"
	diag "$D0 $(cat $DAX_BASE/$D0/mapping0/start)-$(cat $DAX_BASE/$D0/mapping0/end), $D1 $(cat $DAX_BASE/$D1/mapping0/start)-$(cat $DAX_BASE/$D1/mapping0/end)"
	expect_eq "both bound to kmem, offline" "kmem kmem offline offline" "$(driver_of $D0) $(driver_of $D1) $(cat $DAX_BASE/$D0/state) $(cat $DAX_BASE/$D1/state)"
	three_rounds
	expect_eq "both online: MemTotal and node $NODE +$((2 * kb)) kB" "+$((2 * kb)) node$NODE=$((2 * kb))" \
		"+$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
	mkdir -p /mnt/cxl
	mount -t tmpfs -o size=256m,mpol=bind:$NODE tmpfs /mnt/cxl
	check "16 MiB of data on the interleaved memory, read back" bash -c "
		dd if=/dev/urandom of=/tmp/a bs=1M count=16 2>/dev/null && cp /tmp/a /mnt/cxl/a && cmp /tmp/a /mnt/cxl/a"
	expect_eq "at once: both unplugged (the data migrated off)" "OK OK" "$(par "$D0" unplugged "$D1" unplugged)"
	check "the data intact after the unplug" cmp /tmp/a /mnt/cxl/a
}

# Two CXL windows, each over a host bridge with one Type 3 device (vm-run --cxl=SIZE,2
# --cxl-bridges): a region in each, two dax devices on two nodes, transitioned at the same time.
scen_regions() {
	plan $((9 + 13))
	setup 1 2
	local r1=$REGION x1=$DAX n1=$NODE mem kb
	kb=$((NB * $(block_size) / 1024))
	mem=$(memdevs_of decoder0.1 | head -n1)
	diag "decoder0.1 reaches $mem"
	check "a region in the second window (decoder0.1) over $mem" region_create 1 $(($(cat $C/$mem/ram/size))) decoder0.1 "$(endpoint_decoder "$mem")"
	diag "$r1 -> $x1 (node $n1), $REGION -> $DAX (node $(cat $DAX_BASE/$DAX/target_node))"
	D0=$x1 D1=$DAX
	local n2
	n2=$(cat $DAX_BASE/$D1/target_node)
	expect_eq "two regions, two devices on two nodes, both bound to kmem" "2 kmem kmem" \
		"$(printf '%s\n' "$n1" "$n2" | sort -u | wc -l) $(driver_of $D0) $(driver_of $D1)"
	obs "$SCEN:devices" "$D0 node$n1 $D1 node$n2"
	three_rounds
	expect_eq "both online: MemTotal +$((2 * kb)) kB, $kb kB on each node" "+$((2 * kb)) $kb $kb" \
		"+$(($(memtotal_kb) - BASE_KB)) $(node_memtotal $n1) $(node_memtotal $n2)"
	expect_eq "at once: both unplugged" "OK OK" "$(par "$D0" unplugged "$D1" unplugged)"
	check "decommit and delete $r1" region_delete $r1
	check "decommit and delete $REGION" region_delete $REGION
	expect_eq "both devices gone, nothing stranded: MemTotal at baseline" "0 0" \
		"$(ls $DAX_BASE | wc -l) $(($(memtotal_kb) - BASE_KB))"
}

# The distribution's policy (vm-run --append=memhp_default_state=online, as Debian's kernel
# onlines hot-added memory at probe): the CXL device comes up online in ZONE_NORMAL, where the
# kernel's own allocations can pin it; an unplug either succeeds or fails with EBUSY and leaves
# every block as it was.  With the Rust driver's kmem.online_type=online_movable it comes up
# movable, and the orderly teardown works.
scen_policy() {
	plan $((9 + 5))
	setup 1
	local before e kb
	kb=$((NB * $(block_size) / 1024))
	obs "$SCEN:probe" "$(cat $DAX_BASE/$DAX/state) $(block_summary $DAX)"
	expect_eq "probe onlined it: MemTotal and node $NODE +$kb kB" "+$kb node$NODE=$kb" \
		"+$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
	before=$(snapshot $DAX)
	e=$(write_errno $DAX_BASE/$DAX/state unplugged)
	diag "unplug from ${PROBE%% *}: $e"
	obs "$SCEN:unplug" "$e"
	if [ "${PROBE%% *}" = online_movable ]; then
		expect_eq "unplug of the movable device: OK" OK "$e"
	else
		check "unplug from ZONE_NORMAL: OK, or EBUSY ($e)" contains "$e" '^(OK|EBUSY)$'
	fi
	if [ "$e" = OK ]; then
		look $DAX unplugged "0 blocks" 0
		check "the orderly teardown: decommit and delete $REGION" region_delete
		check "no dmesg line about memory stuck online" bash -c '! dmesg | grep -q "stuck online"'
	else
		expect_eq "rolled back exactly: state, every block, MemTotal" "$before" "$(snapshot $DAX)"
		expect_eq "state unchanged" "${PROBE%% *}" "$(cat $DAX_BASE/$DAX/state)"
		expect_eq "MemTotal and node $NODE still +$kb kB" "+$kb node$NODE=$kb" \
			"+$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
		diag "the region cannot be torn down safely now: its memory stays online (see teardown)"
	fi
}

# tool: what a user of the cxl tool (ndctl 81) does to a RAM region whose memory is online.
# Debian 13's `cxl disable-region` offlines the region's memory first, block by block through
# libdaxctl, and refuses when that fails; `cxl destroy-region -f` disables the region even then
# (the tool warns that the address space is leaked until a reboot); a region whose device is
# unplugged through state cannot be disabled without --force (no blocks: ENOENT).  The Rust
# driver's shipped guard=owned refuses the tool's per-block offline of a device onlined through
# state (expected/cxl-tool); at the forced disable the driver unplugs at unbind, so nothing is
# leaked either way.  The series' cxl (the image's) unplugs through state: no refusal, and an
# unplugged device needs nothing.
region_enabled() { [ -e "$C/$1/driver" ] && echo enabled || echo disabled; }
scen_tool() {
	plan $((9 + 5 + 3 + 5 + 8))
	setup 1
	local kb=$((NB * $(block_size) / 1024)) old=$DAX out rc sum a
	step $DAX unplugged OK
	step $DAX online_movable OK
	look $DAX online_movable "$NB online/Movable" $kb
	mkdir -p /mnt/cxl
	check "tmpfs with mpol=bind:$NODE" mount -t tmpfs -o size=256m,mpol=bind:$NODE tmpfs /mnt/cxl
	check "file a: 16 MiB of random data on node $NODE" dd if=/dev/urandom of=/mnt/cxl/a bs=1M count=16 2>/dev/null
	sum=$(sums /mnt/cxl)
	dmesg -c >/dev/null
	# 1. cxl disable-region, memory online, without --force.
	out=$(cxl disable-region "$REGION" 2>&1)
	rc=$?
	sed 's/^/# cxl disable-region: /' <<<"$out"
	dmesg | sed 's/^/# dmesg: /'
	obs "$SCEN:disable" "rc=$rc $(region_enabled "$REGION") $([ -e $DAX_BASE/$old ] && cat $DAX_BASE/$old/state || echo gone) +$(($(memtotal_kb) - BASE_KB))"
	if [ "$rc" = 0 ]; then
		# The per-block offline succeeded (the reference driver; no guard): disabled, gone.
		expect_eq "disabled, $old gone with its memory" "disabled gone +0 node$NODE=0" \
			"$(region_enabled "$REGION") $([ -e $DAX_BASE/$old ] || echo gone) +$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
		ok "(the tool's offline was not refused: no message to look for)"
		ok "(the tool's offline was not refused: nothing to compare)"
	else
		# Refused: the tool says which device it could not offline; nothing changed.
		expect_eq "refused: still enabled, $old online_movable, MemTotal +$kb kB" \
			"enabled online_movable $NB online/Movable +$kb node$NODE=$kb" \
			"$(region_enabled "$REGION") $(cat $DAX_BASE/$old/state) $(block_summary $old) +$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
		check "the tool names the device it could not offline" contains "$out" "unable to offline $old"
		check "the kernel log says what to do instead (unplugged to $old/state)" contains "$(dmesg)" "guard: .*$old.*unplugged"
	fi
	# 2. cxl destroy-region --force: disabled whatever the memory's state, then destroyed.
	check "cxl destroy-region -f $REGION" cxl destroy-region -f "$REGION"
	expect_eq "$REGION destroyed, $old gone" "gone gone" "$([ -e $C/$REGION ] || echo gone) $([ -e $DAX_BASE/$old ] || echo gone)"
	expect_eq "nothing leaked: MemTotal at baseline, node $NODE empty" "+0 node$NODE=0" "+$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
	a=$([ "$(sums /mnt/cxl)" = "$sum" ] && echo intact || echo changed)
	obs "$SCEN:file-a" "$a"
	expect_eq "file a intact (migrated off before the region went)" intact "$a"
	check "no dmesg line about memory stuck online" bash -c '! dmesg | grep -q "stuck online"'
	umount /mnt/cxl
	# 3. The way out the guard names: unplugged through state, then disable and destroy.  ndctl
	# 81 asks libdaxctl whether the device's memory is online; for a device without memory
	# blocks the answer is -ENOENT, taken for "online", and the offline that follows fails
	# (for either driver): disable-region needs --force.  With contrib/ndctl's series the tool
	# unplugs through state, and an unplugged device needs nothing.
	check "the memdev makes a new region" region_make 1 $(($(cat $C/mem0/ram/size)))
	step $DAX unplugged OK
	step $DAX online_movable OK
	step $DAX unplugged OK
	old=$DAX
	out=$(cxl disable-region "$REGION" 2>&1)
	rc=$?
	sed 's/^/# cxl disable-region: /' <<<"$out"
	obs "$SCEN:disable-unplugged" "rc=$rc $(region_enabled "$REGION")"
	if [ $PATCHED_CXL = yes ]; then
		expect_eq "cxl disable-region $REGION (unplugged): disabled without --force" "0 disabled" "$rc $(region_enabled "$REGION")"
	else
		expect_eq "ndctl 81: cxl disable-region $REGION (unplugged) fails: no memory blocks (ENOENT)" \
			"1 enabled unable to offline $old: No such file or directory" \
			"$rc $(region_enabled "$REGION") $(grep -oE "unable to offline $old: .*" <<<"$out")"
	fi
	check "cxl destroy-region -f $REGION" cxl destroy-region -f "$REGION"
	expect_eq "$REGION destroyed, $old gone" "gone gone" "$([ -e $C/$REGION ] || echo gone) $([ -e $DAX_BASE/$old ] || echo gone)"
	expect_eq "MemTotal at baseline, node $NODE empty" "+0 node$NODE=0" "+$(($(memtotal_kb) - BASE_KB)) node$NODE=$(node_memtotal $NODE)"
}

case "$SCEN" in
life) scen_life ;;
tool) scen_tool ;;
data) scen_data ;;
tiers) scen_tiers ;;
teardown | teardown-held) scen_teardown ;;
interleave) scen_interleave ;;
regions) scen_regions ;;
policy) scen_policy ;;
*) plan 1; not_ok "unknown scenario '$SCEN'" ;;
esac
finish
