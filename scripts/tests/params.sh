# SPDX-License-Identifier: GPL-2.0
# Guest: the Rust driver's module parameters online_type (how probe adds a device's
# memory; it applies to the next probe only) and unbind (keep: unbind never offlines;
# unplug: an atomic unplug at unbind, bounded to 10 s, that falls back to keep), and the
# take-over ("re-adoption") of memory an unbind or rmmod left online: the next probe of the
# device takes its stranded ranges over instead of failing with EBUSY, its state is that of
# the blocks (online_movable, online_kernel, offline, or online when mixed; online_type does
# not apply), and a later unplug removes them.  Rust only: the C driver has none of this.
# One argument selects the scenario; the host boots each with its vm-run options:
#
#   probe-types      --no-load: modprobe kmem; the defaults (system, keep, guard owned);
#                    rebinds with online_type offline, online_movable, unplugged (set at
#                    run time while online_movable was bound: that device is unchanged),
#                    system (auto_online_blocks: offline on this kernel) and online_kernel
#                    last: state, blocks and zones, MemTotal, /proc/iomem after each probe
#   probe-types-distro  --no-load --append=memhp_default_state=online: the same with the
#                    distribution's default online type: modprobe kmem online_type=offline,
#                    rebinds with online_movable, unplugged, offline, and system last
#                    (online, ZONE_NORMAL: what a distribution kernel does without kmem's
#                    parameter)
#   probe-online     --no-load: a rebind with online_type=online (ZONE_NORMAL: contig-zones
#                    policy); a boot of its own, as ZONE_NORMAL memory cannot be unplugged
#                    here (see below); then an unbind strands it, a bind takes it over as
#                    online_kernel, and the unplug still fails with EBUSY, changing nothing
#   invalid          --no-load: invalid values of both parameters at run time (EINVAL, the
#                    value unchanged, one log line each) and at load (modprobe fails with
#                    EINVAL, nothing loaded), then modprobe kmem online_type=online_movable
#   distro           --no-load --append=memhp_default_state=online: modprobe kmem
#                    online_type=online_movable probes online_movable and unplugs; then the
#                    distribution problem with online_type=system: ZONE_NORMAL, unplug EBUSY,
#                    and unbind=unplug falls back to keep (-16): the memory stays; a bind
#                    takes it over as online_kernel (not online_type=system's online), and the
#                    unplug still fails with EBUSY, changing nothing
#   cmdline          --no-load --append="memhp_default_state=online kmem.online_type=online_movable":
#                    modprobe applies kmem.* from /proc/cmdline: probe online_movable, unplug
#   unbind-unplug    (kmem loaded by vm-run) unbind=unplug of an online_movable device (all
#                    memory gone, the device binds again), of an offline and of an unplugged
#                    device; then a transiently held page: unbind gives up after 10 s (-110, ETIMEDOUT),
#                    the memory stays online, the page intact; once it is released, a bind
#                    takes the memory over (online_movable) and the unplug removes it
#   unbind-multirange  (kmem loaded by vm-run) unbind=unplug of a two-range device removes
#                    both ranges; then a reserved page in the second range: -16, both ranges
#                    rolled back online and kept; once it is released, a bind takes both
#                    over and the unplug removes both
#   adopt            (kmem loaded by vm-run) one full re-adoption, as a transcript (# [step]
#                    lines: driver, state, MemTotal, blocks, the device's /proc/iomem lines):
#                    online_movable, unbind (keep) strands it, bind takes it over (log line,
#                    online_movable whatever online_type says, /proc/iomem and MemTotal
#                    unchanged, debugfs zones), unplug removes it; then the same across
#                    rmmod kmem / modprobe kmem
#   adopt-multirange  (kmem loaded by vm-run) the same for a two-range device: both ranges
#                    taken over (a log line each) and unplugged; a range removed at unbind
#                    (offlined from outside with guard=off) is added again at the bind with the
#                    taken-over range's online type; rmmod / modprobe (the gap device dax0.1
#                    then binds too, offline)
#   adopt-states     (kmem loaded by vm-run) blocks offlined from outside while the device is
#                    stranded (unbound: no guard): half offline -> online, all offline ->
#                    offline; each unplugs; last, 4 blocks onlined to ZONE_MOVABLE and 4 to
#                    ZONE_NORMAL -> online (the unplug then succeeds or fails with EBUSY and
#                    changes nothing: both are accepted, the outcome is printed)
#
# ZONE_NORMAL unplugs fail on this guest (policy.sh: node 1 has no other memory, so the
# first block onlined to ZONE_NORMAL receives an unmovable slab page): memory onlined to
# ZONE_NORMAL stays for the rest of the boot (unbind strands it, a bind takes it over), so
# every scenario puts such a step last.
. /test/lib.sh
SCENARIO=${1:-}
DAX=dax0.0
ST=$DAX_BASE/$DAX/state
DRV=/sys/bus/dax/drivers/kmem
P=/sys/module/kmem/parameters
OT=$P/online_type
UB=$P/unbind
AUTO=$MEM_BASE/auto_online_blocks

# Results per step, for the plan.
N_REPROBE=8 N_INVALID=2
case $SCENARIO in
probe-types) plan $((7 + 4 * N_REPROBE + 1 + N_REPROBE + 1)) ;;
probe-types-distro) plan $((3 + 4 * N_REPROBE)) ;;
probe-online) plan $((5 + N_REPROBE + 8)) ;;
invalid) plan $((3 + 10 * N_INVALID + 2 + 1 + 3 * 2 + 1 + 7)) ;;
distro) plan 29 ;;
cmdline) plan 9 ;;
unbind-unplug) plan 38 ;;
unbind-multirange) plan 27 ;;
adopt) plan 34 ;;
adopt-multirange) plan 37 ;;
adopt-states) plan 34 ;;
*)
	plan 1
	not_ok "unknown scenario '$SCENARIO' (probe-types | probe-types-distro | probe-online | invalid | distro | cmdline | unbind-unplug | unbind-multirange | adopt | adopt-multirange | adopt-states)"
	exit 1
	;;
esac

n=$(($(cat $DAX_BASE/$DAX/size) / $(block_size)))
size_kb=$(($(cat $DAX_BASE/$DAX/size) / 1024))
base_kb=$(memtotal_kb)

# iomem: "RAM RESERVED": the number of System RAM (kmem) resources and of the device's
# reservation lines in /proc/iomem.
iomem() { echo "$(kmem_ram_count) $(dev_reserved $DAX)"; }
# present_blocks: how many memoryN of the device's ranges exist (from its mappingN, which
# the dax bus shows whether a driver is bound or not).
present_blocks() {
	local bs m s e i c=0
	bs=$(block_size)
	for m in $DAX_BASE/$DAX/mapping[0-9]*; do
		s=$(($(cat $m/start))) e=$(($(cat $m/end)))
		for ((i = s / bs; i <= e / bs; i++)); do [ -d $MEM_BASE/memory$i ] && c=$((c + 1)); done
	done
	echo $c
}
# gone: what an unbind that left nothing shows: "MemTotal RAM RESERVED BLOCKS".
gone() { echo "$(memtotal_kb) $(iomem) $(present_blocks)"; }
# log: the kernel log since the last dmesg -c, timestamps dropped.
log() { dmesg | sed 's/^\[[ 0-9.]*\] //'; }
# logged TEXT: the kernel log since the last dmesg -c has a line containing TEXT.
logged() { log | grep -qF -- "$1"; }
not_logged() { ! logged "$1"; }
# no_failure_logged: no unplug failure and nothing stranded in the log since the last dmesg -c.
no_failure_logged() { ! log | grep -qE "stuck online|unplug failed|hotremove failed"; }
# want_probe TYPE: "STATE|BLOCKS|MEMTOTAL DELTA|IOMEM" of a device probed with online_type
# TYPE from nothing added (system: auto_online_blocks; online: ZONE_NORMAL here).
want_probe() {
	local t=$1
	[ "$t" = system ] && t=$(cat $AUTO)
	case $t in
	unplugged) echo "unplugged|0 blocks|0|0 0" ;;
	offline) echo "offline|$n offline/-|0|1 1" ;;
	online_movable) echo "online_movable|$n online/Movable|$size_kb|1 1" ;;
	*) echo "$t|$n online/Normal|$size_kb|1 1" ;;
	esac
}
got_probe() { echo "$(cat $ST)|$(block_summary $DAX)|$(($(memtotal_kb) - base_kb))|$(iomem)"; }
# modprobe_kmem ARGS...: load the module, print OK or modprobe's error.
modprobe_kmem() {
	local out
	if out=$(modprobe kmem "$@" 2>&1); then echo OK; else echo "FAIL: $out"; fi
}
# timed_unbind: unbind the device; print "ERRNO|DRIVER|MS" (driver empty once unbound).
timed_unbind() {
	local t0 e
	t0=$(now_us)
	e=$(write_errno $DRV/unbind $DAX)
	echo "$e|$(driver_of $DAX)|$((($(now_us) - t0) / 1000))"
}

# The device's mappings as "INDEX:START-END", for the log lines below.
R1G=0:0x100000000-0x13fffffff
R2_0=0:0x100000000-0x10fffffff R2_1=1:0x120000000-0x12fffffff
# stuck_lines MAPPING...: what an unbind or rmmod that strands the MAPPINGs logs.
stuck_lines() {
	local m
	for m in "$@"; do echo "kmem $DAX: mapping${m%%:*}: ${m#*:} stuck online until reboot"; done
	echo "kmem $DAX: Hotplug regions stuck online until reboot"
}
got_stuck() { log | grep -F 'stuck online until reboot'; }
# taken_over_lines MAPPING...: what a probe that takes the MAPPINGs over logs.
taken_over_lines() {
	local m
	for m in "$@"; do echo "kmem $DAX: mapping${m%%:*}: ${m#*:} taken over: left added by an earlier unbind"; done
}
got_taken_over() { log | grep -F 'taken over'; }
# dev_state: the device's state, "-" while no driver is bound (no state file).
dev_state() { cat $ST 2>/dev/null || echo -; }
# adopted: "STATE|BLOCKS|MEMTOTAL|IOMEM LINES" of the device, to compare after a take-over.
adopted() { echo "$(dev_state)|$(block_summary $DAX)|$(memtotal_kb)|$(dev_iomem $DAX)"; }
# tx STEP: one step of a transcript: driver, state, MemTotal, blocks, the /proc/iomem lines.
tx() {
	local l lines
	local d
	d=$(driver_of $DAX)
	diag "[$1] driver=${d:-none} state=$(dev_state) MemTotal=$(memtotal_kb) kB blocks: $(block_summary $DAX)"
	lines=$(dev_iomem $DAX)
	[ -n "$lines" ] || lines="(no $DAX line)"
	while IFS= read -r l; do diag "[$1]   iomem: $l"; done <<<"$lines"
}
# log_diag: the kernel log's lines of the device since the last dmesg -c, as diagnostics.
log_diag() { log | grep -E "kmem $DAX" | while read -r l; do diag "| $l"; done; }
# strand LABEL MAPPING...: unbind (unbind=keep) while the memory is online; it stays.
# 2 results.
strand() {
	local l=$1
	shift
	dmesg -c >/dev/null
	expect_eq "$l: unbind (keep) while online: OK, unbound" "OK|" "$(write_errno $DRV/unbind $DAX)|$(driver_of $DAX)"
	log_diag
	expect_eq "$l: logged: stuck online until reboot" "$(stuck_lines "$@")" "$(got_stuck)"
}
# take_over LABEL WANT MAPPING...: bind the stranded device; the MAPPINGs are taken over and
# the device reads WANT ("STATE|BLOCKS|MEMTOTAL|IOMEM LINES", see adopted).  3 results.
take_over() {
	local l=$1 want=$2
	shift 2
	dmesg -c >/dev/null
	expect_eq "$l: bind the stranded device: OK" "OK|kmem" "$(write_errno $DRV/bind $DAX)|$(driver_of $DAX)"
	log_diag
	expect_eq "$l: logged: taken over" "$(taken_over_lines "$@")" "$(got_taken_over)"
	expect_eq "$l: taken over: state ${want%%|*}, blocks, MemTotal, /proc/iomem lines" "$want" "$(adopted)"
}
# view_zones: the zones the debugfs view lists for the device's blocks, collapsed.
view_zones() {
	sed -n 's/^  memory[0-9]*: //p' /sys/kernel/debug/kmem/$DAX | sort | uniq -c | awk '{c = $1; $1 = ""; printf "%s%s%s", (NR>1?", ":""), c, $0}'
}

# reprobe TYPE [preset]: unplug the device (nothing to strand), unbind it, set online_type
# (or, with preset, check that it already reads TYPE), bind, and check what probe did.
# N_REPROBE results.
reprobe() {
	local t=$1 preset=${2:-} e
	expect_eq "$t: unplugged before unbind, MemTotal at base" "OK $base_kb" "$(write_errno $ST unplugged) $(memtotal_kb)"
	expect_eq "$t: unbind" "OK|" "$(write_errno $DRV/unbind $DAX)|$(driver_of $DAX)"
	if [ -n "$preset" ]; then
		expect_eq "$t: online_type already reads $t" "$t" "$(cat $OT)"
	else
		expect_eq "$t: online_type=$t" "OK $t" "$(write_errno $OT $t) $(cat $OT)"
	fi
	dmesg -c >/dev/null
	e=$(write_errno $DRV/bind $DAX)
	expect_eq "$t: bind" "OK|kmem" "$e|$(driver_of $DAX)"
	local want got
	want=$(want_probe $t)
	got=$(got_probe)
	diag "$t: probed $got (state|blocks|MemTotal delta kB|iomem RAM reservation)"
	expect_eq "$t: state ${want%%|*}" "${want%%|*}" "$(cat $ST)"
	want=${want#*|} got=${got#*|}
	expect_eq "$t: blocks ${want%%|*}" "${want%%|*}" "${got%%|*}"
	want=${want#*|} got=${got#*|}
	expect_eq "$t: MemTotal +${want%%|*} kB" "${want%%|*}" "${got%%|*}"
	want=${want#*|} got=${got#*|}
	expect_eq "$t: /proc/iomem System RAM (kmem) and $DAX lines: $want" "$want" "$got"
}

# normal_unplug_fails: the unplug of taken-over ZONE_NORMAL memory fails with EBUSY, changes
# nothing (state, blocks, zones, MemTotal; /proc/iomem as up_iomem) and is logged (3 results).
normal_unplug_fails() {
	local before
	before=$(snapshot $DAX)
	dmesg -c >/dev/null
	expect_eq "taken over: unplug from ZONE_NORMAL: EBUSY" EBUSY "$(write_errno $ST unplugged)"
	expect_eq "taken over: nothing changed: state, blocks, zones, MemTotal, /proc/iomem" "$before
$up_iomem" "$(snapshot $DAX)
$(dev_iomem $DAX)"
	check "taken over: failure logged" logged "kmem $DAX: hotremove failed, device left online: -16"
}
# unbind_timed WHAT: unbind the device, show its log lines, check that it returned with the
# device unbound (one result); R is timed_unbind's "ERRNO|DRIVER|MS".
unbind_timed() {
	R=$(timed_unbind)
	diag "unbind $1: $R ms"
	log | grep -E "kmem $DAX" | while read -r l; do diag "| $l"; done
	expect_eq "unbind $1: OK, unbound" "OK|" "${R%|*}"
}
# unplugged_at_unbind: the log of an unbind=unplug that succeeded (two results).
unplugged_at_unbind() {
	check "logged: unbind: memory unplugged" logged "kmem $DAX: unbind: memory unplugged"
	check "nothing stuck, no failure logged" no_failure_logged
}
# load_logged NAME VALUE: the log has kmem's line and the module loader's for VALUE of
# parameter NAME refused at load.
load_logged() { logged "kmem: invalid parameter value $2; expected one of" && logged "kmem: \`$2' invalid for parameter \`$1'"; }
# invalid_write PARAM VALUE: a refused write (EINVAL, value unchanged) with one log line.
# N_INVALID results.
invalid_write() {
	local f=$1 v=$2 old list
	old=$(cat $f)
	case $f in
	"$OT") list="system, offline, online, online_kernel, online_movable, unplugged" ;;
	*) list="keep, unplug" ;;
	esac
	dmesg -c >/dev/null
	expect_eq "$(basename $f)=$(printf '%q' "$v"): EINVAL, still $old" "EINVAL $old" "$(write_errno $f "$v") $(cat $f)"
	check "$(basename $f)=$(printf '%q' "$v"): logged" logged "kmem: invalid parameter value ${v%$'\n'}; expected one of $list"
}

case $SCENARIO in
probe-types)
	expect_eq "modprobe kmem" OK "$(modprobe_kmem)"
	check "the loaded kmem is the $KMEM_RS_MODE driver" kmem_is_expected
	expect_eq "online_type reads system" system "$(cat $OT)"
	expect_eq "unbind reads keep" keep "$(cat $UB)"
	expect_eq "guard reads owned" owned "$(cat $P/guard)"
	expect_eq "auto_online_blocks reads offline (the project kernel's default)" offline "$(cat $AUTO)"
	expect_eq "probed at load with online_type=system: offline" "$(want_probe system)" "$(got_probe)"
	reprobe offline
	reprobe online_movable
	# A run-time change applies to the next probe only.
	before=$(snapshot $DAX)
	expect_eq "online_type=unplugged while bound: the bound device is unchanged" "OK unplugged
$before" "$(write_errno $OT unplugged) $(cat $OT)
$(snapshot $DAX)"
	reprobe unplugged preset
	check "unplugged: logged" logged "kmem $DAX: online_type=unplugged: no memory added until a write to state"
	reprobe system
	reprobe online_kernel # last: the device cannot be unplugged from ZONE_NORMAL here
	;;
probe-types-distro)
	# The distribution default (auto_online_blocks=online): every explicit type overrides it.
	expect_eq "modprobe kmem online_type=offline" OK "$(modprobe_kmem online_type=offline)"
	expect_eq "auto_online_blocks reads online (the distribution default)" online "$(cat $AUTO)"
	expect_eq "probed at load with online_type=offline: offline, not the system's online" \
		"$(want_probe offline)" "$(got_probe)"
	reprobe online_movable
	reprobe unplugged
	reprobe offline
	reprobe system # last: online in ZONE_NORMAL, the distribution's default, stays here
	;;
probe-online)
	expect_eq "modprobe kmem" OK "$(modprobe_kmem)"
	check "the loaded kmem is the $KMEM_RS_MODE driver" kmem_is_expected
	expect_eq "online_type reads system, auto_online_blocks offline" "system offline" "$(cat $OT) $(cat $AUTO)"
	expect_eq "probed at load: offline" "$(want_probe offline)" "$(got_probe)"
	expect_eq "memory_hotplug.online_policy contig-zones: online picks ZONE_NORMAL for a new node" \
		contig-zones "$(cat /sys/module/memory_hotplug/parameters/online_policy)"
	reprobe online
	# ZONE_NORMAL memory stays: an unbind strands it, a bind takes it over as online_kernel
	# (every block in ZONE_NORMAL; online_type=online does not apply), the unplug fails.
	up_kb=$(memtotal_kb) up_iomem=$(dev_iomem $DAX)
	strand "online" $R1G
	take_over "online" "online_kernel|$n online/Normal|$up_kb|$up_iomem" $R1G
	normal_unplug_fails
	;;
invalid)
	expect_eq "modprobe kmem" OK "$(modprobe_kmem)"
	check "the loaded kmem is the $KMEM_RS_MODE driver" kmem_is_expected
	# Non-default values first (echo: with a trailing newline), which refused writes must keep.
	e1=$( { echo online_movable >$OT; } 2>&1 && echo OK) e2=$( { echo unplug >$UB; } 2>&1 && echo OK)
	expect_eq "echo online_movable, echo unplug: accepted" "OK OK online_movable unplug" "$e1 $e2 $(cat $OT) $(cat $UB)"
	for v in bogus $'\n' online_movable2 Online "keep unplug"; do invalid_write $OT "$v"; done
	for v in bogus $'\n' unplug2 Unplug "keep unplug"; do invalid_write $UB "$v"; done
	# A long value (a page's worth): refused, and the log line shows its first 32 bytes.
	long=$(printf '%4000s' '' | tr ' ' x)
	dmesg -c >/dev/null
	expect_eq "online_type=<4000 x>: EINVAL, still online_movable" "EINVAL online_movable" \
		"$(write_errno $OT "$long") $(cat $OT)"
	check "online_type=<4000 x>: logged with its first 32 bytes" \
		logged "kmem: invalid parameter value ${long:0:32}... (truncated); expected one of"
	echo keep >$UB
	expect_eq "rmmod kmem (offline device: nothing stranded)" "OK|0 0" \
		"$(rmmod kmem 2>&1 && echo OK)|$(iomem)"
	# At load, an invalid value makes the module load fail (parse_args: EINVAL).
	for a in online_type=bogus unbind=Unplug online_type=; do
		dmesg -c >/dev/null
		out=$(modprobe_kmem "$a")
		diag "modprobe kmem $a: $out"
		expect_eq "modprobe kmem $a fails with EINVAL, nothing loaded" "FAIL Invalid argument|absent" \
			"$(contains "$out" 'Invalid argument' && echo "FAIL Invalid argument" || echo "$out")|$([ -e /sys/module/kmem ] && echo present || echo absent)"
		v=${a#*=}
		check "modprobe kmem $a: logged by kmem and by the module loader" load_logged "${a%%=*}" "$v"
	done
	expect_eq "$DAX unbound after the failed loads" "" "$(driver_of $DAX)"
	expect_eq "modprobe kmem online_type=online_movable" OK "$(modprobe_kmem online_type=online_movable)"
	expect_eq "online_type reads online_movable, unbind keep" "online_movable keep" "$(cat $OT) $(cat $UB)"
	want=$(want_probe online_movable) got=$(got_probe)
	expect_eq "probed online_movable" "${want%%|*}" "${got%%|*}"
	want=${want#*|} got=${got#*|}
	expect_eq "every block online in ZONE_MOVABLE" "${want%%|*}" "${got%%|*}"
	want=${want#*|} got=${got#*|}
	expect_eq "MemTotal +$size_kb kB, one System RAM (kmem), one $DAX line" "$want" "$got"
	expect_eq "unplug from online_movable" OK "$(write_errno $ST unplugged)"
	expect_eq "nothing left: MemTotal at base, no RAM, no reservation, no blocks" "$base_kb 0 0 0" "$(gone)"
	;;
distro)
	expect_eq "auto_online_blocks reads online (memhp_default_state=online)" online "$(cat $AUTO)"
	expect_eq "$DAX unbound before modprobe" "" "$(driver_of $DAX)"
	expect_eq "modprobe kmem online_type=online_movable" OK "$(modprobe_kmem online_type=online_movable)"
	expect_eq "online_type reads online_movable" online_movable "$(cat $OT)"
	want=$(want_probe online_movable) got=$(got_probe)
	diag "probed $got"
	expect_eq "probed online_movable, not the system default" "${want%%|*}" "${got%%|*}"
	want=${want#*|} got=${got#*|}
	expect_eq "every block online in ZONE_MOVABLE" "${want%%|*}" "${got%%|*}"
	want=${want#*|} got=${got#*|}
	expect_eq "MemTotal +$size_kb kB, one System RAM (kmem), one $DAX line" "$want" "$got"
	expect_eq "unplug from online_movable" OK "$(write_errno $ST unplugged)"
	expect_eq "nothing left: MemTotal at base, no RAM, no reservation, no blocks" "$base_kb 0 0 0" "$(gone)"
	# The distribution problem, with the system default online type.
	expect_eq "unbind (unplugged)" "OK|" "$(write_errno $DRV/unbind $DAX)|$(driver_of $DAX)"
	expect_eq "online_type=system" "OK system" "$(write_errno $OT system) $(cat $OT)"
	expect_eq "bind" "OK|kmem" "$(write_errno $DRV/bind $DAX)|$(driver_of $DAX)"
	want=$(want_probe system) got=$(got_probe)
	diag "probed $got"
	expect_eq "system: probed online" online "${got%%|*}"
	expect_eq "system: state, blocks in ZONE_NORMAL, MemTotal +$size_kb kB, iomem" "$want" "$got"
	before=$(snapshot $DAX)
	dmesg -c >/dev/null
	expect_eq "unplug from ZONE_NORMAL: EBUSY" EBUSY "$(write_errno $ST unplugged)"
	expect_eq "rollback: state, blocks, zones, MemTotal as before" "$before" "$(snapshot $DAX)"
	check "failure logged" logged "kmem $DAX: hotremove failed, device left online: -16"
	# unbind=unplug cannot help: the same EBUSY, at once, then keep.
	up_kb=$(memtotal_kb) up_iomem=$(dev_iomem $DAX)
	expect_eq "unbind=unplug" "OK unplug" "$(write_errno $UB unplug) $(cat $UB)"
	dmesg -c >/dev/null
	unbind_timed "from ZONE_NORMAL"
	check "unbind returns at once (EBUSY is no retry): ${R##*|} ms < 5000" [ "${R##*|}" -lt 5000 ]
	check "logged: unbind: unplug failed (-16), keeping the memory" logged "kmem $DAX: unbind: unplug failed (-16), keeping the memory"
	check "logged: stuck online until reboot" logged "kmem $DAX: mapping0: 0x100000000-0x13fffffff stuck online until reboot"
	expect_eq "the memory stays: blocks online in ZONE_NORMAL, MemTotal unchanged" "$n online/Normal $up_kb" \
		"$(block_summary $DAX) $(memtotal_kb)"
	# The next bind takes the memory over: online_kernel (every block in ZONE_NORMAL), not
	# online_type=system's online; the unplug still fails and changes nothing.
	take_over "rebind" "online_kernel|$n online/Normal|$up_kb|$up_iomem" $R1G
	normal_unplug_fails
	;;
cmdline)
	expect_eq "auto_online_blocks reads online (memhp_default_state=online)" online "$(cat $AUTO)"
	expect_eq "$DAX unbound before modprobe" "" "$(driver_of $DAX)"
	diag "modprobe's options for kmem: $(modprobe -c 2>/dev/null | grep -E '^options kmem ' | tr '\n' '|')"
	expect_eq "modprobe kmem (no parameters)" OK "$(modprobe_kmem)"
	check "the loaded kmem is the $KMEM_RS_MODE driver" kmem_is_expected
	expect_eq "online_type reads online_movable (from /proc/cmdline)" online_movable "$(cat $OT)"
	want=$(want_probe online_movable) got=$(got_probe)
	diag "probed $got"
	expect_eq "probed online_movable, not the system default" "${want%%|*}" "${got%%|*}"
	want=${want#*|} got=${got#*|}
	expect_eq "every block online in ZONE_MOVABLE, MemTotal +$size_kb kB, iomem" "$want" "$got"
	expect_eq "unplug from online_movable" OK "$(write_errno $ST unplugged)"
	expect_eq "nothing left: MemTotal at base, no RAM, no reservation, no blocks" "$base_kb 0 0 0" "$(gone)"
	;;
unbind-unplug)
	expect_eq "defaults: online_type system, unbind keep" "system keep" "$(cat $OT) $(cat $UB)"
	expect_eq "probed offline" "$(want_probe offline)" "$(got_probe)"
	expect_eq "unplugged, online_movable" "OK OK" "$(write_errno $ST unplugged) $(write_errno $ST online_movable)"
	up_kb=$(memtotal_kb)
	expect_eq "online_movable: every block in ZONE_MOVABLE, MemTotal +$size_kb kB" "$n online/Movable $size_kb" \
		"$(block_summary $DAX) $((up_kb - base_kb))"
	expect_eq "unbind=unplug" "OK unplug" "$(write_errno $UB unplug) $(cat $UB)"

	# Online memory: unplugged at unbind, nothing stranded.
	dmesg -c >/dev/null
	unbind_timed online_movable
	unplugged_at_unbind
	expect_eq "MemTotal back to its value before the online ($base_kb kB)" "$base_kb" "$(memtotal_kb)"
	expect_eq "no System RAM (kmem), no $DAX line in /proc/iomem" "0 0" "$(iomem)"
	expect_eq "no memory block of the range left" 0 "$(present_blocks)"
	expect_eq "debugfs: the leaked list is empty" "" "$(cat /sys/kernel/debug/kmem/leaked 2>&1)"
	expect_eq "rebind: not stranded" "OK|kmem" "$(write_errno $DRV/bind $DAX)|$(driver_of $DAX)"
	expect_eq "rebind: probed offline (online_type=system)" "$(want_probe offline)" "$(got_probe)"

	# Offline memory: removed (as with keep), nothing stranded.
	dmesg -c >/dev/null
	unbind_timed offline
	expect_eq "unbind offline: nothing left: MemTotal at base, no RAM, no reservation, no blocks" "$base_kb 0 0 0" "$(gone)"
	check "unbind offline: nothing stuck, no failure logged" no_failure_logged
	expect_eq "rebind: probed offline" "OK|kmem|$(want_probe offline)" "$(write_errno $DRV/bind $DAX)|$(driver_of $DAX)|$(got_probe)"

	# Nothing added: a plain unbind.
	expect_eq "unplugged" OK "$(write_errno $ST unplugged)"
	dmesg -c >/dev/null
	unbind_timed unplugged
	check "unbind unplugged: no unplug attempted, nothing logged for $DAX" not_logged "kmem $DAX"
	expect_eq "unbind unplugged: nothing left" "$base_kb 0 0 0" "$(gone)"
	expect_eq "rebind: probed offline" "OK|kmem|$(want_probe offline)" "$(write_errno $DRV/bind $DAX)|$(driver_of $DAX)|$(got_probe)"

	# A page held transiently: the unplug retries until the 10 s bound, then keep.
	expect_eq "unplugged, online_movable" "OK OK" "$(write_errno $ST unplugged) $(write_errno $ST online_movable)"
	up_kb=$(memtotal_kb) up_iomem=$(dev_iomem $DAX)
	check "hold a transient page in the device" hold 0x100000000 0x13fffffff transient
	dmesg -c >/dev/null
	unbind_timed "with a held page"
	ms=${R##*|}
	check "unbind returned after the 10 s bound ($ms ms in 9000..20000)" [ "$ms" -ge 9000 -a "$ms" -le 20000 ]
	check "logged: unbind: unplug failed (-110), keeping the memory" logged "kmem $DAX: unbind: unplug failed (-110), keeping the memory"
	check "logged: stuck online until reboot" logged "kmem $DAX: mapping0: 0x100000000-0x13fffffff stuck online until reboot"
	expect_eq "the memory stays: every block online in ZONE_MOVABLE, MemTotal unchanged" "$n online/Movable $up_kb" \
		"$(block_summary $DAX) $(memtotal_kb)"
	expect_eq "debugfs: the leaked list names the range" "$DAX mapping0: 0x100000000-0x13fffffff" \
		"$(cat /sys/kernel/debug/kmem/leaked 2>&1)"
	expect_eq "the held page still reads the same data" intact "$(held_data)"
	# The page released, a bind takes the memory over and the unplug removes it.
	take_over "held page released" "online_movable|$n online/Movable|$up_kb|$up_iomem" $R1G
	dmesg -c >/dev/null
	expect_eq "taken over: unplugged" OK "$(write_errno $ST unplugged)"
	expect_eq "taken over: nothing left: MemTotal at base, no RAM, no reservation, no blocks" "$base_kb 0 0 0" "$(gone)"
	check "taken over: nothing stuck, no failure logged" no_failure_logged
	;;
unbind-multirange)
	check "dax0.0 (offline) unbound and rebuilt as two ranges" make_ranges 2
	m=$(cat $DAX_BASE/$DAX/mapping0/start)-$(cat $DAX_BASE/$DAX/mapping0/end),$(cat $DAX_BASE/$DAX/mapping1/start)-$(cat $DAX_BASE/$DAX/mapping1/end)
	expect_eq "two discontiguous ranges" "0x100000000-0x10fffffff,0x120000000-0x12fffffff" "$m"
	n=4 size_kb=$((512 * 1024))
	expect_eq "bind: offline, two System RAM (kmem), two reservations" "OK|offline|4 offline/-|2 2" \
		"$(write_errno $DRV/bind $DAX)|$(cat $ST)|$(block_summary $DAX)|$(iomem)"
	expect_eq "unplugged" OK "$(write_errno $ST unplugged)"
	base_kb=$(memtotal_kb)
	expect_eq "online_movable" OK "$(write_errno $ST online_movable)"
	up_kb=$(memtotal_kb)
	expect_eq "both ranges added, 4 blocks in ZONE_MOVABLE, MemTotal +512 MiB" "2 2 4 online/Movable $size_kb" \
		"$(iomem) $(block_summary $DAX) $((up_kb - base_kb))"
	expect_eq "unbind=unplug" "OK unplug" "$(write_errno $UB unplug) $(cat $UB)"
	dmesg -c >/dev/null
	unbind_timed "two ranges online_movable"
	unplugged_at_unbind
	expect_eq "both ranges gone: MemTotal at base, no RAM, no reservation, no blocks" "$base_kb 0 0 0" "$(gone)"
	expect_eq "rebind: offline, both ranges" "OK|offline|4 offline/-|2 2" \
		"$(write_errno $DRV/bind $DAX)|$(cat $ST)|$(block_summary $DAX)|$(iomem)"

	# A reserved page in the second range: the unplug fails at once (EBUSY), the first
	# range is rolled back too, and unbind keeps both.
	expect_eq "unplugged, online_movable" "OK OK" "$(write_errno $ST unplugged) $(write_errno $ST online_movable)"
	up_kb=$(memtotal_kb) up_iomem=$(dev_iomem $DAX)
	check "hold a reserved page in the second range" hold 0x120000000 0x12fffffff reserved
	dmesg -c >/dev/null
	unbind_timed "with a reserved page"
	check "unbind returned at once (${R##*|} ms < 5000)" [ "${R##*|}" -lt 5000 ]
	check "logged: unbind: unplug failed (-16), keeping the memory" logged "kmem $DAX: unbind: unplug failed (-16), keeping the memory"
	expect_eq "logged: both ranges stuck online until reboot" "kmem $DAX: mapping0: 0x100000000-0x10fffffff stuck online until reboot
kmem $DAX: mapping1: 0x120000000-0x12fffffff stuck online until reboot" "$(log | grep 'stuck online until reboot' | grep mapping)"
	expect_eq "both ranges kept online in ZONE_MOVABLE, MemTotal unchanged" "2 2 4 online/Movable $up_kb" \
		"$(iomem) $(block_summary $DAX) $(memtotal_kb)"
	expect_eq "debugfs: the leaked list names both ranges" "$DAX mapping0: 0x100000000-0x10fffffff
$DAX mapping1: 0x120000000-0x12fffffff" "$(cat /sys/kernel/debug/kmem/leaked 2>&1)"
	expect_eq "the held page still reads the same data" intact "$(held_data)"
	# The page released, a bind takes both ranges over and the unplug removes both.
	take_over "reserved page released" "online_movable|4 online/Movable|$up_kb|$up_iomem" $R2_0 $R2_1
	dmesg -c >/dev/null
	expect_eq "taken over: unplugged" OK "$(write_errno $ST unplugged)"
	expect_eq "taken over: both ranges gone: MemTotal at base, no RAM, no reservation, no blocks" "$base_kb 0 0 0" "$(gone)"
	check "taken over: nothing stuck, no failure logged" no_failure_logged
	;;
adopt)
	# One full re-adoption, printed step by step as "# [step]" lines.
	D=/sys/kernel/debug/kmem
	expect_eq "defaults: online_type system, unbind keep, guard owned" "system keep owned" "$(cat $OT) $(cat $UB) $(cat $P/guard)"
	expect_eq "probed offline" "$(want_probe offline)" "$(got_probe)"
	tx "probed"
	expect_eq "unplugged: MemTotal M0 (at base)" "OK $base_kb" "$(write_errno $ST unplugged) $(memtotal_kb)"
	m0=$(memtotal_kb)
	tx "unplugged"
	expect_eq "online_movable" OK "$(write_errno $ST online_movable)"
	m1=$(memtotal_kb)
	expect_eq "online_movable: $n blocks in ZONE_MOVABLE, MemTotal M1 = M0 + $size_kb kB" "$n online/Movable $size_kb" \
		"$(block_summary $DAX) $((m1 - m0))"
	snap=$(dev_iomem $DAX)
	expect_eq "/proc/iomem: the reservation $DAX and its System RAM (kmem)" "100000000-13fffffff : $DAX
  100000000-13fffffff : System RAM (kmem)" "$snap"
	tx "online_movable"
	strand "strand" $R1G
	expect_eq "stranded: the /proc/iomem lines, blocks, MemTotal M1 stay" "-|$n online/Movable|$m1|$snap" "$(adopted)"
	tx "unbound (stranded)"
	expect_eq "debugfs: the leaked list names the stranded range" "$DAX mapping0: 0x100000000-0x13fffffff" "$(cat $D/leaked)"
	expect_eq "online_type=unplugged (must not apply to the take-over)" "OK unplugged" "$(write_errno $OT unplugged) $(cat $OT)"
	take_over "bind" "online_movable|$n online/Movable|$m1|$snap" $R1G
	tx "bound again (taken over)"
	check "bind: nothing refused or failed in the log" not_logged "could not"
	v=$(cat $D/$DAX)
	while IFS= read -r l; do diag "[debugfs $DAX] $l"; done <<<"$v"
	expect_eq "debugfs: the take-over removed it from the leaked list" "" "$(cat $D/leaked)"
	expect_eq "debugfs view: state online_movable, not owned yet, $n blocks Movable" "state: online_movable|owned: no (guard=owned)|$n Movable" \
		"$(grep '^state:' <<<"$v")|$(grep '^owned:' <<<"$v")|$(view_zones)"
	expect_eq "online_type=system" "OK system" "$(write_errno $OT system) $(cat $OT)"
	dmesg -c >/dev/null
	expect_eq "unplugged (taken-over memory)" OK "$(write_errno $ST unplugged)"
	tx "unplugged"
	diag "debugfs leaked: $(cat $D/leaked | tr '\n' ';')"
	expect_eq "nothing left: MemTotal M0, no RAM, no reservation, no blocks" "$m0 0 0 0" "$(gone)"
	check "nothing stuck, no failure logged" no_failure_logged
	expect_eq "online_movable again: state, blocks, MemTotal M1, /proc/iomem as before" \
		"OK|online_movable|$n online/Movable|$m1|$snap" "$(write_errno $ST online_movable)|$(adopted)"
	tx "online_movable again"

	# The same across rmmod / modprobe.
	dmesg -c >/dev/null
	expect_eq "rmmod kmem (device online_movable): OK, unloaded" "OK|absent" \
		"$(rmmod kmem 2>&1 && echo OK)|$([ -e /sys/module/kmem ] && echo present || echo absent)"
	log_diag
	expect_eq "rmmod: logged: stuck online until reboot" "$(stuck_lines $R1G)" "$(got_stuck)"
	expect_eq "rmmod: the /proc/iomem lines, blocks, MemTotal M1 stay" "-|$n online/Movable|$m1|$snap" "$(adopted)"
	tx "after rmmod (stranded)"
	dmesg -c >/dev/null
	expect_eq "modprobe kmem" OK "$(modprobe_kmem)"
	check "the reloaded kmem is the $KMEM_RS_MODE driver" kmem_is_expected
	log_diag
	expect_eq "modprobe: $DAX bound to kmem, online_type system" "kmem system" "$(driver_of $DAX) $(cat $OT)"
	expect_eq "modprobe: logged: taken over" "$(taken_over_lines $R1G)" "$(got_taken_over)"
	expect_eq "modprobe: taken over: state online_movable, blocks, MemTotal M1, /proc/iomem lines" \
		"online_movable|$n online/Movable|$m1|$snap" "$(adopted)"
	tx "after modprobe (taken over)"
	expect_eq "modprobe: debugfs view: $n blocks Movable" "$n Movable" "$(view_zones)"
	dmesg -c >/dev/null
	expect_eq "unplugged (taken-over memory)" OK "$(write_errno $ST unplugged)"
	tx "unplugged"
	expect_eq "nothing left: MemTotal M0, no RAM, no reservation, no blocks" "$m0 0 0 0" "$(gone)"
	check "nothing stuck, no failure logged" no_failure_logged
	;;
adopt-multirange)
	check "dax0.0 (offline) unbound and rebuilt as two ranges" make_ranges 2
	m=$(cat $DAX_BASE/$DAX/mapping0/start)-$(cat $DAX_BASE/$DAX/mapping0/end),$(cat $DAX_BASE/$DAX/mapping1/start)-$(cat $DAX_BASE/$DAX/mapping1/end)
	expect_eq "two discontiguous ranges" "0x100000000-0x10fffffff,0x120000000-0x12fffffff" "$m"
	n=4 size_kb=$((512 * 1024)) bs=$(block_size)
	r1_blocks="memory$((0x120000000 / bs)) memory$((0x12fffffff / bs))"
	expect_eq "bind: offline, two System RAM (kmem), two reservations" "OK|offline|4 offline/-|2 2" \
		"$(write_errno $DRV/bind $DAX)|$(cat $ST)|$(block_summary $DAX)|$(iomem)"
	expect_eq "unplugged" OK "$(write_errno $ST unplugged)"
	m0=$(memtotal_kb)
	expect_eq "online_movable" OK "$(write_errno $ST online_movable)"
	m1=$(memtotal_kb)
	snap=$(dev_iomem $DAX)
	expect_eq "both ranges added, 4 blocks in ZONE_MOVABLE, MemTotal +512 MiB" "2 2 4 online/Movable $size_kb" \
		"$(iomem) $(block_summary $DAX) $((m1 - m0))"
	tx "online_movable"
	strand "strand" $R2_0 $R2_1
	expect_eq "stranded: both ranges stay" "-|4 online/Movable|$m1|$snap" "$(adopted)"
	take_over "bind" "online_movable|4 online/Movable|$m1|$snap" $R2_0 $R2_1
	tx "bound again (taken over)"
	expect_eq "debugfs view: 4 blocks Movable" "4 Movable" "$(view_zones)"
	dmesg -c >/dev/null
	expect_eq "unplugged (both ranges taken over)" OK "$(write_errno $ST unplugged)"
	expect_eq "both ranges gone: MemTotal M0, no $DAX line in /proc/iomem, no blocks" "$m0||0" \
		"$(memtotal_kb)|$(dev_iomem $DAX)|$(present_blocks)"
	check "nothing stuck, no failure logged" no_failure_logged

	# A range removed at unbind (its blocks offline) is added again at the bind, with the
	# online type of the taken-over range (not online_type=system's offline).
	expect_eq "online_movable again: both ranges, as before" "OK|online_movable|4 online/Movable|$m1|$snap" \
		"$(write_errno $ST online_movable)|$(adopted)"
	expect_eq "guard=off" "OK off" "$(write_errno $P/guard off) $(cat $P/guard)"
	expect_eq "mapping1's blocks ($r1_blocks) offlined from outside" "OK OK|2 offline/-, 2 online/Movable" \
		"$(for b in $r1_blocks; do write_errno $MEM_BASE/$b/state offline; done | tr '\n' ' ' | sed 's/ $//')|$(block_summary $DAX)"
	strand "strand, mapping1 offline" $R2_0
	expect_eq "mapping1 removed at unbind, mapping0 stays" "-|2 online/Movable|$((m1 - size_kb / 2))|$(head -n 2 <<<"$snap")" "$(adopted)"
	tx "unbound (mapping0 stranded, mapping1 removed)"
	take_over "bind, mapping1 removed" "online_movable|4 online/Movable|$m1|$snap" $R2_0
	tx "bound again (mapping0 taken over, mapping1 added)"
	check "mapping1 added without failure" not_logged "could not"
	expect_eq "guard=owned" "OK owned" "$(write_errno $P/guard owned) $(cat $P/guard)"

	# The same across rmmod / modprobe.
	dmesg -c >/dev/null
	expect_eq "rmmod kmem (both ranges online_movable): OK, unloaded" "OK|absent" \
		"$(rmmod kmem 2>&1 && echo OK)|$([ -e /sys/module/kmem ] && echo present || echo absent)"
	log_diag
	expect_eq "rmmod: logged: both ranges stuck online until reboot" "$(stuck_lines $R2_0 $R2_1)" "$(got_stuck)"
	expect_eq "rmmod: both ranges stay" "-|4 online/Movable|$m1|$snap" "$(adopted)"
	dmesg -c >/dev/null
	expect_eq "modprobe kmem" OK "$(modprobe_kmem)"
	log_diag
	expect_eq "modprobe: $DAX bound to kmem, both ranges taken over" "kmem
$(taken_over_lines $R2_0 $R2_1)" "$(driver_of $DAX)
$(got_taken_over)"
	expect_eq "modprobe: taken over: state online_movable, blocks, MemTotal M1, /proc/iomem lines" \
		"online_movable|4 online/Movable|$m1|$snap" "$(adopted)"
	tx "after modprobe (taken over)"
	# modprobe binds the gap device too (its own memory, added offline).
	expect_eq "modprobe: the gap device dax0.1 bound too: offline, one reservation" "kmem|offline|1" \
		"$(driver_of dax0.1)|$(cat $DAX_BASE/dax0.1/state)|$(dev_reserved dax0.1)"
	dmesg -c >/dev/null
	expect_eq "unplugged (both ranges taken over)" OK "$(write_errno $ST unplugged)"
	expect_eq "both ranges gone: MemTotal M0, no $DAX line in /proc/iomem, no blocks" "$m0||0" \
		"$(memtotal_kb)|$(dev_iomem $DAX)|$(present_blocks)"
	check "nothing stuck, no failure logged" no_failure_logged
	;;
adopt-states)
	expect_eq "probed offline" "$(want_probe offline)" "$(got_probe)"
	expect_eq "unplugged: MemTotal M0 (at base)" "OK $base_kb" "$(write_errno $ST unplugged) $(memtotal_kb)"
	m0=$(memtotal_kb)
	expect_eq "online_movable: $n blocks in ZONE_MOVABLE" "OK $n online/Movable" "$(write_errno $ST online_movable) $(block_summary $DAX)"
	m1=$(memtotal_kb)
	snap=$(dev_iomem $DAX)
	blocks=$(dev_blocks $DAX)
	half=$(head -n $((n / 2)) <<<"$blocks")
	# ext_state STATE BLOCK...: write STATE to each memoryN from outside; the errnos, collapsed.
	ext_state() {
		local s=$1 b
		shift
		for b in "$@"; do write_errno $MEM_BASE/$b/state $s; echo; done | grep . | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $1, $2}'
	}

	# Half of the blocks offline: some offline -> online.
	strand "half" $R1G
	# shellcheck disable=SC2086 # word splitting intended
	expect_eq "half: $((n / 2)) blocks offlined from outside (no driver bound: nothing refuses)" \
		"$((n / 2)) OK|$((n / 2)) offline/-, $((n / 2)) online/Movable|$((m0 + size_kb / 2))" \
		"$(ext_state offline $half)|$(block_summary $DAX)|$(memtotal_kb)"
	tx "half: stranded, half offline"
	take_over "half" "online|$((n / 2)) offline/-, $((n / 2)) online/Movable|$((m0 + size_kb / 2))|$snap" $R1G
	expect_eq "half: debugfs view zones" "$((n / 2)) Movable, $((n / 2)) offline or absent" "$(view_zones)"
	dmesg -c >/dev/null
	expect_eq "half: unplugged" OK "$(write_errno $ST unplugged)"
	expect_eq "half: nothing left: MemTotal M0, no RAM, no reservation, no blocks" "$m0 0 0 0" "$(gone)"
	check "half: nothing stuck, no failure logged" no_failure_logged

	# Every block offline: the memory is still added, the take-over applies -> offline.
	expect_eq "online_movable" "OK $n online/Movable $m1" "$(write_errno $ST online_movable) $(block_summary $DAX) $(memtotal_kb)"
	strand "all" $R1G
	# shellcheck disable=SC2086 # word splitting intended
	expect_eq "all: $n blocks offlined from outside: still added, MemTotal M0" "$n OK|$n offline/-|$m0|$snap" \
		"$(ext_state offline $blocks)|$(block_summary $DAX)|$(memtotal_kb)|$(dev_iomem $DAX)"
	tx "all: stranded, all offline"
	take_over "all" "offline|$n offline/-|$m0|$snap" $R1G
	expect_eq "all: debugfs view zones" "$n offline or absent" "$(view_zones)"
	dmesg -c >/dev/null
	expect_eq "all: unplugged" OK "$(write_errno $ST unplugged)"
	expect_eq "all: nothing left: MemTotal M0, no RAM, no reservation, no blocks" "$m0 0 0 0" "$(gone)"
	check "all: nothing stuck, no failure logged" no_failure_logged
	expect_eq "all: online_movable again: state, blocks, MemTotal M1, /proc/iomem" \
		"OK|online_movable|$n online/Movable|$m1|$snap" "$(write_errno $ST online_movable)|$(adopted)"

	# Mixed zones (last: ZONE_NORMAL): half onlined to ZONE_MOVABLE, half to ZONE_NORMAL -> online.
	strand "mixed" $R1G
	rest=$(tail -n +$((n / 2 + 1)) <<<"$blocks")
	# shellcheck disable=SC2086 # word splitting intended
	expect_eq "mixed: all offlined, then $((n / 2)) onlined movable and $((n / 2)) kernel from outside" \
		"$n OK|$((n / 2)) OK|$((n / 2)) OK|$((n / 2)) online/Movable, $((n / 2)) online/Normal|$m1" \
		"$(ext_state offline $blocks)|$(ext_state online_movable $half)|$(ext_state online_kernel $rest)|$(block_summary $DAX)|$(memtotal_kb)"
	tx "mixed: stranded, mixed zones"
	take_over "mixed" "online|$((n / 2)) online/Movable, $((n / 2)) online/Normal|$m1|$snap" $R1G
	expect_eq "mixed: debugfs view zones" "$((n / 2)) Movable, $((n / 2)) Normal" "$(view_zones)"
	before="$(snapshot $DAX)
$(dev_iomem $DAX)"
	dmesg -c >/dev/null
	e=$(write_errno $ST unplugged)
	diag "mixed: unplug from ZONE_MOVABLE + ZONE_NORMAL: $e"
	log_diag
	case $e in
	OK) expect_eq "mixed: unplugged: nothing left" "$m0 0 0 0" "$(gone)" ;;
	EBUSY) expect_eq "mixed: unplug EBUSY (ZONE_NORMAL): nothing changed" "$before" "$(snapshot $DAX)
$(dev_iomem $DAX)" ;;
	*) not_ok "mixed: unplug: OK or EBUSY, got $e" ;;
	esac
	expect_eq "debugfs: nothing in the leaked list after three strands and take-overs" "" "$(cat /sys/kernel/debug/kmem/leaked)"
	;;
esac
finish
