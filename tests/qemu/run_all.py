#!/usr/bin/env python3
"""Runs every QEMU integration test (tests/qemu/test_*.py).
    python3 tests/qemu/run_all.py [name-substring]
Ends with 'N passed, N failed'; exits non-zero on any failure."""
import glob
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "test_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3])
    only = sys.argv[1] if len(sys.argv) > 1 else None
    passed, failed = harness.run_tests(harness.TESTS, only=only)
    print("qemu: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
