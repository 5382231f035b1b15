#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The upstream patch stack: series/*.patch is the source of every intermediate state.

  stack.py apply  KSRC [DIR]   the stack as a git repository (default build/stack): a base
                               commit of the pristine 7.3 files the patches touch, then one
                               commit per patch (git am)
  stack.py verify KSRC         the tip of the stack is this tree: every file the stack maps
                               (below) reads as the lexical rewrite of its source in src/
  stack.py absorb KSRC [--into PATCH]
                               folds the difference between src/ and the tip into the stack:
                               each hunk into the patch that last touched its lines (git blame),
                               or into PATCH; then saves (below)
  stack.py save   KSRC         writes build/stack's commits (after an edit, a rebase -i, an
                               absorb) back into series/ and verifies
  stack.py kconfig KSRC        every Kconfig symbol a patch uses is defined once it applies
  stack.py emit   KSRC OUT [--placeholder] [--upto NAME]
                               the series to post: git format-patch --cover-letter into OUT
                               (the whole stack, or its patches up to the end of series NAME),
                               and each series as posted in OUT/series/NN-NAME/ (OUT.git holds
                               the applied stack); From:, Signed-off-by: and the MAINTAINERS
                               entry in the submitter's name (git config; refused when unset or
                               not a person's); --placeholder keeps the stored placeholder
                               identity (make check, the in-tree builds)
  stack.py upto   KSRC NAME    the number of patches up to the end of series NAME

series/series lists the patches in order (quilt's format: one file name per line, `#` starts a
comment); a comment line `#= NAME: TITLE` starts series NAME, posted on its own on top of the
ones before it, with series/cover-NAME.txt as its cover letter and TITLE as its subject;
series/cover-letter.txt is the text of the whole stack's cover letter (one series, for review). The stored patches are git
format-patch output with --zero-commit (no commit ids, so that a rebase changes only what it
changes); the identity and date of each commit are those of the stored patch.

The mapping between src/ and the tip (the rewrite is lexical: `crate::kernel_ext::` becomes
`kernel::` in the driver and `crate::` in the kernel crate, `kernel::` becomes `crate::` in the
kernel crate, the driver's kernel_ext imports join its `use kernel::{...}`; rustfmt after):

  src/kernel/<path>.rs          rust/kernel/<path>.rs (module_param.rs: module_param/enum_param.rs)
  src/{kmem,driver,...}.rs      drivers/dax/kmem-rs/
  src/glue.c                    rust/helpers/memory_hotplug.c (kmem_glue_X: rust_helper_kmem_glue_X)
  src/bindings_helper.h         its constants, in rust/bindings/bindings_helper.h
  Kconfig                       its DEV_DAX_KMEM_RUST entry, in drivers/dax/Kconfig
  scripts/config/kmem-rs.kunitconfig   drivers/dax/kmem-rs/.kunitconfig

Out of tree only (no counterpart): src/kernel/{mod,bindings}.rs, src/kernel/{mm,device}/mod.rs,
src/glue.h, src/compat.[ch] (what the series' mm patch adds, for a kernel without it), Kbuild,
Makefile.
"""
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

from usetree import leaves, top_items

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERIES = os.path.join(REPO, 'series')
# The identity and date of the base commit (the pristine files); a patch's own are in its file.
BASE_ID = ['-c', 'user.name=kmem-rs developers', '-c', 'user.email=kmem-rs@lists.example.org']
BASE_DATE = '2026-11-22T00:00:00Z'

# Out-of-tree module path under kernel_ext -> path under the kernel crate.
MODULES = {
    'module_param': 'module_param::enum_param',
}
ABSTRACTIONS = {
    'src/kernel/dax.rs': 'rust/kernel/dax.rs',
    'src/kernel/device/attribute.rs': 'rust/kernel/device/attribute.rs',
    'src/kernel/mm/memory_hotplug.rs': 'rust/kernel/mm/memory_hotplug.rs',
    'src/kernel/mm/memory_notifier.rs': 'rust/kernel/mm/memory_notifier.rs',
    'src/kernel/mm/memory_tiers.rs': 'rust/kernel/mm/memory_tiers.rs',
    'src/kernel/module_param.rs': 'rust/kernel/module_param/enum_param.rs',
}
DRIVER_DIR = 'drivers/dax/kmem-rs/'
# src/ files without an upstream counterpart.
OOT_ONLY = {'src/kernel/mod.rs', 'src/kernel/bindings.rs', 'src/kernel/mm/mod.rs',
            'src/kernel/device/mod.rs'}


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


# --- the lexical rewrite ----------------------------------------------------------------------

def rename_modules(text):
    for k, v in MODULES.items():
        text = text.replace('kernel_ext::' + k, 'kernel_ext::' + v)
    return text


def to_kernel_crate(text):
    """An abstraction file as it reads inside the kernel crate."""
    text = rename_modules(text)
    text = text.replace('$crate::kernel_ext::', '$crate::')
    text = text.replace('crate::kernel_ext::', 'crate::')
    text = text.replace('::kernel::', '$crate::')
    text = re.sub(r'(?<![\w:$])kernel::', 'crate::', text)
    text = text.replace('pub(crate) ', 'pub ')
    # Macros are exported from the crate root and re-exported at their module's path.
    text = re.sub(r'^(#\[allow\(unused_macros\)\]\n)?macro_rules! ', '#[macro_export]\nmacro_rules! ',
                  text, flags=re.M)
    text = re.sub(r'^(#\[allow\(unused_imports\)\]\n)?pub use (\w+);$', r'pub use crate::\2;', text,
                  flags=re.M)
    return text


def render(items):
    """A use-tree body in the kernel's vertical style: every group with more than one item ends
    with an empty `//` comment, so that rustfmt keeps one item per line."""
    out = []
    for it in items:
        m = re.match(r'^(.*?)\{(.*)\}$', it, flags=re.S)
        if m:
            sub = top_items(m.group(2))
            it = m.group(1) + ('{' + render(sub) + '}' if len(sub) > 1 else sub[0])
        out.append(it)
    if len(out) > 1:
        return '\n' + ',\n'.join(out) + (',\n' if out[-1].endswith('}') else ', //\n')
    return out[0]


def kernel_items(item):
    """The items of the kernel crate that a `kernel_ext::...` item names, renamed."""
    rest = item[len('kernel_ext::'):]
    if rest.startswith('{'):
        return [x for sub in top_items(rest[1:-1]) for x in kernel_items('kernel_ext::' + sub)]
    for k, v in MODULES.items():
        if rest == k or rest.startswith(k + '::'):
            rest = v + rest[len(k):]
    return [rest]


def split_use_trees(text):
    """Moves the `kernel_ext::...` items of the driver's `use crate::...` statements into its
    `use kernel::{...}` statement."""
    moved = []

    def fix(m):
        keep = []
        for it in top_items(m.group(1)):
            if it.startswith('kernel_ext::'):
                moved.extend(kernel_items(it))
            else:
                keep.append(it)
        if not keep:
            return ''
        return 'use crate::' + ('{' + render(keep) + '}' if len(keep) > 1 else render(keep)) + ';\n'

    text = re.sub(r'^use crate::\{(.*?)\};\n', fix, text, flags=re.S | re.M)
    # An indented (test module's) `use crate::kernel_ext::X;` names the kernel crate's X.
    text = re.sub(r'^([ \t]+)use crate::(kernel_ext::[^;{]*);\n',
                  lambda m: ''.join(m.group(1) + 'use kernel::' + k + ';\n'
                                    for k in kernel_items(m.group(2))), text, flags=re.M)
    text = re.sub(r'^use (?:crate::)?(kernel_ext::[^;]*);\n',
                  lambda m: (moved.extend(kernel_items(m.group(1))), '')[1], text, flags=re.M | re.S)
    if moved:
        m = re.search(r'^use kernel::\{(.*?)\};\n', text, flags=re.S | re.M)
        if m:
            items = moved + top_items(m.group(1))
            text = text[:m.start()] + 'use kernel::{' + render(items) + '};\n' + text[m.end():]
        else:
            m = re.search(r'^use ', text, flags=re.M)
            tree = '{' + render(moved) + '}' if len(moved) > 1 else moved[0]
            text = text[:m.start()] + 'use kernel::' + tree + ';\n' + text[m.start():]
    return text


def render_trie(paths):
    trie = {}
    for p in paths:
        node = trie
        for seg in p[:-1]:
            node = node.setdefault(seg, {})
        node[p[-1]] = None

    def items(node):
        out = []
        for k in node:
            if node[k] is None:
                out.append(k)
            else:
                sub = items(node[k])
                out.append(k + '::' + ('{' + ', '.join(sub) + '}' if len(sub) > 1 else sub[0]))
        return out
    return items(trie)


def merge_use_trees(text):
    """Every `use ROOT::{...};` rewritten with the paths of a common prefix in one group (after
    split_use_trees, `mm::memory_notifier::X` and `mm::memory_tiers::Y` become `mm::{...}`)."""
    def fix(m):
        its = render_trie(leaves(m.group(2)))
        body = '{' + render(its) + '}' if len(its) > 1 else render(its)
        return 'use ' + m.group(1) + '::' + body + ';\n'
    return re.sub(r'^use (\w+)::\{(.*?)\};\n', fix, text, flags=re.M | re.S)


def to_driver(text):
    """A driver file as it reads in drivers/dax/kmem-rs/."""
    text = merge_use_trees(split_use_trees(text))
    text = re.sub(r'#\[allow\(unsafe_code\)\]\n#\[path = "kernel/mod.rs"\]\nmod kernel_ext;\n', '', text)
    layers = '//! Layers: the driver reaches C only through the abstractions of the `kernel` crate'
    layers += (';\n//! its one `unsafe` operation is the initialisation of the debugfs global lock.'
               if 'mod debugfs;' in text else '.')
    text = re.sub(r'//! Layers: .*?(?=\n\n)', lambda m: layers, text, count=1, flags=re.S)
    text = text.replace('the abstractions in [`crate::kernel_ext`]', 'the abstractions of the `kernel` crate')
    text = text.replace('through the abstractions in [`crate::kernel_ext`]', 'through the abstractions of the `kernel`\n//! crate')
    return text


def realign(text):
    """Re-wraps multi-line function definitions after a rename: parameters aligned with the
    '(' and, where a line would pass 100 columns, one per line."""
    out, lines, k = [], text.split('\n'), 0
    while k < len(lines):
        line = lines[k]
        if not (re.match(r'^(__rust_helper )?(int |void |struct \w+ \*)rust_helper_', line) and
                '(' in line):
            out.append(line)
            k += 1
            continue
        sig = line
        while not sig.rstrip().endswith(')'):
            k += 1
            sig += ' ' + lines[k].strip()
        k += 1
        head, params = sig[:sig.index('(') + 1], sig[sig.index('(') + 1:]
        parts = [p.strip() for p in params.split(',')]
        col = len(head.expandtabs(8))
        if col + max(len(p) + 1 for p in parts) > 100:
            # No parameter fits after the '(': the name starts a line of its own, after its
            # type (kernel style for long return types).
            at = head.index('rust_helper_')
            out.append(head[:at].rstrip())
            head = head[at:]
            col = len(head)
        pad = '\t' * (col // 8) + ' ' * (col % 8)
        cur, rows = head, []
        for n, p in enumerate(parts):
            piece = p + (',' if n < len(parts) - 1 else '')
            cand = cur + ('' if cur.endswith('(') or cur == pad else ' ') + piece
            if len(cand.expandtabs(8)) > 100 and cur not in (head, pad):
                rows.append(cur)
                cur = pad + piece
            else:
                cur = cand
        rows.append(cur)
        out.extend(rows)
    return '\n'.join(out)


def helpers_c(text):
    """src/glue.c as rust/helpers/memory_hotplug.c: its includes (but glue.h) and functions,
    each kmem_glue_X named rust_helper_kmem_glue_X. Wrappers are inline helpers; a function that
    uses a static one of the file is a plain one (an inline function with external linkage must
    not use static functions)."""
    includes = re.findall(r'^#include <[^>]+>$', text, flags=re.M)
    body = text[text.index('#include "glue.h"\n') + len('#include "glue.h"\n'):].lstrip('\n')
    statics = re.findall(r'^static [^(=;]*?\b(\w+)\(', body, flags=re.M)
    plain = set()
    for m in re.finditer(r'^(?:int|void|struct \w+ \*)\s*(kmem_glue_\w+)\(', body, flags=re.M):
        end = body.find('\n}\n', m.end())
        if any(re.search(r'\b%s\b' % s, body[m.end():end]) for s in statics):
            plain.add(m.group(1))

    def rename(m):
        return (('' if m.group(3) in plain else '__rust_helper ') + m.group(1) + m.group(2) +
                'rust_helper_' + m.group(3) + '(')
    body = re.sub(r'^(int|void|struct \w+ \*)(\s*)(kmem_glue_\w+)\(', rename, body, flags=re.M)
    head = ('// SPDX-License-Identifier: GPL-2.0\n\n/*\n'
            ' * Helpers for the memory hotplug abstractions (rust/kernel/mm/): wrappers of\n')
    if plain:
        head += (' * functions that are static inline (or stubs without MEMORY_HOTREMOVE), and\n'
                 ' * the few steps that only C can do under the kernel\'s own locks.\n')
    else:
        head += ' * functions that are static inline (or stubs without MEMORY_HOTREMOVE).\n'
    head += ' */\n\n' + '\n'.join(includes) + '\n\n#ifdef CONFIG_MEMORY_HOTPLUG\n'
    return head + realign(body).rstrip() + '\n\n#endif /* CONFIG_MEMORY_HOTPLUG */\n'


def bindings_consts(text):
    """The constants of src/bindings_helper.h that the series adds to the kernel's."""
    text = text[text.index('/* Macros bindgen cannot evaluate'):]
    return text[text.index('\n') + 1:]


def kconfig_entry(text):
    """The DEV_DAX_KMEM_RUST entry of the out-of-tree Kconfig up to its build advice, which
    differs in tree."""
    text = text[text.index('config DEV_DAX_KMEM_RUST'):]
    return text[:text.index('\t  Say M to build')]


def rustfmt(ksrc, paths):
    if paths:
        sh('rustfmt', '--edition', '2021', '--config-path', os.path.join(ksrc, '.rustfmt.toml'), *paths)


def driver_files():
    """The driver's files: src/*.rs that git tracks (not the build's bindings_generated.rs)."""
    out = sh('git', 'ls-files', 'src/*.rs', cwd=REPO).split()
    return sorted(os.path.basename(f) for f in out if f.count('/') == 1)


def forward(ksrc):
    """What the tip must hold, from this tree: {path: ('file', text) | ('contains', text)}."""
    out, fmt, tmp = {}, [], tempfile.mkdtemp(prefix='kmem-stack-')
    for src, dst in ABSTRACTIONS.items():
        p = os.path.join(tmp, dst)
        write(p, to_kernel_crate(read(os.path.join(REPO, src))))
        fmt.append((dst, p))
    for f in driver_files():
        p = os.path.join(tmp, DRIVER_DIR + f)
        write(p, to_driver(read(os.path.join(REPO, 'src', f))))
        fmt.append((DRIVER_DIR + f, p))
    rustfmt(ksrc, [p for _, p in fmt])
    for dst, p in fmt:
        out[dst] = ('file', read(p))
    shutil.rmtree(tmp)
    out['rust/helpers/memory_hotplug.c'] = ('file', helpers_c(read(os.path.join(REPO, 'src/glue.c'))))
    out['rust/bindings/bindings_helper.h'] = (
        'contains', bindings_consts(read(os.path.join(REPO, 'src/bindings_helper.h'))))
    out['drivers/dax/Kconfig'] = ('contains', kconfig_entry(read(os.path.join(REPO, 'Kconfig'))))
    out[DRIVER_DIR + '.kunitconfig'] = (
        'file', read(os.path.join(REPO, 'scripts/config/kmem-rs.kunitconfig')))
    return out


# --- the stack as a git repository ------------------------------------------------------------

def patches():
    names = []
    for line in read(os.path.join(SERIES, 'series')).split('\n'):
        line = line.split('#', 1)[0].strip()
        if line:
            names.append(line)
    return names


def sections():
    """The series the stack is posted as: [(name, title, [patch, ...])], in order. A line
    `#= NAME: TITLE` in series/series starts series NAME (its cover letter's subject is TITLE, its
    text series/cover-NAME.txt); each later series applies on top of the ones before it."""
    out = []
    for line in read(os.path.join(SERIES, 'series')).split('\n'):
        m = re.match(r'^#=\s*([\w.-]+):\s*(.*)$', line)
        if m:
            out.append((m.group(1), m.group(2).strip(), []))
            continue
        line = line.split('#', 1)[0].strip()
        if line:
            if not out:
                sys.exit('stack.py: series/series: %s comes before the first "#= NAME: TITLE" line' % line)
            out[-1][2].append(line)
    return out


def upto(name):
    """The number of patches up to and including series NAME."""
    n = 0
    for s, _, ps in sections():
        n += len(ps)
        if s == name:
            return n
    sys.exit('stack.py: no series %s in series/series (%s)' % (name, ', '.join(s for s, _, _ in sections())))


def git(work, *args, env=None):
    e = dict(os.environ, GIT_COMMITTER_DATE=BASE_DATE, GIT_AUTHOR_DATE=BASE_DATE)
    e.update(env or {})
    return sh('git', *BASE_ID, *args, cwd=work, env=e)


def apply(ksrc, work):
    """Builds the stack in WORK; returns the base commit."""
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    files = set()
    for p in patches():
        files.update(re.findall(r'^--- a/(\S+)$', read(os.path.join(SERIES, p)), flags=re.M))
    # (A file that an earlier patch creates is no base file.)
    for f in sorted(f for f in files if os.path.exists(os.path.join(ksrc, f))):
        write(os.path.join(work, f), read(os.path.join(ksrc, f)))
    git(work, 'init', '-q')
    git(work, 'add', '-A')
    git(work, 'commit', '-q', '-m', 'Linux 7.3.4 (the files this series touches)\n\nBase.\n\n'
        'Signed-off-by: kmem-rs developers <kmem-rs@lists.example.org>\n')
    base = git(work, 'rev-parse', 'HEAD').strip()
    for p in patches():
        try:
            git(work, 'am', '-q', '--committer-date-is-author-date', os.path.join(SERIES, p))
        except subprocess.CalledProcessError as e:
            sys.exit('stack.py: %s does not apply:\n%s%s' % (p, e.stdout, e.stderr))
    git(work, 'tag', 'base', base)
    return base


def tip_differences(ksrc, work):
    """The files where the tip is not this tree, as unified diffs (tip -> tree)."""
    want, diffs = forward(ksrc), []
    for path, (kind, text) in sorted(want.items()):
        full = os.path.join(work, path)
        have = read(full) if os.path.exists(full) else ''
        if kind == 'file' and have != text:
            diffs.append(''.join(difflib.unified_diff(
                have.splitlines(True), text.splitlines(True), 'a/' + path, 'b/' + path)))
        elif kind == 'contains' and text not in have:
            diffs.append('%s: the tip lacks this tree\'s text:\n%s' % (path, text))
    tip_rs = set(f for f in os.listdir(os.path.join(work, DRIVER_DIR)) if f.endswith('.rs'))
    for f in sorted(tip_rs - set(driver_files())):
        diffs.append('%s%s: in the tip, not in src/\n' % (DRIVER_DIR, f))
    for rel in sh('git', 'ls-files', 'src/kernel', cwd=REPO).split():
        if rel.endswith('.rs') and rel not in ABSTRACTIONS and rel not in OOT_ONLY:
            diffs.append('%s: mapped to nothing in the stack\n' % rel)
    return diffs


def verify(ksrc, work):
    apply(ksrc, work)
    diffs = tip_differences(ksrc, work)
    if diffs:
        sys.stdout.write(''.join(diffs))
        print('stack.py: the tip of series/ is not this tree (%d files); fold the change in with '
              '"make series-absorb" (or edit the stack: see Documentation/kmem-rust-series.rst)'
              % len(diffs))
        return 1
    print('the tip of series/ (%d patches) is this tree: %d files compared' % (len(patches()), len(forward(ksrc))))
    return 0


def hunks(diff):
    """The hunks of a `git diff -U0`: [(path, old_start, old_count, lines)] (lines with their
    +/- prefix, including any "\\ No newline" line)."""
    out, path = [], None
    for line in diff.split('\n'):
        if line.startswith('+++ '):
            path = line[6:]
        elif line.startswith('@@ '):
            m = re.match(r'^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@', line)
            out.append([path, int(m.group(1)), int(m.group(2) or 1), []])
        elif out and line[:1] in ('+', '-', '\\') and not line.startswith(('--- ', '+++ ')):
            out[-1][3].append(line)
    return out


def blame(work, path, first, last):
    """The commits that last touched lines FIRST..LAST of PATH at HEAD."""
    n = len(read(os.path.join(work, path)).split('\n')) - 1
    first, last = max(first, 1), min(last, n)
    if first > last:
        return set()
    out = git(work, 'blame', '-l', '-s', '-L', '%d,%d' % (first, last), 'HEAD', '--', path)
    return set(l.split()[0].lstrip('^') for l in out.split('\n') if l)


def absorb(ksrc, work, into=None):
    """Folds src/'s difference from the tip into the stack (see the module's documentation)."""
    apply(ksrc, work)
    order = git(work, 'rev-list', '--reverse', 'HEAD').split()
    base = git(work, 'rev-parse', 'base').strip()
    if into:
        target = [c for c in order[1:] if git(work, 'log', '-1', '--format=%s', c).strip() == into or
                  into in patches()[order.index(c) - 1]]
        if len(target) != 1:
            sys.exit('stack.py: --into %s names %d patches' % (into, len(target)))
        into = target[0]
    for path, (kind, text) in forward(ksrc).items():
        full = os.path.join(work, path)
        if kind == 'file':
            write(full, text)
        elif text not in read(full):
            if path != 'drivers/dax/Kconfig':
                sys.exit('stack.py: %s changed; edit the stack by hand (make series-edit)' % path)
            have = read(full)
            old = kconfig_entry(have)
            write(full, have.replace(old, text))
    git(work, 'add', '-A')
    diff = git(work, 'diff', '--cached', '-U0', '--no-color', 'HEAD')
    if not diff:
        print('the tip of series/ is this tree already: nothing to absorb')
        return 0
    new_files = re.findall(r'^diff --git a/(\S+) .*\nnew file mode', diff, flags=re.M)
    git(work, 'reset', '-q', '--hard', 'HEAD')
    groups = {}
    for h in hunks(diff):
        path, start, count, _ = h
        if path in new_files:
            who = {into} if into else set()
        elif count:
            who = blame(work, path, start, start + count - 1)
        else:
            who = blame(work, path, start, start + 1)
        if into:
            who = {into}
        who.discard(base)
        if not who:
            sys.exit('stack.py: a change at %s:%d touches no patch\'s lines; name one: '
                     'make series-absorb ABSORB_INTO=PATCH' % (path, start))
        target = max(who, key=order.index)
        groups.setdefault(target, []).append(h)
    shift = {}
    for target in sorted(groups, key=order.index):
        patch = ''
        for path, start, count, lines in groups[target]:
            n_add = sum(1 for l in lines if l.startswith('+'))
            at = start + sum(d for s0, d in shift.get(path, []) if s0 < start)
            new_at = at if count else at + 1
            if path in new_files and not count:
                head = 'diff --git a/%s b/%s\nnew file mode 100644\n--- /dev/null\n+++ b/%s\n' % (path, path, path)
                patch += head + '@@ -0,0 +1,%d @@\n' % n_add + '\n'.join(lines) + '\n'
            else:
                head = 'diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n' % (path, path, path, path)
                patch += head + '@@ -%d,%d +%d,%d @@\n' % (at, count, new_at if count or not n_add else new_at, n_add)
                patch += '\n'.join(lines) + '\n'
            shift.setdefault(path, []).append((start, n_add - count))
        subprocess.run(['git', 'apply', '--cached', '--unidiff-zero', '-'], input=patch, text=True,
                       check=True, cwd=work)
        git(work, 'commit', '-q', '--fixup=' + target)
        print('absorbed %d hunks into %s' % (len(groups[target]), patches()[order.index(target) - 1]))
    git(work, 'checkout', '-q', '--', '.')
    try:
        git(work, 'rebase', '-q', '-i', '--autosquash', 'base', env={'GIT_SEQUENCE_EDITOR': ':'})
    except subprocess.CalledProcessError as e:
        sys.exit('stack.py: the rebase stopped on a conflict (a later patch touches the same lines):\n'
                 '%s%s\nresolve it in %s (git rebase --continue), then make series-save'
                 % (e.stdout, e.stderr, work))
    return 0


def save(work):
    """series/ from WORK's commits after the tag base."""
    for p in patches():
        os.remove(os.path.join(SERIES, p))
    out = git(work, 'format-patch', '--zero-commit', '--no-signature', '--no-numbered',
              '-o', SERIES, 'base..HEAD')
    names = [os.path.basename(l) for l in out.split('\n') if l]
    lines, k = [], 0
    for line in read(os.path.join(SERIES, 'series')).split('\n'):
        if line.startswith('#') or not line.strip():
            if line.strip():
                lines.append(line)
        else:
            if k < len(names):
                lines.append(names[k])
            k += 1
    lines.extend(names[k:])
    write(os.path.join(SERIES, 'series'), '\n'.join(lines) + '\n')
    print('series/: %d patches' % len(names))


# The identity the stored patches carry (From:, Signed-off-by:, the MAINTAINERS M: line): a
# placeholder that emit replaces with the submitter's own.
PLACEHOLDER = 'Series Submitter <submitter@example.invalid>'


def submitter():
    """The submitter's identity from git config, refused when unset or not a person's (the DCO
    needs a real name: a list, team or project address does not certify anything)."""
    try:
        name = sh('git', 'config', 'user.name', cwd=REPO).strip()
        email = sh('git', 'config', 'user.email', cwd=REPO).strip()
    except subprocess.CalledProcessError:
        sys.exit('stack.py: git config user.name and user.email are not set: the series is signed '
                 'off by its submitter (set them, or emit --placeholder for a test emission)')
    bad = [w for w in ('maintainers', 'developers', 'team', 'project', 'seed') if w in name.lower()]
    bad += [w for w in ('noreply', 'example', '.invalid', 'localhost', 'lists.') if w in email.lower()]
    if bad or ' ' not in name:
        sys.exit('stack.py: "%s <%s>" is not a person\'s identity (%s): the Signed-off-by of a '
                 'posted series must be the submitter\'s (git config user.name/user.email), or '
                 'emit --placeholder for a test emission' % (name, email, ', '.join(bad) or 'one word'))
    return '%s <%s>' % (name, email)


def identify(out, identity):
    """The submitter's identity in every file of OUT (see emit)."""
    for f in os.listdir(out):
        p = os.path.join(out, f)
        if not os.path.isfile(p):
            continue
        t = read(p)
        t = re.sub(r'^From: .*\n(?: .*\n)?', 'From: %s\n' % identity, t, count=1, flags=re.M)
        t = t.replace(PLACEHOLDER, identity)
        write(p, t.replace(PLACEHOLDER.split(' <')[0], identity.split(' <')[0]))


def cover(out, subject, text):
    """Fills in the cover letter git format-patch wrote into OUT."""
    name = [f for f in os.listdir(out) if f.startswith('0000-')][0]
    t = read(os.path.join(out, name))
    t = t.replace('*** SUBJECT HERE ***', subject)
    t = t.replace('*** BLURB HERE ***', text.strip())
    write(os.path.join(out, name), t)


def emit(ksrc, out, identity=None, last=None):
    """OUT: the whole stack (or its patches up to the end of series LAST) as one numbered
    series with series/cover-letter.txt as its cover letter (the in-tree builds, checkpatch);
    without LAST also OUT/series/NN-NAME/: each series as posted, with its own cover letter
    (series/cover-NAME.txt) and numbering. IDENTITY None: the stored placeholder (make check,
    the in-tree builds: not for posting)."""
    work = out + '.git'
    shutil.rmtree(out, ignore_errors=True)
    apply(ksrc, work)
    commits = git(work, 'rev-list', '--reverse', 'base..HEAD').split()
    n = upto(last) if last else len(commits)
    git(work, 'format-patch', '-q', '--cover-letter', '--no-signature', '-o', out,
        'base..' + commits[n - 1])
    cover(out, 'dax: a Rust kmem driver and the abstractions it needs',
          read(os.path.join(SERIES, 'cover-letter.txt')))
    if identity:
        identify(out, identity)
    if not last:
        at = 0
        for i, (name, title, ps) in enumerate(sections()):
            d = os.path.join(out, 'series', '%02d-%s' % (i, name))
            start = 'base' if at == 0 else commits[at - 1]
            at += len(ps)
            git(work, 'format-patch', '-q', '--cover-letter', '--no-signature', '--rfc', '-o', d,
                '%s..%s' % (start, commits[at - 1]))
            cover(d, title, read(os.path.join(SERIES, 'cover-%s.txt' % name)))
            if identity:
                identify(d, identity)
    for root, _, fs in sorted(os.walk(out)):
        for f in sorted(fs):
            print(os.path.join(root, f))


def kconfig_symbols(ksrc):
    """Every patch refers only to Kconfig symbols that exist once it is applied: defined in the
    pristine tree or by this patch or an earlier one (checkkconfigsymbols.py's question, which
    needs the whole tree in git). The symbols are those of CONFIG_X in added lines (C, Makefiles,
    Rust cfgs) and of depends on/select/if in added Kconfig lines."""
    defined = set()
    for root, _, fs in os.walk(ksrc):
        for f in fs:
            if f.startswith('Kconfig'):
                for line in open(os.path.join(root, f), errors='replace'):
                    m = re.match(r'^\s*(?:menu)?config\s+(\w+)', line)
                    if m:
                        defined.add(m.group(1))
    bad = 0
    for p in patches():
        text = read(os.path.join(SERIES, p))
        added, path, kconf = [], None, []
        for line in text.split('\n'):
            if line.startswith('+++ '):
                path = line[6:]
            elif line.startswith('+') and path:
                added.append(line[1:])
                if os.path.basename(path).startswith('Kconfig'):
                    kconf.append(line[1:])
        for line in kconf:
            m = re.match(r'^\s*(?:menu)?config\s+(\w+)', line)
            if m:
                defined.add(m.group(1))
        used = set(re.findall(r'\bCONFIG_([A-Z0-9_]+)', '\n'.join(added)))
        for line in kconf:
            # (Not the help text, which is indented by a tab and two spaces.)
            m = re.match(r'^(?:\t(?:depends on|select|imply)|if)\s+(.*)', line)
            if m:
                used.update(re.findall(r'\b([A-Z][A-Z0-9_]+)\b', m.group(1).split('#')[0]))
        for sym in sorted(s for s in used if s not in defined and not s.endswith('_MODULE')):
            print('%s: CONFIG_%s is defined by no Kconfig in the tree or in a patch up to it' % (p, sym))
            bad += 1
    print('Kconfig symbols: %d patches, %d references undefined where they are made' % (len(patches()), bad))
    return 1 if bad else 0


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, ksrc = argv[1], argv[2]
    work = os.path.join(REPO, 'build', 'stack')
    if cmd == 'apply':
        apply(ksrc, os.path.abspath(argv[3]) if len(argv) > 3 else work)
        print(argv[3] if len(argv) > 3 else work)
    elif cmd == 'verify':
        return verify(ksrc, os.path.join(REPO, 'build', 'stack-verify'))
    elif cmd == 'absorb':
        into = argv[argv.index('--into') + 1] if '--into' in argv else None
        rc = absorb(ksrc, work, into)
        if rc:
            return rc
        save(work)
        return verify(ksrc, os.path.join(REPO, 'build', 'stack-verify'))
    elif cmd == 'save':
        save(work)
        return verify(ksrc, os.path.join(REPO, 'build', 'stack-verify'))
    elif cmd == 'kconfig':
        return kconfig_symbols(ksrc)
    elif cmd == 'emit':
        last = argv[argv.index('--upto') + 1] if '--upto' in argv else None
        args = [a for a in argv[3:] if a != '--placeholder' and a != '--upto' and a != last]
        emit(ksrc, os.path.abspath(args[0]), None if '--placeholder' in argv else submitter(), last)
    elif cmd == 'upto':
        print(upto(argv[3]))
    else:
        sys.exit(__doc__)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
