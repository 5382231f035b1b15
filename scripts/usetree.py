# SPDX-License-Identifier: GPL-2.0
"""Rust use trees as text: the top-level items of a tree body, and its leaf paths."""
import re


def top_items(body):
    """The top-level items of a use-tree body (without its braces), comments dropped."""
    body = re.sub(r'//[^\n]*', '', body)
    items, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
        elif ch == ',' and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    return [re.sub(r'\s+', ' ', it).strip() for it in items if it.strip()]


def leaves(tree, prefix=()):
    """The leaf paths of a use tree: ('a', 'b', 'c as d'), ..."""
    out = []
    for it in top_items(tree):
        m = re.match(r'^(.*?)\{(.*)\}$', it, flags=re.S)
        if m:
            head = tuple(x for x in m.group(1).split('::') if x)
            out += leaves(m.group(2), prefix + head)
        else:
            out.append(prefix + tuple(it.split('::')))
    return out
