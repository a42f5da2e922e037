"""Runs `tapewatch sim` as a subprocess for the fidelity checks.

The simulator binds 127.0.0.1 on port 0 and says where it listens in a
`listening HOST:PORT` line on stderr; when it stops (SIGTERM) it prints its
counters as `stats {...}`. `script_trades` asks the same binary for the first
trades of its deterministic script (`--print-script N`), so a check can compare
what a client received with what the simulator was bound to send.
"""

import json
import os
import signal
import subprocess
import threading
import time

BINARY = os.environ.get("TAPEWATCH_BIN", "target/debug/tapewatch")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


class SimProcess:
    """One running simulator; use it as a context manager so it always stops."""

    def __init__(self, *args):
        self.args = [BINARY, "sim", "--bind", "127.0.0.1:0", *args]
        self.process = None
        self.port = None
        self.stats = None
        self._lines = []
        self._listening = threading.Event()

    def __enter__(self):
        env = dict(os.environ, RUST_LOG="warn")
        self.process = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        # Read stderr on a thread: the pipe must keep draining, or the
        # simulator would block on a full pipe.
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._listening.wait(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError(
                f"`{' '.join(self.args)}` printed no `listening` line within "
                f"{START_TIMEOUT_S} s; stderr: {self.stderr()[-2000:]}"
            )
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _read_stderr(self):
        for line in self.process.stderr:
            self._lines.append(line)
            if line.startswith("listening "):
                self.port = int(line.split()[1].rsplit(":", 1)[1])
                self._listening.set()
            elif line.startswith("stats "):
                self.stats = json.loads(line[len("stats "):])

    def stderr(self):
        """Everything the simulator printed on stderr so far."""
        return "".join(self._lines)

    @property
    def host(self):
        """`127.0.0.1:PORT`, the form polygon's `feed=` takes."""
        return f"127.0.0.1:{self.port}"

    def stop(self):
        """Stops with SIGTERM (SIGKILL after a timeout) and returns the final
        counters, or None when the simulator printed none."""
        if self.process is None or self.process.poll() is not None:
            return self.stats
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)
        # The reader thread may still be taking in the last line.
        deadline = time.monotonic() + 2
        while self.stats is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.stats


def script_trades(count, market):
    """The first `count` trades of `market` (`stocks` or `options`) as the
    simulator's script produces them, as dicts."""
    result = subprocess.run(
        [BINARY, "sim", "--print-script", str(count)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    trades = [json.loads(line) for line in result.stdout.splitlines() if line]
    return [t for t in trades if t["market"] == market]
