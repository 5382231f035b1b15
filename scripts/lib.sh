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

export PATH=/usr/lib/llvm-19/bin:$PATH

# Toolchain variables every kernel make invocation needs.
KMAKE_VARS=(LLVM=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="$BINDGEN" HOSTRUSTC=/usr/bin/rustc)

log() { printf '[kmem-rs] %s\n' "$*" >&2; }
die() { printf '[kmem-rs] error: %s\n' "$*" >&2; exit 1; }
