# SPDX-License-Identifier: GPL-2.0
# Guest (debug kernel, vm-run --dax=2G --kmemleak-report-only: this script judges the
# kmemleak reports itself, since its self-test leaks on purpose): unbind while online,
# N times in one boot, each on a new one-block device carved out of dax0.0's
# region, with a kmemleak scan after each; with the Rust driver every device is then
# bound again (its stranded memory taken over) and unplugged; then rmmod, and the final scan.  Whatever an unbind strands on purpose
# (reservation, names, memory group, tier) must stay reachable: the Rust driver
# must show 0 new reports after every unbind.  The C driver's reports are counted
# and printed ("LEAKS c ..."), not judged: they are the reference's.
# Argument: N (default 10).
. /test/lib.sh
N=${1:-10}
KL=/sys/kernel/debug/kmemleak
DRV=/sys/bus/dax/drivers/kmem
per=5 last=1
# The Rust driver: a kmemleak check after each unbind, then each device is bound again (its
# stranded memory taken over) and unplugged, before the final scan.
[ "$KMEM_RS_MODE" = rust ] && per=8 last=2
plan $((3 + N * per + last))

# new_reports [SCANS [selftest|driver|both]]: scan (once by default), count the objects
# reported since the last `clear` but the self-test's (driver), only the self-test's
# (selftest) or both ("SELFTEST DRIVER"), print the driver's, clear.  kmemleak
# reports an object older than 5 s that is unreferenced in a scan and unchanged
# since the scan before: what an unbind strands is reported by the scan after the
# one that first saw it, i.e. by the next iteration's scan or the final double scan.
new_reports() {
	local n i
	for ((i = 0; i < ${1:-1}; i++)); do echo scan >$KL || echo "# kmemleak: scan $((i + 1)) failed" >&2; done
	# The self-test's objects (leak_some) are counted apart from the driver's.
	n=$(awk -v want="${2:-driver}" '
		function flush() { if (rec != "") { if (rec ~ /leak_some/) s++; else d++ } rec = "" }
		/^unreferenced object/ { flush() } { rec = rec $0 "\n" }
		END { flush(); if (want == "selftest") print s + 0; else if (want == "driver") print d + 0; else print s + 0, d + 0 }' $KL)
	[ "${n##* }" = 0 ] || [ "${2:-}" = selftest ] || awk '
		/^unreferenced object/ { if (rec !~ /leak_some/) printf "%s", rec; rec = "" }
		{ rec = rec "# | " $0 "\n" } END { if (rec !~ /leak_some/) printf "%s", rec }' $KL >&2
	echo clear >$KL
	echo "$n"
}

# aged_churn: churn the kmalloc caches (kmem_holdpage's "churn": without it, stale pointers in
# the allocator's per-CPU sheaves hide fresh leaks; about 5 s on the debug kernel, so only the
# self-test and the final scan churn), then wait until 6 s after the call: objects younger than
# 5 s are never reported.
aged_churn() {
	local t
	read -r t _ </proc/uptime
	echo churn >$HOLD || echo "# churn failed" >&2
	sleep "$(awk -v t="$t" '{r = t + 6 - $1; print (r > 0 ? r : 0)}' /proc/uptime)"
}

check "kmemleak is available" [ -w $KL ]
# (A suite before this one in the same boot may have loaded it.)
[ -e "$HOLD" ] || insmod /test/kmem_holdpage.ko
echo scan=off >$KL # no automatic scan: every scan is one of ours
bs=$(block_size)
region=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
echo dax0.0 >$DRV/unbind
echo 0 >$DAX_BASE/dax0.0/size
# Self-test: deliberately leaked objects (kmem_holdpage's "leak": 256 kzalloc(32), the
# kind of object a driver would leak) are reported: at least 3 in 4 (255 or 256 of 256
# were, with the churn; 58 to 187 without). The same scans must report nothing else:
# no leak before the first unbind (the boot, the module's load and its probe of dax0.0, and
# whatever ran before this suite in the same boot: parts.sh).
echo leak >$HOLD
diag "kmem_holdpage: $(cat $HOLD)"
aged_churn
read -r n other <<<"$(new_reports 2 both)"
if [ "$n" -lt 192 ]; then
	# Seen in 2 of about 13 make check runs (stops 41 and 42: 0 and 39 of 256 in the first
	# scans; every other self-test reported 255 or 256), the cause not found: a stale reference
	# the churn did not overwrite, or a scan that ended early.  The objects stay leaked, so a
	# later scan reports them once that reference is gone: churn and scan once more (the
	# reported ones were cleared: the second count adds to the first).
	diag "self-test: the first scans reported $n of 256; churning and scanning once more"
	aged_churn
	read -r n2 other2 <<<"$(new_reports 2 both)"
	n=$((n + n2)) other=$((other + other2))
fi
expect_eq "no leak reported before the first unbind (the boot, the suites before this one)" 0 "$other"
diag "self-test: $n of 256 deliberately leaked objects reported"
check "kmemleak reports deliberately leaked objects (self-test: $n of 256)" [ "$n" -ge 192 ]
total=0
for ((i = 0; i < N; i++)); do
	d=dax0.$i
	[ "$i" = 0 ] || echo 1 >$region/create
	echo "$bs" >$DAX_BASE/$d/size
	expect_eq "$d: bound" OK "$(write_errno $DRV/bind $d)"
	expect_eq "$d: unplugged, online_movable" OKOK \
		"$(write_errno $DAX_BASE/$d/state unplugged)$(write_errno $DAX_BASE/$d/state online_movable)"
	up_kb=$(memtotal_kb)
	expect_eq "$d: unbind while online" OK "$(write_errno $DRV/unbind $d)"
	expect_eq "$d: memory stranded, still online" "1 online/Movable $up_kb" \
		"$(block_summary $d) $(memtotal_kb)"
	check "$d: the stranded range is logged" dmesg_has "$d: mapping0: .* stuck online until reboot"
	t=$(now_us)
	n=$(new_reports)
	diag "$d: kmemleak scans took $((($(now_us) - t) / 1000)) ms"
	total=$((total + n))
	if [ "$KMEM_RS_MODE" = rust ]; then
		expect_eq "$d: kmemleak clean after the unbind" 0 "$n"
	fi
	diag "$d: $n new kmemleak reports"
done
if [ "$KMEM_RS_MODE" = rust ]; then
	base_kb=$(memtotal_kb)
	for ((i = 0; i < N; i++)); do
		d=dax0.$i
		expect_eq "$d: bound again, stranded memory taken over (online_movable)" "OK online_movable" \
			"$(write_errno $DRV/bind $d) $(cat $DAX_BASE/$d/state)"
		base_kb=$((base_kb - bs / 1024))
		expect_eq "$d: unplugged: removed, MemTotal down by a block" "OK $base_kb 0 blocks" \
			"$(write_errno $DAX_BASE/$d/state unplugged) $(memtotal_kb) $(block_summary $d)"
	done
fi
# The module's own objects must go with it (the debugfs lists, the memory types...).
expect_eq "rmmod kmem" OK "$(rmmod kmem 2>&1 && echo OK)"
aged_churn
n=$(new_reports 2 driver)
total=$((total + n))
if [ "$KMEM_RS_MODE" = rust ]; then
	expect_eq "kmemleak clean after the last unbind (final double scan)" 0 "$n"
fi
echo "LEAKS $KMEM_RS_MODE $total reports after $N unbinds while online"
touch /tmp/kmemleak-judged # the init's own final churn and scan would repeat the last ones
finish
