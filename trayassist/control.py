"""The owner-only local control channel behind `trayassist status`, `trigger` and `quit`.

One transport on every OS, from the stdlib's `multiprocessing.connection`: a Unix socket
(0600, in the 0700 runtime folder) on Unix, a named pipe on Windows
(`\\\\.\\pipe\\trayassist-<user>-<hash of the runtime folder>`, so each TRAYASSIST_HOME gets
its own daemon). No TCP port. Both ends prove they know a 32-byte key (HMAC challenge and
response, both ways) that the daemon writes at each start into a file only the user can
read: 0600 in the runtime folder on Unix; on Windows the runtime folder is inside the
per-user data folder, which only that user can open.

Messages are JSON in `send_bytes`/`recv_bytes` frames. Never `recv()`: it unpickles.

Threads: the accept thread only accepts; each client gets its own thread, which does the
handshake and the request under deadlines, so a silent or wrong client never blocks
another one, and `status` answers while a `trigger` waits for its job. Requests are
answered without touching the model: `trigger` only enqueues.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from trayassist import paths

# `trayassist trigger` runs from compositor key bindings: this module is on the CLI's fast
# path, so it avoids importing typing, dataclasses and friends at run time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Handler = Callable[[dict[str, Any]], dict[str, Any]]

log = logging.getLogger(__name__)

KEY_BYTES = 32
HANDSHAKE_S = 2.0  # a client that connects and says nothing is dropped after this
MAX_REQUEST = 64 * 1024
MAX_REPLY = 1 << 20
NOT_RUNNING = "trayassist is not running: start it with `trayassist`"


class NoDaemon(Exception):
    """Nothing listens at the endpoint (never started, quit, or crashed)."""


class ControlError(Exception):
    """A daemon is there but the exchange failed: wrong key, timeout, broken reply."""


class Endpoint:
    """Where one daemon listens. `family` is multiprocessing's: AF_UNIX or AF_PIPE."""

    __slots__ = ("address", "family", "key_file")

    def __init__(self, family: str, address: str, key_file: Path) -> None:
        self.family, self.address, self.key_file = family, address, key_file

    def __repr__(self) -> str:
        return f"Endpoint({self.family!r}, {self.address!r}, {str(self.key_file)!r})"

    @property
    def lock_file(self) -> Path:
        return self.key_file.parent / "daemon.lock"


def pipe_name(runtime_dir: Path, user: str | None = None) -> str:
    """The Windows pipe for this user and runtime folder (TRAYASSIST_HOME isolates)."""
    import hashlib
    import re

    user = user if user is not None else _user()
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", user)[:40] or "user"
    digest = hashlib.sha256(str(runtime_dir).encode("utf-8", "surrogatepass")).hexdigest()
    return rf"\\.\pipe\trayassist-{safe}-{digest[:12]}"


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers): the pid's user id will do
        return str(os.getpid())


def endpoint(runtime_dir: Path | None = None, platform: str | None = None) -> Endpoint:
    """The control endpoint for `runtime_dir` (default: this session's) on `platform`."""
    run = runtime_dir if runtime_dir is not None else paths.runtime_dir()
    platform = platform or sys.platform
    if platform == "win32":
        return Endpoint("AF_PIPE", pipe_name(run), run / "control.key")
    return Endpoint("AF_UNIX", str(run / "control.sock"), run / "control.key")


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":  # on Windows the per-user profile's ACL does this job
        os.chmod(path, 0o700)


def write_key(key_file: Path) -> bytes:
    """A fresh random key, written atomically and created owner-only (no 0644 window)."""
    import secrets

    key = secrets.token_bytes(KEY_BYTES)
    write_private(key_file, key)
    return key


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, owner-only from the first byte (no 0644 window),
    in a folder only the user can enter (on Windows the profile's ACL does both)."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    deadline = time.monotonic() + 2.0
    while True:
        try:
            os.replace(tmp, path)
            return
        except PermissionError:  # Windows: a reader has the old file open for a moment
            if time.monotonic() >= deadline:
                tmp.unlink(missing_ok=True)
                raise
            time.sleep(0.05)


def read_key(key_file: Path) -> bytes:
    try:
        key = key_file.read_bytes()
    except FileNotFoundError as exc:  # something listens, yet wrote no key
        raise ControlError(f"the control key {key_file} is missing: restart trayassist") \
            from exc
    if len(key) != KEY_BYTES:
        raise ControlError(f"the control key {key_file} is damaged: restart trayassist")
    return key


class _Deadline:
    """A connection whose reads wait at most until `deadline`: the stdlib's handshake
    helpers read with no timeout of their own, so they get this instead of the bare one."""

    def __init__(self, conn: Any, seconds: float) -> None:
        self._conn = conn
        self.deadline = time.monotonic() + seconds

    def send_bytes(self, data: bytes) -> None:
        self._conn.send_bytes(data)

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        if not self._conn.poll(max(0.0, self.deadline - time.monotonic())):
            raise TimeoutError("no answer in time")
        data: bytes = self._conn.recv_bytes(maxlength)
        return data


def _authenticate_server(conn: Any, key: bytes, seconds: float) -> None:
    from multiprocessing.connection import answer_challenge, deliver_challenge

    bounded: Any = _Deadline(conn, seconds)  # duck-typed: the helpers only send and recv
    deliver_challenge(bounded, key)  # the client proves it has the key ...
    answer_challenge(bounded, key)  # ... and so do we


def _authenticate_client(conn: Any, key: bytes, seconds: float) -> None:
    from multiprocessing.connection import answer_challenge, deliver_challenge

    bounded: Any = _Deadline(conn, seconds)  # duck-typed: the helpers only send and recv
    answer_challenge(bounded, key)
    deliver_challenge(bounded, key)


class ControlServer:
    """Serves the control endpoint. `handler` runs on a per-client thread; the server
    itself answers `quit` and then calls `on_quit` (any thread)."""

    def __init__(self, handler: Handler, ep: Endpoint | None = None, *,
                 on_quit: Callable[[], None] | None = None,
                 handshake_s: float = HANDSHAKE_S) -> None:
        self._handler = handler
        self._on_quit = on_quit
        self._handshake_s = handshake_s
        self.endpoint = ep or endpoint()
        self._listener: Any = None
        self._key = b""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="trayassist-control",
                                        daemon=True)

    def start(self) -> None:
        """Write a new key, bind and serve. Call only while holding the single-instance
        lock: a stale socket file from a crashed daemon is then safe to replace."""
        from multiprocessing.connection import Listener

        ep = self.endpoint
        self._key = write_key(ep.key_file)
        if ep.family == "AF_UNIX":
            Path(ep.address).unlink(missing_ok=True)
            old_umask = os.umask(0o177)  # the socket is created 0600, no window of 0666
            try:
                self._listener = Listener(ep.address, ep.family, backlog=16)
            finally:
                os.umask(old_umask)
        else:
            self._listener = Listener(ep.address, ep.family, backlog=16)
        self._thread.start()

    def _serve(self) -> None:
        listener = self._listener
        while not self._stopping.is_set():
            try:
                conn = listener.accept()  # no authkey here: the handshake is per thread
            except OSError as exc:
                if self._stopping.is_set():
                    return
                log.warning("control: accept failed: %s", exc)
                time.sleep(0.1)
                continue
            if self._stopping.is_set():
                conn.close()
                return
            threading.Thread(target=self._serve_client, args=(conn,),
                             name="trayassist-control-client", daemon=True).start()

    def _serve_client(self, conn: Any) -> None:
        from multiprocessing import AuthenticationError

        quit_after = False
        try:
            try:
                _authenticate_server(conn, self._key, self._handshake_s)
            except (AuthenticationError, TimeoutError, EOFError, OSError, AssertionError):
                log.info("control: a client failed the handshake")
                return
            try:
                if not conn.poll(self._handshake_s):
                    log.info("control: a client sent no request")
                    return
                data = conn.recv_bytes(MAX_REQUEST)
            except (EOFError, OSError):
                log.info("control: a client went away")
                return
            request = _decode(data)
            if request is None:
                reply: dict[str, Any] = {"ok": False, "error": "bad request"}
            elif request.get("cmd") == "quit":
                reply, quit_after = {"ok": True, "pid": os.getpid()}, True
            else:
                reply = self._handle(request)
            try:
                conn.send_bytes(json.dumps(reply).encode())
            except OSError:
                log.info("control: a client went away before its reply")
        finally:
            conn.close()
            if quit_after and self._on_quit is not None:
                log.info("control: quit requested")
                self._on_quit()

    def _handle(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._handler(request)
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the server
            log.exception("control request failed")
            return {"ok": False, "error": str(exc)}

    def stop(self) -> None:
        """Any thread, idempotent. Wakes the accept thread with one connection of our own
        (closing a listener does not wake a blocked accept on every OS), then closes."""
        if self._listener is None or self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread.is_alive():
            with contextlib.suppress(OSError, NoDaemon):
                _connect(self.endpoint, 1.0).close()
            self._thread.join(2.0)
        self._listener.close()  # removes the Unix socket file
        self._listener = None


def _decode(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _connect(ep: Endpoint, timeout: float) -> Any:
    """A raw connection, or NoDaemon. Bounded: a hung daemon cannot hold the CLI."""
    if ep.family == "AF_UNIX":
        import socket
        from multiprocessing.connection import Connection

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(ep.address)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()  # never started, or a stale socket of a daemon that crashed
            raise NoDaemon(NOT_RUNNING) from exc
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)
        return Connection(sock.detach())
    from multiprocessing.connection import Client

    try:
        return Client(ep.address, ep.family)  # waits at most ~20 s for a busy pipe
    except FileNotFoundError as exc:  # no pipe by that name: no daemon
        raise NoDaemon(NOT_RUNNING) from exc


def request(payload: dict[str, Any], *, timeout: float = 5.0,
            ep: Endpoint | None = None) -> dict[str, Any]:
    """Client side (the CLI): one request, one reply. NoDaemon if none runs;
    ControlError if one runs but the exchange fails (wrong key, no reply in `timeout`)."""
    from multiprocessing import AuthenticationError

    ep = ep or endpoint()
    try:
        conn = _connect(ep, min(timeout, HANDSHAKE_S * 2))
    except OSError as exc:  # e.g. a hung daemon whose backlog is full
        raise ControlError(f"cannot reach the daemon: {exc}") from exc
    try:
        key = read_key(ep.key_file)
        try:
            _authenticate_client(conn, key, min(timeout, HANDSHAKE_S * 2))
        except AuthenticationError as exc:
            raise ControlError("the daemon refused this client's control key "
                               f"({ep.key_file}): restart trayassist") from exc
        except TimeoutError as exc:
            raise ControlError("the daemon did not answer the handshake in time") from exc
        except (EOFError, AssertionError) as exc:
            raise ControlError("the daemon closed the connection during the handshake") \
                from exc
        conn.send_bytes(json.dumps(payload).encode())
        if not conn.poll(timeout):
            raise ControlError(f"no reply from the daemon within {timeout:.0f} s")
        try:
            data = conn.recv_bytes(MAX_REPLY)
        except EOFError as exc:
            raise ControlError("the daemon closed the connection") from exc
    except OSError as exc:
        raise ControlError(f"control connection failed: {exc}") from exc
    finally:
        conn.close()
    reply = _decode(data)
    if reply is None:
        raise ControlError("the daemon sent a reply that is not a JSON object")
    return reply


def daemon_gone(ep: Endpoint | None = None) -> bool:
    """True when no daemon holds the single-instance lock for `ep` (it has exited:
    the lock is the last thing it releases, and the OS releases it on a crash)."""
    import filelock

    lock = filelock.FileLock(str((ep or endpoint()).lock_file), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        return False
    lock.release()
    return True


def wait_gone(ep: Endpoint | None = None, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not daemon_gone(ep):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
