# SPDX-License-Identifier: GPL-2.0
# Shared settings for the project's scripts.  Sourced, not run.

KVER_MAJOR=${KVER_MAJOR:-7.3}
BINDGEN_VERSION=${BINDGEN_VERSION:-0.72.1}

# Everything built or downloaded lives outside the repository so that a fresh
# clone (and CI on the same machine) reuses it.
CACHE=${KMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kmem-rs}
KSRC=${KSRC:-$CACHE/linux-$KVER_MAJOR}
BINDGEN_ROOT=$CACHE/bindgen-$BINDGEN_VERSION
BINDGEN=${BINDGEN:-$BINDGEN_ROOT/bin/bindgen}

# QEMU 10 for the CXL guests (scripts/setup.sh unpacks it from bookworm-backports).
CXL_QEMU_VERSION=${CXL_QEMU_VERSION:-10.0.2}
CXL_QEMU_ROOT=$CACHE/qemu-$CXL_QEMU_VERSION
VIRT_FW_VERSION=26.10
VIRT_FW_ROOT=$CACHE/virt-firmware-$VIRT_FW_VERSION
VIRT_FW_VARS=$VIRT_FW_ROOT/bin/virt-fw-vars

export PATH=/usr/lib/llvm-19/bin:$PATH

# Toolchain variables every kernel make invocation needs.
KMAKE_VARS=(LLVM=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="$BINDGEN" HOSTRUSTC=/usr/bin/rustc)

# kernel_version [SRC]: "7.3.4" from the top of SRC's Makefile, without running make (a make
# called from a recursive make prints its directory messages into the result).
kernel_version() {
	awk -F' *= *' '$1 ~ /^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)$/ && !($1 in v) { v[$1] = $2 }
		END { if (v["VERSION"] == "") exit 1; printf "%s.%s.%s%s\n", v["VERSION"], v["PATCHLEVEL"], v["SUBLEVEL"], v["EXTRAVERSION"] }' \
		"${1:-$KSRC}/Makefile"
}

log() { printf '[kmem-rs] %s\n' "$*" >&2; }
die() { printf '[kmem-rs] error: %s\n' "$*" >&2; exit 1; }
