#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of scripts/ktap.py (make check runs them: python3 scripts/test_ktap.py)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402


def run(text):
    top = ktap.parse(text.splitlines(keepends=True))
    return top.leaves(), top.all_problems()


class Ktap(unittest.TestCase):
    def test_flat(self):
        counts, problems = run('KTAP version 1\n1..3\nok 1 - a\nnot ok 2 - b\nok 3 - c # SKIP no\n')
        self.assertEqual(counts, (1, 1, 1))
        self.assertEqual(problems, [])

    def test_unknown_lines_ignored(self):
        counts, problems = run('boot noise\nKTAP version 1\n1..1\nobs x 1\n# diag\n'
                               'ok 1 a\n# console log: /x (3.0 s)\n')
        self.assertEqual((counts, problems), ((1, 0, 0), []))

    def test_no_plan(self):
        _, problems = run('KTAP version 1\nok 1 a\n')
        self.assertTrue(any('no plan' in p for p in problems))

    def test_no_version(self):
        _, problems = run('1..1\nok 1 a\n')
        self.assertTrue(any('no version' in p for p in problems))

    def test_tap13_accepted(self):
        self.assertEqual(run('TAP version 13\n1..1\nok 1 a\n'), ((1, 0, 0), []))

    def test_plan_mismatch(self):
        counts, problems = run('KTAP version 1\n1..3\nok 1 a\nok 2 b\n')
        self.assertEqual(counts, (2, 0, 0))
        self.assertIn('2 results, but the plan says 3', problems)

    def test_numbering(self):
        _, problems = run('KTAP version 1\n1..2\nok 1 a\nok 3 b\n')
        self.assertTrue(any('result 3, expected 2' in p for p in problems))

    def test_bail_out(self):
        _, problems = run('KTAP version 1\n1..1\nBail out! broken\nok 1 a\n')
        self.assertTrue(any('Bail out!' in p for p in problems))

    def test_skip_directive_case(self):
        self.assertEqual(run('KTAP version 1\n1..1\nok 1 a # skip why\n')[0], (0, 0, 1))

    def test_hash_in_name_is_not_skip(self):
        self.assertEqual(run('KTAP version 1\n1..1\nok 1 a # note\n')[0], (1, 0, 0))

    def test_nested(self):
        text = ('KTAP version 1\n1..2\n'
                '  KTAP version 1\n  1..2\n  ok 1 x\n  not ok 2 y\nnot ok 1 part-a\n'
                '  KTAP version 1\n  1..1\n  ok 1 z # SKIP\nok 2 part-b\n')
        counts, problems = run(text)
        self.assertEqual(counts, (1, 1, 1))
        self.assertEqual(problems, [])

    def test_nested_ok_contradicts_leaves(self):
        text = 'KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  not ok 1 x\nok 1 part\n'
        _, problems = run(text)
        self.assertTrue(any('subtests failed' in p for p in problems))

    def test_nested_plan_mismatch(self):
        text = 'KTAP version 1\n1..1\n  KTAP version 1\n  1..2\n  ok 1 x\nok 1 part\n'
        _, problems = run(text)
        self.assertTrue(any('its plan says 2' in p for p in problems))

    def test_nested_failure_outside_subtests(self):
        text = 'KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  ok 1 x\nnot ok 1 part\n'
        self.assertEqual(run(text)[0], (1, 1, 0))

    def test_nested_without_result(self):
        _, problems = run('KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  ok 1 x\n')
        self.assertTrue(any('without its result' in p for p in problems))

    def test_indented_noise_ignored(self):
        self.assertEqual(run('KTAP version 1\n1..1\n    ok 7 not ours\nok 1 a\n'),
                         ((1, 0, 0), []))

    def test_nested_unindented_unknown_lines(self):
        # parts.sh leaves a part's "obs" lines at the start of the line, inside its subtest.
        text = ('KTAP version 1\n1..2\n    KTAP version 1\n    1..2\n    ok 1 a\nobs k v\n'
                '# diag\n    ok 2 b\nok 1 - p1\n    KTAP version 1\n    1..1\n'
                'obs k2 v\n    not ok 1 c\nnot ok 2 - p2\n')
        self.assertEqual(run(text), ((2, 1, 0), []))

    def test_second_plan(self):
        _, problems = run('KTAP version 1\n1..1\nok 1 a\n1..1\n')
        self.assertTrue(any('second plan' in p for p in problems))


if __name__ == '__main__':
    unittest.main(verbosity=1)
