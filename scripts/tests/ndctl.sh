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
#   ndctl.sh [--tools=DIR] [--tests=DIR] [--cxl-test] TEST.sh...
#
# --tools=DIR: ndctl, daxctl, cxl and jq of DIR instead (/test/ndctl-patched: ndctl 81 with the
# project's daxctl patches, contrib/ndctl); --tests=DIR: the test scripts of DIR (its test/, with
# the series' own test); --cxl-test: the tests that load the kernel's cxl_test mock modules
# (vm-run --cxltest: the CXL core as modules, tools/testing/cxl installed), instead of the
# emulated NVDIMM.
. "${0%/*}/lib.sh"
# test_env TEST: what TEST needs of the environment beyond the common part; MUST, what its
# trace must show it did (an ERE) when it passes.
test_env() {
	MUST=""
	case $1 in
	daxctl-create.sh)
		# (Its victim: the dax region of the region cxl_test assembles at load.)
		MUST='reconfigure-device -m devdax -f' ;;
	cxl-destroy-region.sh)
		# It looks for a memdev whose whole RAM fits a 1-target root decoder's free space.
		# 7.3's cxl_test memdevs have 1 GiB of RAM (mem9: 2 GiB), its one volatile 1-GiB
		# window has a 512 MiB region assembled at load (fail_autoassemble=1 leaves that region
		# half made, holding the same space: create-region then fails with ERANGE), the
		# other window is 256 MiB: nothing fits, and the test passes doing nothing.
		MUST='create-region -d' ;;
	esac
}
# ndctl_run_tests TEST...: each test, as ndctl's runner runs it; then the end of the suite.
ndctl_run_tests() {
	local t log t0 rc ms
	for t in "$@"; do
		log=/tmp/ndctl-${t%.sh}.log
		test_env "$t"
		t0=$(now_us)
		(cd $TD && bash -Ex "./$t") >"$log" 2>&1
		rc=$?
		ms=$((($(now_us) - t0) / 1000))
		obs "ndctl:${t%.sh} exit=$rc"
		# A test that passes without doing what it tests (its trace lacks MUST) is not a pass.
		if [ $rc = 0 ] && [ -n "$MUST" ] && ! grep -qE -- "$MUST" "$log"; then
			sed 's/^/# | /' "$log" | tail -n 20
			skip "ndctl test $t" "passed without running '$MUST': it exercised nothing here"
			continue
		fi
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
	exit
}
T81=/test/ndctl81
TD=/test/ndctl-test
CXLTEST=0
while [[ "${1:-}" == --* ]]; do
	case $1 in
	--tools=*) T81=${1#--tools=} ;;
	--tests=*) TD=${1#--tests=} ;;
	--cxl-test) CXLTEST=1 ;;
	esac
	shift
done
plan $(($# + 1))
export NDCTL=$T81/ndctl DAXCTL=$T81/daxctl CXL=$T81/cxl TEST_PATH=$TD
PATH=$T81:$PATH
if [ $CXLTEST = 1 ]; then
	# What udev does on the tests' usual machine, which this guest lacks: /dev/fd (the tests read
	# process substitutions), and the modules of the devices cxl_test creates, by their modalias
	# (platform:cxl_mem and cxl_rcd: cxl_mock_mem; platform:cxl_type2_accel: cxl_mock_accel; a
	# region's cxl_dax_region: dax_cxl), here loaded after cxl_test by a modprobe softdep (a
	# module's init waits for its drivers' asynchronous probes).
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	mkdir -p /etc/modprobe.d
	echo 'softdep cxl_test post: cxl_mock_mem cxl_mock_accel dax_cxl' >/etc/modprobe.d/cxl-test-udev.conf
	# And journald: the tests' check_dmesg reads the kernel's log of their run with
	# `journalctl -r -k --since -Ns` (any "Call Trace" fails them).
	mkdir -p /tmp/ndctl-env
	cat >/tmp/ndctl-env/journalctl <<'SHIM'
#!/bin/bash
# journalctl -k [-r] [--since -Ns]: the kernel's log (dmesg) of the last N seconds.
from=0 rev=0
while [ $# -gt 0 ]; do
	case $1 in
	-r) rev=1 ;;
	--since) shift; [[ $1 =~ ^-([0-9]+)s$ ]] && from=$(awk -v s="${BASH_REMATCH[1]}" '{print $1 - s}' /proc/uptime) ;;
	esac
	shift
done
dmesg | awk -v f="$from" '{t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t); if (t + 0 >= f) print}' |
	if [ $rev = 1 ]; then tac; else cat; fi
SHIM
	chmod +x /tmp/ndctl-env/journalctl
	PATH=/tmp/ndctl-env:$PATH
	# What the tests load themselves (modprobe cxl_test): the mock's modules, from updates/.
	mods=$(modprobe -n -v cxl_test 2>&1 | grep -oE '[a-z_]+\.ko' | tr '\n' ' ')
	diag "modprobe cxl_test would load: $mods"
	modprobe cxl_test || diag "modprobe cxl_test failed"
	n=$(cxl list -b cxl_test -M 2>/dev/null | grep -c '"memdev":"mem')
	r=$(daxctl list -R 2>/dev/null | grep -c 'cxl_acpi.0')
	diag "cxl_test: $n memdevs, $r dax region(s) under cxl_acpi.0; $(cxl list -b cxl_test -R 2>/dev/null | tr -d ' \n' | cut -c1-300)"
	modprobe -r cxl_test
	expect_eq "ndctl 81; cxl_test loads (updates/cxl_core.ko, its memdevs on the cxl_test bus, an auto-assembled region's dax region) and unloads" \
		"81 updates/cxl_core.ko yes yes unloaded" \
		"$(ndctl version) $(modinfo -n cxl_core 2>/dev/null | grep -oE 'updates/cxl_core.ko') $( ((n > 0)) && echo yes) $( ((r > 0)) && echo yes) $(grep -q '^cxl_test ' /proc/modules && echo loaded || echo unloaded)"
	ndctl_run_tests "$@"
fi
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
ndctl_run_tests "$@"
