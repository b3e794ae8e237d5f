#!/usr/bin/env python3
"""Checks Skiff's include structure; part of `make test` (make check-layers).

Reads every #include "..." of the repository's C sources and headers and
fails when
  - a file includes a header of a higher layer, or of a sibling layer
    (the order is tools/layers.txt, the only place it is written);
  - an include does not name the header by its path from the repository
    root ("drivers/virtio_net.h", not "virtio_net.h"): the one include
    root. Headers that are not ours are recognised by name (lwIP's
    "lwip/...", "netif/...", its configuration "lwipopts.h"/"arch/cc.h",
    llhttp's "llhttp.h") and generated ones by their path under the build
    directory ("gen/...");
  - modules form an include cycle (a module is foo.c with foo.h: the cycle
    that matters is the dependency one, whichever file the include is in).

Prints one line per violation, how many includes it checked, and ends with
"layers: 1 passed, 0 failed" (or "0 passed, 1 failed"): one test for the
`make test` total.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..'))
EXTERNAL_PREFIXES = ('lwip/', 'netif/', 'gen/')
EXTERNAL_NAMES = {'llhttp.h', 'lwipopts.h', 'arch/cc.h'}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_layers():
    rank = {}
    with open(os.path.join(ROOT, 'tools', 'layers.txt')) as f:
        n = 0
        for line in f:
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            for folder in line:
                rank[folder] = n
            n += 1
    return rank


def layer_of(path):
    return path.split('/', 1)[0]


def module_of(path):
    return os.path.splitext(path)[0]


def main():
    os.chdir(ROOT)
    rank = read_layers()
    files = subprocess.check_output(
        ['git', 'ls-files', '--cached', '--others', '--exclude-standard',
         '*.c', '*.h', '*.S'], text=True).split()
    files = sorted(f for f in set(files) if os.path.exists(f))
    tracked = set(files)
    problems = []
    ok = 0
    edges = {}
    for f in files:
        lf = layer_of(f)
        if lf not in rank:
            problems.append('%s: folder %s is not in tools/layers.txt' %
                            (f, lf))
            continue
        with open(f, errors='replace') as fh:
            text = fh.read()
        for lineno, m in ((text.count('\n', 0, m.start()) + 1, m)
                          for m in INCLUDE.finditer(text)):
            inc = m.group(1)
            where = '%s:%d: #include "%s"' % (f, lineno, inc)
            if inc not in tracked:
                if inc.startswith(EXTERNAL_PREFIXES) or inc in EXTERNAL_NAMES:
                    ok += 1
                    continue
                near = os.path.join(os.path.dirname(f), inc)
                if near in tracked:
                    problems.append('%s: include it by its path, "%s"' %
                                    (where, near))
                else:
                    problems.append('%s: no such header under the include '
                                    'root' % where)
                continue
            li = layer_of(inc)
            if li not in rank:
                problems.append('%s: folder %s is not in tools/layers.txt' %
                                (where, li))
                continue
            if li != lf and rank[li] >= rank[lf]:
                kind = 'a sibling' if rank[li] == rank[lf] else 'a higher'
                problems.append('%s: %s includes %s layer (%s)' %
                                (where, lf, kind, li))
                continue
            ok += 1
            a, b = module_of(f), module_of(inc)
            if a != b:
                edges.setdefault(a, set()).add(b)

    # Cycles between modules: Tarjan's strongly connected components.
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    for comp in sccs:
        problems.append('include cycle between modules: %s' %
                        ' <-> '.join(comp))

    for p in problems:
        print(p)
    print('check-layers: %d includes in %d files, %d problems' %
          (ok + len(problems), len(files), len(problems)))
    print('layers: %d passed, %d failed' % (0 if problems else 1,
                                            1 if problems else 0))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
