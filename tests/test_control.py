"""The control channel (status, trigger, quit): owner-only, keyed, never blocked by a bad
client, never unpickles. A real server on this OS's endpoint: a Unix socket here, the
named pipe when the suite runs under Windows CPython (the windows stage)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trayassist import control
from trayassist.control import ControlError, ControlServer, Endpoint, NoDaemon, request


@pytest.fixture
def run_dir() -> Iterator[Path]:
    # Short: AF_UNIX paths are limited to ~100 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="ta-")) / "run"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


class Served:
    def __init__(self, run_dir: Path, handshake_s: float = 0.5) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.quit_called = threading.Event()
        self.ep = control.endpoint(run_dir)
        self.server = ControlServer(self.handle, self.ep, on_quit=self.quit_called.set,
                                    handshake_s=handshake_s)

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("cmd") == "trigger":  # like the daemon: waits for its job
            self.entered.set()
            self.release.wait(10)
            return {"ok": True, "status": "done"}
        return {"ok": True, "echo": req}

    def ask(self, payload: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        return request(payload, ep=self.ep, timeout=timeout)


@pytest.fixture
def served(run_dir: Path) -> Iterator[Served]:
    s = Served(run_dir)
    s.server.start()
    yield s
    s.release.set()
    s.server.stop()


def raw_client(ep: Endpoint) -> Any:
    """A connection that has not done the handshake (as a stranger or old client would)."""
    from multiprocessing.connection import Client

    return Client(ep.address, ep.family)


def test_round_trip_and_owner_only_files(served: Served) -> None:
    assert served.ask({"cmd": "status", "x": [1, "é"]}) == {
        "ok": True, "echo": {"cmd": "status", "x": [1, "é"]}}
    assert len(served.ep.key_file.read_bytes()) == 32
    if os.name != "posix":
        return  # Windows: the per-user profile's ACL, not modes (checked by the Wine stage)
    sock, key = Path(served.ep.address), served.ep.key_file
    assert stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700


def test_each_start_writes_a_new_key(run_dir: Path) -> None:
    keys = []
    for _ in range(2):
        s = Served(run_dir)
        s.server.start()
        keys.append(s.ep.key_file.read_bytes())
        assert s.ask({"cmd": "status"})["ok"]
        s.server.stop()
    assert keys[0] != keys[1]
    if os.name == "posix":
        assert not Path(s.ep.address).exists()  # a clean stop leaves no socket behind


def test_wrong_key_is_refused_and_the_server_keeps_serving(served: Served) -> None:
    good = served.ep.key_file.read_bytes()
    served.ep.key_file.write_bytes(bytes(32))
    with pytest.raises(ControlError, match="refused this client's control key"):
        served.ask({"cmd": "status"})
    served.ep.key_file.write_bytes(good)
    assert served.ask({"cmd": "status"})["ok"]


def test_a_silent_client_blocks_nobody(run_dir: Path) -> None:
    # A 30 s handshake deadline: a server that served clients one at a time would hold
    # every later client behind the silent one for that long.
    s = Served(run_dir, handshake_s=30.0)
    s.server.start()
    silent = raw_client(s.ep)  # connects, never answers the challenge
    try:
        started = time.monotonic()
        for _ in range(3):
            assert s.ask({"cmd": "status"}, timeout=60.0)["ok"]
        assert time.monotonic() - started < 15
    finally:
        silent.close()
        s.server.stop()


def test_a_silent_client_is_dropped_after_the_handshake_deadline(served: Served) -> None:
    silent = raw_client(served.ep)  # connects, never answers the challenge
    try:
        # The server gives up on it after its 0.5 s handshake deadline: the connection ends.
        deadline = time.monotonic() + 15
        with pytest.raises(EOFError):
            while time.monotonic() < deadline:
                silent.recv_bytes()  # the challenge, then EOF
        assert time.monotonic() < deadline
    finally:
        silent.close()


def test_a_silent_server_does_not_hang_the_client(run_dir: Path) -> None:
    """A hung daemon: it accepts but never speaks. The client gives up on its own."""
    from multiprocessing.connection import Listener

    ep = control.endpoint(run_dir)
    control.write_key(ep.key_file)
    listener = Listener(ep.address, ep.family)  # never accepts, never speaks
    try:
        started = time.monotonic()
        with pytest.raises(ControlError, match="did not answer"):
            request({"cmd": "status"}, ep=ep, timeout=1.0)
        assert time.monotonic() - started < 20  # without its own deadline it would hang
    finally:
        listener.close()


def test_status_answers_while_trigger_waits_for_its_job(served: Served) -> None:
    result: dict[str, Any] = {}
    waiting = threading.Thread(
        target=lambda: result.update(served.ask({"cmd": "trigger"}, timeout=10)))
    waiting.start()
    try:
        assert served.entered.wait(5)  # the trigger is in the handler, waiting
        assert served.ask({"cmd": "status"})["ok"]
    finally:
        served.release.set()
        waiting.join(10)
    assert result == {"ok": True, "status": "done"}


class _Boom:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(Path(tempfile.gettempdir()) / f"ta-pwned-{os.getpid()}"),))


def test_pickles_are_never_loaded(served: Served) -> None:
    from multiprocessing.connection import answer_challenge, deliver_challenge

    marker = Path(tempfile.gettempdir()) / f"ta-pwned-{os.getpid()}"
    conn = raw_client(served.ep)
    try:
        key = served.ep.key_file.read_bytes()
        answer_challenge(conn, key)
        deliver_challenge(conn, key)
        conn.send_bytes(pickle.dumps(_Boom()))
        assert conn.poll(5)
        assert json.loads(conn.recv_bytes()) == {"ok": False, "error": "bad request"}
    finally:
        conn.close()
    assert not marker.exists()


def test_quit_replies_then_calls_on_quit(served: Served) -> None:
    reply = served.ask({"cmd": "quit"})
    assert reply == {"ok": True, "pid": os.getpid()}
    assert served.quit_called.wait(2)


SERVER_CHILD = """
import sys, threading
from pathlib import Path
from trayassist import control
server = control.ControlServer(lambda r: {"ok": True}, control.endpoint(Path(sys.argv[1])))
server.start()
print("ready", flush=True)
threading.Event().wait()
"""


def test_no_daemon_and_stale_socket_after_kill_9(run_dir: Path) -> None:
    ep = control.endpoint(run_dir)
    with pytest.raises(NoDaemon):
        request({"cmd": "status"}, ep=ep)
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER_CHILD, str(run_dir)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert child.stdout is not None and child.stdout.readline().startswith("ready")
        assert request({"cmd": "status"}, ep=ep)["ok"]
        child.kill()  # SIGKILL: no clean-up runs
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    if os.name == "posix":
        assert Path(ep.address).exists()  # the stale socket is still there
    started = time.monotonic()
    with pytest.raises(NoDaemon, match="not running: start it with `trayassist`"):
        request({"cmd": "status"}, ep=ep)
    assert time.monotonic() - started < 5  # at once, not after a wait for a busy daemon
    # The next daemon replaces the stale socket.
    s = Served(run_dir)
    s.server.start()
    try:
        assert s.ask({"cmd": "status"})["ok"]
    finally:
        s.server.stop()


def test_windows_endpoint_is_a_per_user_per_home_pipe(tmp_path: Path) -> None:
    a = control.endpoint(tmp_path / "a" / "run", platform="win32")
    b = control.endpoint(tmp_path / "b" / "run", platform="win32")
    assert a.family == "AF_PIPE" and a.address.startswith("\\\\.\\pipe\\trayassist-")
    assert a.address != b.address  # TRAYASSIST_HOME isolates test daemons
    assert a.key_file == tmp_path / "a" / "run" / "control.key"
    assert control.pipe_name(tmp_path, "ali ce\\x") != control.pipe_name(tmp_path, "bob")
    assert "\\" not in control.pipe_name(tmp_path, "ali ce\\x").removeprefix("\\\\.\\pipe\\")
    unix = control.endpoint(tmp_path / "run", platform="linux")
    assert unix.family == "AF_UNIX" and unix.address == str(tmp_path / "run" / "control.sock")
