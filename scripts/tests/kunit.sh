# SPDX-License-Identifier: GPL-2.0
# Guest: load kmem.ko with KUnit enabled (kunit.enable=1 on the command line): its inline
# #[kunit_tests] suites run at load. Print their KTAP (from the kernel log) between markers,
# for the host to parse with the tree's kunit.py. online_type=unplugged: the driver binds the
# dax devices without adding memory, so that the unload is clean.
# With "modprobe": the kernel's own kmem.ko (the in-tree build of the series), not /test's.
dmesg -c >/dev/null
if [ "${1:-}" = modprobe ]; then
	modprobe kmem online_type=unplugged || { echo "modprobe kmem failed"; exit 1; }
else
	insmod /test/kmem.ko online_type=unplugged || { echo "insmod kmem.ko failed"; exit 1; }
fi
echo "KMEM-RS-KTAP-BEGIN"
dmesg | sed -e 's/^\[[ 0-9.]*\] //'
echo "KMEM-RS-KTAP-END"
rmmod kmem
