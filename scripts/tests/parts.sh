# SPDX-License-Identifier: GPL-2.0
# Guest: several suites in one boot, each a nested KTAP subtest (Documentation/dev-tools/ktap.rst:
# its lines indented by four spaces, then the parent's "ok N - NAME" line).  Arguments: the
# parts, separated by "+", each
#
#   [@guard=MODE] [NAME=VALUE...] SUITE.sh [ARGS...]
#
# (NAME=VALUE: the suite's environment, e.g. KMEM_DAX=dax0.1, the device it tests.)
# run in order with bash, each starting where the one before left the machine (a part runs
# here only where it accepts that state: make check compares a merged run's observations
# with those of the runs it replaced).  A part with @guard=MODE is the Rust driver's only (the
# C driver has no guard; its run plans one part fewer): kmem is loaded again if the part before
# removed it, the guard parameter set to MODE for the part (and back after it), and the part's "obs" lines are printed as
# "obs@guard=MODE ...", the observations the differential with expected/NAME-owned compares with
# the C driver's (scripts/check.sh).  The other parts' "obs" lines are printed as they are, at
# the start of the line.  vm-run copies the suites the arguments name into /test.
#
#   parts.sh faults.sh rollback + faults.sh multirange
#   parts.sh parity.sh + @guard=owned parity.sh
. "${0%/*}/lib.sh"

parts=() part=""
for a in "$@"; do
	if [ "$a" = + ]; then
		parts+=("$part")
		part=""
	else
		part+="${part:+ }$(printf '%q' "$a")"
	fi
done
parts+=("$part")
run=()
for p in "${parts[@]}"; do
	[[ "$p" == @guard=* ]] && [ "$KMEM_RS_MODE" != rust ] && continue
	run+=("$p")
done
plan ${#run[@]}

for p in "${run[@]}"; do
	tag=""
	if [[ "$p" == @guard=* ]]; then
		tag=${p%% *}
		tag=${tag#@}
		p=${p#* }
		[ -d /sys/module/kmem ] || modprobe kmem || diag "modprobe kmem failed"
		was=$(cat /sys/module/kmem/parameters/guard)
		echo "${tag#guard=}" >/sys/module/kmem/parameters/guard || diag "could not set $tag"
	fi
	eval "set -- $p"
	# (Leading NAME=VALUE words: the part's environment, e.g. KMEM_DAX=dax0.1.)
	env=()
	while [[ "$1" =~ ^[A-Z_][A-Z0-9_]*= ]]; do
		env+=("$1")
		shift
	done
	suite=$1
	shift
	env "${env[@]}" bash "${0%/*}/$suite" "$@" 2>&1 | while IFS= read -r l; do
		case $l in
		"obs "*) if [ -n "$tag" ]; then echo "obs@$tag ${l#obs }"; else echo "$l"; fi ;;
		*) echo "    $l" ;;
		esac
	done
	rc=${PIPESTATUS[0]}
	# (The parts after it run with the guard they had before.)
	[ -z "$tag" ] || ! [ -d /sys/module/kmem ] || echo "$was" >/sys/module/kmem/parameters/guard ||
		diag "could not set the guard back to $was"
	name="${env[*]}${env[*]:+ }$suite${*:+ $*}${tag:+ ($tag)}"
	if [ "$rc" = 0 ]; then ok "$name"; else not_ok "$name (exit $rc)"; fi
done
finish
