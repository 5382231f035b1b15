# SPDX-License-Identifier: GPL-2.0
# Guest: fault injection with kmem_holdpage.ko.  Argument:
#   rollback     a reserved (unmovable) page makes unplug fail; nothing changes
#   multirange   the same with the hold in the second of two ranges
#   signal       a transient hold makes unplug retry; SIGKILL ends it, rolled back
#   release      a transient hold released while unplug retries: unplug completes
# "obs" lines (compared with the C driver's run): the errno of every write to `state`, each
# snapshot (state, every block's state and zones, MemTotal's change) and what the hold saw.
. /test/lib.sh
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
case $1 in
rollback) plan 10 ;;
multirange) plan 13 ;;
signal) plan 10 ;;
release) plan 8 ;;
*) plan 1; not_ok "unknown scenario '$1'"; exit 1 ;;
esac

# read_state_nonblocking: read `state` in the background; print what it read if
# that took less than a second, "blocked" otherwise (the reader is left behind,
# and the caller waits for it once the transition ended).
read_state_nonblocking() {
	local i
	rm -f /tmp/state-read
	(cat $ST >/tmp/state-read.tmp 2>&1 && mv /tmp/state-read.tmp /tmp/state-read) </dev/null >/dev/null 2>&1 &
	for ((i = 0; i < 20; i++)); do
		[ -e /tmp/state-read ] && break
		sleep 0.05
	done
	if [ -e /tmp/state-read ]; then cat /tmp/state-read; else echo blocked; fi
}

if [ "$1" = multirange ]; then
	check "dax0.0 rebuilt as two ranges" make_ranges 2
	echo $DAX >$DRV/bind
	m1=$(cat $DAX_BASE/$DAX/mapping1/start)
	obs "$1:mapping1" "$m1"
	expect_eq "two ranges" "0x120000000" "$m1"
fi
e=$(write_errno $ST unplugged)
obs "$1:unplugged" "$e"
expect_eq "unplugged" OK "$e"
base_kb=$(memtotal_kb)
e=$(write_errno $ST online_movable)
obs "$1:online_movable" "$e"
expect_eq "online_movable" OK "$e"
before=$(snapshot $DAX)
obs_snapshot "$1:before" $DAX "$base_kb"

case $1 in
rollback | multirange)
	if [ "$1" = multirange ]; then range="0x120000000 0x12fffffff"; else range="0x100000000 0x13fffffff"; fi
	check "hold a reserved page in $range" hold $range reserved
	dmesg -c >/dev/null
	e=$(write_errno $ST unplugged)
	obs "$1:unplugged_held" "$e"
	expect_eq "unplug fails with the mm core's EBUSY" EBUSY "$e"
	obs_snapshot "$1:after_failed_unplug" $DAX "$base_kb"
	expect_eq "state, every block's state and zone, MemTotal: exactly as before" "$before" "$(snapshot $DAX)"
	if [ "$1" = multirange ]; then
		got="$(kmem_ram_count) $(block_summary $DAX)"
		obs "$1:ranges_after_failed_unplug" "$got"
		expect_eq "first range back online in ZONE_MOVABLE, both ranges present" "2 4 online/Movable" "$got"
	fi
	obs "$1:failure_logged" "$(dmesg | grep -c "kmem $DAX: hotremove failed, device left online: -16")"
	check "failure logged" dmesg_has "kmem $DAX: hotremove failed, device left online: -16"
	got=$(held_data)
	obs "$1:held_data" "$got"
	expect_eq "the held page still reads the same data" intact "$got"
	e=$(write_errno $ST unplugged)
	obs "$1:unplugged_released" "$e"
	expect_eq "after release, unplug succeeds" OK "$e"
	obs_snapshot "$1:end" $DAX "$base_kb"
	expect_eq "nothing left" "0 0 blocks" "$(kmem_ram_count) $(block_summary $DAX)"
	;;
signal | release)
	check "hold a transient page" hold 0x100000000 0x13fffffff transient
	t0=$(now_us)
	( echo unplugged >$ST ) 2>/tmp/err &
	w=$!
	sleep 2
	check "unplug keeps retrying after 2 s" [ -d /proc/$w ]
	got=$(read_state_nonblocking)
	obs state_read_while_retrying "$got"
	expect_eq "state reads within 1 s while unplug retries, the state before it" online_movable "$got"
	if [ "$1" = signal ]; then
		k0=$(now_us)
		kill -9 $w
		wait $w
		k1=$(now_us)
		ms=$(((k1 - k0) / 1000))
		diag "SIGKILL to exit: $ms ms"
		echo "SIGNAL-ABORT-MS $ms"
		check "the writer ended within 5 s of SIGKILL ($ms ms)" [ "$ms" -lt 5000 ]
		obs_snapshot "$1:after_sigkill" $DAX "$base_kb"
		expect_eq "full rollback: state, blocks, zones, MemTotal as before" "$before" "$(snapshot $DAX)"
		got=$(held_data)
		obs "$1:held_data" "$got"
		expect_eq "held page intact" intact "$got"
		e=$(write_errno $ST unplugged)
		obs "$1:unplugged_released" "$e"
		expect_eq "unplug succeeds afterwards" OK "$e"
		obs_snapshot "$1:end" $DAX "$base_kb"
	else
		release >/dev/null
		wait $w
		rc=$?
		ms=$((($(now_us) - t0) / 1000))
		diag "unplug completed $ms ms after it started"
		obs "$1:unplug_exit" "$rc $(cat /tmp/err)"
		expect_eq "unplug completed once the hold was released" 0 "$rc"
		wait
		obs_snapshot "$1:end" $DAX "$base_kb"
		expect_eq "state unplugged, nothing left" "unplugged 0 blocks" "$(cat $ST) $(block_summary $DAX)"
	fi
	;;
esac
wait
# The driver's own transitions (its rollback, the aborted unplug) are never refused by the
# memory-block guard (where none refuses, the C driver's runs and guard=off, nothing can be).
if guard_refuses; then
	check "the guard refused none of the driver's own transitions" test -z "$(dmesg | grep 'guard: refused')"
else
	skip "the guard refused none of the driver's own transitions" "no guard refuses here (guard=off or the C driver)"
fi
finish
