# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --distro --pmem --dax=2G --file=build/ndctl81): pmem-backed dax, the upstream
# kselftest's documented setup (tools/testing/selftests/dax/dax-kmem-hotplug.sh: memmap=2G!4G,
# then `ndctl create-namespace -m devdax` and `daxctl reconfigure-device -N -m system-ram`),
# with Debian 13's ndctl and daxctl (ndctl 81) on Debian's kernel and its NVDIMM drivers: the
# legacy pmem range becomes a devdax namespace, its dax device is handed to kmem without
# onlining, and is left bound with its blocks offline: the start of a suite run on that device
# (parts.sh pmem.sh + parity.sh), which must observe what it does on the soft-reserved dax0.0.
. "${0%/*}/lib.sh"
T81=/test/ndctl81
plan 7
PATH=$T81:$PATH
expect_eq "Debian 13's ndctl and daxctl (ndctl 81)" "81 81" "$(ndctl version) $(daxctl version)"
for m in nd_e820 nd_pmem dax_pmem device_dax; do modprobe "$m" || diag "modprobe $m failed"; done
region=$(ndctl list -R -b e820 2>/dev/null | sed -nE 's/.*"dev":"(region[0-9]+)".*/\1/p' | head -n1)
size=$(($(ndctl list -R -r "${region:-none}" 2>/dev/null | sed -nE 's/.*"size":([0-9]+).*/\1/p')))
expect_eq "the legacy pmem range is a region of the e820 bus ($region), 2 GiB, on node 1" \
	"yes $((2 << 30)) 1" "$([ -n "$region" ] && echo yes) $size $(cat /sys/bus/nd/devices/${region:-none}/target_node 2>/dev/null)"
out=$(ndctl list -N -r "${region:-none}" 2>/dev/null)
ns=$(sed -nE 's/.*"dev":"(namespace[0-9.]+)".*/\1/p' <<<"$out" | head -n1)
# A later part of the same boot (after a suite that unloaded kmem, which left the device to
# device_dax or to no driver) finds the namespace in devdax mode already: it hands the device
# to kmem again.
if [ "$(sed -nE 's/.*"mode":"([a-z]+)".*/\1/p' <<<"$out" | head -n1)" = devdax ]; then
	again=" (again: the namespace is in devdax mode already)"
	out=$(ndctl list -N -X -r "${region:-none}" 2>/dev/null)
else
	again=""
	out=$(ndctl create-namespace -f -e "${ns:-none}" -m devdax 2>&1)
	diag "ndctl create-namespace -f -e $ns -m devdax: $(tr -d ' \n' <<<"$out")"
fi
DAX=$(sed -nE 's/.*"chardev":"(dax[0-9.]+)".*/\1/p' <<<"$out" | head -n1)
expect_eq "ndctl create-namespace -m devdax: $ns in devdax mode, its dax device $DAX$again" "devdax dax0.0" \
	"$(sed -nE 's/.*"mode":"([a-z]+)".*/\1/p' <<<"$out" | head -n1) $DAX"
expect_eq "$DAX: of the pmem region (nd_pmem's dax_pmem), not bound to kmem, node 1" "yes 1" \
	"$([ -n "$DAX" ] && [ "$(driver_of "$DAX")" != kmem ] && echo yes) $(cat $DAX_BASE/${DAX:-none}/target_node 2>/dev/null)"
diag "$DAX: bound to '$(driver_of "${DAX:-none}")'"
out=$(daxctl reconfigure-device -N -m system-ram "${DAX:-none}" 2>&1)
diag "daxctl reconfigure-device -N -m system-ram $DAX: $(tr -d ' \n' <<<"$out")"
expect_eq "daxctl reconfigure-device -N -m system-ram: bound to kmem, mode system-ram" "kmem system-ram" \
	"$(driver_of "${DAX:-none}") $(daxctl list -d "${DAX:-none}" 2>/dev/null | sed -nE 's/.*"mode":"([a-z-]+)".*/\1/p')"
n=$(dev_blocks "${DAX:-none}" | wc -l)
expect_eq "-N: every block of $DAX offline ($n blocks), MemTotal unchanged" "$n offline/-" "$(block_summary "${DAX:-none}")"
diag "$DAX: $(cat $DAX_BASE/$DAX/size 2>/dev/null) bytes, $n memory blocks, mapping0 $(cat $DAX_BASE/$DAX/mapping0/start 2>/dev/null)-$(cat $DAX_BASE/$DAX/mapping0/end 2>/dev/null)"
check "$DAX: state reports offline" [ "$(cat $DAX_BASE/${DAX:-none}/state 2>/dev/null)" = offline ]
finish
