"""The owner-only local control socket behind `trayassist status` and `trigger`.

One JSON object per line each way. The socket lives in a 0700 folder and is itself
0600, so only the user who started the daemon can talk to it. Requests are answered
on the control thread without touching the model: `trigger` only enqueues.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trayassist import paths

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class NoDaemon(Exception):
    pass


def socket_path() -> Path:
    return paths.runtime_dir() / "control.sock"


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


class ControlServer:
    def __init__(self, handler: Handler, path: Path | None = None) -> None:
        self._handler = handler
        self._path = path or socket_path()
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, name="trayassist-control",
                                        daemon=True)

    def start(self) -> None:
        """Bind and serve. Call only while holding the single-instance lock: a stale
        socket file from a crashed daemon is then safe to replace."""
        ensure_private_dir(self._path.parent)
        self._path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is created 0600, no window of 0666
        try:
            sock.bind(str(self._path))
        finally:
            os.umask(old_umask)
        sock.listen(8)
        self._sock = sock
        self._thread.start()

    def _serve(self) -> None:
        assert self._sock is not None
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed by stop()
            # A thread per client: `trigger` waits for its job while `status` must
            # still answer at once.
            threading.Thread(target=self._serve_client, args=(conn,), daemon=True).start()

    def _serve_client(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2.0)
            try:
                line = conn.makefile("rb").readline(65536)
                conn.settimeout(None)
                reply = self._handle(line)
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError as exc:
                log.info("control client went away: %s", exc)

    def _handle(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            return {"ok": False, "error": "bad request"}
        try:
            return self._handler(request)
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the server
            log.exception("control request failed")
            return {"ok": False, "error": str(exc)}

    def stop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # not connected: nothing to shut down
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        self._path.unlink(missing_ok=True)


def request(payload: dict[str, Any], *, timeout: float = 5.0,
            path: Path | None = None) -> dict[str, Any]:
    """Client side, for the CLI."""
    target = path or socket_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(target))
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        sock.close()
        raise NoDaemon("trayassist is not running: start it with `trayassist`") from exc
    with sock:
        sock.sendall(json.dumps(payload).encode() + b"\n")
        data = sock.makefile("rb").readline(1 << 20)
    if not data:
        raise NoDaemon("trayassist closed the connection")
    reply: dict[str, Any] = json.loads(data)
    return reply
