# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --distro --nvdimm=SIZE --file=build/ndctl81 --file=build/ndctl-test): ndctl's own
# tests, the scripts of its release 81 (test/ of Debian 13's ndctl source, unmodified, in
# /test/ndctl-test) with Debian 13's ndctl, daxctl and cxl (/test/ndctl81, their NDCTL, DAXCTL
# and CXL) and jq, against the kmem loaded (the Rust driver or Debian's C kmem.ko).  What the
# environment must give them is this runner's job: Debian's NVDIMM drivers loaded (no udev
# here), the ACPI.NFIT bus of the emulated NVDIMM.  Each test's exit status is its result as
# ndctl's own runner (meson test) reads it: 0 passed, 77 skipped, anything else failed; its
# output (bash -x) is printed when it did not pass.
#
#   ndctl.sh [--tools=DIR] [--tests=DIR] TEST.sh...
#
# --tools=DIR: ndctl, daxctl, cxl and jq of DIR instead (/test/ndctl-patched: ndctl 81 with the
# project's daxctl patches, contrib/ndctl); --tests=DIR: the test scripts of DIR (its test/, with
# the series' own test).
. "${0%/*}/lib.sh"
T81=/test/ndctl81
TD=/test/ndctl-test
while [[ "${1:-}" == --* ]]; do
	case $1 in
	--tools=*) T81=${1#--tools=} ;;
	--tests=*) TD=${1#--tests=} ;;
	esac
	shift
done
plan $(($# + 1))
export NDCTL=$T81/ndctl DAXCTL=$T81/daxctl CXL=$T81/cxl TEST_PATH=$TD
PATH=$T81:$PATH
for m in nfit nd_pmem dax_pmem; do modprobe "$m" || diag "modprobe $m failed"; done
buses=$(ndctl list -B 2>/dev/null | sed -nE 's/.*"provider":"([^"]+)".*/\1/p' | sort | tr '\n' ' ')
dimms=$(ndctl list -D 2>/dev/null | sed -nE 's/.*"dev":"(nmem[0-9]+)".*/\1/p' | tr '\n' ' ')
# QEMU's NVDIMM comes with a zeroed label area, which the kernel reads as no labels: one raw
# namespace over the whole region, no room for another. Initialized labels make the region's
# space allocatable (ndctl create-namespace -s SIZE), as on a machine's NVDIMM.
ndctl disable-region all >/dev/null 2>&1
ndctl init-labels -f all >/dev/null 2>&1
ndctl enable-region all >/dev/null 2>&1
region=$(ndctl list -R -b ACPI.NFIT 2>/dev/null | sed -nE 's/.*"dev":"(region[0-9]+)".*/\1/p' | head -n1)
R=/sys/bus/nd/devices/${region:-none}
avail=$(($(cat $R/available_size 2>/dev/null || echo 0)))
diag "$region: $(cat $R/size 2>/dev/null) bytes, $avail allocatable"
diag "$T81/ndctl: $(sed -n 2p $T81/ndctl)"
expect_eq "ndctl 81; the emulated NVDIMM's bus (ACPI.NFIT), one DIMM, labels initialized: $region has 4 GiB to allocate" \
	"81 ACPI.NFIT nmem0 yes" "$(ndctl version) ${buses% } ${dimms% } $( ((avail >= 4 << 30)) && echo yes)"
for t in "$@"; do
	log=/tmp/ndctl-${t%.sh}.log
	t0=$(now_us)
	(cd $TD && bash -Ex "./$t") >"$log" 2>&1
	rc=$?
	ms=$((($(now_us) - t0) / 1000))
	obs "ndctl:${t%.sh} exit=$rc"
	case $rc in
	0) ok "ndctl test $t ($ms ms)" ;;
	77)
		sed 's/^/# | /' "$log" | tail -n 20
		skip "ndctl test $t" "the test skipped itself (exit 77): $(grep -vE '^\+' "$log" | tail -n1)"
		;;
	*)
		sed 's/^/# | /' "$log" | tail -n 60
		not_ok "ndctl test $t: exit $rc ($ms ms)"
		;;
	esac
done
finish
