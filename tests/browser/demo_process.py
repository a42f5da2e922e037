"""`tapewatch demo` as a child process, for the browser test.

Starts the binary in TAPEWATCH_BIN with `--http-bind 127.0.0.1:PORT` (port 0
by default: the OS chooses) and reads the dashboard's URL from the demo's
banner on stderr. A thread keeps draining stderr into a log file, so the
child never blocks on a full pipe.
"""

import os
import queue
import re
import subprocess
import threading
import urllib.error
import urllib.request

BANNER = re.compile(r"dashboard on (http://127\.0\.0\.1:\d+)/")
START_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 5


class DemoProcess:
    """A running demo; use as a context manager so it is always stopped."""

    def __init__(self, log_path, port=0, token=None):
        self.log_path = log_path
        self.port = port
        self.token = token
        self.proc = None
        self.url = None

    def __enter__(self):
        env = dict(os.environ)
        env.pop("TAPEWATCH_TOKEN", None)
        if self.token:
            env["TAPEWATCH_TOKEN"] = self.token
        binary = os.environ.get("TAPEWATCH_BIN", "target/debug/tapewatch")
        self.proc = subprocess.Popen(
            [binary, "demo", "--http-bind", f"127.0.0.1:{self.port}", "--format", "json"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        urls = queue.Queue()
        threading.Thread(target=self._drain, args=(urls,), daemon=True).start()
        try:
            self.url = urls.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"no dashboard URL from the demo within {START_TIMEOUT_S} s; see {self.log_path}")
        if self.url is None:
            self.stop()
            raise RuntimeError(f"the demo exited before it served; see {self.log_path}")
        return self

    def _drain(self, urls):
        announced = False
        with open(self.log_path, "a", encoding="utf-8") as log:
            for line in self.proc.stderr:
                log.write(line)
                log.flush()
                match = BANNER.search(line)
                if match and not announced:
                    announced = True
                    urls.put(match.group(1))
        if not announced:
            urls.put(None)

    def __exit__(self, *_):
        self.stop()

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def get(self, path, token=None):
        """GET `path`; returns the HTTP status (errors included)."""
        request = urllib.request.Request(self.url + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
