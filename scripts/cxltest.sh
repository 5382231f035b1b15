#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's cxl_test mock modules for the cxltest kernel (scripts/kernel.sh
# --variant=cxltest: the CXL core as modules), for ndctl's cxl_test based tests.
#
#   scripts/cxltest.sh
#
# Builds tools/testing/cxl of the kernel source against that kernel (its objects in the
# kernel's build directory, the source untouched) and installs the modules under updates/ of
# the kernel's module tree, where depmod prefers them to the kernel's own cxl_core, cxl_acpi,
# cxl_pmem, cxl_port, cxl_mem and dax_hmem, as `make M=tools/testing/cxl modules_install` does
# on a test machine.  A build for the same kernel is not repeated.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

"$here/kernel.sh" --variant=cxltest
OUT=$("$here/kernel.sh" --variant=cxltest --print-dir)
W=$OUT/cxl_test
rel=$(cat "$OUT/include/config/kernel.release")
mods=$OUT/modroot/lib/modules/$rel
if [ -f "$W/.kmem-rs-done" ] && [ -f "$mods/updates/test/cxl_test.ko" ]; then
	log "cxl_test modules cached in $mods/updates"
	exit 0
fi
rm -rf "$W" "$mods/updates"
mkdir -p "$W"
log "building tools/testing/cxl (cxl_test) for kernel $rel"
# Linked with GNU ld: tools/testing/cxl's Kbuild wraps cxl_core's own exported functions
# (--wrap=devm_cxl_endpoint_decoders_setup, ...), and ld.lld (LLVM=1, the kernel's linker)
# applies --wrap to the references of a symbol's own .export_symbol entry too, which modpost
# then rejects ("cxl_core.ko: .export_symbol section references
# '__wrap_devm_cxl_endpoint_decoders_setup'"); GNU ld leaves a defining object's references
# alone, as the mock expects.
mk=(make -C "$KSRC" O="$OUT" M="$KSRC/tools/testing/cxl" MO="$W" "${KMAKE_VARS[@]}" LD=ld.bfd)
if ! "${mk[@]}" -j"${KMEM_JOBS:-3}" W=1 modules >"$W/build.log" 2>&1; then
	tail -n 30 "$W/build.log" >&2
	die "cxl_test does not build (log: $W/build.log)"
fi
if grep -E '(^|: )warning:' "$W/build.log"; then
	die "warnings in the cxl_test build (log: $W/build.log)"
fi
"${mk[@]}" INSTALL_MOD_PATH="$OUT/modroot" INSTALL_MOD_DIR=updates modules_install >>"$W/build.log" 2>&1 ||
	die "cxl_test modules_install failed (log: $W/build.log)"
/sbin/depmod -b "$OUT/modroot" "$rel"
n=$(find "$mods/updates" -name '*.ko' | wc -l)
log "cxl_test: $n modules in $mods/updates"
touch "$W/.kmem-rs-done"
