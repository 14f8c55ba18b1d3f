"""A real OpenAI-compatible server for tests: llama-cpp-python's own
(`python -m llama_cpp.server`) serving the embedded GGUF on 127.0.0.1, on a free port.

Started as a process of its own and stopped by its PID; readiness is polled on
/v1/models with a deadline.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ALIAS = "smollm2-served"
API_KEY = "test-key-0123456789"


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_server_deps() -> None:
    missing = [m for m in ("fastapi", "uvicorn", "sse_starlette", "starlette_context",
                           "pydantic_settings") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: run bash installers/install.sh --dev")


def _ready(port: int, api_key: str | None) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=2) as reply:
            return bool(json.load(reply).get("data"))
    except (OSError, ValueError):
        return False


@contextmanager
def llama_server(model: Path, *, api_key: str | None = API_KEY,
                 timeout: float = 90.0) -> Iterator[Server]:
    require_server_deps()
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
            "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "4096", "--n_threads", "1", "--n_threads_batch", "2"]
    if api_key:
        args += ["--api_key", api_key]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + timeout
        while not _ready(port, api_key):
            if proc.poll() is not None:
                raise AssertionError(f"llama_cpp.server exited:\n{log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"llama_cpp.server not ready in {timeout:.0f} s")
            time.sleep(0.1)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        log.unlink(missing_ok=True)


def client_connections(port: int) -> list[str]:
    """States of TCP connections whose remote end is 127.0.0.1:port (the client side),
    as /proc/net/tcp lists them ("01" is ESTABLISHED)."""
    states = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if remote.endswith(f":{port:04X}") and remote.startswith("0100007F"):
            states.append(state)
    return states
