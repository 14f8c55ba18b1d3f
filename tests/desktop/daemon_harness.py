"""Start a real `trayassist daemon` on the test X server and talk to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from xapp import wait_for

from trayassist.control import ControlError, Endpoint, NoDaemon, endpoint, request


class DaemonProc:
    def __init__(self, env: dict[str, str], *, scripted: dict[str, Any] | None = None,
                 config: str | None = None) -> None:
        # A short home: the control socket path must fit AF_UNIX's ~100 bytes.
        self.home = Path(tempfile.mkdtemp(prefix="ta-"))
        self.env = {**env, "TRAYASSIST_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        self.env.pop("TRAYASSIST_ENGINE", None)
        if scripted is not None:
            self.env["TRAYASSIST_ENGINE"] = "scripted"
            self.env["TRAYASSIST_SCRIPTED"] = json.dumps(scripted)
        if config is not None:
            (self.home / "config.toml").write_text(config)
        self.log = self.home / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> Endpoint:
        return endpoint(self.home / "run")

    def start(self, *, wait_ready: bool = True) -> DaemonProc:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "trayassist", "-v", "daemon"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        if wait_ready:
            wait_for(lambda: self._ready_or_dead(), timeout=90.0, what="daemon ready")
            assert self.proc.poll() is None, self.log.read_text()
        return self

    def _ready_or_dead(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            return True
        try:
            return self.status()["state"] == "ready"
        except (NoDaemon, ControlError, OSError):
            return False

    def status(self) -> dict[str, Any]:
        return request({"cmd": "status"}, ep=self.endpoint, timeout=5.0)

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "trayassist", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def wait_jobs(self, count: int, timeout: float = 60.0) -> dict[str, Any]:
        wait_for(lambda: self.status()["jobs_done"] >= count, timeout=timeout,
                 what=f"{count} job(s) done")
        return self.status()

    def terminate(self) -> float:
        """SIGTERM; returns how long the daemon took to exit."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""



class Daemons(list[DaemonProc]):
    """The daemons a test started; all stopped when it ends, pass or fail."""

    def start(self, env: dict[str, str], **kw: Any) -> DaemonProc:
        daemon = DaemonProc(env, **kw)
        self.append(daemon)
        return daemon.start()

def env_without_display(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")} | {
        "TRAYASSIST_HOME": tempfile.mkdtemp(prefix="ta-"), "PATH": os.environ["PATH"]}
