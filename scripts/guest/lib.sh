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
# The device under test: KMEM_DAX, the caller's choice (on a machine of one's own: the suites
# that take it are listed in the README), else the guest's dax0.0.
DAX=${KMEM_DAX:-dax0.0}
# The driver under test: vm-run's guest sets KMEM_RS_MODE; elsewhere the loaded kmem says
# (the Rust module is out of tree: taint O).
if [ -z "${KMEM_RS_MODE:-}" ]; then
	case $(cat /sys/module/kmem/taint 2>/dev/null) in *O*) KMEM_RS_MODE=rust ;; *) KMEM_RS_MODE=c ;; esac
	export KMEM_RS_MODE
fi
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

memtotal_kb() { local MT; memtotal_now; echo "$MT"; }
# (The helpers below read files with rd, not $(cat ...): on the debug kernel under TCG a fork
# costs about 40 ms and a fork and exec 60 ms, and the suites check their invariants after
# every step.)
block_size() { local b; read -r b <$MEM_BASE/block_size_bytes; echo $((0x$b)); }
# rd VAR FILE: VAR = FILE's first line, without its newline ("" and status 1 if FILE cannot be
# read or is empty).  No forks.
rd() {
	local -n _rd_v=$1
	_rd_v=
	{ IFS= read -r _rd_v <"$2" || [ -n "$_rd_v" ]; } 2>/dev/null
}

# errno_name MESSAGE: E = the errno name of bash's MESSAGE for a failed open or write (its
# text after the last ": ", the strerror), "ERR(TEXT)" for one not listed.  No forks.
errno_name() {
	case "${1##*: }" in
	"Invalid argument") E=EINVAL ;;
	"Device or resource busy") E=EBUSY ;;
	"No such device") E=ENODEV ;;
	"Permission denied") E=EACCES ;;
	"Interrupted system call") E=EINTR ;;
	"Cannot allocate memory") E=ENOMEM ;;
	"No space left on device") E=ENOSPC ;;
	"No such file or directory") E=ENOENT ;;
	"Resource temporarily unavailable") E=EAGAIN ;;
	"Operation not supported") E=EOPNOTSUPP ;;
	"Input/output error") E=EIO ;;
	"Operation not permitted") E=EPERM ;;
	"File exists") E=EEXIST ;;
	*) E="ERR(${1##*: })" ;;
	esac
}
# write_errno FILE VALUE: write VALUE (printf %s, no newline added) and print
# the errno name ("OK" on success; errno_name).
write_errno() {
	local E
	put "$1" "$2" "we.$BASHPID"
	echo "$E"
}
# put FILE VALUE ID: E = OK or the errno name of writing VALUE to FILE (open, write, close in
# this shell, no fork; errno_name).  ID names the file the error message goes through
# (/tmp/put-err.ID): concurrent writers use different IDs.
put() {
	local line
	if printf %s "$2" 2>/tmp/put-err."$3" >"$1"; then
		E=OK
	else
		read -r line </tmp/put-err."$3"
		errno_name "$line"
	fi
}

# iomem_now DAX: the device's part of /proc/iomem, read without forking (racing tests call it
# after every step): IO = "R C", its reservations (named after the device) and the System RAM
# (kmem) resources nested in them; IO_LINES = the lines of its reservations and of everything
# nested in them; IO_RES = one "RANGE CHILD@RANGE..." per reservation, with its direct children.
iomem_now() {
	local line lead name rng ind=-1 r=0 c=0
	IO_LINES=
	IO_RES=()
	while IFS= read -r line; do
		lead=${line%%[^ ]*}
		name=${line#*" : "}
		rng=${line%%" : "*}
		rng=${rng// /}
		if ((ind >= 0 && ${#lead} > ind)); then
			IO_LINES+=$'\n'$line
			[ "$name" = "System RAM (kmem)" ] && c=$((c + 1))
			((${#lead} == ind + 2)) && IO_RES[r - 1]+=" $name@$rng"
			continue
		fi
		ind=-1
		[ "$name" = "$1" ] || continue
		IO_LINES+=${IO_LINES:+$'\n'}$line
		IO_RES+=("$rng")
		r=$((r + 1)) ind=${#lead}
	done </proc/iomem
	IO="$r $c"
}
# dev_iomem DAX: the device's lines of /proc/iomem: its reservations and everything nested in them.
# shellcheck disable=SC2034 # iomem_now's results, not the caller's
dev_iomem() {
	local IO IO_LINES IO_RES
	iomem_now "$1"
	[ -z "$IO_LINES" ] || echo "$IO_LINES"
}
# dev_block_numbers DAX: DB = the numbers N of the memoryN that the device's reservations in
# /proc/iomem span, present or not.  No forks.
# shellcheck disable=SC2034 # iomem_now's results, not the caller's
dev_block_numbers() {
	local bs res s e i IO IO_LINES IO_RES
	read -r bs <$MEM_BASE/block_size_bytes
	bs=$((0x$bs))
	iomem_now "$1"
	DB=()
	for res in "${IO_RES[@]}"; do
		res=${res%% *}
		s=$((0x${res%-*}))
		e=$((0x${res#*-}))
		for ((i = s / bs; i <= e / bs; i++)); do DB+=("$i"); done
	done
}
# dev_blocks DAX: the memoryN blocks of a device, from its reservations in /proc/iomem (named
# after the device), one a line.
dev_blocks() {
	local i DB
	dev_block_numbers "$1"
	for i in "${DB[@]}"; do
		[ -d "$MEM_BASE/memory$i" ] && echo "memory$i"
	done
	return 0
}

# blocks_now BLOCK_NUMBER...: set BN to the present blocks among memoryN (N the
# arguments) by state/zone, sorted, e.g. "8 online/Movable" ("0 blocks" if none).  No
# forks, so that racing tests can call it after every operation; a block removed
# while it is read is skipped.
blocks_now() {
	local b st z k j keys=()
	local -A c=()
	for b in "$@"; do
		[ -e $MEM_BASE/memory$b ] || continue
		read -r st <$MEM_BASE/memory$b/state || continue
		z=-
		[ "$st" = online ] && read -r z _ <$MEM_BASE/memory$b/valid_zones
		c[$st/$z]=$((${c[$st/$z]:-0} + 1))
	done
	for k in "${!c[@]}"; do # insertion sort, byte order as sort(1) in the guest
		for ((j = ${#keys[@]}; j > 0; j--)); do
			[[ ${keys[j - 1]} > $k ]] || break
			keys[j]=${keys[j - 1]}
		done
		keys[j]=$k
	done
	BN=
	for k in "${keys[@]}"; do BN+="${BN:+, }${c[$k]} $k"; done
	BN=${BN:-0 blocks}
}
# block_summary DAX: the device's blocks (dev_blocks) by state/zone as blocks_now reads them,
# e.g. "8 online/Movable" or "2 offline/-, 2 online/Movable".
block_summary() {
	local BN DB
	dev_block_numbers "$1"
	blocks_now "${DB[@]}"
	echo "$BN"
}
# memtotal_now: MT = MemTotal in kB.  No forks.
memtotal_now() {
	local k v
	while read -r k v _; do [ "$k" = MemTotal: ] && break; done </proc/meminfo
	MT=$v
}
# dev_now DAX BLOCK_NUMBER...: the device as racing tests check it after every step, read
# without forking: DS its state ("-" while no driver is bound), BN its blocks among memoryN (N
# the arguments: blocks_now), IO its reservations and their System RAM (kmem) (iomem_now), MT
# MemTotal (memtotal_now).
# shellcheck disable=SC2034 # DS for the caller; iomem_now's IO_LINES and IO_RES not
dev_now() {
	local dax=$1 IO_LINES IO_RES
	shift
	DS=-
	[ -e "$DAX_BASE/$dax/state" ] && read -r DS <"$DAX_BASE/$dax/state"
	blocks_now "$@"
	iomem_now "$dax"
	memtotal_now
}

# dev_line DAX BASE_KB: "DRIVER|STATE|BLOCKS|ONLINE BLOCKS BY MEMTOTAL|RESERVATIONS KMEM-RAM" of DAX
# ("|-|..." unbound), the online blocks being MemTotal's growth over BASE_KB in blocks.
# No forks.
dev_line() {
	local s=- IO b bs d="" BN DB MT
	[ -e "$DAX_BASE/$1/state" ] && read -r s <"$DAX_BASE/$1/state"
	# shellcheck disable=SC2034 # iomem_now's other results, not ours
	local IO_LINES IO_RES
	iomem_now "$1"
	read -r b <$MEM_BASE/block_size_bytes
	bs=$((0x$b))
	for b in /sys/bus/dax/drivers/*/"$1"; do [ -e "$b" ] && { b=${b%/*}; d=${b##*/}; }; done
	dev_block_numbers "$1"
	blocks_now "${DB[@]}"
	memtotal_now
	echo "$d|$s|$BN|$(((MT - $2) * 1024 / bs))|$IO"
}
# kmem_ram_count: the number of "System RAM (kmem)" resources; dev_reserved DAX: the number of
# the device's reservations.
kmem_ram_count() { grep -c 'System RAM (kmem)' /proc/iomem; }
dev_reserved() { grep -cE " : $1\$" /proc/iomem; }

# driver_of DAX: the name of the driver DAX is bound to ("" if none).  No forks.
driver_of() {
	local d
	for d in /sys/bus/dax/drivers/*/"$1"; do
		[ -e "$d" ] && { d=${d%/*}; echo "${d##*/}"; return; }
	done
}

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
	local n=$1 i mib=$((1 << 20)) region d
	region=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
	# (The devices an earlier call made are deleted first: a suite may run after another.)
	for d in $DAX_BASE/dax0.0 $DAX_BASE/dax0.[1-9]*; do
		[ -e "$d" ] || continue
		if [ -e "$d/driver" ]; then
			echo "${d##*/}" >"$d/driver/unbind" || return 1
		fi
		[ "${d##*/}" = dax0.0 ] && continue
		echo 0 >"$d/size" && echo "${d##*/}" >$region/delete || return 1
	done
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

# step DEV VALUE WANT: write VALUE to DEV's state expecting the errno name WANT (one result); the
# outcome, the state and the blocks are an observation, "obs SCEN:DEV:VALUE ..." (SCEN: the
# suite's scenario).
step() {
	local E st BN DB
	put "$DAX_BASE/$1/state" "$2" step
	expect_eq "$1: $2 -> $3" "$3" "$E"
	rd st "$DAX_BASE/$1/state"
	dev_block_numbers "$1"
	blocks_now "${DB[@]}"
	obs "$SCEN:$1:$2" "$E $st $BN"
}
# par DEV0 VALUE0 DEV1 VALUE1: write VALUE0 to DEV0's state and VALUE1 to DEV1's at the same
# time; prints both errno names.  (It waits for every child of its shell: call it in $(...).)
par() {
	write_errno "$DAX_BASE/$1/state" "$2" >/tmp/par0 &
	write_errno "$DAX_BASE/$3/state" "$4" >/tmp/par1 &
	wait
	echo "$(cat /tmp/par0) $(cat /tmp/par1)"
}
# sums DIR: the md5sums of the files in DIR, on one line.
sums() { md5sum "$1"/* | awk '{printf "%s ", $1}'; }

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
node_memtotal() { node_kb "$1" MemTotal; }

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
	local b st z MT
	rd st $DAX_BASE/$1/state
	memtotal_now
	echo "state=$st memtotal=$MT"
	for b in $(dev_blocks "$1"); do
		rd st $MEM_BASE/$b/state
		rd z $MEM_BASE/$b/valid_zones
		echo "$b $st $z"
	done
}
# obs_snapshot KEY DAX BASE_KB: the snapshot of DAX as observations, one "obs KEY ..." line per
# snapshot line, with MemTotal as its change from BASE_KB (MemTotal itself differs by a few kB
# between boots of a KASLR kernel, a distribution's).
obs_snapshot() {
	local b st z MT
	rd st $DAX_BASE/$2/state
	memtotal_now
	obs "$1" "state=$st memtotal_change=$((MT - $3))"
	for b in $(dev_blocks "$2"); do
		rd st $MEM_BASE/$b/state
		rd z $MEM_BASE/$b/valid_zones
		obs "$1" "$b $st $z"
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
	local m d
	for m in $(for d in "$CXL_BASE"/mem*; do echo "${d##*/}"; done | sort -V); do endpoint_decoder "$m" || return 1; done
}
# region_create WAYS PER_DEV_BYTES [ROOT [ENDPOINT_DECODER...]]: a committed RAM region in the
# window of root decoder ROOT (decoder0.0) over the given endpoint decoders (the first WAYS
# memdevs'); sets REGION (regionN) and DAX (the dax device it makes) once that device is bound.
region_create() {
	local ways=$1 per=$2 root=${3:-decoder0.0} d k=0 i eps m
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
	# dax_cxl makes the dax region and its device asynchronously, and the device's mapping0 (its
	# attributes one by one) only after the device was added, and so bound: wait for both.
	for ((i = 0; i < 200; i++)); do
		DAX=$(basename "$(ls -d $CXL_BASE/$REGION/dax_region*/dax*.* 2>/dev/null | head -n1)" 2>/dev/null)
		m=$DAX_BASE/$DAX/mapping0
		[ -n "$DAX" ] && [ -e $DAX_BASE/$DAX/driver ] && [ -e $m/start ] && [ -e $m/end ] &&
			[ -e $m/page_offset ] && return 0
		sleep 0.05
	done
	return 1
}
