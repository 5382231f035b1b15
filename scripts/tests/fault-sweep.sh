# SPDX-License-Identifier: GPL-2.0
# Guest: systematic allocation-failure sweeps (fail-nth) on a kernel with FAULT_INJECTION,
# FAILSLAB, FAIL_PAGE_ALLOC and FAULT_INJECTION_DEBUG_FS (the debug kernel).
#
#   fault-sweep.sh [--stride=K] RANGES OP...
#
# --stride=K injects only at fail-nth 1, 1+K, 1+2K, ... (make check's subset; make check-debug
# sweeps every fault point).
# dax0.0 is rebuilt as RANGES (1 or 2) discontiguous ranges of 256 MiB (make_ranges). Each OP is
# one write, swept with fail-nth = 1, 2, 3, ... (kmem-failnth, passed with vm-run --file) until a
# write reaches no fault point:
#   bind                 probe: dax0.0 into the driver's bind, from unbound (the guest's policy
#                        adds the memory offline)
#   unbind               dax0.0 into its unbind, from bound as the guest's policy binds
#   T                    T (online, online_kernel, online_movable) into state, from unplugged
#   unplugged@T          unplugged into state, from T
# After every write that reached its fault point: a failed write left exactly the state before
# it (the device's driver and state, every memory block of the machine with its state and zone,
# MemTotal, node 1's MemTotal, the nodes with memory and online, node 1's memory tier, all of
# /proc/iomem, the driver's debugfs directory), a write that succeeded anyway reached exactly
# the state of a write with no fault (but for the device's debugfs file: a failed
# debugfs_create_file() is not an error, as everywhere in the kernel; node 1's memory tier, which
# the memory-tiers notifier leaves unset when its allocation fails; and, on a device of several
# ranges, a range that failed to add, which kmem's rule skips), and the same write with no
# fault then succeeds and reaches that state. Per OP: the fault points found and the errno of each
# (diag: both vary a little between boots, with what the kernel's own background work
# allocates), 5 results, and observations compared with the C driver's run (whether every failed
# write rolled back, and the operation completed after it). Whether a write that succeeded
# reached the reference state is a result for the Rust driver and a diagnostic for the C one,
# which publishes an online state over blocks that failed to online (at fault points that
# vary between boots, so not an observation for the differential).
. /test/lib.sh
FN=/test/kmem-failnth
DRV=/sys/bus/dax/drivers/kmem
ST=$DAX_BASE/$DAX/state
FI=/sys/kernel/debug
MAX=${KMEM_SWEEP_MAX:-3000}
stride=1
case $1 in --stride=*) stride=${1#--stride=} && shift ;; esac
ranges=$1
shift
plan $((1 + 5 * $#))

# snap: SNAP = the state a failed write must leave unchanged, one item a line; read without
# forking (a fork costs tens of milliseconds on the debug kernel under TCG, and the sweeps take
# thousands of snapshots).
snap() {
	local b st z v t k l
	local -a io
	SNAP="bound=no state=-"
	if [ -e $DAX_BASE/$DAX/driver ]; then
		v=-
		[ -e $ST ] && read -r v <$ST
		SNAP="bound=yes state=$v"
	fi
	memtotal_now
	v=0
	if [ -e /sys/devices/system/node/node1/meminfo ]; then
		while read -r _ _ k l _; do [ "$k" = MemTotal: ] && v=$l && break; done </sys/devices/system/node/node1/meminfo
	fi
	t=none
	for b in /sys/devices/virtual/memory_tiering/memory_tier*; do
		[ -e "$b/nodelist" ] && read -r l <"$b/nodelist" && in_nodelist 1 "$l" && t=${b##*/}
	done
	SNAP+=$'\n'"memtotal=$MT node1=$v tier=$t"
	read -r v </sys/devices/system/node/has_memory
	read -r l </sys/devices/system/node/online
	SNAP+=$'\n'"has_memory=$v online=$l"
	for b in $MEM_BASE/memory*; do
		read -r st <"$b/state" 2>/dev/null || continue
		z=-
		[ "$st" = online ] && read -r z <"$b/valid_zones"
		SNAP+=$'\n'"${b##*/} $st $z"
	done
	mapfile -t io </proc/iomem
	SNAP+=$'\n'"$(printf '%s\n' "${io[@]}")"
	v=
	for b in /sys/kernel/debug/kmem/*; do [ -e "$b" ] && v+=" ${b##*/}"; done
	SNAP+=$'\n'"debugfs:$v"
}
# fewer_ranges A B: snapshot A has fewer System RAM (kmem) resources than B, and at least one.
fewer_ranges() {
	local a b
	a=$(grep -c 'System RAM (kmem)' <<<"$1")
	b=$(grep -c 'System RAM (kmem)' <<<"$2")
	[ "$a" -ge 1 ] && [ "$a" -lt "$b" ]
}
# lenient SNAP: the snapshot without node 1's memory tier and the debugfs directory.
lenient() { printf '%s\n' "$1" | sed -e '/^debugfs:/d' -e 's/ tier=[^ ]*$//'; }
# differs WHAT A B: a diagnostic of the lines that differ between snapshots A and B.
differs() {
	diag "$1"
	printf '%s\n' "$2" >/tmp/snap.a
	printf '%s\n' "$3" >/tmp/snap.b
	diff /tmp/snap.a /tmp/snap.b | grep '^[-+][^-+]' | head -n 8 | sed 's/^/#   /'
}
# to STATE: bring dax0.0 to STATE with no fault armed: unbound (and no memory), bound (unbound,
# then bound: as the guest's policy adds the memory), unplugged or an online type. No forks.
to() {
	local s=
	[ -e $ST ] && read -r s <$ST
	if [ "$1" = unbound ] || [ "$1" = bound ]; then
		if [ -e $DAX_BASE/$DAX/driver ]; then
			[ "$s" = unplugged ] || echo unplugged >$ST || return 1
			echo $DAX >$DRV/unbind || return 1
		fi
		[ "$1" = unbound ] || echo $DAX >$DRV/bind || return 1
		return 0
	fi
	if ! [ -e $DAX_BASE/$DAX/driver ]; then
		echo $DAX >$DRV/bind || return 1
		read -r s <$ST
	fi
	[ "$s" = "$1" ] && return 0
	[ "$s" = unplugged ] || echo unplugged >$ST || return 1
	[ "$1" = unplugged ] || echo "$1" >$ST
}
# in_nodelist N LIST: node N is in LIST (e.g. "0-1,3"). No forks.
in_nodelist() {
	local IFS=, p
	for p in $2; do ((${p%-*} <= $1 && $1 <= ${p#*-})) && return 0; done
	return 1
}
# op OP: FROM (the state the write starts from), FILE and VALUE of the write.
op() {
	case $1 in
	bind) FROM=unbound FILE=$DRV/bind VALUE=$DAX ;;
	unbind) FROM=bound FILE=$DRV/unbind VALUE=$DAX ;;
	unplugged@*) FROM=${1#unplugged@} FILE=$ST VALUE=unplugged ;;
	*) FROM=unplugged FILE=$ST VALUE=$1 ;;
	esac
}

# The fault attributes: every allocation of the task may fail (GFP_KERNEL ones too, order 0
# pages too), silently (a stack per fault would flood the console).
setup() {
	local a
	for a in failslab fail_page_alloc; do
		[ -d $FI/$a ] || return 1
		echo N >$FI/$a/ignore-gfp-wait && echo 0 >$FI/$a/verbose || return 1
	done
	# x86's direct-map page tables for a hot-added range (__kernel_physical_mapping_init():
	# phys_pud_init() and phys_pmd_init() use alloc_low_page() unchecked) oops on a failed
	# allocation, whichever driver adds the range: a fault whose stack passes through it is
	# neither injected nor counted (the stack-trace filter).
	local start end
	start=$(awk '$3 == "__kernel_physical_mapping_init" {print $1}' /proc/kallsyms)
	end=$(sort /proc/kallsyms | awk -v s="$start" '$1 > s {print $1; exit}')
	[ -n "$start" ] && [ -n "$end" ] || return 1
	diag "not injected: faults under __kernel_physical_mapping_init (0x$start-0x$end)"
	for a in failslab fail_page_alloc; do
		echo "0x$start" >$FI/$a/reject-start && echo "0x$end" >$FI/$a/reject-end || return 1
	done
	# (A policy that onlines at probe has onlined dax0.0 at boot: unplugged first, so that
	# make_ranges's unbind leaves nothing behind.)
	local s=unplugged
	[ -e $ST ] && read -r s <$ST
	[ "$s" = unplugged ] || echo unplugged >$ST || return 1
	echo N >$FI/fail_page_alloc/ignore-gfp-highmem && echo 0 >$FI/fail_page_alloc/min-order &&
		[ -w /proc/thread-self/fail-nth ] && make_ranges "$ranges" && echo $DAX >$DRV/bind
}
check "fault injection set up (failslab, fail_page_alloc: every allocation), dax0.0 as $ranges range(s), bound" setup

for o in "$@"; do
	op "$o"
	to "$FROM" && snap && pre=$SNAP && r=$($FN 0 "$FILE" "$VALUE") && snap && post=$SNAP
	if [ "$r" != "OK miss" ]; then
		for ((i = 0; i < 5; i++)); do not_ok "$o: no reference run ($r)"; done
		continue
	fi
	points=0 done=0 not_back=0 not_ref=0 not_again=0 no_debugfs=0 no_tier=0 partial=0 errs=() trace='' t0=$(now_us)
	for ((n = 1; n <= MAX; n += stride)); do
		to "$FROM" || { not_back=$((not_back + 1)); diag "$o: cannot reach $FROM before fail-nth $n"; break; }
		r=$($FN $n "$FILE" "$VALUE")
		e=${r% *}
		if [ "${r#* }" = miss ]; then
			done=1
			snap
			[ "$e" = OK ] && [ "$SNAP" = "$post" ] || { not_ref=$((not_ref + 1)); diag "$o: fail-nth $n reached no fault point but: $e"; }
			break
		fi
		points=$n
		trace+=" $n:$e"
		snap
		if [ "$e" = OK ]; then
			if [ "$SNAP" = "$post" ]; then
				:
			elif [ "$(lenient "$SNAP")" = "$(lenient "$post")" ]; then
				# What the kernel itself does not treat as an error: the driver goes on without
				# its debugfs file when debugfs_create_file() fails (as the kernel's debugfs users
				# do), and the memory-tiers code's MEM_ONLINE notifier leaves the node in no tier
				# when its allocation fails (set_node_memory_tier()'s error is ignored).
				[ "${SNAP#*$'\n'debugfs:}" = "${post#*$'\n'debugfs:}" ] || no_debugfs=$((no_debugfs + 1))
				[ "$(grep -o ' tier=.*' <<<"$SNAP")" = "$(grep -o ' tier=.*' <<<"$post")" ] || no_tier=$((no_tier + 1))
			elif [ "${SNAP%%$'\n'*}" = "${post%%$'\n'*}" ] && fewer_ranges "$SNAP" "$post" &&
				dmesg | tail -n 30 | grep -qE 'memory add failed|could not reserve region'; then
				# kmem's rule for a device of several ranges (kmem.c's too): a range that
				# fails to reserve or to add is skipped, logged, and the others are used.
				partial=$((partial + 1))
			else
				not_ref=$((not_ref + 1))
				differs "$o: fail-nth $n succeeded, state not the reference one (- reference, + now):" "$post" "$SNAP"
			fi
			continue
		fi
		errs+=("$e")
		[ "$SNAP" = "$pre" ] || {
			not_back=$((not_back + 1))
			differs "$o: fail-nth $n failed with ${e:-no result}, state changed (- before, + now):" "$pre" "$SNAP"
		}
		r=$($FN 0 "$FILE" "$VALUE")
		snap
		if [ "$r" != "OK miss" ] || [ "$SNAP" != "$post" ]; then
			not_again=$((not_again + 1))
			diag "$o: after fail-nth $n ($e), the same write with no fault: $r"
			[ "$r" != "OK miss" ] || differs "$o: not the reference state (- reference, + now):" "$post" "$SNAP"
		fi
	done
	tally_e=$(printf '%s\n' "${errs[@]}" | grep . | sort | uniq -c | awk '{printf "%s%sx%s", (NR>1?" ":""), $1, $2}')
	diag "$o: $points fault points$([ "$stride" = 1 ] || echo " (at least; every ${stride}th injected)"), failed: ${tally_e:-none} ($((($(now_us) - t0) / 1000000)) s)"
	diag "$o: fail-nth:errno$trace"
	[ "$no_debugfs" = 0 ] || diag "$o: $no_debugfs write(s) succeeded without the device's debugfs file (its creation failed)"
	[ "$partial" = 0 ] || diag "$o: $partial write(s) succeeded with a range that failed to add left out (kmem's rule)"
	[ "$no_tier" = 0 ] || diag "$o: $no_tier write(s) succeeded with node 1 in no memory tier (the memory-tiers notifier's allocation failed)"
	diag "$o: not rolled back $not_back, off the reference state $not_ref, not completing after $not_again"
	# (Counts go to the diagnostics: how many fault points an operation has varies between boots.)
	obs "sweep:$ranges:$o:rolled_back" "$([ $not_back = 0 ] && echo all || echo "not all")"
	obs "sweep:$ranges:$o:completes_after" "$([ $not_again = 0 ] && echo all || echo "not all")"
	expect_eq "$o: the sweep ended (fail-nth $n reached no fault point)" 1 "$done"
	expect_eq "$o: every failed write left exactly the state before it" 0 "$not_back"
	# The C reference publishes an online state over blocks the mm core failed to online (a
	# finding, counted in the diagnostics above), and answers some allocation failures with
	# other errnos.
	if [ "$KMEM_RS_MODE" = c ]; then
		skip "$o: every write that succeeded despite its fault reached the reference state" "the C driver: observed"
	else
		expect_eq "$o: every write that succeeded despite its fault reached the reference state" 0 "$not_ref"
	fi
	expect_eq "$o: after every failed write, the same write with no fault succeeded" 0 "$not_again"
	# ENOMEM; EBUSY where a range's reservation failed (request_mem_region() cannot tell an
	# allocation failure from a conflict, as in kmem.c); EEXIST passed through from
	# add_memory_driver_managed() (seen about once per bind sweep, with either driver); EIO where
	# a block did not online and the plug was undone.
	bad=$(printf '%s\n' "${errs[@]}" | grep . | grep -cvxE 'ENOMEM|EBUSY|EEXIST|EIO')
	if [ "$KMEM_RS_MODE" = c ]; then
		skip "$o: every failed write failed with ENOMEM, EBUSY, EEXIST or EIO" "the C driver: observed"
	else
		expect_eq "$o: every failed write failed with ENOMEM, EBUSY, EEXIST or EIO" 0 "$bad"
	fi
done
to unplugged
finish
