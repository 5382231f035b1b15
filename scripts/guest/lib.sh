# SPDX-License-Identifier: GPL-2.0
# Helpers for guest test scripts (sourced; bash).  Results are KTAP v1
# (Documentation/dev-tools/ktap.rst; the host parses them with scripts/ktap.py):
#   KTAP version 1         and
#   1..N                   the plan (plan N), printed before the first result
#   ok N - name            a passed check
#   not ok N - name        a failed check (with "# ..." diagnostics before it)
#   ok N - name # SKIP why a skipped check
#   obs KEY VALUE          an observation compared between the Rust and C drivers (a line
#                          KTAP parsers ignore)

DAX_BASE=/sys/bus/dax/devices
MEM_BASE=/sys/devices/system/memory
_n=0
_failed=0

# plan N: declare, before the first result, how many results this run reports
# (KTAP "1..N", after the version line); the host fails a run whose count differs from its
# plan.
plan() { echo "KTAP version 1"; echo "1..$1"; }
ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
skip() { local name=$1; shift; _n=$((_n + 1)); echo "ok $_n - $name # SKIP $*"; }
diag() { echo "# $*"; }
obs() { echo "obs $*"; }
# check NAME COMMAND...: ok if COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else diag "want '$2', got '$3'"; not_ok "$1"; fi
}
finish() { [ "$_failed" = 0 ]; }
# tally: the lines on stdin counted, as "COUNTxLINE" words ("6x0 1x16": errno numbers).
tally() { sort | uniq -c | awk '{printf "%s%sx%s", (NR>1?" ":""), $1, $2}'; }

memtotal_kb() { awk '/^MemTotal:/ {print $2}' /proc/meminfo; }
block_size() { printf '%d' "0x$(cat $MEM_BASE/block_size_bytes)"; }

# write_errno FILE VALUE: write VALUE (printf %s, no newline added) and print
# the errno name ("OK" on success).
write_errno() {
	local f=$1 v=$2 err
	if err=$( { printf '%s' "$v" >"$f"; } 2>&1); then
		echo OK
	else
		case "$err" in
		*"Invalid argument"*) echo EINVAL ;;
		*"Device or resource busy"*) echo EBUSY ;;
		*"No such device"*) echo ENODEV ;;
		*"Permission denied"*) echo EACCES ;;
		*"Interrupted system call"*) echo EINTR ;;
		*"Cannot allocate memory"*) echo ENOMEM ;;
		*"No space left"*) echo ENOSPC ;;
		*"No such file"*) echo ENOENT ;;
		*"Resource temporarily unavailable"*) echo EAGAIN ;;
		*) echo "ERR($err)" ;;
		esac
	fi
}

# dev_blocks DAX: the memoryN blocks of a device, from its "System RAM (kmem)"
# children in /proc/iomem (the reservation is named after the device).
dev_blocks() {
	local dax=$1 bs line range s e i
	bs=$(block_size)
	grep -E " : $dax\$" /proc/iomem | while read -r line; do
		range=${line%% :*}
		range=${range// /}
		s=$((0x${range%-*}))
		e=$((0x${range#*-}))
		for ((i = s / bs; i <= e / bs; i++)); do
			[ -d "$MEM_BASE/memory$i" ] && echo "memory$i"
		done
	done
}

# block_summary DAX: "N blocks: STATE/ZONE ..." collapsed, e.g. "8 online/Movable".
block_summary() {
	local dax=$1 b st z
	for b in $(dev_blocks "$dax"); do
		st=$(cat "$MEM_BASE/$b/state")
		z=$(cat "$MEM_BASE/$b/valid_zones" 2>/dev/null | awk '{print $1}')
		[ "$st" = online ] || z=-
		echo "$st/$z"
	done | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $1, $2} END {if (NR==0) printf "0 blocks"}'
}

# blocks_now BLOCK_NUMBER...: set BN to the present blocks among memoryN (N the
# arguments) by state/zone, e.g. "8 online/Movable" ("0 blocks" if none).  No
# forks, so that racing tests can call it after every operation; a block removed
# while it is read is skipped.
blocks_now() {
	local b st z k
	local -A c=()
	for b in "$@"; do
		[ -e $MEM_BASE/memory$b ] || continue
		read -r st <$MEM_BASE/memory$b/state || continue
		z=-
		[ "$st" = online ] && read -r z _ <$MEM_BASE/memory$b/valid_zones
		c[$st/$z]=$((${c[$st/$z]:-0} + 1))
	done
	BN=
	for k in "${!c[@]}"; do BN+="${BN:+, }${c[$k]} $k"; done
	BN=${BN:-0 blocks}
}

# iomem_children DAX: number of "System RAM (kmem)" resources under the device.
kmem_ram_count() { grep -c 'System RAM (kmem)' /proc/iomem; }
dev_reserved() { grep -cE " : $1\$" /proc/iomem; }

driver_of() { basename "$(readlink "$DAX_BASE/$1/driver" 2>/dev/null)" 2>/dev/null; }

# contains TEXT PATTERN: TEXT has a line matching the extended regex PATTERN.
contains() { grep -qE -- "$2" <<<"$1"; }
# dmesg_has PATTERN: the kernel log has a line matching PATTERN.
dmesg_has() { dmesg | grep -qE -- "$1"; }
# guard_refuses: the loaded kmem refuses external memoryN/state writes to a device
# once it was written through its `state` (the Rust driver with guard=owned or
# always; the C driver has no guard).
guard_refuses() {
	case $(cat /sys/module/kmem/parameters/guard 2>/dev/null) in owned | always) return 0 ;; *) return 1 ;; esac
}
# kmem_is_expected: the loaded kmem is the driver this run is for (the Rust
# module is out of tree: taint O; the in-tree C one has no taint; a built-in
# kmem, scripts/intree.sh --builtin, has no taint file and counts as in-tree).
kmem_is_expected() {
	local t
	if [ -d /sys/module/kmem ] && ! [ -e /sys/module/kmem/taint ]; then
		t=
	else
		t=$(cat /sys/module/kmem/taint 2>/dev/null) || return 1
	fi
	case "$KMEM_RS_MODE:$t" in rust:*O* | none:*O* | c:) return 0 ;; *) diag "kmem taint '$t' in mode $KMEM_RS_MODE"; return 1 ;; esac
}

# split_two: with a 2 GiB dax0.0 (vm-run --dax=2G), make dax0.0 and dax0.1 of
# 1 GiB each, both bound to kmem (blocks offline).
split_two() {
	local drv=/sys/bus/dax/drivers/kmem region
	region=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
	echo dax0.0 >$drv/unbind || return 1
	echo 0 >$DAX_BASE/dax0.0/size || return 1
	echo $((1 << 30)) >$DAX_BASE/dax0.0/size || return 1
	echo 1 >$region/create || return 1
	echo $((1 << 30)) >$DAX_BASE/dax0.1/size || return 1
	echo dax0.0 >$drv/bind || return 1
	echo dax0.1 >$drv/bind || return 1
}
# make_ranges N: rebuild dax0.0 (unbound first; its blocks must be offline or
# absent) as N discontiguous ranges of 256 MiB, at 4 GiB + k * 512 MiB, with
# new seed devices dax0.1.. of 256 MiB as the gaps.  dax0.0 is left unbound.
make_ranges() {
	local n=$1 i mib=$((1 << 20)) region
	region=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
	if [ -e $DAX_BASE/dax0.0/driver ]; then
		echo dax0.0 >$DAX_BASE/dax0.0/driver/unbind || return 1
	fi
	echo 0 >$DAX_BASE/dax0.0/size || return 1
	for ((i = 1; i <= n; i++)); do
		echo $((i * 256 * mib)) >$DAX_BASE/dax0.0/size || return 1
		[ $i -lt "$n" ] || break
		echo 1 >$region/create || return 1
		echo $((256 * mib)) >$DAX_BASE/dax0.$i/size || return 1
	done
}
# set_blocks DAX STATE: write STATE to every block of DAX; prints the errno
# names, one per block, collapsed ("8 EBUSY").
set_blocks() {
	local b
	for b in $(dev_blocks "$1"); do write_errno $MEM_BASE/$b/state "$2"; echo; done | grep . | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $1, $2}'
}

# in_list N FILE: N is in the node list in FILE (e.g. "0-1,3").
in_list() {
	local part
	for part in $(tr ',' ' ' <"$2"); do
		[ "$1" -ge "${part%-*}" ] && [ "$1" -le "${part#*-}" ] && return 0
	done
	return 1
}
# tier_of NODE: the memory tier whose nodelist has NODE, or "none" (tier ids grow as tiers get
# slower).
tier_of() {
	local t
	for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
		[ -e "$t/nodelist" ] && in_list "$1" "$t/nodelist" && { echo "${t##*/}"; return; }
	done
	echo none
}
# node_kb NODE KEY: the node's meminfo value KEY (MemTotal, Shmem, ...) in kB; 0 once the node
# has no memory and is gone.
node_kb() {
	local v
	v=$(awk -v k="$2:" '$3 == k {print $4; exit}' /sys/devices/system/node/node$1/meminfo 2>/dev/null)
	echo "${v:-0}"
}
node_shmem() { node_kb "$1" Shmem; }

HOLD=/sys/kernel/debug/kmem_holdpage/control
# hold START END MODE: load the helper and hold a page of [START, END].
hold() {
	[ -e $HOLD ] || insmod /test/kmem_holdpage.ko || return 1
	echo "hold $1 $2 $3" >$HOLD && diag "$(cat $HOLD)"
}
release() { echo release >$HOLD && cat $HOLD; }
# held_data: release the held page and print what its content was ("intact" or not).
held_data() { release | sed -nE 's/.*data=([a-zA-Z]+).*/\1/p'; }
# snapshot DAX: state, per-block state/zone and MemTotal, for exact comparison.
snapshot() {
	local b
	echo "state=$(cat $DAX_BASE/$1/state) memtotal=$(memtotal_kb)"
	for b in $(dev_blocks "$1"); do
		echo "$b $(cat $MEM_BASE/$b/state) $(cat $MEM_BASE/$b/valid_zones)"
	done
}
# obs_snapshot KEY DAX BASE_KB: the snapshot of DAX as observations, one "obs KEY ..." line per
# snapshot line, with MemTotal as its change from BASE_KB (MemTotal itself differs by a few kB
# between boots of a KASLR kernel, a distribution's).
obs_snapshot() {
	local b
	obs "$1" "state=$(cat $DAX_BASE/$2/state) memtotal_change=$(($(memtotal_kb) - $3))"
	for b in $(dev_blocks "$2"); do
		obs "$1" "$b $(cat $MEM_BASE/$b/state) $(cat $MEM_BASE/$b/valid_zones)"
	done
}
# gate FLAG ACK ID: while FLAG exists, acknowledge its generation in ACK.ID and wait.
gate() {
	local g
	while read -r g 2>/dev/null <"$1"; do
		echo "$g" >"$2.$3"
		sleep 0.005
	done
}
# pause FLAG ACK EXITED ID...: raise FLAG with a new generation and wait until each
# participant ID acknowledged it in ACK.ID (or has exited, EXITED.ID).  Used to
# keep memoryN sysfs users out of block removals (see tests/stress.sh).
pause() {
	local flag=$1 ack=$2 exited=$3 g=$RANDOM$RANDOM i
	shift 3
	echo $g >"$flag"
	for i in "$@"; do
		until [ "$(cat "$ack.$i" 2>/dev/null)" = $g ] || [ -e "$exited.$i" ]; do sleep 0.005; done
	done
}
# now_us: microseconds since the epoch (bash's clock; busybox date has no %N).
now_us() { echo "${EPOCHREALTIME/./}"; }

# --- CXL: the sysfs region ABI (vm-run --cxl guests) ---------------------------------------------
CXL_BASE=/sys/bus/cxl/devices
# endpoint_decoder MEMDEV: the first decoder of the memdev's endpoint port.
endpoint_decoder() {
	local up e
	up=$(basename "$(readlink -f $CXL_BASE/$1)")
	for e in $CXL_BASE/endpoint*; do
		[ "$(basename "$(readlink -f "$e/uport")")" = "$up" ] || continue
		basename "$(ls -d $e/decoder*.0)"
		return 0
	done
	return 1
}
# memdevs_of ROOT: the memdevs below root decoder ROOT's window, as cxl lists them, in order.
memdevs_of() { cxl list -M -d "$1" 2>/dev/null | sed -nE 's/.*"memdev":"(mem[0-9]+)".*/\1/p' | sort -V; }
# endpoint_decoders: endpoint_decoder of every memdev, in memdev order.
endpoint_decoders() {
	local m
	for m in $(ls -d $CXL_BASE/mem* | xargs -n1 basename | sort -V); do endpoint_decoder "$m" || return 1; done
}
# region_create WAYS PER_DEV_BYTES [ROOT [ENDPOINT_DECODER...]]: a committed RAM region in the
# window of root decoder ROOT (decoder0.0) over the given endpoint decoders (the first WAYS
# memdevs'); sets REGION (regionN) and DAX (the dax device it makes) once that device is bound.
region_create() {
	local ways=$1 per=$2 root=${3:-decoder0.0} d k=0 i eps
	shift $(($# < 3 ? $# : 3))
	eps=${*:-$(for m in $(memdevs_of "$root" | head -n "$ways"); do endpoint_decoder "$m"; done)}
	REGION=$(cat $CXL_BASE/$root/create_ram_region) || return 1
	echo "$REGION" >$CXL_BASE/$root/create_ram_region || return 1
	echo 4096 >$CXL_BASE/$REGION/interleave_granularity || return 1
	echo "$ways" >$CXL_BASE/$REGION/interleave_ways || return 1
	echo $((ways * per)) >$CXL_BASE/$REGION/size || return 1
	for d in $eps; do
		echo ram >$CXL_BASE/$d/mode || return 1
		echo "$per" >$CXL_BASE/$d/dpa_size || return 1
		echo "$d" >$CXL_BASE/$REGION/target$k || return 1
		k=$((k + 1))
	done
	echo 1 >$CXL_BASE/$REGION/commit || return 1
	echo "$REGION" >/sys/bus/cxl/drivers/cxl_region/bind || return 1
	# dax_cxl makes the dax region and its device asynchronously.
	for ((i = 0; i < 200; i++)); do
		DAX=$(basename "$(ls -d $CXL_BASE/$REGION/dax_region*/dax*.* 2>/dev/null | head -n1)" 2>/dev/null)
		[ -n "$DAX" ] && [ -e $DAX_BASE/$DAX/driver ] && return 0
		sleep 0.05
	done
	return 1
}
