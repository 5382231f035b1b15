# SPDX-License-Identifier: GPL-2.0
# Guest: random and malformed input to state and to the module's parameters (guard, unbind,
# online_type) by kmem-fuzz (scripts/guest/kmem-fuzz.c, passed with vm-run --file; see that file
# for the inputs and the model), from every state a device can be in: unplugged, offline (a bind
# under the guest's offline policy), online, online_kernel and online_movable; with the fixed
# seeds 1, 2 and 3 and one random seed, printed (FUZZ_SEED=S reproduces it).  N writes in all
# (default 100000), split evenly over the 4 x 5 runs, and a tenth of each run's count to each
# parameter.  After each run the device is unplugged and MemTotal back at the baseline.  The
# online_kernel runs come last, one after the other (no write of theirs makes a real transition):
# ZONE_NORMAL memory may take kernel allocations and refuse the unplug for good, which then must
# fail with EBUSY and change nothing.  (vm-run --append=memory_hotplug.online_policy=auto-movable:
# "online" places the blocks in ZONE_MOVABLE, so the online runs unplug.)
. /test/lib.sh
SEEDS=(1 2 3 "${FUZZ_SEED:-$(($(now_us) % 1000000))}")
STARTS=(unplugged offline online online_movable online_kernel)
plan $((${#SEEDS[@]} * ${#STARTS[@]} + 4))
N=${1:-100000}
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
diag "seeds ${SEEDS[*]} (FUZZ_SEED=${SEEDS[3]} reproduces the random one)"
echo unplugged >$ST
base=$(memtotal_kb)
bs=$(block_size)
first=$(($(cat $DAX_BASE/$DAX/mapping0/start) / bs))
nb=$(($(cat $DAX_BASE/$DAX/size) / bs))
per=$((N / (${#SEEDS[@]} * ${#STARTS[@]})))
# start S: bring dax0.0 from unplugged to S.
start() {
	case $1 in
	unplugged) ;;
	offline) echo $DAX >$DRV/unbind && echo $DAX >$DRV/bind ;;
	*) echo "$1" >$ST ;;
	esac
	[ "$(cat $ST)" = "$1" ]
}
t0=$(now_us)
trans=0
# run SEED START: one fuzz run from START.
run() {
	/test/kmem-fuzz $ST /sys/module/kmem/parameters "$per" "$1" "$first" "$nb" \
		$((bs / 1024)) "$base" >/tmp/fuzz.out
	rc=$?
	grep -v '^FUZZ-PARAM' /tmp/fuzz.out | head -n 10
	grep '^FUZZ-COUNTS' /tmp/fuzz.out | sed "s/^/seed=$1 /"
	n=$(sed -nE 's/.*transitions=([0-9]+).*/\1/p' /tmp/fuzz.out)
	trans=$((trans + ${n:-0}))
}
for s in "${STARTS[@]}"; do
	[ $s = online_kernel ] && break
	for seed in "${SEEDS[@]}"; do
		if ! start "$s"; then
			not_ok "seed $seed from $s: could not reach $s (state $(cat $ST))"
			echo unplugged >$ST
			continue
		fi
		run "$seed"
		e=$(write_errno $ST unplugged)
		expect_eq "seed $seed from $s: every write per the model, then unplugged, MemTotal back" \
			"0 OK $base" "$rc $e $(memtotal_kb)"
	done
done
check "online_kernel" start online_kernel
up=$(memtotal_kb)
for seed in "${SEEDS[@]}"; do
	run "$seed"
	expect_eq "seed $seed from online_kernel: every write per the model, still online_kernel" \
		"0 online_kernel $up" "$rc $(cat $ST) $(memtotal_kb)"
done
e=$(write_errno $ST unplugged)
diag "the unplug from online_kernel: $e"
check "then unplugged: done ($base kB), or refused with EBUSY and nothing changed ($up kB)" \
	eval "[ '$e $(cat $ST) $(memtotal_kb)' = 'OK unplugged $base' ] || [ '$e $(cat $ST) $(memtotal_kb)' = 'EBUSY online_kernel $up' ]"
grep '^FUZZ-PARAM' /tmp/fuzz.out
diag "$N writes in $((($(now_us) - t0) / 1000)) ms"
check "the runs made real transitions ($trans)" test "$trans" -gt 0
expect_eq "parameters back: guard off, unbind keep, online_type system" "off keep system" \
	"$(cat /sys/module/kmem/parameters/guard) $(cat /sys/module/kmem/parameters/unbind) $(cat /sys/module/kmem/parameters/online_type)"
finish
