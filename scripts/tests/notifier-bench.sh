# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --icount --append=movablecore=512M --file=kmem-bench [--file=kmem-before.ko]):
# the cost of memory events on a block that belongs to no dax device, with DEVICES bound
# devices, each driver measured in the same boot.  Arguments: CYCLES DEVICES ROUNDS.
#   DEVICES  the dax region is split into DEVICES devices of one memory block each (dax0.0 ..
#            dax0.N-1, through the region's create/size files; vm-run --dax must be at least N
#            blocks)
#   ROUNDS   times each variant is loaded; every round loads each variant once, in an order
#            that rotates from round to round
# The variants: "c", the in-tree C kmem.ko (no memory notifier: the baseline), "rust", the
# Rust kmem.ko of this build (/test/kmem.ko, the shipped guard=owned), and "before",
# /test/kmem-before.ko when present (make bench: the revision with one notifier per device).
# For each: the module loaded alone, every device bound (their memory added offline), a
# boot memory block in ZONE_MOVABLE offlined and onlined CYCLES times (kmem-bench, no fork or
# sleep between writes; two memory events per write), then dax0.0's own state written
# online_movable/unplugged CYCLES / 5 times each, and the module unloaded.  Comparing the
# variants within one boot keeps the boot-to-boot differences of the kernel's own paths (the
# offline's floor moves by several microseconds from one boot to the next) out of the
# difference.  Prints "BENCH op=OP devices=N variant=V round=R ns=T rc=E" per write, OP
# unrelated_event, own_online or own_unplug.
. /test/lib.sh
N=${1:-200}
DEVICES=${2:-1}
ROUNDS=${3:-1}
DRV=/sys/bus/dax/drivers/kmem
rel=$(uname -r)
declare -A ko=([c]=$(ls /lib/modules/$rel/kernel/drivers/dax/kmem.ko* 2>/dev/null | head -n1)
	[rust]=/test/kmem.ko)
variants=(c rust)
[ -f /test/kmem-before.ko ] && variants+=(before) ko[before]=/test/kmem-before.ko
m=$((N / 5))
# The devices; a block found; per round and variant: loaded, bound, every write succeeded.
plan $((2 + ROUNDS * ${#variants[@]}))

# rates FILE: the errno numbers of FILE's kmem-bench lines, collapsed ("40x0").
rates() { sed -nE 's/.* rc=([0-9]+).*$/\1/p' "$1" | tally; }

# The devices, made with the module that vm-run loaded, which is then unloaded.
blk_bytes=$(block_size)
region=$(dirname "$(readlink -f $DAX_BASE/dax0.0)")/dax_region
[ -e $DAX_BASE/dax0.0/driver ] && echo dax0.0 >$DAX_BASE/dax0.0/driver/unbind
echo "$blk_bytes" >$DAX_BASE/dax0.0/size
for ((i = 1; i < DEVICES; i++)); do
	echo 1 >$region/create
	echo "$blk_bytes" >$DAX_BASE/dax0.$i/size
done
[ -d /sys/module/kmem ] && /usr/bin/rmmod kmem
expect_eq "$DEVICES devices of one block, kmem unloaded" "$DEVICES no" \
	"$(ls -d $DAX_BASE/dax0.* | wc -l) $([ -d /sys/module/kmem ] && echo yes || echo no)"

blk=""
for b in $(ls -d $MEM_BASE/memory* | sort -V -r); do
	[ "$(cat $b/state)" = online ] || continue
	[ "$(cat $b/valid_zones)" = Movable ] || continue
	[ "$(cat $b/removable 2>/dev/null)" = 1 ] || continue
	# Some blocks hold pages that cannot migrate (the initramfs): take one that offlines.
	echo offline >$b/state 2>/dev/null || continue
	echo online_movable >$b/state || continue
	blk=$b
	break
done
check "found a removable boot block in ZONE_MOVABLE (${blk:-none})" [ -n "$blk" ]

for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < ${#variants[@]}; k++)); do
		v=${variants[(r + k) % ${#variants[@]}]}
		tag="devices=$DEVICES variant=$v round=$r"
		/usr/bin/insmod "${ko[$v]}" || { not_ok "$v round $r: insmod ${ko[$v]}"; continue; }
		# The dax bus may have bound kmem-type devices at the driver's registration already.
		bound=0
		for ((i = 0; i < DEVICES; i++)); do
			[ "$(driver_of dax0.$i)" = kmem ] || echo dax0.$i >$DRV/bind 2>/dev/null
			[ "$(driver_of dax0.$i)" = kmem ] && bound=$((bound + 1))
		done
		got="$bound bound, blocks: none"
		if [ -n "$blk" ] && [ "$bound" = "$DEVICES" ]; then
			/test/kmem-bench $blk/state offline,online_movable $((2 * N)) >/tmp/bench.out
			sed -E "s/^/BENCH op=unrelated_event $tag /" /tmp/bench.out
			echo unplugged >$DAX_BASE/dax0.0/state
			/test/kmem-bench $DAX_BASE/dax0.0/state online_movable,unplugged $((2 * m)) >/tmp/own.out
			awk 'NR % 2 == 1' /tmp/own.out | sed -E "s/^/BENCH op=own_online $tag /"
			awk 'NR % 2 == 0' /tmp/own.out | sed -E "s/^/BENCH op=own_unplug $tag /"
			got="$bound bound, blocks: $(rates /tmp/bench.out), dax0.0: $(rates /tmp/own.out)"
		fi
		/usr/bin/rmmod kmem || got="$got, rmmod failed"
		expect_eq "$v round $r: loaded alone, $DEVICES bound, every timed write succeeded, unloaded" \
			"$DEVICES bound, blocks: $((2 * N))x0, dax0.0: $((2 * m))x0" "$got"
	done
done
finish
