# SPDX-License-Identifier: GPL-2.0
# Guest: probe-time checks on devices of awkward sizes, built through the dax
# region: a device truncated by block alignment, one with no whole block, and
# (argument "nonode") a device whose range has no NUMA node.
. /test/lib.sh
case "${1:-}" in nonode) plan 5 ;; *) plan 14 ;; esac
DAX=dax0.0
DRV=/sys/bus/dax/drivers/kmem
MIB=$((1 << 20))
klog() { dmesg | grep -E "kmem $DAX" | sed 's/^\[[ 0-9.]*\] //'; }

if [ "${1:-}" = nonode ]; then
	# The bus hides target_node when it is negative.
	node=$(cat $DAX_BASE/$DAX/target_node 2>/dev/null || echo hidden)
	check "target_node hidden or -1 without SRAT ($node)" contains "$node" '^(hidden|-1)$'
	expect_eq "kmem did not bind" "" "$(driver_of $DAX)"
	e=$(write_errno $DRV/bind $DAX)
	obs nonode_bind "$e"
	expect_eq "explicit bind -> EINVAL" EINVAL "$e"
	l=$(klog)
	obs nonode_log "$(echo "$l" | sort -u | tr '\n' '|')"
	check "logged the invalid node" contains "$l" "rejecting DAX region with invalid node: -1"
	expect_eq "nothing added or reserved" "0 0" "$(kmem_ram_count) $(dev_reserved $DAX)"
	finish
	exit
fi

expect_eq "unbind dax0.0 (offline)" OK "$(write_errno $DRV/unbind $DAX)"
expect_eq "shrink to 0" OK "$(write_errno $DAX_BASE/$DAX/size 0)"
# 192 MiB = one and a half memory blocks: truncated to one block.
expect_eq "size 192 MiB" OK "$(write_errno $DAX_BASE/$DAX/size $((192 * MIB)))"
dmesg -c >/dev/null
expect_eq "bind a 1.5-block device" OK "$(write_errno $DRV/bind $DAX)"
l=$(klog)
diag "$l"
obs truncated_log "$(echo "$l" | tr '\n' '|')"
check "warned about the truncation" contains "$l" "DAX region truncated by 64.0 MiB due to alignment"
expect_eq "one block added" "1 offline/-" "$(block_summary $DAX)"
expect_eq "reservation is the aligned range" "100000000-107ffffff : dax0.0" "$(grep -E " : $DAX\$" /proc/iomem | sed 's/^ *//')"
expect_eq "unbind" OK "$(write_errno $DRV/unbind $DAX)"

# 64 MiB: no whole block.
expect_eq "shrink to 0" OK "$(write_errno $DAX_BASE/$DAX/size 0)"
expect_eq "size 64 MiB" OK "$(write_errno $DAX_BASE/$DAX/size $((64 * MIB)))"
dmesg -c >/dev/null
e=$(write_errno $DRV/bind $DAX)
obs small_bind "$e"
expect_eq "bind of a sub-block device -> EINVAL" EINVAL "$e"
l=$(klog)
diag "$l"
obs small_log "$(echo "$l" | tr '\n' '|')"
check "logged: too small after alignment" contains "$l" "mapping0: 0x100000000-0x103ffffff too small after alignment"
check "logged: rejecting DAX region without any memory" contains "$l" "rejecting DAX region without any memory after alignment"
expect_eq "nothing added or reserved" "0 0" "$(kmem_ram_count) $(dev_reserved $DAX)"
finish
