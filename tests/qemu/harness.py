"""Shared pieces of the QEMU integration tests: boot a guest, read its
serial log, wait for lines with a timeout, and always clean up the QEMU
process by PID. Tests regex-match the console like xv6's gradelib."""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import skiffqemu  # noqa: E402

LOG_DIR = os.path.join(ROOT, "build", "test-logs")


class Guest:
    """One QEMU running Skiff; its serial console goes to a log file."""

    def __init__(self, name, **qemu_args):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.name = name
        self.log_path = os.path.join(LOG_DIR, name + ".log")
        qemu_args.setdefault("vars_tag", name)
        qemu_args.setdefault("net", "none")
        self.argv = skiffqemu.qemu_command(serial="file:" + self.log_path,
                                           **qemu_args)
        self.proc = None

    def start(self):
        open(self.log_path, "w").close()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read().replace("\r", "")

    def wait_for(self, pattern, timeout=60):
        """Waits until pattern matches the log; returns the match or None
        (also when QEMU exits first)."""
        rx = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = rx.search(self.log())
            if m:
                return m
            if self.proc.poll() is not None:
                return rx.search(self.log())
            time.sleep(0.1)
        return None

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class TestFailure(Exception):
    pass


def expect(cond, message, guest=None):
    if not cond:
        if guest is not None:
            tail = guest.log()[-1500:]
            message += "\n--- %s serial log (tail) ---\n%s" % (guest.name, tail)
        raise TestFailure(message)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run_tests(tests, jobs=2, only=None):
    """Runs tests (functions) on `jobs` threads: QEMU under TCG is CPU-bound,
    and this machine has two cores. Prints one line per test and the
    closing 'N passed, N failed'."""
    if only:
        tests = [t for t in tests if only in t.__name__]
    results = {}
    lock = threading.Lock()
    queue = list(tests)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                t = queue.pop(0)
            start = time.time()
            try:
                t()
                ok, msg = True, ""
            except TestFailure as e:
                ok, msg = False, str(e)
            except Exception as e:  # a broken test is a failed test
                ok, msg = False, "%s: %s" % (type(e).__name__, e)
            with lock:
                results[t.__name__] = ok
                print("%s %s (%.1fs)" % ("ok  " if ok else "FAIL", t.__name__,
                                         time.time() - start), flush=True)
                if msg:
                    print("  " + msg.replace("\n", "\n  "), flush=True)

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    passed = sum(1 for v in results.values() if v)
    failed = len(results) - passed
    return passed, failed
