#!/usr/bin/env python3
"""`make bench-report`: puts the latest bench run's table and echo CDF plot
into the README, between the markers

    <!-- bench:start -->
    <!-- bench:end -->

(a "## Benchmark" section holding them is appended when they are missing)
and copies the plots to tests/bench/latest.png (echo CDF) and
tests/bench/churn.png (connection churn), which the README shows.

    python3 tests/bench/report.py [--run build/bench/<timestamp>] [--readme README.md]
"""
import argparse
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BENCH = os.path.join(ROOT, "build", "bench")
START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
PNG = os.path.join(HERE, "latest.png")
CHURN_PNG = os.path.join(HERE, "churn.png")


def latest_run():
    if not os.path.isdir(BENCH):
        return None
    runs = sorted(d for d in os.listdir(BENCH)
                  if re.match(r"^\d{8}-\d{6}$", d) and
                  os.path.exists(os.path.join(BENCH, d, "table.md")))
    return os.path.join(BENCH, runs[-1]) if runs else None


def section(run, readme):
    with open(os.path.join(run, "table.md")) as f:
        table = f.read().strip()
    parts = ["", "Latest run (`make bench`, refreshed by `make bench-report`):",
             "", table, ""]
    png = os.path.join(run, "echo-cdf.png")
    if os.path.exists(png):
        shutil.copyfile(png, PNG)
        rel = os.path.relpath(PNG, os.path.dirname(os.path.abspath(readme)))
        parts += ["![Echo round-trip CDF, Skiff and Linux](%s)" % rel, ""]
    churn = os.path.join(run, "churn.png")
    if os.path.exists(churn):
        shutil.copyfile(churn, CHURN_PNG)
        rel = os.path.relpath(CHURN_PNG,
                              os.path.dirname(os.path.abspath(readme)))
        parts += ["![Connection churn, conn/s per window](%s)" % rel, ""]
    guide = os.path.relpath(os.path.join(HERE, "README.md"),
                            os.path.dirname(os.path.abspath(readme)))
    parts += ["What is measured and how: [%s](%s)." % (guide, guide), ""]
    return "\n".join(parts)


def update(readme, body):
    with open(readme) as f:
        text = f.read()
    block = START + "\n" + body + END
    if START in text and END in text and text.index(START) < text.index(END):
        a = text.index(START)
        b = text.index(END) + len(END)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n## Benchmark\n\n" + block + "\n"
    tmp = readme + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, readme)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", help="a build/bench/<timestamp> directory")
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    args = ap.parse_args()
    run = args.run or latest_run()
    if not run:
        print("bench-report: no run under build/bench; run `make bench` first",
              file=sys.stderr)
        return 1
    update(args.readme, section(run, args.readme))
    print("bench-report: %s updated from %s" % (args.readme, run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
