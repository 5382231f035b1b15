#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generates the upstream patch series from this repository.

  series.py KSRC OUTDIR

KSRC is the pristine Linux 7.3 source. The series is built in a scratch git repository that
holds the pristine version of every file it touches (so that the patches' index lines are those
of the real tree), one commit per patch, and written to OUTDIR by `git format-patch
--cover-letter`. Each patch maps repository files to their upstream place:

  src/kernel/<path>.rs          -> rust/kernel/<path>.rs (module_param.rs -> module_param/enum_param.rs)
  src/glue.c                    -> rust/helpers/memory_hotplug.c (rust_helper_ prefix)
  src/bindings_helper.h         -> additions to rust/bindings/bindings_helper.h
  src/{kmem,driver,state,...}.rs -> drivers/dax/kmem-rs/

with paths rewritten: `crate::kernel_ext::` becomes `crate::` inside the kernel crate and
`kernel::` in the driver; `kernel::` becomes `crate::` inside the kernel crate; macros get
`#[macro_export]`. Nothing else changes: the code is the code that `make check` tests out of
tree.
"""
import os
import re
import shutil
import subprocess
import sys

from usetree import leaves, top_items

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KSRC = sys.argv[1]
OUT = os.path.abspath(sys.argv[2])
WORK = OUT + '.git'
AUTHOR = 'kmem-rs developers <kmem-rs@lists.example.org>'
SOB = 'Signed-off-by: ' + AUTHOR

# Out-of-tree module path under kernel_ext -> path under the kernel crate.
MODULES = {
    'module_param': 'module_param::enum_param',
}
FILES = {
    'src/kernel/dax.rs': 'rust/kernel/dax.rs',
    'src/kernel/device/attribute.rs': 'rust/kernel/device/attribute.rs',
    'src/kernel/mm/memory_hotplug.rs': 'rust/kernel/mm/memory_hotplug.rs',
    'src/kernel/mm/memory_notifier.rs': 'rust/kernel/mm/memory_notifier.rs',
    'src/kernel/mm/memory_tiers.rs': 'rust/kernel/mm/memory_tiers.rs',
    'src/kernel/module_param.rs': 'rust/kernel/module_param/enum_param.rs',
    'src/kernel/string_helpers.rs': 'rust/kernel/string_helpers.rs',
}


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


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


FEATURES = ('policy', 'guard', 'debugfs')


def select_features(text, enabled):
    """The source as it reads with only the `enabled` features (policy: the online_type and
    unbind parameters; guard; debugfs). `// series(+F)` ... `// series(end)` delimit lines of
    feature F; `// series(-F) CODE` is a line of code for when F is absent."""
    out, stack = [], []
    for line in text.split('\n'):
        st = line.strip()
        m = re.match(r'^// series\(\+(\w+)\)$', st)
        if m:
            assert m.group(1) in FEATURES, st
            stack.append(m.group(1) in enabled)
            continue
        if st == '// series(end)':
            stack.pop()
            continue
        m = re.match(r'^// series\(-(\w+)\) (.*)$', st)
        if m:
            assert m.group(1) in FEATURES, st
            if all(stack) and m.group(1) not in enabled:
                out.append(line[:len(line) - len(line.lstrip())] + m.group(2))
            continue
        if all(stack):
            out.append(line)
    assert not stack, 'unbalanced series markers'
    return '\n'.join(out)


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


def code_names(text):
    """The identifiers that the code (not the use statements, not the comments) mentions."""
    code = re.sub(r'^use [^;]*;\n', '', text, flags=re.M | re.S)
    code = re.sub(r'//[^\n]*', '', code)
    return set(re.findall(r'\b\w+\b', code))


def drop_unused_imports(text, full):
    """Drops the imported names that the code of the complete driver (`full`) mentions but this
    version (after select_features) no longer does; anything else (traits, globs) stays."""
    have, had = code_names(text), code_names(full)

    def used(leaf):
        last = leaf[-1]
        if last == '*':
            return True
        name = last.split(' as ')[-1] if ' as ' in last else (leaf[-2] if last == 'self' else last)
        return name in have or name not in had

    def fix(m):
        root, tree = m.group(1), m.group(2)
        paths = [p for p in leaves(tree) if used(p)]
        if not paths:
            return ''
        its = render_trie(paths)
        body = '{' + render(its) + '}' if len(its) > 1 else render(its)
        return 'use ' + root + '::' + body + ';\n'

    text = re.sub(r'^use (\w+)::\{(.*?)\};\n', fix, text, flags=re.M | re.S)
    return re.sub(r'^use (\w+)::([^{;]*);\n',
                  lambda m: m.group(0) if used(tuple(m.group(2).split('::'))) else '', text,
                  flags=re.M)


def to_driver(text, enabled=FEATURES):
    full = split_use_trees(select_features(text, FEATURES))
    text = select_features(text, enabled)
    text = split_use_trees(text)
    text = drop_unused_imports(text, full)
    text = re.sub(r'#\[allow\(unsafe_code\)\]\n#\[path = "kernel/mod.rs"\]\nmod kernel_ext;\n', '', text)
    layers = '//! Layers: the driver reaches C only through the abstractions of the `kernel` crate'
    layers += (';\n//! its one `unsafe` operation is the initialisation of the debugfs global lock.'
               if 'mod debugfs;' in text else '.')
    text = re.sub(r'//! Layers: .*?(?=\n\n)', lambda m: layers, text, count=1, flags=re.S)
    text = text.replace('the abstractions in [`crate::kernel_ext`]', 'the abstractions of the `kernel` crate')
    text = text.replace('through the abstractions in [`crate::kernel_ext`]', 'through the abstractions of the `kernel`\n//! crate')
    return text


def rustfmt(paths):
    sh('rustfmt', '--edition', '2021', '--config-path', os.path.join(KSRC, '.rustfmt.toml'), *paths)


def insert_after(text, anchor, new):
    i = text.index(anchor) + len(anchor)
    return text[:i] + new + text[i:]


def insert_before(text, anchor, new):
    i = text.index(anchor)
    return text[:i] + new + text[i:]


def commit(subject, body):
    sh('git', 'add', '-A', cwd=WORK)
    msg = subject + '\n\n' + body.strip() + '\n\n' + SOB + '\n'
    sh('git', '-c', 'user.name=kmem-rs developers', '-c', 'user.email=kmem-rs@lists.example.org',
       'commit', '-q', '--date=2026-11-22T00:00:00Z', '-m', msg, cwd=WORK,
       env=dict(os.environ, GIT_COMMITTER_DATE='2026-11-22T00:00:00Z'))


def w(rel, text):
    write(os.path.join(WORK, rel), text)


def r(rel):
    return read(os.path.join(WORK, rel))


def abstraction(src):
    dst = FILES[src]
    w(dst, to_kernel_crate(read(os.path.join(REPO, src))))
    rustfmt([os.path.join(WORK, dst)])


def realign(text):
    """Re-wraps multi-line function definitions after a rename: parameters aligned with the
    '(' and, where a line would pass 100 columns, one per line."""
    out, lines, k = [], text.split('\n'), 0
    while k < len(lines):
        line = lines[k]
        if not (re.match(r'^(__rust_helper )?(int |void |struct resource \*)rust_helper_', line) and
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
        col = len(head.expandtabs(8))
        pad = '\t' * (col // 8) + ' ' * (col % 8)
        parts = [p.strip() for p in params.split(',')]
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


def helpers_c():
    """src/glue.c as rust/helpers/memory_hotplug.c."""
    text = read(os.path.join(REPO, 'src/glue.c'))
    body = text[text.index('int kmem_glue_online_pfn_zone_idx'):]
    # Wrappers are inline helpers; the two functions with static callbacks are plain ones (an
    # inline function with external linkage must not use static functions).
    def rename(m):
        inline = m.group(3) not in ('kmem_glue_offline_remove_timeout', 'kmem_glue_find_stranded')
        return (('__rust_helper ' if inline else '') + m.group(1) + m.group(2) + 'rust_helper_' +
                m.group(3) + '(')
    body = re.sub(r'^(int|void|struct resource \*)(\s*)(kmem_glue_\w+)\(', rename, body, flags=re.M)
    body = realign(body)
    head = '''// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the memory hotplug abstractions (rust/kernel/mm/): wrappers of
 * functions that are static inline (or stubs without MEMORY_HOTREMOVE), and
 * the few steps that only C can do under the kernel's own locks.
 */

#include <linux/ioport.h>
#include <linux/kmemleak.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/timer.h>

#ifdef CONFIG_MEMORY_HOTPLUG
'''
    return head + body.rstrip() + '\n\n#endif /* CONFIG_MEMORY_HOTPLUG */\n'


SECTION = '''DEVICE DIRECT ACCESS (DAX) [RUST]
M:\tkmem-rs developers <kmem-rs@lists.example.org>
L:\tnvdimm@lists.linux.dev
L:\tlinux-cxl@vger.kernel.org
L:\trust-for-linux@vger.kernel.org
S:\tMaintained
'''


def maintainers(*files):
    """Adds F: lines (sorted) to the series' MAINTAINERS section, creating it first."""
    t = r('MAINTAINERS')
    if SECTION not in t:
        t = insert_before(t, 'DEVICE DIRECT ACCESS (DAX) [fsdev_dax]\n', SECTION + '\n')
    i = t.index(SECTION) + len(SECTION)
    j = i if t[i] == '\n' else i + t[i:].index('\n\n') + 1
    lines = sorted(set([l for l in t[i:j].split('\n') if l] + ['F:\t' + f for f in files]))
    w('MAINTAINERS', t[:i] + '\n'.join(lines) + '\n' + t[j:])


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(WORK)
    base = ['drivers/dax/Kconfig', 'drivers/dax/Makefile', 'drivers/dax/bus.c', 'drivers/dax/kmem.c',
            'rust/bindings/bindings_helper.h', 'rust/helpers/helpers.c', 'rust/kernel/lib.rs',
            'rust/kernel/mm.rs', 'rust/kernel/device.rs', 'rust/kernel/module_param.rs',
            'MAINTAINERS']
    for f in base:
        w(f, read(os.path.join(KSRC, f)))
    sh('git', 'init', '-q', cwd=WORK)
    commit('Linux 7.3.4 (the files this series touches)', 'Base.')

    # C fixes first (for stable): two upstream bugs that the port exposes.
    # a. dax: bus: mapping_store() adds a range to a bound device.
    t = r('drivers/dax/bus.c')
    old = ('\tto_alloc = range_len(&r);\n'
           '\tif (alloc_is_aligned(dev_dax, to_alloc))\n'
           '\t\trc = alloc_dev_dax_range(dev_dax, r.start, to_alloc);\n')
    assert t.count(old) == 1
    t = t.replace(old, '''\tto_alloc = range_len(&r);
\t/*
\t * As for a resize (dev_dax_resize()), a bound driver owns the ranges:
\t * it sized its state by the ranges it saw at probe.  dax_bus_probe()
\t * takes dax_dev_rwsem after the driver core set dev->driver, so once a
\t * probe started no range is added until the device is unbound.
\t */
\tif (dev->driver)
\t\trc = -EBUSY;
\telse if (alloc_is_aligned(dev_dax, to_alloc))
\t\trc = alloc_dev_dax_range(dev_dax, r.start, to_alloc);
''')
    w('drivers/dax/bus.c', t)
    commit('dax: bus: refuse mapping writes while a driver is bound', """
mapping_store() adds a range to a device of a dynamic dax region with
alloc_dev_dax_range(), which krealloc()s dev_dax->ranges and increments
dev_dax->nr_range.  It checks that the region has a driver, but not the
device: a driver bound to the device sees its ranges change under it.
size_store() refuses the same change (dev_dax_resize() returns -EBUSY
for a bound device); mapping_store() has no such check.

kmem sizes its per-range array of resources at probe
(kzalloc_flex(*data, res, dev_dax->nr_range)) and walks the device's
current nr_range on every later state write.  A CXL RAM region with
free capacity reaches it, as its dax region is dynamic:

  echo daxX.Y > /sys/bus/dax/drivers/kmem/unbind
  echo $((512 << 20)) > /sys/bus/dax/devices/daxX.Y/size
  echo daxX.Y > /sys/bus/dax/drivers/kmem/bind
  echo unplugged > /sys/bus/dax/devices/daxX.Y/state
  echo START-END > /sys/bus/dax/devices/daxX.Y/mapping    (the free half)
  echo online_movable > /sys/bus/dax/devices/daxX.Y/state

dax_kmem_init_resources() reads data->res[1] past the end of the
allocation (KASAN: slab-out-of-bounds in dax_kmem_init_resources) and
stores the new range's resource there, and dax_kmem_do_hotplug() then
hot-adds memory that probe never accounted for (the memory group was
sized at probe too).

Refuse the write with -EBUSY while the device has a driver, as a resize
is refused.  The check is made under dax_dev_rwsem, which
dax_bus_probe() takes (for reading) after the driver core set
dev->driver: once a probe has started, the device's ranges do not change
until it is unbound, which is what a driver expects of them.
""")

    # b. dax/kmem: unbind detaches a memory type that probe did not attach.
    t = r('drivers/dax/kmem.c')
    for old, new in (
            ('\tint state;\n\tstruct mutex lock; /* protects hotplug state transitions */\n',
             '\tint state;\n\tstruct memory_dev_type *mtype; /* attached to the node by probe */\n'
             '\tstruct mutex lock; /* protects hotplug state transitions */\n'),
            ('\tdata->mgid = rc;\n\tdata->state = DAX_KMEM_UNPLUGGED;\n',
             '\tdata->mgid = rc;\n\tdata->mtype = mtype;\n\tdata->state = DAX_KMEM_UNPLUGGED;\n'),
            ('\tstruct dax_kmem_data *data = dev_get_drvdata(dev);\n\n\t/*\n'
             '\t * Remove every range that is still added.',
             '\tstruct dax_kmem_data *data = dev_get_drvdata(dev);\n'
             '\tstruct memory_dev_type *mtype = data->mtype;\n\n\t/*\n'
             '\t * Remove every range that is still added.'),
            ('\t * till next reboot.\n\t */\n\tclear_node_memory_type(node, NULL);\n',
             '\t * till next reboot.\n'
             '\t *\n'
             '\t * Pass the type probe attached: init_node_memory_type() attaches\n'
             '\t * and counts nothing on a node that already has another type (a\n'
             '\t * DRAM node, or a type an earlier instance left for memory still\n'
             '\t * online), and that type is not ours to drop.\n'
             '\t */\n\tclear_node_memory_type(node, mtype);\n')):
        assert t.count(old) == 1, old
        t = t.replace(old, new)
    w('drivers/dax/kmem.c', t)
    commit('dax/kmem: clear only the memory type that probe attached', """
dev_dax_kmem_probe() attaches the memory type of the node's abstract
distance with init_node_memory_type(), and dev_dax_kmem_remove()
detaches it with clear_node_memory_type(node, NULL).  With NULL,
clear_node_memory_type() decrements the node's map count whatever the
node's type is, and clears the type once the count is zero.  But
init_node_memory_type() attaches and counts nothing when the node
already has another type:

 - a node with DRAM, which has default_dram_type from boot (a dax
   device on a node that also has DRAM, as with a memmap= range or a
   soft-reserved range of a DRAM node);
 - a node whose type an earlier kmem instance attached and left in
   place for memory that stayed online at unbind: after a module
   reload, the new instance's type is another object.

Binding and unbinding a dax device on such a node takes the node's
type away while the node still has memory, and drops a reference that
kmem never took (in the second case the type is freed while its tier
still links it).  The next probe then attaches the slow dax type to the
DRAM node.  When the node's last memory goes offline,
clear_node_memory_tier() dereferences the node's type: NULL after an
unbind; after a rebind the dax type, so that the DRAM tier keeps
listing a node without memory.  When memory comes back,
set_node_memory_tier() puts the node's DRAM into the dax type's tier.

Keep the type that probe attached in struct dax_kmem_data and pass it
to clear_node_memory_type(), which then drops only a count that probe
added, as the probe error path already does.
""")

    # 1. dax: the bus must not hand kmem-type devices to device_dax when only the Rust kmem
    # is configured.
    t = r('drivers/dax/bus.c')
    old = '!IS_ENABLED(CONFIG_DEV_DAX_KMEM))'
    assert old in t
    t = t.replace(old, '!IS_ENABLED(CONFIG_DEV_DAX_KMEM) &&\n\t    !IS_ENABLED(CONFIG_DEV_DAX_KMEM_RUST))')
    w('drivers/dax/bus.c', t)
    commit('dax: bus: let kmem-type devices wait for a Rust kmem driver', '''
dax_match_type() lets device_dax bind kmem-type devices (soft-reserved
and CXL RAM regions) when no kmem driver is configured, so that the
memory is at least reachable as a character device.  A Rust kmem driver
(DEV_DAX_KMEM_RUST, added later in this series) is such a driver: with
it configured and the C one not, the devices must wait for it instead.
''')

    # 2. bindings and helpers.
    t = r('rust/bindings/bindings_helper.h')
    t = insert_before(t, '#include <linux/mm.h>\n', '#include <linux/memory.h>\n#include <linux/memory-tiers.h>\n')
    t = insert_after(t, '#include <../../drivers/base/base.h>\n', '''
/*
 * The dax bus abstraction needs the dax bus driver API, private to
 * drivers/dax.
 */
#if IS_ENABLED(CONFIG_DEV_DAX)
#include <../../drivers/dax/dax-private.h>
#include <../../drivers/dax/bus.h>
#endif
''')
    consts = read(os.path.join(REPO, 'src/bindings_helper.h'))
    consts = consts[consts.index('/* Macros bindgen cannot evaluate'):]
    consts = consts[consts.index('\n') + 1:]
    t = insert_after(t, 'const size_t RUST_CONST_HELPER_GENLMSG_DEFAULT_SIZE = GENLMSG_DEFAULT_SIZE;\n', consts)
    w('rust/bindings/bindings_helper.h', t)
    w('rust/helpers/memory_hotplug.c', helpers_c())
    maintainers('rust/helpers/memory_hotplug.c')
    t = r('rust/helpers/helpers.c')
    w('rust/helpers/helpers.c', insert_after(t, '#include "maple_tree.c"\n', '#include "memory_hotplug.c"\n'))
    commit('rust: bindings: add memory hotplug, memory tier and dax bus APIs', '''
Bind what the memory hotplug, memory tier and dax bus abstractions of
the following patches use: <linux/memory.h> (memory blocks, groups and
notifiers), <linux/memory-tiers.h>, and the dax bus driver API, whose
header is private to drivers/dax (included by relative path, as
drivers/base/base.h already is).  MHP_NID_IS_MGID, MHP_MEMMAP_ON_MEMORY
and MEMTIER_ADISTANCE_DRAM are macros bindgen cannot evaluate.

The helpers wrap what Rust cannot call: static inline functions
(pfn_to_online_page(), and remove_memory() and
offline_and_remove_memory_ranges(), which are stubs without
MEMORY_HOTREMOVE), plus three steps that need the kernel's own types
under its locks: a bounded offline_and_remove_memory_ranges() (a timer
raises TIF_NOTIFY_SIGNAL so that the offline gives up like on a signal),
the search of a reservation an earlier kmem instance left behind, and a
snapshot of the zone of each block of a range.
''')

    # 3. device attributes.
    abstraction('src/kernel/device/attribute.rs')
    maintainers('rust/kernel/device/attribute.rs')
    t = r('rust/kernel/device.rs')
    w('rust/kernel/device.rs', insert_before(t, 'pub mod property;\n', 'pub mod attribute;\n'))
    commit('rust: device: add driver attribute groups', '''
Add device attributes that a driver declares for the devices it binds
(struct device_driver::dev_groups): the driver core creates them after
probe and removes them, draining running callbacks, before remove, so a
callback may borrow the driver data and gets the bound device.  An
attribute reads a family of driver data types (a ForLt: the data of a
binding of any lifetime); the groups are typed by it, so a bus adapter
can only install the groups of a driver whose data they read, and the
callbacks are higher-ranked over the binding's lifetime, so nothing
that borrows the device outlives a call.  Attributes without store are
read-only (0444), as DEVICE_ATTR_RO() makes them.
''')

    # 4. memory hotplug and memory tiers.
    abstraction('src/kernel/mm/memory_hotplug.rs')
    abstraction('src/kernel/mm/memory_tiers.rs')
    abstraction('src/kernel/string_helpers.rs')
    maintainers('rust/kernel/mm/memory_hotplug.rs', 'rust/kernel/mm/memory_tiers.rs',
                'rust/kernel/string_helpers.rs')
    t = r('rust/kernel/mm.rs')
    t = insert_before(t, 'pub mod virt;\n', '#[cfg(CONFIG_MEMORY_HOTPLUG)]\npub mod memory_hotplug;\n'
                      '#[cfg(CONFIG_NUMA)]\npub mod memory_tiers;\n')
    w('rust/kernel/mm.rs', t)
    t = r('rust/kernel/lib.rs')
    w('rust/kernel/lib.rs', insert_after(t, 'pub mod str;\n', 'pub mod string_helpers;\n'))
    commit('rust: mm: add memory hotplug and memory tier abstractions', '''
Add owning types for driver-managed memory: a Reservation of a
HotplugRange (memory that a provider offers for hot-add to the driver
bound to its device; safe code gets one only from the bus abstraction
of such a provider) is moved into add_memory_driver_managed(), an
inline wrapper that puts no caller of the "kmem"-only export into the
kernel crate, and comes back as AddedMemory, which removes it with
remove_memory() (never offlining) or, for a set of ranges,
offline_and_remove_memory_ranges() under one device hotplug lock,
optionally bounded in time.  Memory that stays
added is never freed by accident: dropping AddedMemory leaks the
reservation and both resource names, which the iomem tree still points
at.  AddedMemory::adopt_stranded(), an unsafe fn, takes over such
memory again.

OnlineType parses and prints through mhp_online_type_from_str() and
mhp_online_type_to_str(); MemoryGroup wraps static memory groups and
checks the node id against MAX_NUMNODES.  NodeMemoryType attaches a
memory type of a MemoryTypeList that the driver owns to a node
(init_node_memory_type()), as kmem does for the abstract distance of its
node, and detaches exactly that type again.  string_get_size() gets a
small wrapper for log messages.
''')

    # 5. dax bus.
    abstraction('src/kernel/dax.rs')
    t = r('rust/kernel/lib.rs')
    w('rust/kernel/lib.rs', insert_before(t, 'pub mod debugfs;\n',
                                          '#[cfg(any(CONFIG_DEV_DAX = "y", CONFIG_DEV_DAX = "m"))]\npub mod dax;\n'))
    t = r('MAINTAINERS')
    t = insert_after(t, 'F:\tdrivers/dax/\n', 'F:\trust/kernel/dax.rs\n')
    w('MAINTAINERS', t)
    commit('rust: dax: add dax bus abstractions', '''
Add the dax bus in the shape of the other bus abstractions (auxiliary,
platform): a Driver trait with Data<'bound>, probe and unbind, an
Adapter for driver::Registration, a reference-counted dax::Device with
the device's target node, memmap_on_memory and ranges (as HotplugRanges
for the kmem-type driver probing it; stable while a driver is bound
once the bus refuses mapping writes then), and module_dax_driver!.
Driver attributes see the driver data for the duration of a callback
only (DataOf<T>, higher-ranked over the binding's lifetime).
Matching is by driver type; the bus has no id tables.
''')

    # 6. the driver, without its optional features.
    dd = 'drivers/dax/kmem-rs/'

    def driver(enabled, files):
        for f in files:
            w(dd + f, to_driver(read(os.path.join(REPO, 'src', f)), enabled))
        rustfmt([os.path.join(WORK, dd + f) for f in files])

    core = ['kmem.rs', 'driver.rs', 'globals.rs', 'hotplug.rs', 'state.rs']
    driver((), core)
    w(dd + 'Makefile', '# SPDX-License-Identifier: GPL-2.0\n\nobj-$(CONFIG_DEV_DAX_KMEM_RUST) += kmem.o\n')
    w(dd + '.kunitconfig', read(os.path.join(REPO, 'scripts/config/kmem-rs.kunitconfig')))
    kc = read(os.path.join(REPO, 'Kconfig'))
    kc = kc[kc.index('config DEV_DAX_KMEM_RUST'):]
    kc = kc[:kc.index('\t  Say M to build')] + '''\t  Say M to build it as a module (kmem.ko) in place of the C driver,
\t  or Y to build it in.  Without MEMORY_HOTREMOVE every unplug fails
\t  with -EBUSY, as with the C driver.  With KUNIT=y the driver carries
\t  its KUnit suites, which run when KUnit is enabled.

\t  Say N if unsure.
'''
    t = r('drivers/dax/Kconfig')
    i = t.index('config DEV_DAX_KMEM\n')
    j = t.index('\n\n', t.index('Say N if unsure.', i)) + 2
    w('drivers/dax/Kconfig', t[:j] + kc.rstrip() + '\n\n' + t[j:])
    t = r('drivers/dax/Makefile')
    w('drivers/dax/Makefile', insert_after(t, 'obj-$(CONFIG_DEV_DAX_KMEM) += kmem.o\n',
                                           'obj-$(CONFIG_DEV_DAX_KMEM_RUST) += kmem-rs/\n'))
    maintainers('drivers/dax/kmem-rs/')
    commit('dax: add Rust kmem driver', '''
A drop-in replacement of drivers/dax/kmem.c in Rust: it binds the dax
devices of kmem type, adds their ranges as driver-managed System RAM in
one memory group per device, attaches the node's memory tier, and
exposes /sys/bus/dax/devices/daxX.Y/state (unplugged, online,
online_kernel, online_movable; offline is reported, never accepted).
Writing unplugged offlines and removes all ranges in one step with
offline_and_remove_memory_ranges(), or changes nothing; reading it never
waits for a transition.  Unbind never offlines: memory that is still
online stays added until reboot, and the next probe takes it over.

The module is named kmem, like the C driver: __add_memory_driver_managed()
is exported to that module name only, and daxctl binds through
/sys/bus/dax/drivers/kmem.  So DEV_DAX_KMEM_RUST depends on
!DEV_DAX_KMEM.  The KUnit suites run with the .kunitconfig here.
''')

    # 7. writable enum module parameters, and the driver's online_type and unbind.
    abstraction('src/kernel/module_param.rs')
    maintainers('rust/kernel/module_param/enum_param.rs')
    t = r('rust/kernel/module_param.rs')
    w('rust/kernel/module_param.rs', insert_before(t, 'use crate::prelude::*;\n', 'pub mod enum_param;\n\n'))
    commit('rust: module_param: add runtime-writable enum parameters', '''
The module! macro's parameters are read-only and not visible in sysfs.
Add parameters whose value is one of a fixed set of words, writable at
run time through /sys/module/<module>/parameters/<name> with the given
mode, described for modinfo -p, and rejecting an unknown word with
-EINVAL and a log line naming the accepted ones.
''')
    driver(('policy',), core + ['policy.rs'])
    commit('dax: kmem-rs: add the online_type and unbind parameters', '''
online_type chooses how probe adds a device's memory: with the system
default (auto_online_blocks, the C driver's behaviour and the default),
with a given online type, or not at all (unplugged).  Distributions
online hot-added memory into ZONE_NORMAL by default, from where it can
rarely be unplugged; online_type=online_movable keeps dax memory
removable without changing the system-wide policy.

unbind chooses what unbind does with memory that is still online: keep
it added (the default, as in C), or first try the atomic unplug of a
state write, bounded to 10 seconds (a timer makes the offline give up
like on a signal), and keep the memory if that fails.
''')

    # 8. memory notifiers and the guard.
    abstraction('src/kernel/mm/memory_notifier.rs')
    maintainers('rust/kernel/mm/memory_notifier.rs')
    t = r('rust/kernel/mm.rs')
    w('rust/kernel/mm.rs', insert_after(t, 'pub mod memory_hotplug;\n',
                                        '#[cfg(CONFIG_MEMORY_HOTPLUG)]\npub mod memory_notifier;\n'))
    commit('rust: mm: add memory notifiers', '''
Add a registration of a memory notifier (register_memory_notifier())
whose callback sees each memory block transition with its physical
range and may refuse MEM_GOING_ONLINE and MEM_GOING_OFFLINE.
''')
    driver(('policy', 'guard'), core + ['policy.rs', 'guard.rs', 'owners.rs'])
    commit('dax: kmem-rs: guard a device\'s memory blocks', '''
Once a device's state was written, its memory blocks belong to that
interface: a memory notifier refuses (-EBUSY) external online and
offline requests through /sys/devices/system/memory/memoryN/state, which
would otherwise leave the device's state out of step with its blocks
(a later unplug then fails, or an online_movable device ends up with
blocks in ZONE_NORMAL).  The driver's own transitions pass.  The guard
parameter selects off (count only, the C driver's semantics), owned
(the default) or always.
''')

    # 9. debugfs.
    driver(FEATURES, core + ['policy.rs', 'guard.rs', 'owners.rs', 'debugfs.rs'])
    commit('dax: kmem-rs: add a debugfs view', '''
/sys/kernel/debug/kmem/daxX.Y shows a device's state, ownership and
guard counters, the zone of each of its memory blocks, and the outcome
and timing of the last state write (total and inside the memory hotplug
calls); /sys/kernel/debug/kmem/leaked lists the ranges that an unbind
left in the system.
''')

    root = sh('git', 'rev-list', '--max-parents=0', 'HEAD', cwd=WORK).strip()
    sh('git', 'format-patch', '-q', '--cover-letter', '--no-signature', '-o', OUT, root, cwd=WORK)
    cover = [f for f in os.listdir(OUT) if f.startswith('0000-')][0]
    t = read(os.path.join(OUT, cover))
    t = t.replace('*** SUBJECT HERE ***', 'dax: a Rust kmem driver and the abstractions it needs')
    t = t.replace('*** BLURB HERE ***', read(os.path.join(REPO, 'Documentation/series-cover.txt')).strip())
    write(os.path.join(OUT, cover), t)
    for f in sorted(os.listdir(OUT)):
        print(os.path.join(OUT, f))


if __name__ == '__main__':
    main()
