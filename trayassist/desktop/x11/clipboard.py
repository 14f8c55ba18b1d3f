"""The Clipboard port on X11: CLIPBOARD snapshots of every target, restored by serving them.

`Reader` converts the selection (incl. INCR) for the calling thread; the serving side (our
own ownership, answered from a background thread) is `x11.selection.SelectionServer`. Every
reading thread gets its own connection (python-xlib Display objects are not thread-safe).
Clipboard content is never logged.
"""

from __future__ import annotations

import array
import logging
import os
import threading
import time

from Xlib import X

from trayassist.desktop.x11.keeper import keep_after_exit
from trayassist.desktop.x11.selection import (
    CHUNK,
    MAX_BYTES,
    Connection,
    Item,
    SelectionServer,
    as_bytes,
    pump,
)
from trayassist.ports import ClipboardSnapshot

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.5  # one conversion: live owners answer in ms; a hung one must not stall us
SNAPSHOT_TIMEOUT = 1.5  # all targets together (the port promises ~1 s of blocking at most)
TEXT_TIMEOUT = 1.0  # read_text/is_secret: TARGETS plus one or two small conversions
HAND_OFF_TIMEOUT = 2.0  # a clipboard manager copies every target from us at exit

# Targets that are protocol machinery, not content: never read, never restored.
SKIP = {"TARGETS", "TIMESTAMP", "MULTIPLE", "SAVE_TARGETS", "DELETE", "LENGTH"}
TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "STRING")
SECRET_HINT = "x-kde-passwordManagerHint"


def _text_items(text: str) -> dict[str, Item]:
    utf8 = text.encode("utf-8")
    latin1 = text.encode("latin-1", errors="replace")  # ICCCM STRING is Latin-1
    return {
        "UTF8_STRING": Item("UTF8_STRING", 8, utf8),
        "text/plain;charset=utf-8": Item("text/plain;charset=utf-8", 8, utf8),
        "STRING": Item("STRING", 8, latin1),
        "TEXT": Item("UTF8_STRING", 8, utf8),  # TEXT means "any text encoding you like"
    }


class Reader(Connection):
    """Converts a selection (CLIPBOARD unless told) into a property on our window and
    reads it (incl. INCR)."""

    def __init__(self, name: str | None, selection: str = "CLIPBOARD") -> None:
        super().__init__(name, X.PropertyChangeMask)  # PropertyNotify drives INCR reads
        self.prop = self.atom("TRAYASSIST_SELECTION")
        self.sel = self.atom(selection)

    def has_owner(self) -> bool:
        return self.owner(self.sel) != X.NONE

    def text(self, deadline: float) -> str | None:
        """The selection's text from the first text target its owner offers, or None."""
        targets = self.targets(min(deadline, time.monotonic() + READ_TIMEOUT))
        for name in TEXT_TARGETS:
            if targets is not None and name not in targets:
                continue
            item = self.convert(name, min(deadline, time.monotonic() + READ_TIMEOUT))
            if item is not None and item.format == 8:
                latin1 = item.type == "STRING"
                if latin1:
                    return item.data.decode("latin-1")
                # Invalid bytes become lone surrogates, which transform.check_input
                # refuses with a clear message: "replace" would hide them.
                return item.data.decode("utf-8", errors="surrogateescape")
        return None

    def focus_client(self) -> int | None:
        """The client holding the keyboard focus, or None when that is unknown."""
        focus = self.d.get_input_focus().focus
        fid = int(getattr(focus, "id", focus))
        if fid in (X.NONE, X.PointerRoot):
            return None
        return self.client_of(fid) or None  # 0: the server's own windows (root)

    def targets(self, deadline: float) -> list[str] | None:
        item = self.convert("TARGETS", deadline)
        if item is None or item.format != 32 or len(item.data) % 4:
            return None
        return [self.name(a) for a in array.array("I", item.data) if a != X.NONE]

    def convert(self, target: str, deadline: float) -> Item | None:
        tatom, win = self.atom(target), self.win.id
        self.win.delete_property(self.prop)
        while self.d.pending_events():  # drop late answers to an earlier, timed-out request
            self.d.next_event()
        self.win.convert_selection(self.sel, tatom, self.prop, X.CurrentTime)
        self.d.flush()
        ev = pump(self.d, lambda e: e.type == X.SelectionNotify and e.requestor.id == win
                  and e.target == tatom, deadline)
        if ev is None:
            log.info("selection owner did not answer for target %s in time", target)
            return None
        if ev.property == X.NONE:
            return None  # the owner refused this target
        prop = self.win.get_full_property(self.prop, X.AnyPropertyType, sizehint=CHUNK // 4)
        self.win.delete_property(self.prop)  # for INCR this deletion asks for the first chunk
        self.d.flush()
        if prop is None:
            return None
        ptype = self.name(prop.property_type)
        if ptype == "INCR":
            return self._incremental(target, deadline)
        return Item(ptype, prop.format, as_bytes(prop.value))

    def _incremental(self, target: str, deadline: float) -> Item | None:
        chunks: list[bytes] = []
        size, ptype, fmt = 0, "", 8
        while True:
            ev = pump(self.d, lambda e: e.type == X.PropertyNotify and e.window.id == self.win.id
                      and e.atom == self.prop and e.state == X.PropertyNewValue, deadline)
            if ev is None:
                log.info("INCR transfer of target %s timed out after %d bytes", target, size)
                return None
            prop = self.win.get_full_property(self.prop, X.AnyPropertyType, sizehint=CHUNK // 4)
            self.win.delete_property(self.prop)  # asks the owner for the next chunk
            self.d.flush()
            if prop is None:
                continue
            data = as_bytes(prop.value)
            if not data:  # a zero-length chunk ends the transfer
                return Item(ptype, fmt, b"".join(chunks))
            ptype, fmt = self.name(prop.property_type), prop.format
            chunks.append(data)
            size += len(data)
            if size > MAX_BYTES:
                log.info("target %s exceeds %d bytes; not read", target, MAX_BYTES)
                return None


class X11Clipboard:
    """The Clipboard port on X11. See the module docstring for the threading model."""

    def __init__(self, display: str | None = None) -> None:
        self._display = display  # None: the DISPLAY environment variable
        self._server = SelectionServer(display)
        self._server.start()
        # A local X server accepts a connection in milliseconds; 5 s covers a remote one.
        if not self._server.ready.wait(5.0) or self._server.error is not None:
            raise OSError(f"cannot open X display {display or os.environ.get('DISPLAY')!r}: "
                          f"{self._server.error}")
        self._local = threading.local()
        # Property type/format per target from the last snapshot, so restore answers exactly
        # as the original owner did (e.g. TEXT typed as UTF8_STRING). Worker thread only.
        self._kinds: dict[str, tuple[str, int]] = {}
        self._marked = False  # what we serve now is our own result (write_text)

    def _reader(self) -> Reader:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = Reader(self._display)
        return reader

    def snapshot(self) -> ClipboardSnapshot:
        deadline = time.monotonic() + SNAPSHOT_TIMEOUT
        r = self._reader()
        if not r.has_owner():
            return ClipboardSnapshot({}, owned=False)
        targets = r.targets(min(deadline, time.monotonic() + READ_TIMEOUT))
        if targets is None:  # a legacy owner without TARGETS: text is the best we can save
            targets = list(TEXT_TARGETS)
        formats: dict[str, bytes] = {}
        for name in dict.fromkeys(targets):
            if name in SKIP or name.startswith("INSERT_"):
                continue
            if time.monotonic() >= deadline:
                log.warning("clipboard snapshot incomplete: %d of %d targets read in time",
                            len(formats), len(targets))
                break
            item = r.convert(name, min(deadline, time.monotonic() + READ_TIMEOUT))
            if item is not None:
                formats[name] = item.data
                self._kinds[name] = (item.type, item.format)
        return ClipboardSnapshot(formats, owned=True)

    def restore(self, snap: ClipboardSnapshot) -> None:
        self._marked = False
        if not snap.owned:
            self._server.own(None)
            return
        items = {}
        for name, data in snap.formats.items():
            ptype, fmt = self._kinds.get(name, ("UTF8_STRING" if name == "TEXT" else name, 8))
            items[name] = Item(ptype, fmt, data)
        self._server.own(items)

    def clear(self) -> None:
        # Own it with no targets rather than setting no owner: clipboard managers re-assert
        # their copy when the owner vanishes, which would look like the user's new copy.
        self._marked = False
        self._server.own({})

    def write_text(self, text: str) -> None:
        # The KDE hint keeps clipboard managers (Klipper, CopyQ, GPaste...) from recording
        # our result: it is the user's text, and only passes through the clipboard.
        self._server.own({**_text_items(text), SECRET_HINT: Item(SECRET_HINT, 8, b"secret")})
        self._marked = True

    def wait_read(self, timeout: float) -> bool:
        # Only a read by the focused client counts: clipboard managers read every new
        # owner at once, and restoring on their read would paste the old clipboard.
        return self._server.wait_read(self._reader().focus_client(), timeout)

    def read_text(self) -> str | None:
        r = self._reader()
        if not r.has_owner():
            return None
        return r.text(time.monotonic() + TEXT_TIMEOUT)

    def is_secret(self) -> bool:
        deadline = time.monotonic() + TEXT_TIMEOUT
        r = self._reader()
        owner = r.owner()
        if owner == X.NONE:
            return False
        if self._marked and owner == self._server.window_id:
            return False  # our own result: we marked it to keep it out of history
        targets = r.targets(min(deadline, time.monotonic() + READ_TIMEOUT)) or []
        if SECRET_HINT not in targets:
            return False
        item = r.convert(SECRET_HINT, min(deadline, time.monotonic() + READ_TIMEOUT))
        return item is not None and item.data.strip(b"\0 \n") == b"secret"

    def owner_changes(self) -> int:
        """How often the CLIPBOARD owner changed (XFixes); lags the server by one event."""
        return self._server.changes

    def hand_off(self, timeout: float = HAND_OFF_TIMEOUT) -> bool:
        """At exit: keep what we serve on the clipboard after we are gone (else it dies
        with us). A clipboard manager takes it if one runs; otherwise a small process of
        ours serves it until another app copies. False when we own nothing (then there is
        nothing of ours to keep) or neither way worked. Main thread; blocks a few seconds
        at most."""
        items = self._server.owned_items()
        if not items:
            return False
        if self._server.hand_off(timeout):
            return True
        return keep_after_exit(items, self._display)

    def close(self) -> None:
        """Stop serving (our content disappears, as on any X11 app exit)."""
        self._server.stop()
        self._server.join(2.0)
        reader = getattr(self._local, "reader", None)
        if reader is not None:
            reader.close()
            self._local.reader = None
