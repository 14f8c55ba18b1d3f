"""`trayassist bench`, the figures around the engine: what a whole job costs besides the
model (run_job with fake ports, engine time subtracted), and the idle daemon (a subprocess
running the real worker and control socket, whose CPU and memory are read from /proc).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from trayassist.actions import Action
from trayassist.engines.base import Engine, EngineInfo, GenOptions
from trayassist.prompting import ChatFormat, Prompt


class TimedEngine:
    """An Engine that adds up the time spent inside the engine it wraps."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.spent = 0.0

    @property
    def info(self) -> EngineInfo:
        return self.inner.info

    @property
    def chat_format(self) -> ChatFormat:
        return self.inner.chat_format

    def _timed(self, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self.spent += time.perf_counter() - started

    def load(self) -> None:
        self._timed(self.inner.load)

    def count_tokens(self, prompt: Prompt) -> int:
        return int(self._timed(lambda: self.inner.count_tokens(prompt)))

    def count_text_tokens(self, text: str) -> int:
        return int(self._timed(lambda: self.inner.count_text_tokens(text)))

    def warm(self, prompt: Prompt) -> None:
        self._timed(lambda: self.inner.warm(prompt))

    def close(self) -> None:
        self._timed(self.inner.close)

    def generate(self, prompt: Prompt, options: GenOptions,
                 cancel: threading.Event) -> Iterator[str]:
        stream = self._timed(lambda: self.inner.generate(prompt, options, cancel))
        try:
            while True:
                try:
                    piece = self._timed(lambda: next(stream))
                except StopIteration:
                    return
                yield piece
        finally:
            self._timed(stream.close)


def pipeline_overhead_ms(engine: Engine, action: Action, language: str, text: str) -> float:
    """A whole job on `text` through run_job with fake ports, minus the time inside the
    engine.

    Timing.paste_settle_s (a fixed wait after the paste has landed, before the user's
    clipboard is restored) is set to 0: it is a deliberate delay, reported apart.
    """
    from trayassist.pipeline import Status, Timing, run_job
    from trayassist.testing import FakeApp, FakeClipboard, FakeKeys

    app = FakeApp(text=text)
    app.select_all()
    clipboard = FakeClipboard()
    keys = FakeKeys(app, clipboard)
    timed = TimedEngine(engine)
    started = time.perf_counter()
    result = run_job(action, clipboard, keys, timed, threading.Event(), language=language,
                     timing=Timing(paste_settle_s=0.0))
    total = time.perf_counter() - started
    if result.status is not Status.DONE:
        raise RuntimeError(f"benchmark job did not finish: {result.status.value}")
    return (total - timed.spent) * 1000


PROC_STATS = Path("/proc/self/stat").exists()  # Linux; elsewhere idle CPU and RSS are n/a


class IdleDaemon:
    """A subprocess running the daemon's worker (real engine, fake desktop) and control
    socket: loaded, warmed, one job done, then idle until its stdin closes."""

    def __init__(self, model: str, threads: int | None, sock_dir: Path) -> None:
        cmd = [sys.executable, "-m", "trayassist.bench", "--daemon-child", model,
               str(threads or 0), str(sock_dir)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.samples: list[float] = []

    def wait_ready(self, timeout: float = 180.0) -> None:
        assert self.proc.stdout is not None
        timer = threading.Timer(timeout, self.proc.kill)  # a hung child must not hang us
        timer.start()
        line = self.proc.stdout.readline()
        timer.cancel()
        if not line.startswith("ready"):
            raise RuntimeError(f"the benchmark daemon did not start ({self.proc.poll()})")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def watch(self, window_s: float, parts: int, stop: threading.Event) -> threading.Thread:
        """Sample CPU% over `parts` consecutive sub-windows, in a thread of ours that sleeps."""
        def run() -> None:
            for _ in range(parts if PROC_STATS else 0):
                cpu, at = self.cpu_s(), time.monotonic()
                if stop.wait(window_s / parts):
                    return
                self.samples.append(100 * (self.cpu_s() - cpu) / (time.monotonic() - at))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def daemon_child(model: str, threads: int, run_dir: str, text: str) -> int:
    """The IdleDaemon subprocess (`python -m trayassist.bench --daemon-child`); `text` is
    its one job's selection."""
    from trayassist.config import Config
    from trayassist.control import ControlServer, endpoint
    from trayassist.daemon import _load_engine
    from trayassist.pipeline import run_job
    from trayassist.testing import FakeApp, FakeClipboard, FakeKeys
    from trayassist.worker import Worker

    cfg = Config(model=model, engine="llama-cpp", threads=threads or None)
    app, clipboard = FakeApp(text=text), FakeClipboard()
    keys = FakeKeys(app, clipboard)
    worker = Worker(lambda: _load_engine(cfg),
                    lambda a, e, c: run_job(a, clipboard, keys, e, c, language="English"),
                    on_result=lambda _a, _r: None)
    control = ControlServer(lambda _req: {"ok": True}, endpoint(Path(run_dir)))
    control.start()
    worker.start()
    worker.wait_loaded(170)
    app.select_all()
    worker.submit(cfg.actions["proofread"], from_hotkey=False).done.wait(170)
    print("ready", worker.state.value, flush=True)
    sys.stdin.read()  # blocks until the parent closes our stdin: nothing polls
    worker.stop()
    control.stop()
    return 0
