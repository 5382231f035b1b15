# SPDX-License-Identifier: GPL-2.0
# Guest (vm-run --distro --kmem=c --no-load --append=module.sig_enforce=1 --file=STAGING): a
# kernel that enforces module signatures and the Rust kmem.ko of STAGING (copied over the module
# tree as install.sh does; Debian's own kmem.ko, signed by Debian, stays under kernel/).
# Arguments: what modprobe must do with it, "refused" or "loaded", and the flow that made STAGING
# ("install": `make install`, unsigned; "dkms": the package's DKMS build, signed with DKMS's key,
# /var/lib/dkms/mok.key).  Refused: modprobe fails with EKEYREJECTED, nothing named kmem is
# loaded, and Debian's C kmem.ko still loads and binds dax0.0.  Loaded (vm-run --efi-vars: the
# DKMS certificate in UEFI's db, hence in the kernel's .platform keyring): the module loads
# without the E taint of an unverified module, and dax0.0 binds to it.
. /test/lib.sh
want=${1:-refused}
flow=${2:-install}
plan 8
rel=$(uname -r)
expect_eq "the kernel enforces module signatures (module.sig_enforce=1)" Y \
	"$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null)"
cp -a /test/staging/. /
depmod -a
ko=/lib/modules/$rel/updates/kmem.ko
[ "$flow" = dkms ] && ko=/lib/modules/$rel/updates/dkms/kmem.ko
expect_eq "modinfo kmem: the Rust module ($flow)" "$ko" "$(modinfo -F filename kmem)"
signer=$(modinfo -F signer kmem)
if [ "$flow" = dkms ]; then
	expect_eq "signed by DKMS's key" "DKMS module signing key" "$signer"
else
	expect_eq "unsigned (make install)" "" "$signer"
fi
# The keyrings' certificates (/proc/keys: "... asymmetric DESCRIPTION: ..."): DKMS's is known to the
# kernel only through UEFI's db.
grep -q 'DKMS module signing key' /proc/keys && known=yes || known=no
diag "DKMS's certificate in a kernel keyring: $known"
err=$(modprobe kmem 2>&1)
rc=$?
diag "modprobe kmem: exit $rc${err:+: $err}"
if [ "$want" = loaded ]; then
	expect_eq "DKMS's certificate is in the .platform keyring (UEFI db)" yes "$known"
	expect_eq "modprobe kmem loads it" 0 "$rc"
	expect_eq "verified: taint O (out of tree), not E" O "$(cat /sys/module/kmem/taint 2>/dev/null)"
	check "the loaded kmem is the Rust one (modinfo: Rust)" contains "$(modinfo -F description kmem)" "\(Rust\)"
	expect_eq "dax0.0 bound to it" kmem "$(driver_of dax0.0)"
else
	expect_eq "DKMS's certificate is in no kernel keyring" no "$known"
	check "modprobe kmem refused: Key was rejected by service (EKEYREJECTED)" \
		contains "$err" 'Key was rejected by service'
	expect_eq "no kmem loaded" no "$([ -e /sys/module/kmem ] && echo yes || echo no)"
	c_ko=$(compgen -G "/lib/modules/$rel/kernel/drivers/dax/kmem.ko*" | head -n1)
	expect_eq "Debian's signed C kmem.ko still loads (insmod)" 0 "$(insmod "$c_ko" >/dev/null 2>&1; echo $?)"
	expect_eq "dax0.0 bound to kmem, Debian's (no taint)" "kmem ''" \
		"$(driver_of dax0.0) '$(cat /sys/module/kmem/taint 2>/dev/null)'"
fi
finish
