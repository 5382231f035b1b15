#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare a build tree for this module against a distribution kernel whose headers package
# ships no rust/ build products (Debian's linux-headers-*: no `kernel` crate metadata, so no
# out-of-tree Rust module can be built against it as packaged).  From the kernel source of the
# same version, the headers package's .config and Module.symvers, and the compilers the kernel
# was built with, `make modules_prepare` rebuilds rust/ (the same crate hashes, hence the same
# symbol names as the running kernel's) and the generated headers.  Once per kernel release.
#
#   scripts/prepare-kernel.sh [--release=REL] [--headers=DIR] [--source=DIR|TARBALL]
#                             [--vmlinuz=FILE] [--jobs=N] [OUT]
#
# Debian 13 defaults: REL=$(uname -r); --headers=/usr/src/linux-headers-REL (package
# linux-headers-REL); --source=/usr/src/linux-source-MAJOR.tar.xz (package linux-source-MAJOR),
# unpacked once next to OUT; --vmlinuz=/boot/vmlinuz-REL or /usr/lib/modules/REL/vmlinuz (for the
# module's BTF; optional); OUT=/var/lib/kmem-rs/kbuild/REL.  Then:
#
#   make KDIR=OUT && make KDIR=OUT install
#
# The rustc on PATH must be the kernel's (CONFIG_RUSTC_VERSION_TEXT) and its C compiler
# (CONFIG_CC_VERSION_TEXT) installed: on Debian 13, `apt install rustc rust-src rustfmt bindgen
# gcc-14 make flex bison bc libelf-dev libssl-dev libclang-dev clang dwarves zstd`.
set -euo pipefail

rel=$(uname -r) headers="" source="" vmlinuz="" jobs=$(nproc) out=""
for a in "$@"; do
	case "$a" in
	--release=*) rel=${a#*=} ;;
	--headers=*) headers=${a#*=} ;;
	--source=*) source=${a#*=} ;;
	--vmlinuz=*) vmlinuz=${a#*=} ;;
	--jobs=*) jobs=${a#*=} ;;
	-*) echo "prepare-kernel: unknown option $a" >&2; exit 2 ;;
	*) out=$a ;;
	esac
done
die() { echo "prepare-kernel: $*" >&2; exit 1; }
log() { echo "prepare-kernel: $*" >&2; }

headers=${headers:-/usr/src/linux-headers-$rel}
out=${out:-/var/lib/kmem-rs/kbuild/$rel}
cfg=$headers/.config
[ -f "$cfg" ] || die "no $cfg: install linux-headers-$rel (or give --headers=DIR)"
[ -f "$headers/Module.symvers" ] || die "no $headers/Module.symvers"
grep -qx 'CONFIG_RUST=y' "$cfg" || die "$rel was built without CONFIG_RUST: no Rust module can be loaded into it"
major=$(sed -nE 's/^# Linux\/[a-z0-9_]+ ([0-9]+\.[0-9]+)[.0-9]* Kernel Configuration$/\1/p' "$cfg" | head -n1)
[ -n "$major" ] || die "cannot read the kernel version from $cfg"

# The kernel's own compilers.
want_rustc=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$cfg")
have_rustc=$(rustc --version 2>/dev/null || echo "no rustc on PATH")
[ "$have_rustc" = "$want_rustc" ] ||
	die "$rel was built with '$want_rustc', the rustc on PATH is '$have_rustc': a Rust module must be built with the kernel's own rustc"
cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$cfg")
command -v "$cc" >/dev/null || die "the kernel's C compiler $cc is not installed"
command -v bindgen >/dev/null || die "bindgen is not installed"

if [ -f "$out/.kmem-rs-prepared" ] && [ "$(cat "$out/.kmem-rs-prepared")" = "$rel $have_rustc" ]; then
	log "$out is prepared for $rel"
	exit 0
fi

# The source: a directory, or the distribution's tarball unpacked once.
if [ -z "$source" ]; then
	source=/usr/src/linux-source-$major.tar.xz
	[ -f "$source" ] || die "no $source: install linux-source-$major (or give --source=DIR)"
fi
if [ -f "$source" ]; then
	src=$(dirname "$out")/linux-source-$major
	if ! [ -f "$src/.kmem-rs-unpacked" ]; then
		log "unpacking $source"
		rm -rf "$src.tmp"
		mkdir -p "$src.tmp"
		tar -C "$src.tmp" --strip-components=1 -xf "$source"
		touch "$src.tmp/.kmem-rs-unpacked"
		rm -rf "$src"
		mv "$src.tmp" "$src"
	fi
	source=$src
fi
[ -f "$source/Makefile" ] || die "$source is not a kernel source tree"

mkdir -p "$out"
rm -f "$out/.kmem-rs-prepared"
cp "$cfg" "$out/.config"
log "modules_prepare for $rel in $out (CC=$cc, $have_rustc)"
# The release as the distribution built it (Debian sets it on make's command line).
make -s -C "$source" O="$out" CC="$cc" KERNELRELEASE="$rel" olddefconfig
make -s -C "$source" O="$out" CC="$cc" KERNELRELEASE="$rel" -j"$jobs" modules_prepare
# modpost checks the module's imports against the kernel's exports.
cp "$headers/Module.symvers" "$out/Module.symvers"
if [ -z "$vmlinuz" ]; then
	for v in /boot/vmlinuz-$rel /usr/lib/modules/$rel/vmlinuz; do [ -f "$v" ] && vmlinuz=$v && break; done
fi
if [ -n "$vmlinuz" ]; then
	# pahole makes the module's BTF against the kernel's.
	# (extract-vmlinux needs the image's decompressor: zstd for Debian's.)
	if ! "$source/scripts/extract-vmlinux" "$vmlinuz" >"$out/vmlinux" 2>/dev/null ||
		[ "$(head -c 4 "$out/vmlinux" | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
		rm -f "$out/vmlinux"
		log "cannot extract vmlinux from $vmlinuz (is zstd installed?): the module gets no BTF"
	fi
fi
echo "$rel $have_rustc" >"$out/.kmem-rs-prepared"
log "prepared: make KDIR=$out && make KDIR=$out install"
