#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything the project needs, idempotently, from the package
# registries only: Debian packages, bindgen-cli from crates.io (pinned,
# --locked, into a project cache) and the Linux 7.3 source package from a
# low-priority trixie-backports apt source.  Never upgrades a system package.
#
# Prints nothing but progress; exits non-zero with a clear message on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

need_root() {
	if [ "$(id -u)" != 0 ]; then
		die "setup needs root (apt-get); run as root or install the packages listed in scripts/setup.sh"
	fi
}

DEB_PKGS=(
	clang-19 lld-19 llvm-19 libclang-19-dev
	rustc-web rust-web-src rustfmt-web rust-web-clippy cargo-web
	flex bison bc libelf-dev libssl-dev cpio python3 kmod
	qemu-system-x86 busybox-static bash daxctl xz-utils
	gcc libc6-dev debootstrap ndctl shellcheck
	ovmf python3-venv openssl curl
)

apt_updated=0
apt_update_once() {
	if [ "$apt_updated" = 0 ]; then
		log "apt-get update"
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
}

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
	done
}

install_debs() {
	local miss
	miss=$(missing_pkgs "${DEB_PKGS[@]}")
	[ -z "$miss" ] && return 0
	need_root
	apt_update_once
	log "installing Debian packages: $(echo $miss)"
	# --no-upgrade: never upgrade something already installed.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade $miss >/dev/null
}

# add_apt_source SUITE [SUITE...]: an apt source for the first suite, every suite pinned at
# priority 100 so that only what is asked for by name comes from it (stanzas are separated by a
# blank line: apt merges them otherwise).
add_apt_source() {
	local src=/etc/apt/sources.list.d/kmem-rs-$1.sources
	local pref=/etc/apt/preferences.d/kmem-rs-$1
	[ -f "$src" ] && [ -f "$pref" ] && return 0
	need_root
	printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
		"$1" /usr/share/keyrings/debian-archive-keyring.gpg >"$src"
	local s first=1
	for s in "$@"; do
		[ $first = 1 ] || echo
		printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n' "$s"
		first=0
	done >"$pref"
	apt_updated=0
}
# trixie-backports carries linux-source-7.3 (and Debian's 7.3 kernel); nothing else ever comes
# from trixie.
add_backports_source() { add_apt_source trixie-backports trixie; }
# bookworm-backports carries QEMU 10 (CXL Type 3 memory; bookworm's 7.2 cannot commit a CXL
# region).
add_bookworm_backports_source() { add_apt_source bookworm-backports; }

# QEMU 10 for the CXL guests, unpacked beside the system's QEMU (which every other guest keeps
# using): qemu-system-x86, its data files and the SeaBIOS it requires (q35 boots with SeaBIOS),
# all from bookworm-backports, built against bookworm's libraries (the system QEMU's, already
# installed).  Nothing is installed into the system.
install_cxl_qemu() {
	local root=$CXL_QEMU_ROOT
	if [ -x "$root/usr/bin/qemu-system-x86_64" ] && [ -f "$root/.kmem-rs-done" ]; then
		return 0
	fi
	add_bookworm_backports_source
	need_root
	apt_update_once
	local dl="$CACHE/dl/qemu-$CXL_QEMU_VERSION"
	mkdir -p "$dl"
	local p
	for p in qemu-system-x86 qemu-system-data seabios; do
		ls "$dl/${p}"_*.deb >/dev/null 2>&1 && continue
		log "downloading $p (bookworm-backports)"
		(cd "$dl" && apt-get download -qq "$p/bookworm-backports" 2>/dev/null) ||
			die "cannot download $p from bookworm-backports (check 'apt-cache policy $p')"
	done
	rm -rf "$root.tmp"
	mkdir -p "$root.tmp"
	for p in "$dl"/*.deb; do dpkg-deb -x "$p" "$root.tmp"; done
	local v
	v=$("$root.tmp/usr/bin/qemu-system-x86_64" --version | head -n1) ||
		die "the unpacked QEMU does not run (a missing library?): ldd $root.tmp/usr/bin/qemu-system-x86_64"
	case "$v" in *"version $CXL_QEMU_VERSION"*) ;; *) die "unexpected QEMU for CXL: $v" ;; esac
	touch "$root.tmp/.kmem-rs-done"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	log "CXL QEMU ready: $v"
}

fetch_kernel_source() {
	if [ -f "$KSRC/Makefile" ] && [ -f "$KSRC/drivers/dax/kmem.c" ]; then
		return 0
	fi
	add_backports_source
	need_root
	apt_update_once
	local dl="$CACHE/dl"
	mkdir -p "$dl"
	local deb
	deb=$(ls "$dl"/linux-source-${KVER_MAJOR}_*.deb 2>/dev/null | tail -n1 || true)
	if [ -z "$deb" ]; then
		log "downloading linux-source-${KVER_MAJOR} (trixie-backports)"
		if ! (cd "$dl" && apt-get download -qq "linux-source-${KVER_MAJOR}" >/dev/null); then
			die "the Debian package linux-source-${KVER_MAJOR} cannot be found.
  It comes from trixie-backports (apt source $CACHE/../ written to /etc/apt/sources.list.d/kmem-rs-trixie-backports.sources).
  Check 'apt-cache policy linux-source-${KVER_MAJOR}', or point KSRC=/path/to/a/linux-7.3/tree at a 7.3 source tree."
		fi
		deb=$(ls "$dl"/linux-source-${KVER_MAJOR}_*.deb | tail -n1)
	fi
	log "unpacking $(basename "$deb")"
	local tmp="$CACHE/src.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	dpkg-deb -x "$deb" "$tmp"
	local tarball
	tarball=$(ls "$tmp"/usr/src/linux-source-*.tar.xz | head -n1)
	tar -C "$tmp" -xf "$tarball"
	local dir
	dir=$(find "$tmp" -maxdepth 1 -type d -name 'linux-source-*' | head -n1)
	rm -rf "$KSRC"
	mv "$dir" "$KSRC"
	rm -rf "$tmp"
	[ -f "$KSRC/drivers/dax/kmem.c" ] || die "unpacked kernel source has no drivers/dax/kmem.c"
}

install_bindgen() {
	if [ -x "$BINDGEN" ] && "$BINDGEN" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
		return 0
	fi
	log "installing bindgen-cli $BINDGEN_VERSION from crates.io into $BINDGEN_ROOT (~3 min)"
	# Debian's cargo (cargo-web) or the machine's rustup cargo: either can build it.
	local cargo=cargo
	command -v cargo >/dev/null || cargo=/usr/bin/cargo
	LIBCLANG_PATH=/usr/lib/llvm-19/lib "$cargo" install --quiet --locked \
		--root "$BINDGEN_ROOT" bindgen-cli --version "$BINDGEN_VERSION"
}

# virt-fw-vars (PyPI's virt-firmware, pinned, in a virtual environment of the project's cache):
# a UEFI variable store with a certificate in db, for the module-signature guest of Debian's
# kernel (distro.sh deb-user, vm-run --efi-vars).
install_virt_firmware() {
	if [ -x "$VIRT_FW_VARS" ] && [ -f "$VIRT_FW_ROOT/.kmem-rs-$VIRT_FW_VERSION" ]; then
		return 0
	fi
	log "installing virt-firmware $VIRT_FW_VERSION from PyPI into $VIRT_FW_ROOT"
	rm -rf "$VIRT_FW_ROOT"
	/usr/bin/python3 -m venv "$VIRT_FW_ROOT"
	"$VIRT_FW_ROOT/bin/pip" install -q "virt-firmware==$VIRT_FW_VERSION"
	"$VIRT_FW_VARS" --help >/dev/null || die "virt-fw-vars does not run ($VIRT_FW_VARS)"
	touch "$VIRT_FW_ROOT/.kmem-rs-$VIRT_FW_VERSION"
}

install_debs
# The kernel source and Debian's stock kernel (scripts/distro.sh) come from trixie-backports.
add_backports_source
fetch_kernel_source
install_bindgen
install_cxl_qemu
install_virt_firmware
log "toolchain ready: KSRC=$KSRC BINDGEN=$BINDGEN"
