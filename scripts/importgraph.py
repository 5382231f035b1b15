#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The module import graph of the crate under src/.

Every `crate::...` path (in `use` trees, in code and in macros as `$crate::...`) is resolved to
the file of the longest module prefix it names; an edge A -> B means that file A uses something
of file B. `mod` declarations are not edges.

  importgraph.py [--check] SRC

--check fails (exit 1) if an abstraction (src/kernel/...) uses a driver file, or if the graph has
a cycle; the graph is printed either way, one "file -> file, file" line per file.
"""
import os
import re
import sys

from usetree import leaves


def module_of(rel):
    """Module path (tuple) of a file relative to src/."""
    parts = rel[:-3].split('/')
    if parts == ['kmem']:
        return ()
    if parts[0] == 'kernel':
        parts[0] = 'kernel_ext'
    if parts[-1] == 'mod':
        parts = parts[:-1]
    return tuple(parts)


def flatten_use(tree):
    """Flattens a use tree 'a::{b, c::{d, e}}' into ['a::b', 'a::c::d', 'a::c::e']."""
    return ['::'.join(p) for p in leaves(re.sub(r'\s+', '', tree))]


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    check = '--check' in sys.argv
    src = args[0] if args else 'src'
    files = {}
    for root, _, names in os.walk(src):
        for n in names:
            if n.endswith('.rs') and n != 'bindings_generated.rs':
                rel = os.path.relpath(os.path.join(root, n), src)
                files[module_of(rel)] = rel
    edges = {rel: set() for rel in files.values()}
    for mod, rel in files.items():
        text = strip_comments(open(os.path.join(src, rel)).read())
        paths = []
        # At the crate root, a path may start with a top-level module's name.
        top = {m[0] for m in files if len(m) == 1} if mod == () else set()
        for m in re.finditer(r'\buse\s+([^;]*);', text):
            for p in flatten_use(m.group(1)):
                if p.startswith('crate::'):
                    paths.append(p)
                elif p.split('::')[0] in top:
                    paths.append('crate::' + p)
        code = re.sub(r'\buse\s+[^;]*;', '', text)
        for m in re.finditer(r'(?<![\w:])\$?crate::((?:\w+::)*\w+)', code):
            paths.append('crate::' + m.group(1))
        for m in re.finditer(r'(?<![\w:$])(\w+)::', code):
            if m.group(1) in top:
                paths.append('crate::' + code[m.start():].split('(')[0].split('<')[0].split(' ')[0].rstrip(':'))
        for p in paths:
            segs = tuple(s for s in p.split('::')[1:] if s and s not in ('self', '*'))
            # `crate::LocalModule` is the module! macro's alias of the module type: the crate's
            # identity (its `THIS_MODULE`), which every file may name, not an item of kmem.rs.
            if segs[:1] == ('LocalModule',):
                continue
            best = None
            for k in range(len(segs), -1, -1):
                if segs[:k] in files:
                    best = files[segs[:k]]
                    break
            if best and best != rel:
                edges[rel].add(best)
    bad = []
    for a, bs in edges.items():
        if a.startswith('kernel/'):
            for b in bs:
                if not b.startswith('kernel/'):
                    bad.append('%s uses the driver file %s' % (a, b))
    # Cycles (depth-first search).
    state = {}
    cycle = []

    def dfs(n, stack):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges[n]):
            if state.get(m) == 1:
                cycle.append(stack[stack.index(m):] + [m])
            elif not state.get(m):
                dfs(m, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if not state.get(n):
            dfs(n, [])
    for c in cycle:
        bad.append('cycle: ' + ' -> '.join(c))
    for a in sorted(edges, key=lambda f: (f.startswith('kernel/'), f)):
        print('src/%s -> %s' % (a, ', '.join(sorted(edges[a])) or '(nothing)'))
    print('%d files, %d edges, %d cycles' % (len(edges), sum(len(b) for b in edges.values()), len(cycle)))
    for b in bad:
        print('ERROR: ' + b)
    return 1 if (check and bad) else 0


if __name__ == '__main__':
    sys.exit(main())
