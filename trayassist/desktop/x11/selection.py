"""ICCCM selection machinery for the X11 clipboard: connections, and serving a selection.

X11 has no clipboard storage: the owner's process answers every paste. To restore a snapshot
(every target, not only text) trayassist owns CLIPBOARD with an invisible window and answers
SelectionRequest events from `SelectionServer`, an OS-facing thread that only answers
requests and takes/drops ownership on command; it never runs user code.

A selection dies with its owner: x11.keeper keeps the clipboard after trayassist exits.

python-xlib Display objects are not thread-safe: the server thread has its own connection,
and each reading thread has its own (see x11.clipboard.Reader). Nothing here logs content,
only target names and sizes.
"""

from __future__ import annotations

import array
import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from Xlib import X, Xatom
from Xlib.display import Display
from Xlib.ext import xfixes
from Xlib.protocol import event as xevent
from Xlib.protocol import request

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 1.0  # the server thread takes ownership: a timestamp round trip + 2 requests
CHUNK = 64 * 1024  # INCR threshold and chunk size: far below the 256 KiB core request limit
INCR_IDLE = 5.0  # drop an outgoing INCR transfer whose requestor stopped reading
MAX_BYTES = 64 * 1024 * 1024  # one target; bigger payloads (huge images) are not worth a stall

T = TypeVar("T")


@dataclass(frozen=True)
class Item:
    """One target's answer: the property type and format an owner replies with, and data."""

    type: str
    format: int
    data: bytes


def as_bytes(value: Any) -> bytes:
    return value.tobytes() if isinstance(value, array.array) else bytes(value)


def _values(item: Item) -> Any:
    if item.format == 8:
        return item.data
    return array.array("H" if item.format == 16 else "I", item.data).tolist()


def pump(d: Display, want: Callable[[Any], bool], deadline: float,
         other: Callable[[Any], None] | None = None) -> Any | None:
    """Read events until one satisfies `want` or `deadline` passes; others go to `other`."""
    while True:
        while d.pending_events():
            ev = d.next_event()
            if want(ev):
                return ev
            if other is not None:
                other(ev)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        select.select([d], [], [], remaining)


def _log_x_error(err: Any, request: Any = None) -> None:
    # Asynchronous errors, e.g. BadWindow when a requestor quit mid-transfer: harmless.
    log.debug("X error ignored: %s", type(err).__name__)


class Connection:
    """A Display with an invisible window and an atom cache, used by one thread only."""

    def __init__(self, name: str | None, mask: int) -> None:
        self.d = Display(name)
        self.d.set_error_handler(_log_x_error)
        self.win = self.d.screen().root.create_window(
            -10, -10, 1, 1, 0, X.CopyFromParent, event_mask=mask)
        self._atoms: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self.clip = self.atom("CLIPBOARD")

    def owner(self, selection: int | None = None) -> int:
        """The selection owner's window id, or X.NONE (python-xlib gives 0 or a Window)."""
        owner = self.d.get_selection_owner(self.clip if selection is None else selection)
        return int(getattr(owner, "id", owner))

    def client_of(self, xid: int) -> int:
        """The id base shared by every resource of the client that created `xid`."""
        return xid & ~self.d.display.info.resource_id_mask

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self.d.intern_atom(name)
            self._names[self._atoms[name]] = name
        return self._atoms[name]

    def name(self, atom: int) -> str:
        if atom not in self._names:
            self._names[atom] = self.d.get_atom_name(atom)
            self._atoms[self._names[atom]] = atom
        return self._names[atom]

    def close(self) -> None:
        try:
            self.d.close()
        except Exception:  # the server may already be gone; nothing to release then
            log.debug("X connection already closed")


@dataclass
class _Transfer:
    """An outgoing INCR transfer: the next chunk is written when the requestor deletes."""

    requestor: Any
    prop: int
    type: int
    data: bytes
    offset: int
    idle_deadline: float


class SelectionServer(threading.Thread):
    """Owns CLIPBOARD on command and answers SelectionRequest events. OS-facing thread."""

    def __init__(self, name: str | None) -> None:
        super().__init__(name="trayassist-x11-clipboard", daemon=True)
        self._display_name = name  # not `_name`: threading.Thread uses that for its own
        self._commands: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.changes = 0  # owner changes seen through XFixes (0 forever without XFixes)
        self._items: dict[str, Item] | None = None  # what we serve; None: we do not own
        self._exit_when_disowned = False  # the keeper process: stop once another app owns it
        self._since = X.CurrentTime  # server time at which we took ownership
        self._transfers: dict[tuple[int, int], _Transfer] = {}
        self._read = threading.Condition()
        self._readers: set[int] = set()  # clients that read content since we took ownership
        self.window_id = 0  # our owner window, once the thread is ready

    # -- called from other threads --------------------------------------------------------
    def own(self, items: dict[str, Item] | None, exit_when_disowned: bool = False) -> bool:
        """Own the selection serving `items`; None sets no owner at all (empty).

        `exit_when_disowned`: the thread ends once another client takes the selection and
        the transfers in flight are done (the keeper process)."""
        return self._call(lambda: self._take(items, exit_when_disowned), COMMAND_TIMEOUT, False)

    def owned_items(self) -> dict[str, Item] | None:
        """What we serve, if the X server confirms we own the selection now; else None."""
        return self._call(self._owned_items, COMMAND_TIMEOUT, None)

    def hand_off(self, timeout: float) -> bool:
        """Ask a clipboard manager to keep our content after we exit (ICCCM SAVE_TARGETS)."""
        return self._call(lambda: self._save(timeout), timeout + COMMAND_TIMEOUT, False)

    def wait_read(self, client: int | None, timeout: float) -> bool:
        """Until `client` (None: anyone) has read content since we last took ownership."""
        with self._read:
            return self._read.wait_for(
                lambda: client in self._readers if client is not None else bool(self._readers),
                timeout)

    def stop(self) -> None:
        self._commands.put(None)
        os.write(self._wake_w, b"!")

    def _call(self, fn: Callable[[], T], timeout: float, default: T) -> T:
        done, result = threading.Event(), [default]
        self._commands.put((fn, done, result))
        os.write(self._wake_w, b"!")
        if not done.wait(timeout):
            log.warning("clipboard serving thread did not answer in time")
        return result[0]

    # -- the serving thread ---------------------------------------------------------------
    def run(self) -> None:
        try:
            self.c = Connection(self._display_name, X.PropertyChangeMask)  # for timestamps
            self._stamp = self.c.atom("TRAYASSIST_TIMESTAMP")
            self.window_id = self.c.win.id
            if self.c.d.has_extension("XFIXES"):
                self.c.d.xfixes_query_version()
                self.c.d.xfixes_select_selection_input(
                    self.c.win, self.c.clip, xfixes.XFixesSetSelectionOwnerNotifyMask
                    | xfixes.XFixesSelectionWindowDestroyNotifyMask
                    | xfixes.XFixesSelectionClientCloseNotifyMask)
            self.c.d.flush()
        except Exception as exc:  # reported to the constructor, which raises it
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        try:
            while self._serve_once():
                pass
        finally:
            self.c.close()

    def _serve_once(self) -> bool:
        d = self.c.d
        while d.pending_events():
            self._handle_safely(d.next_event())
        if self._exit_when_disowned and self._items is None and not self._transfers:
            return False
        # Wake up once a second only while INCR transfers may need expiring.
        ready, _, _ = select.select([d, self._wake_r], [], [], 1.0 if self._transfers else None)
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
            while not self._commands.empty():
                cmd = self._commands.get()
                if cmd is None:
                    return False
                fn, done, result = cmd
                try:
                    result[0] = fn()
                except Exception:
                    log.exception("clipboard serving thread failed a command")
                done.set()
        now = time.monotonic()
        for key, tr in list(self._transfers.items()):
            if tr.idle_deadline < now:
                log.info("dropping a stalled INCR transfer at %d/%d bytes",
                         tr.offset, len(tr.data))
                self._finish(key)
        return True

    def _handle_safely(self, ev: Any) -> None:
        try:
            self._handle(ev)
        except Exception:  # one misbehaving requestor must not stop the serving
            log.exception("clipboard serving failed on an X event")

    def _timestamp(self) -> int:
        """A real server time for SetSelectionOwner (ICCCM forbids CurrentTime there)."""
        self.c.win.change_property(self._stamp, Xatom.STRING, 8, b"", X.PropModeAppend)
        self.c.d.flush()
        # Our own PropertyNotify comes back in one round trip; 0.5 s only guards a wedged
        # server, after which CurrentTime is a tolerable fallback.
        ev = pump(self.c.d, lambda e: e.type == X.PropertyNotify and e.atom == self._stamp
                  and e.window.id == self.c.win.id, time.monotonic() + 0.5, self._handle_safely)
        return ev.time if ev is not None else X.CurrentTime

    def _take(self, items: dict[str, Item] | None, exit_when_disowned: bool = False) -> bool:
        stamp = self._timestamp()
        window = self.c.win if items is not None else X.NONE
        request.SetSelectionOwner(display=self.c.d.display, window=window,
                                  selection=self.c.clip, time=stamp)
        ok = self.c.owner() == (self.c.win.id if items is not None else X.NONE)
        self._items = items if ok else None
        self._since = stamp
        self._exit_when_disowned = ok and exit_when_disowned
        with self._read:
            self._readers.clear()
        return ok

    def _owned_items(self) -> dict[str, Item] | None:
        # Ask the server: a SelectionClear telling us someone else copied may not be read yet.
        return self._items if self._items is not None and self.c.owner() == self.c.win.id \
            else None

    def _save(self, timeout: float) -> bool:
        manager = self.c.atom("CLIPBOARD_MANAGER")
        if not self._items or self.c.owner(manager) == X.NONE:
            return False  # nothing of ours to keep, or no manager to keep it
        save = self.c.atom("SAVE_TARGETS")
        # Property None: "save every target" (freedesktop clipboard manager spec). The
        # manager now reads each target from us, so keep serving while we wait.
        self.c.win.convert_selection(manager, save, X.NONE, self._timestamp())
        self.c.d.flush()
        ev = pump(self.c.d, lambda e: e.type == X.SelectionNotify and e.selection == manager
                  and e.target == save, time.monotonic() + timeout, self._handle_safely)
        return ev is not None and ev.property != X.NONE

    def _handle(self, ev: Any) -> None:
        if ev.type == X.SelectionRequest:
            self._answer(ev)
        elif ev.type == X.SelectionClear and ev.atom == self.c.clip:
            # Someone else owns it now; a clear older than our latest take-over is stale.
            if self._since == X.CurrentTime or ev.time >= self._since:
                self._items = None
        elif ev.type == X.PropertyNotify and ev.state == X.PropertyDelete:
            self._next_chunk((ev.window.id, ev.atom))
        elif isinstance(ev, xfixes.SelectionNotify):  # the base of XFixes' three subevents
            self.changes += 1

    def _answer(self, ev: Any) -> None:
        prop = ev.property or ev.target  # obsolete requestors leave the property None
        ok = ev.selection == self.c.clip and self._convert(ev.requestor, ev.target, prop, ev.time)
        notify = xevent.SelectionNotify(time=ev.time, requestor=ev.requestor,
                                        selection=ev.selection, target=ev.target,
                                        property=prop if ok else X.NONE)
        ev.requestor.send_event(notify)
        self.c.d.flush()

    def _convert(self, req: Any, target: int, prop: int, when: int, nested: bool = False) -> bool:
        items = self._items
        if items is None or (when != X.CurrentTime and when < self._since):
            return False  # not ours, or asked about a time before we owned it (ICCCM)
        name = self.c.name(target)
        if name == "TARGETS":
            atoms = ["TARGETS", "TIMESTAMP", "MULTIPLE", *items]
            req.change_property(prop, Xatom.ATOM, 32, [self.c.atom(a) for a in atoms])
        elif name == "TIMESTAMP":
            req.change_property(prop, Xatom.INTEGER, 32, [self._since])
        elif name == "MULTIPLE" and not nested:
            pairs = req.get_full_property(prop, X.AnyPropertyType)
            if pairs is None or pairs.format != 32:
                return False
            values = list(pairs.value)
            for i in range(0, len(values) - 1, 2):
                if not self._convert(req, values[i], values[i + 1], when, nested=True):
                    values[i + 1] = X.NONE  # tells the requestor this pair failed
            req.change_property(prop, pairs.property_type, 32, values)
        elif name in items:
            item = items[name]
            if item.format == 8 and len(item.data) > CHUNK:
                self._start_incr(req, prop, self.c.atom(item.type), item.data)
            else:
                req.change_property(prop, self.c.atom(item.type), item.format, _values(item))
            with self._read:
                self._readers.add(self.c.client_of(req.id))
                self._read.notify_all()
        else:
            return False
        return True

    def _start_incr(self, req: Any, prop: int, ptype: int, data: bytes) -> None:
        # Watch the requestor's properties: each deletion asks for the next chunk. The data
        # lives in the transfer, so it completes even if we lose ownership meanwhile.
        req.change_attributes(event_mask=X.PropertyChangeMask)
        req.change_property(prop, self.c.atom("INCR"), 32, [len(data)])
        self._transfers[(req.id, prop)] = _Transfer(
            req, prop, ptype, data, 0, time.monotonic() + INCR_IDLE)

    def _next_chunk(self, key: tuple[int, int]) -> None:
        tr = self._transfers.get(key)
        if tr is None:
            return
        chunk = tr.data[tr.offset:tr.offset + CHUNK]
        tr.requestor.change_property(tr.prop, tr.type, 8, chunk)
        tr.offset += len(chunk)
        tr.idle_deadline = time.monotonic() + INCR_IDLE
        if not chunk:  # the zero-length chunk just written ends the transfer
            self._finish(key)
        self.c.d.flush()

    def _finish(self, key: tuple[int, int]) -> None:
        tr = self._transfers.pop(key)
        if not any(k[0] == key[0] for k in self._transfers):
            tr.requestor.change_attributes(event_mask=0)  # our interest only, not theirs
        self.c.d.flush()
