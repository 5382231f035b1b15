# SPDX-License-Identifier: GPL-2.0
# Guest: N (default 100000) writes of random and malformed input to state, and
# N/10 to the guard parameter, by kmem-fuzz (scripts/guest/kmem-fuzz.c, passed
# with vm-run --file).  See that file for the inputs and the model.
. /test/lib.sh
plan 3
N=${1:-100000}
ST=$DAX_BASE/dax0.0/state
SEED=${FUZZ_SEED:-$(( $(now_us) % 1000000 ))}
diag "seed $SEED (FUZZ_SEED=$SEED reproduces the run)"
echo unplugged >$ST
base=$(memtotal_kb)
t0=$(now_us)
/test/kmem-fuzz $ST /sys/module/kmem/parameters/guard "$N" "$SEED" >/tmp/fuzz.out
rc=$?
ms=$((($(now_us) - t0) / 1000))
head -n 20 /tmp/fuzz.out
diag "$N writes in $ms ms"
expect_eq "kmem-fuzz: every write behaved per the model" 0 "$rc"
check "the run made real transitions" grep -qE 'transitions=[1-9]' /tmp/fuzz.out
echo unplugged >$ST
expect_eq "MemTotal back to baseline" "$base" "$(memtotal_kb)"
finish
