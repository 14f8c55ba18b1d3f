"""A wlr-data-control client: read and own the clipboard and the primary selection
with every MIME type, without a window or keyboard focus.

One event thread reads the connection and answers the compositor (it serves what we own);
any other thread sends requests under a lock and waits on the state the event thread keeps.
Content is never logged.

Protocol objects (wlr-data-control-unstable-v1, version 2):
  manager: create_data_source(new_id)=0, get_data_device(new_id, seat)=1
  device:  set_selection(source|0)=0, set_primary_selection(source|0)=2;
           events data_offer(new_id)=0, selection(offer|0)=1, finished=2, primary_selection=3
  source:  offer(mime)=0, destroy=1; events send(mime, fd)=0, cancelled=1
  offer:   receive(mime, fd)=0, destroy=1; events offer(mime)=0
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trayassist.desktop.wayland.wire import (
    DISPLAY_ID,
    Connection,
    Message,
    WaylandError,
    string,
    uint,
)

log = logging.getLogger(__name__)

MANAGER = "zwlr_data_control_manager_v1"
MAX_BYTES = 64 * 1024 * 1024  # larger content is left alone rather than held in memory
SEND_TIMEOUT = 5.0  # a reader that stops reading must not keep a serving thread forever


@dataclass
class Offer:
    """What the clipboard (or primary selection) offers, and who put it there."""

    object_id: int
    mimes: list[str] = field(default_factory=list)


@dataclass
class Source:
    object_id: int
    formats: dict[str, bytes]
    primary: bool
    reads: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, mime)
    cancelled: bool = False


class DataControl(threading.Thread):
    """The connection, its event thread and the selection state it tracks."""

    def __init__(self, display: str | None = None,
                 on_primary_change: Callable[[DataControl], None] | None = None) -> None:
        super().__init__(name="trayassist-wl-data-control", daemon=True)
        self.conn = Connection(display)
        self._lock = threading.Lock()  # sends
        self.changed = threading.Condition()  # notified on every state change
        self.selection: Offer | None = None
        self.primary: Offer | None = None
        self.selection_serial = 0
        self.primary_serial = 0
        self.on_primary_change = on_primary_change
        self._offers: dict[int, Offer] = {}
        self._sources: dict[int, Source] = {}
        self._callbacks: dict[int, threading.Event] = {}
        self._globals: dict[str, tuple[int, int]] = {}
        self.error: str | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        registry = self.conn.new_id()
        self.conn.send(DISPLAY_ID, 1, uint(registry))  # get_registry
        self._registry = registry
        self._roundtrip_blocking()  # the globals arrive before the sync's done
        if MANAGER not in self._globals:
            self.conn.close()
            raise WaylandError(f"the compositor lacks {MANAGER} (wlr-data-control): "
                               "sway, Hyprland, KDE and other wlroots desktops have it")
        if "wl_seat" not in self._globals:
            self.conn.close()
            raise WaylandError("the compositor offers no wl_seat")
        name, version = self._globals[MANAGER]
        self.version = min(version, 2)  # 2 adds the primary selection
        self._manager = self._bind(name, MANAGER, self.version)
        seat_name, _ = self._globals["wl_seat"]
        self._seat = self._bind(seat_name, "wl_seat", 1)
        self._device = self.conn.new_id()
        self.conn.send(self._manager, 1, uint(self._device) + uint(self._seat))
        self.start()
        self.roundtrip()  # the current selection arrives before this returns

    # -- requests (any thread) ---------------------------------------------------

    def _bind(self, name: int, interface: str, version: int) -> int:
        new = self.conn.new_id()
        self.conn.send(self._registry, 0, uint(name) + string(interface) + uint(version)
                       + uint(new))
        return new

    def _roundtrip_blocking(self) -> None:
        """Before the event thread runs: sync and dispatch inline until done."""
        callback = self.conn.new_id()
        done = threading.Event()
        self._callbacks[callback] = done
        self.conn.send(DISPLAY_ID, 0, uint(callback))
        self.conn.sock.settimeout(2.0)
        try:
            while not done.is_set():
                for message in self.conn.read_events():
                    self._dispatch(message)
        finally:
            self.conn.sock.settimeout(None)

    def roundtrip(self, timeout: float = 2.0) -> bool:
        """Wait until the compositor has handled every request sent so far."""
        done = threading.Event()
        with self._lock:
            callback = self.conn.new_id()
            self._callbacks[callback] = done
            self.conn.send(DISPLAY_ID, 0, uint(callback))
        return done.wait(timeout)

    def own(self, formats: dict[str, bytes] | None, *, primary: bool = False) -> Source | None:
        """Put `formats` on the clipboard (None: clear it). Returns our source."""
        source = None
        with self._lock:
            if formats is None:
                target = 0
            else:
                source = Source(self.conn.new_id(), dict(formats), primary)
                self._sources[source.object_id] = source
                self.conn.send(self._manager, 0, uint(source.object_id))
                for mime in formats:
                    self.conn.send(source.object_id, 0, string(mime))
                target = source.object_id
            self.conn.send(self._device, 2 if primary else 0, uint(target))
        self.roundtrip()
        return source

    def receive(self, offer: Offer, mime: str, deadline: float) -> bytes | None:
        """Read one MIME type of an offer; None when the owner does not answer in time."""
        read_fd, write_fd = os.pipe()
        try:
            with self._lock:
                self.conn.send(offer.object_id, 0, string(mime), fds=(write_fd,))
            os.close(write_fd)
            write_fd = -1
            chunks: list[bytes] = []
            size = 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    log.info("clipboard owner did not answer for %s in time", mime)
                    return None
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BYTES:
                    log.info("clipboard type %s exceeds %d bytes; not read", mime, MAX_BYTES)
                    return None
        finally:
            if write_fd >= 0:
                os.close(write_fd)
            os.close(read_fd)

    # -- the event thread ----------------------------------------------------------

    def run(self) -> None:
        try:
            while not self._stopping:
                ready = select.select([self.conn.fileno(), self._wake_r], [], [])[0]
                if self._wake_r in ready:
                    return
                for message in self.conn.read_events():
                    self._dispatch(message)
        except (OSError, ValueError) as exc:
            if not self._stopping:
                self.error = str(exc)
                log.warning("Wayland data-control connection lost: %s", exc)
        finally:
            with self.changed:
                self.changed.notify_all()
            for event in self._callbacks.values():
                event.set()

    def _dispatch(self, m: Message) -> None:
        oid, op = m.object_id, m.opcode
        if oid == DISPLAY_ID:
            if op == 0:  # error
                obj, code, text = m.uint(), m.uint(), m.string()
                self.error = f"Wayland protocol error on object {obj} (code {code}): {text}"
                log.warning("%s", self.error)
            return
        if oid == getattr(self, "_registry", None) and op == 0:
            name, interface, version = m.uint(), m.string(), m.uint()
            self._globals.setdefault(interface, (name, version))
            return
        if oid in self._callbacks:
            self._callbacks.pop(oid).set()
            return
        if oid == getattr(self, "_device", None):
            self._device_event(m)
            return
        if oid in self._offers and op == 0:
            self._offers[oid].mimes.append(m.string())
            return
        if oid in self._sources:
            self._source_event(self._sources[oid], m)

    def _device_event(self, m: Message) -> None:
        if m.opcode == 0:  # data_offer: a new offer; its mime types follow
            new = m.uint()
            self._offers[new] = Offer(new)
            return
        if m.opcode in (1, 3):  # selection / primary_selection
            new = m.uint()
            offer = self._offers.get(new) if new else None
            with self.changed:
                if m.opcode == 1:
                    old, self.selection = self.selection, offer
                    self.selection_serial += 1
                else:
                    old, self.primary = self.primary, offer
                    self.primary_serial += 1
                self.changed.notify_all()
            if old is not None and old is not self.selection and old is not self.primary:
                self._offers.pop(old.object_id, None)
                with self._lock, contextlib.suppress(OSError):
                    self.conn.send(old.object_id, 1)  # destroy
            if m.opcode == 3 and self.on_primary_change is not None:
                try:
                    self.on_primary_change(self)
                except Exception:  # noqa: BLE001 - must not kill the event thread
                    log.exception("primary selection hook failed")
            return
        if m.opcode == 2:  # finished: the device is gone (seat removed)
            self.error = "the Wayland seat went away"

    def _source_event(self, source: Source, m: Message) -> None:
        if m.opcode == 0:  # send(mime, fd)
            mime, fd = m.string(), m.fd()
            with self.changed:
                source.reads.append((time.monotonic(), mime))
                self.changed.notify_all()
            data = source.formats.get(mime, b"")
            threading.Thread(target=_write_all, args=(fd, data), daemon=True,
                             name="trayassist-wl-send").start()
        elif m.opcode == 1:  # cancelled: someone else owns the selection now
            with self.changed:
                source.cancelled = True
                self.changed.notify_all()
            self._sources.pop(source.object_id, None)
            with self._lock, contextlib.suppress(OSError):
                self.conn.send(source.object_id, 1)  # destroy

    def has_global(self, interface: str) -> bool:
        """Whether the compositor offers a protocol (e.g. zwp_virtual_keyboard_manager_v1)."""
        return interface in self._globals

    def current_source(self, *, primary: bool = False) -> Source | None:
        """Our source that currently owns the selection, if any."""
        live = [s for s in self._sources.values() if s.primary == primary and not s.cancelled]
        return live[-1] if live else None

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self.is_alive() and threading.current_thread() is not self:
            self.join(2.0)
        self.conn.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    deadline = time.monotonic() + SEND_TIMEOUT
    try:
        os.set_blocking(fd, False)
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                return
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[written:]
    except OSError:
        pass  # the reader went away (EPIPE): nothing to do
    finally:
        os.close(fd)
