# SPDX-License-Identifier: GPL-2.0
# Guest: the tree's conformance test, tools/testing/selftests/dax/dax-kmem-hotplug.sh,
# against the loaded kmem.  Argument "unbind" also runs its destructive
# unbind-while-online check (DAX_KMEM_TEST_UNBIND=1).  Its KTAP result lines are
# counted by the host like every other guest test, and repeated as "obs" lines
# for the differential comparison with the C driver.
[ "${1:-}" = unbind ] && export DAX_KMEM_TEST_UNBIND=1
# The plan is the upstream test's (ktap_set_plan 10): a run that skips everything
# ("1..0") must not count as a pass, so its own plan line is not passed on.
echo "1..10"
DAX_KMEM_TEST_DEV=auto bash /kselftest/dax/dax-kmem-hotplug.sh >/tmp/ktap.out 2>&1
rc=$?
grep -vE '^1\.\.[0-9]+$' /tmp/ktap.out
grep -qxE '1\.\.10' /tmp/ktap.out || echo "# upstream plan changed: $(grep -E '^1\.\.[0-9]+$' /tmp/ktap.out)"
sed -nE 's/^((not )?ok) [0-9]+ (.*)$/obs kselftest \1 \3/p' /tmp/ktap.out
exit $rc
