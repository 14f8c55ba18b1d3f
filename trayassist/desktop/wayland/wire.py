"""The Wayland wire protocol, just enough for one client to speak wlr-data-control.

Why our own ~200 lines instead of pywayland: pywayland installs from PyPI as a wheel, but
its scanner needs the protocol's XML, and wlr-data-control-unstable-v1.xml ships in no
Debian 12 package (wayland-protocols lacks it), so it would have to be vendored and
generated at build time. The wire format is small and stable: each message is
`object id (u32) | size << 16 | opcode (u32)` followed by 32-bit aligned arguments;
file descriptors travel as SCM_RIGHTS ancillary data.

A `Connection` is not thread-safe by itself; `datacontrol.DataControl` serialises sends
with a lock and reads only from its own event thread.
"""

from __future__ import annotations

import array
import os
import socket
import struct
from collections import deque
from dataclasses import dataclass
from pathlib import Path

DISPLAY_ID = 1
MAX_FDS = 28  # libwayland's limit per message batch


class WaylandError(OSError):
    """The compositor refused us, or the connection broke."""


def socket_path(display: str | None = None) -> Path:
    """Where $WAYLAND_DISPLAY lives (an absolute name is used as is)."""
    name = display or os.environ.get("WAYLAND_DISPLAY") or "wayland-0"
    if name.startswith("/"):
        return Path(name)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        raise WaylandError("XDG_RUNTIME_DIR is unset: cannot find the Wayland socket")
    return Path(runtime) / name


def string(value: str) -> bytes:
    raw = value.encode() + b"\0"
    return struct.pack("=I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


def uint(value: int) -> bytes:
    return struct.pack("=I", value)


@dataclass
class Message:
    object_id: int
    opcode: int
    body: bytes
    fds: deque[int]
    offset: int = 0

    def uint(self) -> int:
        (value,) = struct.unpack_from("=I", self.body, self.offset)
        self.offset += 4
        return int(value)

    def string(self) -> str:
        length = self.uint()
        raw = self.body[self.offset:self.offset + length]
        self.offset += length + (-length % 4)
        return raw.rstrip(b"\0").decode(errors="replace")

    def fd(self) -> int:
        if not self.fds:
            raise WaylandError("message expected a file descriptor that did not arrive")
        return self.fds.popleft()


class Connection:
    """One client connection: send requests, read whole events."""

    def __init__(self, display: str | None = None, timeout: float = 2.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        path = socket_path(display)
        try:
            self.sock.connect(str(path))
        except OSError as exc:
            self.sock.close()
            raise WaylandError(f"cannot connect to Wayland at {path}: {exc}") from exc
        self.sock.settimeout(None)
        self._next_id = 2
        self._buffer = b""
        self._fds: deque[int] = deque()

    def new_id(self) -> int:
        # Ids are never reused: libwayland-server accepts the next id after the highest
        # one in use, and a job creates only a handful of objects.
        value = self._next_id
        self._next_id += 1
        return value

    def send(self, object_id: int, opcode: int, body: bytes = b"", fds: tuple[int, ...] = ()
             ) -> None:
        header = struct.pack("=II", object_id, ((8 + len(body)) << 16) | opcode)
        data = header + body
        if fds:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            sent = self.sock.sendmsg([data], ancillary)
        else:
            sent = self.sock.sendmsg([data])
        if sent != len(data):  # a blocking AF_UNIX stream sends all or raises
            self.sock.sendall(data[sent:])

    def fileno(self) -> int:
        return self.sock.fileno()

    def read_events(self) -> list[Message]:
        """Read what is available (blocks until some bytes arrive) and return whole events."""
        fd_size = array.array("i").itemsize
        data, ancdata, _flags, _addr = self.sock.recvmsg(
            65536, socket.CMSG_SPACE(MAX_FDS * fd_size))
        if not data:
            raise WaylandError("the compositor closed the connection")
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[:len(payload) - len(payload) % fd_size])
                self._fds.extend(fds)
        self._buffer += data
        events: list[Message] = []
        while len(self._buffer) >= 8:
            object_id, word = struct.unpack_from("=II", self._buffer)
            size = word >> 16
            if size < 8:
                raise WaylandError(f"malformed Wayland message (size {size})")
            if len(self._buffer) < size:
                break
            events.append(Message(object_id, word & 0xFFFF, self._buffer[8:size], self._fds))
            self._buffer = self._buffer[size:]
        return events

    def close(self) -> None:
        self.sock.close()
        while self._fds:
            os.close(self._fds.popleft())
