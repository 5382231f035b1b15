#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's stock 7.3 kernel as a test target: a toolchain twin of the kernel's own build, the
# rust/ products an external Rust module needs, the module built for it, and a guest directory
# that scripts/vm-run boots (Debian's vmlinuz with Debian's own dax modules).  Everything comes
# from the Debian registry and is cached under $CACHE/distro; each step is skipped when done.
#
#   scripts/distro.sh prepare          the packages, the trixie root, the kernel's rust/ products
#                                      and the guest directory (idempotent)
#   scripts/distro.sh check-config     Debian's .config is reproduced by olddefconfig in the twin
#   scripts/distro.sh check-symbols    every Rust symbol the kernel exports (Module.symvers) is
#                                      defined, same mangled name, by the rebuilt rust/*.o
#   scripts/distro.sh build SRC OUT    build kmem.ko and kmem_holdpage.ko from the tree SRC in the
#                                      twin (`make KDIR=... modules`, the user's flow); copy to OUT
#   scripts/distro.sh check-imports KO every symbol KO imports is exported by the kernel or its
#                                      modules (Module.symvers)
#   scripts/distro.sh install OUT      `make install` of that build in the twin, into a staging
#                                      root copied to OUT
#   scripts/distro.sh dkms OUT         dkms add/build/install in the twin; updates/ copied to OUT
#   scripts/distro.sh deb OUT          the Debian package (debian/) built in the twin, lintian on it
#   scripts/distro.sh deb-user OUT     that package installed (DKMS builds the module), then removed,
#                                      in the twin as a user does it; its updates/ copied to OUT
#   scripts/distro.sh cxl-tool OUT     Debian 13's cxl tool and its libraries, for a guest (OUT/cxl)
#   scripts/distro.sh ndctl-tools OUT  Debian 13's ndctl, daxctl, cxl (ndctl 81) and jq, the same way
#   scripts/distro.sh ndctl-tests OUT  the test/ directory of Debian 13's ndctl source, unmodified
#   scripts/distro.sh ndctl-patched OUT  that ndctl with contrib/ndctl's patches, built in the twin
#   scripts/distro.sh run CMD...       run CMD in the twin (the repository at /src/kmem-rs, ro)
#   scripts/distro.sh --print-guest    the guest directory (for vm-run's KMEM_KBUILD)
#
# DISTRO_RELEASE / DISTRO_VERSION select another build of the same packaging.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"

REL=${DISTRO_RELEASE:-7.3.4+deb13-amd64}
VER=${DISTRO_VERSION:-7.3.4-1~bpo13+1}
SUITE=trixie
MIRROR=${DISTRO_MIRROR:-http://deb.debian.org/debian}
# What Debian built the kernel with (its .config: CONFIG_CC_VERSION_TEXT, RUSTC_VERSION_TEXT),
# and what a kernel build and the module's bindgen step need.  No versions are pinned: the
# config and symbol checks below catch a toolchain that drifted from the kernel's.
TWIN_PKGS=(rustc rust-src rustfmt bindgen gcc-14 gcc make dkms flex bison bc libelf-dev libssl-dev
	libclang-dev clang kmod xz-utils zstd dwarves python3 cpio)

D=$CACHE/distro
PKG=$D/pkg-$REL
key=$(printf '%s\n' "$SUITE" "${TWIN_PKGS[@]}" "linux-headers-$REL=$VER" "linux-source-$KVER_MAJOR=$VER" |
	sha256sum | cut -c1-12)
ROOT=$D/$SUITE-root-$key
KB=/var/lib/kmem-rs/kbuild/$REL # inside the twin: prepare-kernel.sh's default
GUEST=$D/guest-$REL

case "${1:-}" in
--print-guest) echo "$GUEST"; exit 0 ;;
--print-root) echo "$ROOT"; exit 0 ;;
esac

need_root() { [ "$(id -u)" = 0 ] || die "distro.sh needs root (debootstrap, chroot, mounts)"; }

# in_twin CMD...: run CMD as root in the trixie root, in a private mount namespace with /proc,
# /dev, the repository at /src/kmem-rs and the unpacked kernel packages at /pkg (both
# read-only).  The environment is the twin's own (its rustc, bindgen, gcc on PATH).
in_twin() {
	need_root
	mkdir -p "$ROOT/src/kmem-rs" "$ROOT/pkg" "$ROOT/proc" "$ROOT/dev"
	unshare -m -- bash -c '
		set -e
		root=$1 repo=$2 pkg=$3
		shift 3
		mount --make-rprivate /
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mount --bind -o ro "$repo" "$root/src/kmem-rs"
		mount --bind -o ro "$pkg" "$root/pkg"
		exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
			PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"
	' in_twin "$ROOT" "$repo" "$PKG" "$@"
}

# 1. Debian's kernel packages: vmlinuz, modules, and the headers package's .config and
#    Module.symvers.
fetch_packages() {
	[ -f "$PKG/.done" ] && return 0
	need_root
	local dl=$CACHE/dl/distro p deb
	mkdir -p "$dl"
	rm -rf "$PKG"
	for p in linux-binary-$REL linux-modules-$REL linux-headers-$REL; do
		deb=$(ls "$dl/${p}_"*.deb 2>/dev/null | tail -n1 || true)
		if [ -z "$deb" ]; then
			log "downloading $p $VER (trixie-backports)"
			(cd "$dl" && apt-get download -qq "$p=$VER" >/dev/null) ||
				die "cannot download $p=$VER: is the trixie-backports source of scripts/setup.sh configured (apt-cache policy $p)?"
			deb=$(ls "$dl/${p}_"*.deb | tail -n1)
		fi
		mkdir -p "$PKG/${p%%-$REL}"
		dpkg-deb -x "$deb" "$PKG/${p%%-$REL}"
	done
	local hdr
	hdr=$(find "$PKG/linux-headers" -name Module.symvers -path "*$REL*" | head -n1)
	[ -n "$hdr" ] || die "the headers package has no Module.symvers"
	ln -sfn "$(dirname "$hdr")" "$PKG/headers"
	[ -f "$PKG/headers/.config" ] || die "the headers package has no .config"
	[ -f "$PKG/linux-binary/usr/lib/modules/$REL/vmlinuz" ] || die "linux-binary-$REL has no vmlinuz"
	touch "$PKG/.done"
}

# 2. The twin: a trixie root with the compilers Debian built the kernel with.
make_root() {
	[ -f "$ROOT/.kmem-rs-done" ] && return 0
	need_root
	command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/setup.sh installs it)"
	local t0=$SECONDS
	# Roots of other package lists are never used again.
	find "$D" -maxdepth 1 -name "$SUITE-root-*" ! -path "$ROOT" -exec rm -rf {} +
	rm -rf "$ROOT"
	log "debootstrap $SUITE into $ROOT (about 1-2 min)"
	debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$D/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$D/debootstrap.log" >&2; die "debootstrap failed (log: $D/debootstrap.log)"; }
	log "installing the kernel's toolchain in the twin: ${TWIN_PKGS[*]}"
	in_twin apt-get update -qq >/dev/null
	in_twin env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${TWIN_PKGS[@]}" >"$D/twin-apt.log" 2>&1 ||
		{ tail -n 20 "$D/twin-apt.log" >&2; die "apt-get install in the twin failed (log: $D/twin-apt.log)"; }
	# What a user of the stock kernel installs from trixie-backports: its headers package (with
	# its dependencies) and the kernel source package.  The packages already downloaded on the
	# host go into apt's cache first, so apt fetches only the dependencies.
	echo "deb $MIRROR $SUITE-backports main" >"$ROOT/etc/apt/sources.list.d/$SUITE-backports.list"
	cp "$CACHE/dl/linux-source-${KVER_MAJOR}_${VER}_all.deb" "$CACHE/dl/distro/linux-headers-${REL}_"*.deb \
		"$ROOT/var/cache/apt/archives/" 2>/dev/null || true
	log "installing linux-headers-$REL and linux-source-$KVER_MAJOR in the twin"
	in_twin apt-get update -qq >/dev/null
	in_twin env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"linux-headers-$REL=$VER" "linux-source-$KVER_MAJOR=$VER" >>"$D/twin-apt.log" 2>&1 ||
		{ tail -n 20 "$D/twin-apt.log" >&2; die "apt-get install in the twin failed (log: $D/twin-apt.log)"; }
	in_twin apt-get clean
	log "twin ready in $((SECONDS - t0)) s"
	touch "$ROOT/.kmem-rs-done"
}

# 3. The rust/ products (and everything else modules_prepare makes) for Debian's .config, made
#    by scripts/prepare-kernel.sh, the user's own step, with its defaults: the installed headers
#    package and source tarball.  (The kernel image is not installed in the twin: its vmlinuz, for
#    the module's BTF, comes from the unpacked package.)
prepare_kernel() {
	local out=$ROOT$KB
	[ -f "$out/.kmem-rs-prepared" ] && return 0
	local t0=$SECONDS
	rm -rf "$out"
	log "prepare-kernel.sh for $REL in the twin (about 2 min)"
	in_twin /src/kmem-rs/scripts/prepare-kernel.sh --release="$REL" \
		--vmlinuz="/pkg/linux-binary/usr/lib/modules/$REL/vmlinuz" --jobs="${KMEM_JOBS:-3}" \
		>"$D/prepare-$REL.log" 2>&1 ||
		{ tail -n 30 "$D/prepare-$REL.log" >&2; die "modules_prepare failed (log: $D/prepare-$REL.log)"; }
	log "rust/ products ready in $((SECONDS - t0)) s"
}

# 4. What vm-run boots: Debian's vmlinuz, and Debian's dax modules (xz-compressed, as packaged)
#    with modules.dep made by depmod.  The Rust kmem.ko is added by vm-run per run.
#    For vm-run --cxl: Debian's CXL drivers (cxl_acpi needs cxl_pmem, which needs libnvdimm); for
#    --pmem and --nvdimm its NVDIMM drivers (nd_e820, nd_pmem, nd_btt, nfit).
GUEST_STAMP="Debian $REL ($VER), dax, cxl and nvdimm modules"
make_guest() {
	[ "$(cat "$GUEST/.kmem-rs-done" 2>/dev/null)" = "$GUEST_STAMP" ] && return 0
	rm -rf "$GUEST"
	local mods=$GUEST/modroot/lib/modules/$REL src=$PKG/linux-modules/usr/lib/modules/$REL ko dep
	[ -d "$src/kernel/drivers/dax" ] || die "linux-modules-$REL has no kernel/drivers/dax"
	mkdir -p "$mods/kernel/drivers/acpi" "$GUEST/arch/x86/boot" "$GUEST/include/config"
	cp -a "$src/kernel/drivers/dax" "$src/kernel/drivers/cxl" "$src/kernel/drivers/nvdimm" "$mods/kernel/drivers/"
	cp -a "$src/kernel/drivers/acpi/nfit" "$mods/kernel/drivers/acpi/"
	# Every module's dependencies are in the guest.
	while read -r ko; do
		for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
			[ -n "$(find "$mods" -name "$dep.ko*")" ] || die "guest: ${ko##*/} needs $dep, not copied"
		done
	done < <(find "$mods" -name '*.ko*')
	cp "$src"/modules.builtin* "$mods/" 2>/dev/null || true
	depmod -b "$GUEST/modroot" "$REL" 2>/dev/null
	ln -s "$PKG/linux-binary/usr/lib/modules/$REL/vmlinuz" "$GUEST/arch/x86/boot/bzImage"
	echo "$REL" >"$GUEST/include/config/kernel.release"
	echo "$GUEST_STAMP" >"$GUEST/.kmem-rs-done"
}
# tool_bundle OUT PKG:BIN...: programs of Debian 13 (installed in the twin from their packages)
# for a guest, with their own libraries and dynamic loader (the guests' userland is the host's,
# an older Debian): OUT/BIN runs OUT/bin/BIN that way, from /test/$(basename OUT) in the guest.
tool_bundle() {
	local out=$1 pb pkgs=() bins=() b
	shift
	for pb in "$@"; do pkgs+=("${pb%%:*}") bins+=("${pb#*:}"); done
	in_twin sh -c "dpkg -s ${pkgs[*]} >/dev/null 2>&1 || { apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkgs[*]}; }" \
		>>"$D/twin-apt.log" 2>&1 || die "apt-get install ${pkgs[*]} in the twin failed (log: $D/twin-apt.log)"
	rm -rf "$out"
	mkdir -p "$out/bin" "$out/lib"
	for pb in "$@"; do
		b=${pb#*:}
		bundle_bin "$out" "/usr/bin/$b" "" \
			"$SUITE's $b (${pb%%:*} $(in_twin dpkg-query -W -f '${Version}' "${pb%%:*}"))"
		cat "$out/$b"
	done
	[ -f "$out/lib/ld-linux-x86-64.so.2" ] || die "no dynamic loader for $SUITE's ${bins[*]}"
}
# bundle_bin OUT PROGRAM LIBPATH WHAT: the twin's PROGRAM in OUT/bin, the libraries it loads (with
# LD_LIBRARY_PATH=LIBPATH in the twin, if given) and the dynamic loader in OUT/lib, and OUT/NAME
# running it with them from /test/$(basename OUT) in a guest ("# WHAT with its own libraries.").
bundle_bin() {
	local out=$1 prog=$2 libpath=$3 what=$4 lib g b
	g=/test/$(basename "$out") b=$(basename "$prog")
	cp "$ROOT$prog" "$out/bin/"
	for lib in $(in_twin env ${libpath:+LD_LIBRARY_PATH="$libpath"} ldd "$prog" | grep -oE '/[^ ]+'); do
		cp -L "$ROOT$lib" "$out/lib/"
	done
	printf '#!/bin/bash\n# %s with its own libraries.\nexec %s/lib/ld-linux-x86-64.so.2 --library-path %s/lib %s/bin/%s "$@"\n' \
		"$what" "$g" "$g" "$g" "$b" >"$out/$b"
	chmod 755 "$out/$b"
}

# ndctl_orig: the path of Debian 13's ndctl source (upstream release 81 as Debian ships it: its
# orig tarball from the archive, checked against the sha256 of the archive's Sources index, which
# apt verified with the index's signature), downloaded once into the cache.
ndctl_orig() {
	local dl=$CACHE/dl/distro ent dir sum name
	in_twin sh -c "[ -s /etc/apt/sources.list.d/kmem-rs-src.list ] && [ -n \"\$(ls /var/lib/apt/lists/*_source_Sources* 2>/dev/null)\" ] || {
		echo 'deb-src $MIRROR $SUITE main' >/etc/apt/sources.list.d/kmem-rs-src.list && apt-get update -qq; }" \
		>>"$D/twin-apt.log" 2>&1 || die "apt-get update with $SUITE's sources in the twin failed (log: $D/twin-apt.log)"
	# The ndctl stanza of the Sources index: its Directory and the orig tarball's sha256 and name.
	ent=$(awk '/^Package: ndctl$/ {p = 1} p && /^$/ {exit} p && /^Directory:/ {print "dir", $2}
			p && /^Checksums-Sha256:/ {c = 1; next} p && c && /^ / && $3 ~ /orig\.tar/ {print "orig", $1, $3}
			p && /^[A-Z]/ {c = 0}' "$ROOT"/var/lib/apt/lists/*_"$SUITE"_main_source_Sources)
	dir=$(sed -n 's/^dir //p' <<<"$ent")
	read -r sum name < <(sed -n 's/^orig //p' <<<"$ent")
	[ -n "$dir" ] && [ -n "$sum" ] && [ -n "$name" ] || die "no ndctl source in $SUITE's Sources index"
	mkdir -p "$dl"
	if ! { [ -f "$dl/$name" ] && echo "$sum  $dl/$name" | sha256sum -c --quiet; }; then
		log "downloading $name ($SUITE's ndctl source)" >&2
		curl -sSfL -o "$dl/$name.tmp" "$MIRROR/$dir/$name" || die "cannot download $MIRROR/$dir/$name"
		echo "$sum  $dl/$name.tmp" | sha256sum -c --quiet || die "$name: not the sha256 of $SUITE's Sources index"
		mv "$dl/$name.tmp" "$dl/$name"
	fi
	echo "$dl/$name $sum"
}

# ndctl_tests OUT: the test/ directory of that source, unmodified, in OUT, for the guests that
# run ndctl's own tests (scripts/tests/ndctl.sh).
ndctl_tests() {
	local out=$1 orig sum
	read -r orig sum < <(ndctl_orig)
	[ -n "$orig" ] || die "no ndctl source"
	rm -rf "$out"
	mkdir -p "$out"
	tar -xf "$orig" -C "$out" --strip-components=2 --wildcards '*/test/*'
	[ -f "$out/daxctl-devices.sh" ] && [ -f "$out/common" ] || die "$orig has no test/daxctl-devices.sh"
	echo "$(basename "$orig") (sha256 $sum, as $SUITE's Sources index lists it): test/, $(find "$out" -type f | wc -l) files"
}

# ndctl_patched OUT: ndctl 81 (Debian 13's source, as ndctl_tests fetches it) with the project's
# patch series for daxctl (contrib/ndctl/*.patch: daxctl drives a device's 'state'), built in the
# twin with meson (no docs or systemd units; what the guests need of it is
# ndctl, daxctl, cxl and the test scripts), and bundled as tool_bundle does: OUT/ndctl,
# OUT/daxctl, OUT/cxl, OUT/jq run from /test/$(basename OUT), OUT/test the patched test/. A build
# of the same source and patches is not repeated.
NDCTL_BUILD_PKGS=(meson ninja-build pkgconf gcc libc6-dev libkmod-dev libudev-dev uuid-dev libjson-c-dev
	libiniparser-dev libkeyutils-dev libtracefs-dev libtraceevent-dev jq)
ndctl_patched() {
	local out=$1 w=/var/lib/kmem-rs/src/ndctl-patched orig sum key b p
	local ld=$w/dest/usr/lib
	read -r orig sum < <(ndctl_orig)
	[ -n "$orig" ] || die "no ndctl source"
	key=$(cat "$orig" "$repo"/contrib/ndctl/0*.patch | sha256sum | cut -c1-16)
	if [ "$(cat "$ROOT$w/.kmem-rs-built" 2>/dev/null)" != "$key" ]; then
		in_twin sh -c "dpkg -s ${NDCTL_BUILD_PKGS[*]} >/dev/null 2>&1 || { apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${NDCTL_BUILD_PKGS[*]}; }" \
			>>"$D/twin-apt.log" 2>&1 || die "apt-get install of ndctl's build dependencies failed (log: $D/twin-apt.log)"
		rm -rf "$ROOT$w"
		mkdir -p "$ROOT$w"
		tar -xf "$orig" -C "$ROOT$w" --strip-components=1
		for p in "$repo"/contrib/ndctl/0*.patch; do
			[[ $p == */0000-cover-letter.patch ]] && continue
			(cd "$ROOT$w" && patch -p1 -s --no-backup-if-mismatch) <"$p" ||
				die "$(basename "$p") does not apply to $(basename "$orig")"
		done
		log "building ndctl 81 with contrib/ndctl's patches in the twin"
		in_twin sh -c "cd $w && meson setup -Ddocs=disabled -Dsystemd=disabled \
			--prefix=/usr build >build.log 2>&1 &&
			ninja -C build -j${KMEM_JOBS:-3} >>build.log 2>&1 && DESTDIR=$w/dest ninja -C build install >>build.log 2>&1" ||
			{ tail -n 30 "$ROOT$w/build.log" >&2; die "ndctl with the patches does not build (log: $ROOT$w/build.log)"; }
		grep -E '(^|: )warning' "$ROOT$w/build.log" && die "warnings in the ndctl build"
		echo "$key" >"$ROOT$w/.kmem-rs-built"
	fi
	rm -rf "$out"
	mkdir -p "$out/bin" "$out/lib"
	for b in ndctl daxctl cxl; do
		bundle_bin "$out" "$w/dest/usr/bin/$b" "$ld" "$b (ndctl 81 with contrib/ndctl's patches, built in the $SUITE twin)"
	done
	bundle_bin "$out" /usr/bin/jq "" "jq (ndctl 81 with contrib/ndctl's patches, built in the $SUITE twin)"
	cp -a "$ROOT$w/test" "$out/test"
	echo "ndctl 81 ($(basename "$orig")) with contrib/ndctl's patches: $out"
}

check_config() {
	# Debian's .config as olddefconfig reproduces it in the twin: identical but for options
	# that depend on the build host's libraries.
	local d
	d=$(diff <(grep -E '^(CONFIG_|# CONFIG_)' "$PKG/headers/.config" | sort) \
		<(grep -E '^(CONFIG_|# CONFIG_)' "$ROOT$KB/.config" | sort) |
		grep -E '^[<>]' | grep -vE 'CONFIG_(OPENSSL_SUPPORTS_ML_DSA|MODULE_SIG_KEY_TYPE_MLDSA_[0-9]+)\b' || true)
	grep -E '^CONFIG_(RUSTC_VERSION_TEXT|CC_VERSION_TEXT|RUSTC_LLVM_VERSION|BINDGEN_VERSION_TEXT)=' \
		"$ROOT$KB/.config"
	local rel
	rel=$(cat "$ROOT$KB/include/config/kernel.release")
	[ "$rel" = "$REL" ] || { echo "the twin's kernel release is '$rel', not '$REL'"; return 1; }
	if [ -n "$d" ]; then
		echo "the twin's .config differs from Debian's:"
		echo "$d"
		return 1
	fi
	echo "the twin's .config equals Debian's (but for OpenSSL ML-DSA support, which depends on the build host)"
}

check_symbols() {
	# Every Rust symbol vmlinux exports (Module.symvers: symbol, crc, module, namespace) must be
	# defined, with the same mangled name, by the rust/*.o of the twin's build: then a module
	# built there links against the stock kernel.
	local want have miss n
	want=$(awk '$3 == "vmlinux" && $2 ~ /^_R/ {print $2}' "$PKG/headers/Module.symvers" | sort -u)
	have=$(in_twin sh -c "nm --defined-only $KB/rust/*.o" | awk '$3 ~ /^_R/ {print $3}' | sort -u)
	n=$(echo "$want" | grep -c .)
	miss=$(comm -23 <(echo "$want") <(echo "$have"))
	echo "$n Rust symbols exported by vmlinux; $(echo "$have" | grep -c .) defined by the twin's rust/*.o"
	if [ -n "$miss" ]; then
		echo "$(echo "$miss" | grep -c .) not reproduced, e.g.:"
		echo "$miss" | head -n 5
		return 1
	fi
	[ "$n" -gt 1000 ] || { echo "too few Rust symbols in Module.symvers: $n"; return 1; }
	echo "all $n reproduced"
}

check_imports() {
	local ko=$1 und miss
	und=$(nm -u "$ko" | awk '{print $2}' | sort -u)
	miss=$(comm -23 <(echo "$und") <(awk '{print $2}' "$PKG/headers/Module.symvers" | sort -u))
	echo "$(basename "$ko"): $(echo "$und" | grep -c .) imported symbols"
	if [ -n "$miss" ]; then
		echo "not exported by $REL:"
		echo "$miss"
		return 1
	fi
	echo "all exported by $REL (vmlinux and its modules)"
}

# copy_sources SRC DEST: the module's sources (what git tracks, or the tree without build products).
copy_sources() {
	local src=$1 dest=$2 parts=(Makefile Kbuild Kconfig dkms.conf src kunit scripts debian)
	mkdir -p "$dest"
	# A git work tree's own files; a plain tree (a git archive, even one unpacked inside another
	# repository's ignored build directory) as it is.
	if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$src" && pwd -P)" ]; then
		(cd "$src" && git ls-files -z --cached --others --exclude-standard -- "${parts[@]}" |
			xargs -0 tar -c) | tar -x -C "$dest"
	else
		tar -C "$src" -c --exclude '*.o' --exclude '*.ko' --exclude 'bindings_generated.rs' \
			"${parts[@]}" | tar -x -C "$dest"
	fi
}

# dkms OUT: a Debian user's DKMS flow in the twin, `dkms add`, `build` and `install` for the stock
# kernel's release (scripts/dkms-make finds no rust/ in the headers package's build directory and
# builds against the tree prepare-kernel.sh made); the twin's updates/ tree copied to OUT as a
# staging root.
dkms_flow() {
	local out=$1 v
	v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$repo/dkms.conf")
	in_twin sh -c "dkms remove kmem-rs/$v --all >/dev/null 2>&1; rm -rf /usr/src/kmem-rs-$v /usr/lib/modules/$REL/updates"
	copy_sources "$repo" "$ROOT/usr/src/kmem-rs-$v"
	in_twin dkms add "kmem-rs/$v"
	in_twin dkms build "kmem-rs/$v" -k "$REL"
	in_twin dkms install "kmem-rs/$v" -k "$REL"
	copy_out "$ROOT/usr/lib/modules/$REL/updates" "$out/lib/modules/$REL/updates"
}

# deb OUT: the Debian package (debian/: kmem-rs-dkms, with DKMS), its source and binary built by
# dpkg-buildpackage in the twin from a copy of the repository's sources, and lintian on them
# (debian/kmem-rs-dkms.lintian-overrides says why the one tag it hides is wrong here); the .dsc, the
# tarball, the .deb and the .changes, lintian's report (lintian.txt) and the .deb's listing
# (dpkg-c.txt) copied to OUT.  The packaging tools go into the twin first (once).
deb_build() {
	local out=$1 w=/work/deb v
	v=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
	in_twin sh -c 'dpkg -s build-essential debhelper dh-dkms lintian >/dev/null 2>&1 ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends build-essential debhelper dh-dkms lintian; }' >/dev/null
	rm -rf "$ROOT$w"
	copy_sources "$repo" "$ROOT$w/kmem-rs-$v"
	in_twin sh -c "cd $w/kmem-rs-$v && dpkg-buildpackage -us -uc" >"$D/deb-build.log" 2>&1 ||
		{ tail -n 30 "$D/deb-build.log" >&2; die "dpkg-buildpackage failed (log: $D/deb-build.log)"; }
	rm -rf "$out"
	mkdir -p "$out"
	cp "$ROOT$w/kmem-rs_$v"* "$ROOT$w/kmem-rs-dkms_${v}_all.deb" "$out/"
	# (Info tags too; an error or a warning fails, whatever lintian's own exit status says.)
	in_twin lintian --info --display-info --pedantic "$w/kmem-rs_${v}_amd64.changes" >"$out/lintian.txt" 2>&1 || true
	dpkg-deb -c "$out/kmem-rs-dkms_${v}_all.deb" | awk '{print $1, $6}' >"$out/dpkg-c.txt"
	cat "$out/lintian.txt"
	! grep -E '^[EW]: ' "$out/lintian.txt"
}

# deb-user OUT: the user's path with that package in the twin, transcribed into OUT/transcript.txt:
# `apt install -t SUITE-backports ./kmem-rs-dkms_*.deb` (the stock kernel is a backports one, and
# so are its headers' metapackage) pulls the dependencies, and DKMS's postinst builds the module
# for the installed headers' release (against the tree prepare-kernel.sh made, which the package
# finds where the other steps left it) and installs it in updates/dkms, copied to OUT/staging for a
# guest; then `apt remove` takes the module and /var/lib/kmem-rs away, and `apt purge` and
# `apt autoremove` leave the twin as it was, with the prepared tree put back (the other steps use
# it).  Fails on any step that does not do that.
deb_user() {
	local out=$1 w=/work/deb v ko
	v=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
	ko=/usr/lib/modules/$REL/updates/dkms/kmem.ko
	[ -f "$ROOT$w/kmem-rs-dkms_${v}_all.deb" ] || die "no package in the twin: distro.sh deb first"
	rm -rf "$out"
	mkdir -p "$out"
	# (dkms_flow adds the same module by hand: its files go first.)
	in_twin sh -c "dkms remove kmem-rs/$v --all >/dev/null 2>&1; rm -rf /usr/src/kmem-rs-$v \
		/usr/lib/modules/$REL/updates /var/lib/kmem-rs.keep && cp -al /var/lib/kmem-rs /var/lib/kmem-rs.keep"
	local rc=0
	# The other kernels: the newest 6.12 of trixie, and this release's cloud flavour.
	local old cloud=${REL%-amd64}-cloud-amd64
	old=$(in_twin apt-cache search --names-only '^linux-headers-6\.12\.[0-9.]+\+deb13-amd64$' |
		cut -d' ' -f1 | sed 's/^linux-headers-//' | sort -V | tail -n1)
	[ -n "$old" ] || die "no linux-headers-6.12.*-amd64 in $SUITE"
	# shellcheck disable=SC2016
	in_twin env REL="$REL" V="$v" W="$w" SUITE="$SUITE" KO="$ko" OLD="$old" CLOUD="$cloud" bash -c '
		t() { echo "\$ $*"; "$@"; }
		export DEBIAN_FRONTEND=noninteractive
		cd "$W"
		t apt-get install -y -t "$SUITE-backports" "./kmem-rs-dkms_${V}_all.deb" || exit 1
		t dkms status
		dkms status | grep -q "^kmem-rs/$V, $REL, x86_64: installed" || { echo "not installed for $REL"; exit 1; }
		t modinfo -F description "$KO"
		modinfo -F description "$KO" | grep -q "(Rust)$" || exit 1
		# New kernels after the package, as upgrades bring them: their headers package runs
		# DKMS (/etc/kernel/header_postinst.d/dkms).  Debian 13'"'"'s own 6.12 is skipped (dkms.conf:
		# 7.3 or later); the cloud flavour of the same 7.3.4, a second release with Rust, gets the
		# module built (its own prepared tree).
		t apt-get install -y --no-install-recommends "linux-headers-$OLD" || exit 1
		t apt-get install -y --no-install-recommends -t "$SUITE-backports" "linux-headers-$CLOUD" || exit 1
		t dkms status
		dkms status | grep -q "^kmem-rs/$V, $CLOUD, x86_64: installed" || { echo "not built for $CLOUD"; exit 1; }
		! dkms status | grep -q "$OLD" && ! ls /usr/lib/modules/$OLD/updates/dkms/kmem.ko* 2>/dev/null ||
			{ echo "built for $OLD, which dkms.conf excludes"; exit 1; }
		t modinfo -F vermagic "/usr/lib/modules/$CLOUD/updates/dkms/kmem.ko"
		modinfo -F vermagic "/usr/lib/modules/$CLOUD/updates/dkms/kmem.ko" | grep -q "^$CLOUD " || exit 1
		t dkms autoinstall -k "$OLD"
		t dpkg-reconfigure kmem-rs-dkms || exit 1
		t dkms status
		rm -rf staging && mkdir -p "staging/lib/modules/$REL" &&
			cp -a "/usr/lib/modules/$REL/updates" "staging/lib/modules/$REL/" || exit 1
		t ls /var/lib/kmem-rs/kbuild
		t cat /etc/modprobe.d/kmem-rs-dkms.conf
		t apt-get remove -y kmem-rs-dkms || exit 1
		t dkms status
		t ls /usr/lib/modules/$REL/updates/dkms /usr/lib/modules/$CLOUD/updates/dkms /var/lib/kmem-rs
		! [ -e "$KO" ] && ! [ -e "/usr/lib/modules/$CLOUD/updates/dkms/kmem.ko" ] &&
			! [ -e /var/lib/kmem-rs ] && [ -z "$(dkms status)" ] ||
			{ echo "apt remove left a module, the prepared trees or the DKMS entry"; exit 1; }
		t apt-get purge -y kmem-rs-dkms "linux-headers-$OLD" "linux-headers-$CLOUD" &&
			t apt-get autoremove --purge -y
	' >"$out/transcript.txt" 2>&1 || rc=1
	in_twin sh -c "rm -rf /var/lib/kmem-rs && mv /var/lib/kmem-rs.keep /var/lib/kmem-rs"
	cat "$out/transcript.txt"
	[ "$rc" = 0 ] || return 1
	# (The updates/ tree as the package installed it, for a guest.)
	copy_out "$ROOT$w/staging" "$out/staging"
	# A UEFI variable store whose db holds the certificate of the key DKMS signed the module with
	# (/var/lib/dkms/mok.pub, DER), as a machine whose firmware trusts it (vm-run --efi-vars).
	openssl x509 -inform DER -in "$ROOT/var/lib/dkms/mok.pub" -out "$out/mok.pem"
	openssl x509 -in "$out/mok.pem" -noout -subject -fingerprint -sha256
	"$VIRT_FW_VARS" --input /usr/share/OVMF/OVMF_VARS_4M.fd --output "$out/efi-vars.fd" \
		--add-db 5a6b8b74-3f2c-4b76-9c3f-6b6d6d2d6b73 "$out/mok.pem"
}

# build SRC OUT: the module's own build in the twin, from a copy of SRC's sources (the build
# writes objects next to them), with the Makefile a user runs: make KDIR=<prepared tree>.
build_module() {
	local src=$1 out=$2 w=/work/kmem-rs
	rm -rf "$ROOT$w"
	mkdir -p "$ROOT$w" "$out"
	copy_sources "$src" "$ROOT$w"
	in_twin make -C $w KDIR=$KB W=1 modules
	cp "$ROOT$w/kmem.ko" "$out/"
	mkdir -p "$out/kunit"
	cp "$ROOT$w"/kunit/*.ko "$out/kunit/" 2>/dev/null || true
}

# install OUT: `make install` of the module built by build_module, run in the twin into a
# staging root (INSTALL_MOD_PATH), copied to OUT.
install_staging() {
	local out=$1 st=/work/staging
	in_twin sh -c "rm -rf $st && make -s -C /work/kmem-rs KDIR=$KB install INSTALL_MOD_PATH=$st"
	copy_out "$ROOT$st" "$out"
}

# copy_out DIR OUT: a staging root made in the twin, copied to OUT; its files listed.
copy_out() {
	rm -rf "$2"
	mkdir -p "$(dirname "$2")"
	cp -a "$1" "$2"
	find "$2" -type f | sed "s|^$2/||"
}

case "${1:-}" in
prepare)
	fetch_packages
	make_root
	prepare_kernel
	make_guest
	;;
check-config) check_config ;;
check-symbols) check_symbols ;;
check-imports) check_imports "$2" ;;
build) build_module "$2" "$3" ;;
install) install_staging "$2" ;;
dkms) dkms_flow "$2" ;;
cxl-tool) tool_bundle "$2" cxl:cxl ;;
ndctl-tools) tool_bundle "$2" ndctl:ndctl daxctl:daxctl cxl:cxl jq:jq ;;
ndctl-tests) ndctl_tests "$2" ;;
ndctl-patched) ndctl_patched "$2" ;;
deb) deb_build "$2" ;;
deb-user) deb_user "$2" ;;
run) shift; in_twin "$@" ;;
*) die "usage: distro.sh prepare|check-config|check-symbols|check-imports KO|build SRC OUT|install OUT|dkms OUT|run CMD|--print-guest" ;;
esac
