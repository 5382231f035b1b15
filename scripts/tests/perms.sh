# SPDX-License-Identifier: GPL-2.0
# Guest: a non-root user can read state but cannot write state or guard.
. /test/lib.sh
plan 8
ST=$DAX_BASE/dax0.0/state
P=/sys/module/kmem/parameters/guard
echo 'user:x:1000:1000:user:/tmp:/bin/sh' >>/etc/passwd
echo 'user:x:1000:' >>/etc/group
as_user() { su -s /bin/bash user -c ". /test/lib.sh; $1" 2>&1; }
expect_eq "runs as uid 1000" 1000 "$(as_user 'id -u')"
expect_eq "user reads state" offline "$(as_user "cat $ST")"
g=$(cat $P)
expect_eq "user reads guard" "$g" "$(as_user "cat $P")"
expect_eq "user cannot write state" EACCES "$(as_user "write_errno $ST unplugged")"
expect_eq "user cannot write guard" EACCES "$(as_user "write_errno $P off")"
expect_eq "nothing changed" "offline $g" "$(cat $ST) $(cat $P)"
expect_eq "state is 0644" "-rw-r--r--" "$(ls -l $ST | cut -c1-10)"
expect_eq "root still can" OK "$(write_errno $ST unplugged)"
finish
