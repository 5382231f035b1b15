#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""KTAP v1 parser for the guest suites' output (Documentation/dev-tools/ktap.rst).

A suite prints a version line ("KTAP version 1"; the upstream kselftest's "TAP version 13" is
accepted), a plan ("1..N"), one result line per test ("ok N [- ]NAME [# SKIP REASON]" or
"not ok N ..."), "#" diagnostics, and nested subtests: a version line indented by some spaces
opens a subtest whose lines share that indentation, and the parent's result line that follows
closes it. Any other line is ignored, at any indentation (KTAP allows unknown lines:
vm-run's own notes, a suite's "obs" lines, which parts.sh leaves at the start of the line). A nested test's result counts as its leaves: its subtests.

    ktap.py counts FILE   print "PASSED FAILED SKIPPED" (leaf tests of the top-level test) and
                          the problems found, one per line on stderr; exit 1 if the output
                          is not well-formed: no version line, no plan, a result count that
                          differs from the plan, results out of order, "Bail out!", or a
                          subtest whose own result contradicts its leaves
"""

import re
import sys
from dataclasses import dataclass, field

VERSION = re.compile(r'^(KTAP version 1|TAP version 1[34])$')
PLAN = re.compile(r'^1\.\.(\d+)$')
RESULT = re.compile(r'^(not ok|ok) (\d+)(?: -)?(?: ([^#]*?))?\s*(?:#\s*(\S+)\s*(.*))?$')


@dataclass
class Test:
    """One test: its own result (None for the top level) and its subtests."""
    name: str = ''
    ok: bool | None = None
    directive: str = ''
    plan: int | None = None
    version: bool = False
    subtests: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def leaves(self):
        """(passed, failed, skipped) over the leaf tests."""
        if not self.subtests:
            if self.directive.upper() in ('SKIP', 'TODO'):
                return (0, 0, 1)
            return (1, 0, 0) if self.ok else (0, 1, 0)
        p = f = s = 0
        for t in self.subtests:
            a, b, c = t.leaves()
            p, f, s = p + a, f + b, s + c
        # A nested test that failed with every subtest passed failed outside them: one more.
        if self.ok is False and f == 0 and self.directive == '':
            f = 1
        return (p, f, s)

    def all_problems(self):
        out = list(self.problems)
        for t in self.subtests:
            out += [f'{t.name}: {p}' for p in t.all_problems()]
        return out


def _indent(line):
    return len(line) - len(line.lstrip(' '))


def _parse(lines, i, indent, test):
    """Parse the lines of one test at INDENT from lines[i]; return the index after them."""
    pending = None  # a nested test waiting for its result line
    while i < len(lines):
        raw = lines[i].rstrip('\r\n')
        ind = _indent(raw)
        line = raw[ind:]
        if not (VERSION.match(line) or PLAN.match(line) or RESULT.match(line)
                or line.startswith('Bail out!')):
            i += 1
            continue  # a diagnostic or an unknown line, at any indentation
        if ind > indent and VERSION.match(line):
            if pending is not None:
                test.problems.append(f'a subtest at line {i + 1} follows one without a result')
                test.subtests.append(pending)
            pending = Test(version=True)
            i = _parse(lines, i + 1, ind, pending)
            continue
        if ind != indent:
            if ind < indent:
                return i  # the parent's line
            i += 1
            continue  # a KTAP line more indented, outside a subtest: not this test's
        i += 1
        if VERSION.match(line):
            if test.version:
                test.problems.append(f'line {i}: a second version line')
            test.version = True
        elif m := PLAN.match(line):
            if test.plan is not None:
                test.problems.append(f'line {i}: a second plan')
            else:
                test.plan = int(m.group(1))
        elif line.startswith('Bail out!'):
            test.problems.append(f'line {i}: {line}')
        elif m := RESULT.match(line):
            t = pending if pending is not None else Test()
            pending = None
            t.ok = m.group(1) == 'ok'
            t.name = (m.group(3) or '').strip()
            t.directive = (m.group(4) or '').upper()
            if t.directive not in ('SKIP', 'TODO'):
                t.directive = ''
            n = int(m.group(2))
            if n != len(test.subtests) + 1:
                test.problems.append(f'line {i}: result {n}, expected {len(test.subtests) + 1}')
            if t.subtests:
                _, f, _ = t.leaves()
                if t.ok and f:
                    t.problems.append(f'"ok" but {f} of its subtests failed')
            test.subtests.append(t)
    if pending is not None:
        test.problems.append('a subtest without its result line')
        test.subtests.append(pending)
    return i


def parse(lines):
    """The top-level test of LINES (a list of strings), with its problems."""
    top = Test(name='(top)')
    _parse(list(lines), 0, 0, top)
    if not top.version:
        top.problems.append('no version line ("KTAP version 1")')
    if top.plan is None:
        top.problems.append('no plan ("1..N"; did the suite run at all?)')
    elif top.plan != len(top.subtests):
        top.problems.append(f'{len(top.subtests)} results, but the plan says {top.plan}')
    for t in top.subtests:
        if t.subtests and t.plan is not None and t.plan != len(t.subtests):
            t.problems.append(f'{len(t.subtests)} results, but its plan says {t.plan}')
    return top


def main(argv):
    if len(argv) != 3 or argv[1] != 'counts':
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2], errors='replace') as f:
        top = parse(f.readlines())
    print(*top.leaves())
    problems = top.all_problems()
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
