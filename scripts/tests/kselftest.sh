# SPDX-License-Identifier: GPL-2.0
# Guest: the tree's conformance test, tools/testing/selftests/dax/dax-kmem-hotplug.sh,
# against the loaded kmem.  Argument "unbind" also runs its destructive
# unbind-while-online check (DAX_KMEM_TEST_UNBIND=1).  Its KTAP result lines are
# counted by the host like every other guest test, and repeated as "obs" lines
# for the differential comparison with the C driver.
. /test/lib.sh
[ "${1:-}" = unbind ] && export DAX_KMEM_TEST_UNBIND=1
# The plan is the upstream test's (ktap_set_plan 10): a run that skips everything
# ("1..0") must not count as a pass, so its own plan line is not passed on.
echo "1..10"
DAX_KMEM_TEST_DEV=auto bash /kselftest/dax/dax-kmem-hotplug.sh >/tmp/ktap.out 2>&1
rc=$?
# With the guard refusing external memoryN/state writes (the Rust driver's default,
# guard=owned), the upstream test's two desync steps cannot offline a block behind
# the driver's back and skip: that is the guard working, so such a skip is a pass
# here, and the step passing would be a failure (an external offline got through).
DESYNC='could not locate a device block to offline for desync test|could not offline all device blocks for desync-unbind test'
if guard_refuses; then
	sed -E "s/^ok ([0-9]+) ($DESYNC) # SKIP\$/ok \1 desync step refused by the guard (upstream skipped: \2)/; \
		s/^ok ([0-9]+) (.*(pre-offlined|stale online state).*)\$/not ok \1 - the guard let an external offline through: \2/" /tmp/ktap.out >/tmp/ktap.conv
	mv /tmp/ktap.conv /tmp/ktap.out
fi
grep -vE '^1\.\.[0-9]+$' /tmp/ktap.out
grep -qxE '1\.\.10' /tmp/ktap.out || echo "# upstream plan changed: $(grep -E '^1\.\.[0-9]+$' /tmp/ktap.out)"
# The observations carry MemTotal changes, not MemTotal itself: a kernel with KASLR (a
# distribution's) boots with a few kB more or less each time.
sed -nE 's/^((not )?ok) [0-9]+ (.*)$/obs kselftest \1 \3/p' /tmp/ktap.out | while IFS= read -r l; do
	while [[ $l =~ ^(.*)MemTotal\ ([0-9]+)\ -\>\ ([0-9]+)\ kB(.*)$ ]]; do
		l="${BASH_REMATCH[1]}MemTotal change $((BASH_REMATCH[3] - BASH_REMATCH[2])) kB${BASH_REMATCH[4]}"
	done
	echo "$l"
done
exit $rc
