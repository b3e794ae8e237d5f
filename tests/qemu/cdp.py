"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol
through --remote-debugging-pipe (fd 3 in, fd 4 out, each message JSON
ended by a NUL byte): no port, no extra Python package. Used by
test_status.py; every wait is bounded and the browser is ended by PID."""
import base64
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-pipe"]


class CdpError(Exception):
    pass


class Browser:
    def __init__(self, width=1280, height=860, log_path=None):
        self.profile = tempfile.mkdtemp(prefix="skiff-chromium-%d-" %
                                        os.getpid())
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        log = open(log_path or os.devnull, "w")
        self.proc = subprocess.Popen(
            ["chromium"] + FLAGS + ["--user-data-dir=" + self.profile,
                                    "--window-size=%d,%d" % (width, height),
                                    "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            preexec_fn=fds, pass_fds=(3, 4), start_new_session=True)
        log.close()
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 1
        self.events = []
        self.session = None

    def _read(self, timeout):
        r, _, _ = select.select([self._from_child], [], [], timeout)
        if not r:
            return False
        chunk = os.read(self._from_child, 1 << 16)
        if not chunk:
            raise CdpError("chromium closed its pipe")
        self._buf += chunk
        return True

    def _messages(self):
        while b"\0" in self._buf:
            raw, self._buf = self._buf.split(b"\0", 1)
            yield json.loads(raw)

    def call(self, method, params=None, session=True, timeout=30):
        """Sends one command and waits for its answer; events that arrive
        meanwhile are kept in self.events."""
        mid = self._next
        self._next += 1
        msg = {"id": mid, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self._messages():
                if m.get("id") == mid:
                    if "error" in m:
                        raise CdpError("%s: %s" % (method, m["error"]))
                    return m.get("result", {})
                self.events.append(m)
            self._read(max(0.0, min(1.0, deadline - time.time())))
        raise CdpError("%s: no answer in %d s" % (method, timeout))

    def pump(self, seconds):
        """Collects events for a while."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self._read(max(0.0, min(0.5, deadline - time.time())))
            for m in self._messages():
                self.events.append(m)

    def open_page(self):
        targets = self.call("Target.getTargets", session=False)
        pages = [t for t in targets["targetInfos"] if t["type"] == "page"]
        if not pages:
            raise CdpError("no page target")
        r = self.call("Target.attachToTarget",
                      {"targetId": pages[0]["targetId"], "flatten": True},
                      session=False)
        self.session = r["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(domain + ".enable")

    def navigate(self, url):
        r = self.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise CdpError("navigate %s: %s" % (url, r["errorText"]))

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate",
                      {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise CdpError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def errors(self):
        """Console errors, uncaught exceptions and error log entries (a
        failed resource load is one) seen so far."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                out.append("exception: %s" % p.get("exceptionDetails"))
            elif (e.get("method") == "Runtime.consoleAPICalled" and
                  p.get("type") in ("error", "assert")):
                out.append("console.%s: %s" % (p["type"], p.get("args")))
            elif (e.get("method") == "Log.entryAdded" and
                  p.get("entry", {}).get("level") == "error"):
                out.append("log: %s %s" % (p["entry"].get("text"),
                                           p["entry"].get("url", "")))
        return out

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close", session=False, timeout=5)
                except (CdpError, OSError):
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    # Its own process group (start_new_session): the
                    # renderer and zygote go with it.
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
        finally:
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
