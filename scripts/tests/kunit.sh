# SPDX-License-Identifier: GPL-2.0
# Guest: load the KUnit module and print its KTAP (from the kernel log)
# between markers, for the host to parse with the tree's kunit.py.
dmesg -c >/dev/null
insmod /test/kmem_kunit.ko || { echo "insmod kmem_kunit.ko failed"; exit 1; }
echo "KMEM-RS-KTAP-BEGIN"
dmesg | sed -e 's/^\[[ 0-9.]*\] //'
echo "KMEM-RS-KTAP-END"
rmmod kmem_kunit
