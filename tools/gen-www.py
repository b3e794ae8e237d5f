#!/usr/bin/env python3
"""Compiles a site directory (www/) into a C table the HTTP server serves.

    gen-www.py --out build/www/www_data.c [--dep build/www/www_data.d] www
        writes the table (services/www.h describes it) and a make dependency file
    gen-www.py --cat /big.bin www
        writes the bytes one path is served with to stdout (tests compare)
    gen-www.py --list www
        prints path, length, Content-Type and ETag of every entry

Every regular file under the directory becomes one entry, served at its
path relative to the directory ("www/css/a.css" -> "/css/a.css"). Names
starting with "." and editor backups ending in "~" are skipped.

Generated files: a file "NAME.gen" is not served itself; it describes the
content of "/NAME", synthesised here at build time, so a repository need
not hold large binaries. Its lines are "key = value" ('#' starts a
comment):
    size = 1048576          bytes to produce (required)
    seed = any text         SHA-256 in counter mode over the seed:
                            block i = sha256(seed + i as 8 bytes LE);
                            defaults to the served name
The output is the same on every machine and every run.

Per entry the table holds the path, the Content-Type (from the extension),
the length, a strong ETag (the first 16 hex digits of the content's SHA-256,
in quotes) and the bytes, as a const array that lands in .rodata. Entries
are sorted by path (bytewise) for binary search.
"""
import argparse
import hashlib
import os
import sys

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "htm": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "xml": "application/xml",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "ico": "image/vnd.microsoft.icon",
    "wasm": "application/wasm",
    "pdf": "application/pdf",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mp3": "audio/mpeg",
    "zip": "application/zip",
    "gz": "application/gzip",
    "bin": "application/octet-stream",
}
DEFAULT_TYPE = "application/octet-stream"
GEN_SUFFIX = ".gen"


class SiteError(Exception):
    pass


def content_type(name):
    base = name.rsplit("/", 1)[-1]
    if "." not in base:
        return DEFAULT_TYPE
    return CONTENT_TYPES.get(base.rsplit(".", 1)[1].lower(), DEFAULT_TYPE)


def parse_gen(path):
    spec = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if "=" not in line:
                raise SiteError("%s:%d: expected 'key = value'" % (path, lineno))
            key, value = (x.strip() for x in line.split("=", 1))
            if key not in ("size", "seed"):
                raise SiteError("%s:%d: unknown key '%s'" % (path, lineno, key))
            spec[key] = value
    if "size" not in spec:
        raise SiteError("%s: 'size' is required" % path)
    try:
        size = int(spec["size"], 0)
    except ValueError:
        raise SiteError("%s: bad size '%s'" % (path, spec["size"]))
    if not 0 <= size <= 256 << 20:
        raise SiteError("%s: size out of range (0..256 MiB)" % path)
    return size, spec.get("seed")


def synthesise(size, seed):
    seed = seed.encode("utf-8")
    blocks = (size + 31) // 32
    out = b"".join(hashlib.sha256(seed + i.to_bytes(8, "little")).digest()
                   for i in range(blocks))
    return out[:size]


def check_name(url_path):
    raw = url_path.encode("utf-8", "surrogateescape")
    for b in raw:
        if b < 0x20 or b == 0x7f:
            raise SiteError("%r: control characters in file names are not "
                            "servable" % url_path)
    return raw


def collect(root):
    """Returns (entries, inputs): entries are dicts sorted by path, inputs
    every file and directory read (for the dependency file)."""
    if not os.path.isdir(root):
        raise SiteError("%s: not a directory" % root)
    entries = {}
    inputs = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in dirnames:
            inputs.append(os.path.join(dirpath, d))
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith("~"):
                continue
            full = os.path.join(dirpath, name)
            if not os.path.isfile(full):
                continue
            inputs.append(full)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if name.endswith(GEN_SUFFIX) and len(name) > len(GEN_SUFFIX):
                url = "/" + rel[:-len(GEN_SUFFIX)]
                size, seed = parse_gen(full)
                data = synthesise(size, seed if seed is not None else url)
                origin = "generated from " + rel
            else:
                url = "/" + rel
                with open(full, "rb") as f:
                    data = f.read()
                origin = rel
            raw = check_name(url)
            if raw in entries:
                raise SiteError("%s: both a file and a generator serve %s"
                                % (root, url))
            entries[raw] = {
                "path": raw,
                "type": content_type(url),
                "data": data,
                "etag": '"%s"' % hashlib.sha256(data).hexdigest()[:16],
                "origin": origin,
            }
    return [entries[k] for k in sorted(entries)], inputs


def c_string(raw):
    out = []
    for b in raw:
        c = chr(b)
        if 0x20 <= b < 0x7f and c not in '"\\?':
            out.append(c)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def c_bytes(data, per_line=24):
    lines = []
    for i in range(0, len(data), per_line):
        lines.append("\t" + ",".join(str(b) for b in data[i:i + per_line])
                     + ",")
    return "\n".join(lines)


def write_table(entries, root, out):
    w = out.write
    w("/* Generated by tools/gen-www.py from %s/: do not edit. */\n" % root)
    w('#include "services/www.h"\n\n')
    for i, e in enumerate(entries):
        w("/* %s: %s, %d bytes */\n" % (e["origin"].replace("*/", "*_/"),
                                         e["type"], len(e["data"])))
        # A zero-length array is not C; an empty file gets one unused byte.
        data = e["data"] or b"\0"
        w("static const unsigned char www_data_%d[%d]\n"
          "\t__attribute__((aligned(16))) = {\n%s\n};\n\n"
          % (i, len(data), c_bytes(data)))
    w("const struct www_file www_files[] = {\n")
    for i, e in enumerate(entries):
        w("\t{%s, %s, %s, www_data_%d, %dU},\n"
          % (c_string(e["path"]), c_string(e["type"].encode()),
             c_string(e["etag"].encode()), i, len(e["data"])))
    if not entries:
        w("\t{0, 0, 0, 0, 0},\n")
    w("};\n\n")
    w("const size_t www_file_count = %d;\n" % len(entries))
    w("const size_t www_total_bytes = %dU;\n"
      % sum(len(e["data"]) for e in entries))


def make_escape(path):
    return (path.replace("\\", "\\\\").replace(" ", "\\ ")
            .replace("#", "\\#").replace("$", "$$").replace(":", "\\:"))


def write_deps(target, root, inputs, out):
    names = [make_escape(p) for p in inputs]
    out.write("WWW_BUILT := %s\n" % root.replace("$", "$$"))
    out.write("%s: %s\n" % (make_escape(target), " \\\n\t".join(names)))
    # Like gcc -MP: a deleted input must not stop make.
    for n in names:
        out.write("%s:\n" % n)


def write_atomic(path, fill):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        fill(f)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", help="the site directory (www)")
    ap.add_argument("--out", help="C file to write")
    ap.add_argument("--dep", help="make dependency file to write")
    ap.add_argument("--cat", metavar="PATH", help="write PATH's bytes to stdout")
    ap.add_argument("--list", action="store_true", help="list the entries")
    args = ap.parse_args()
    root = args.root.rstrip("/") or "/"
    try:
        entries, inputs = collect(root)
    except (SiteError, OSError) as e:
        print("gen-www: %s" % e, file=sys.stderr)
        return 1
    if args.cat:
        for e in entries:
            if e["path"] == args.cat.encode("utf-8", "surrogateescape"):
                sys.stdout.buffer.write(e["data"])
                return 0
        print("gen-www: %s is not in %s" % (args.cat, root), file=sys.stderr)
        return 1
    if args.list:
        for e in entries:
            print("%-32s %9d  %-28s %s" % (e["path"].decode("utf-8", "replace"),
                                           len(e["data"]), e["type"],
                                           e["etag"]))
        return 0
    if not args.out:
        ap.error("one of --out, --cat, --list is needed")
    write_atomic(args.out, lambda f: write_table(entries, root, f))
    if args.dep:
        write_atomic(args.dep, lambda f: write_deps(args.out, args.root, inputs, f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
