"""The Clipboard port on Wayland, through our own wlr-data-control client.

Snapshots read every MIME type the clipboard offers (GTK offers 8-9), restore serves them
all again; no window, no focus, no wl-clipboard process. Content is never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from trayassist.desktop.wayland.datacontrol import DataControl, Offer, Source
from trayassist.ports import ClipboardSnapshot

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.5  # one MIME type: a live owner answers in ms; a hung one must not stall us
SNAPSHOT_TIMEOUT = 1.5  # all types together
TEXT_TIMEOUT = 1.0
SECRET_HINT = "x-kde-passwordManagerHint"
# Protocol machinery, not content: never read (SAVE_TARGETS makes some owners hang).
SKIP = {"TARGETS", "TIMESTAMP", "MULTIPLE", "SAVE_TARGETS", "DELETE", "LENGTH"}
TEXT_TYPES = ("text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING", "TEXT")


def text_formats(text: str) -> dict[str, bytes]:
    """What we offer for a text: the usual aliases, and the secret hint so clipboard
    managers and history do not record what trayassist writes."""
    utf8 = text.encode("utf-8")
    return {"text/plain;charset=utf-8": utf8, "text/plain": utf8, "UTF8_STRING": utf8,
            "STRING": text.encode("latin-1", errors="replace"), "TEXT": utf8,
            SECRET_HINT: b"secret"}


class PasteMark:
    """Shared by Keys and Clipboard: when the last paste keystroke was sent, so only a
    read after it counts as the paste target reading our result (a clipboard manager
    reads every new selection at once, before any paste)."""

    def __init__(self) -> None:
        self.at = 0.0

    def mark(self) -> None:
        self.at = time.monotonic()


class WaylandClipboard:
    """The Clipboard port. Worker-thread methods; the data-control event thread serves."""

    def __init__(self, display: str | None = None, mark: PasteMark | None = None,
                 on_primary_change: Callable[[DataControl], None] | None = None) -> None:
        self._display = display
        self.mark = mark or PasteMark()
        self._lock = threading.Lock()
        self._on_primary_change = on_primary_change
        self._dc: DataControl | None = None
        self._written: Source | None = None  # our own text: marked secret, but not secret
        _ = self.dc  # connect now: fail at start-up with the reason, not on the first job

    @property
    def dc(self) -> DataControl:
        with self._lock:
            if self._dc is None or not self._dc.is_alive():
                if self._dc is not None:
                    log.info("reconnecting the Wayland data-control client")
                    self._dc.close()
                self._dc = DataControl(self._display, self._on_primary_change)
            return self._dc

    def _read(self, offer: Offer, mime: str, deadline: float) -> bytes | None:
        return self.dc.receive(offer, mime, min(deadline, time.monotonic() + READ_TIMEOUT))

    def snapshot(self) -> ClipboardSnapshot:
        deadline = time.monotonic() + SNAPSHOT_TIMEOUT
        dc = self.dc
        dc.roundtrip()  # events already sent by the compositor are in
        offer = dc.selection
        if offer is None:
            return ClipboardSnapshot({}, owned=False)
        ours = dc.current_source()
        if ours is not None:  # we own it: our formats are the content, no pipe needed
            return ClipboardSnapshot(dict(ours.formats), owned=True)
        formats: dict[str, bytes] = {}
        for mime in dict.fromkeys(offer.mimes):
            if mime in SKIP:
                continue
            if time.monotonic() >= deadline:
                log.warning("clipboard snapshot incomplete: %d of %d types read in time",
                            len(formats), len(offer.mimes))
                break
            data = self._read(offer, mime, deadline)
            if data is not None:
                formats[mime] = data
        return ClipboardSnapshot(formats, owned=True)

    def restore(self, snap: ClipboardSnapshot) -> None:
        self.dc.own(dict(snap.formats) if snap.owned else None)

    def clear(self) -> None:
        # Own it with no types rather than unsetting it: clipboard managers re-assert
        # their copy when the selection goes empty, which would look like a new copy.
        self._written = self.dc.own({})

    def write_text(self, text: str) -> None:
        self._written = self.dc.own(text_formats(text))

    def owned_source(self) -> Source | None:
        return self.dc.current_source()

    def wait_read(self, timeout: float) -> bool:
        dc = self.dc
        source = dc.current_source()
        if source is None:
            return False
        deadline = time.monotonic() + timeout
        since = self.mark.at

        def read_after_paste() -> bool:
            return any(at >= since and mime != SECRET_HINT for at, mime in source.reads)

        with dc.changed:
            while not read_after_paste():
                left = deadline - time.monotonic()
                if left <= 0 or source.cancelled:
                    return read_after_paste()
                dc.changed.wait(left)
        return True

    def read_text(self) -> str | None:
        deadline = time.monotonic() + TEXT_TIMEOUT
        dc = self.dc
        ours = dc.current_source()
        if ours is not None and dc.selection is not None:
            data = next((ours.formats[t] for t in TEXT_TYPES if t in ours.formats), None)
            return None if data is None else data.decode("utf-8", errors="replace")
        offer = dc.selection
        if offer is None:
            return None
        for mime in TEXT_TYPES:
            if mime in offer.mimes:
                data = self._read(offer, mime, deadline)
                if data is not None:
                    return data.decode("latin-1" if mime == "STRING" else "utf-8",
                                       errors="replace")
        return None

    def is_secret(self) -> bool:
        dc = self.dc
        offer = dc.selection
        if offer is None or SECRET_HINT not in offer.mimes:
            return False
        ours = dc.current_source()
        if ours is not None:
            if ours is self._written:
                return False  # our own result carries the hint only to stay out of history
            return ours.formats.get(SECRET_HINT, b"").strip(b"\0 \n") == b"secret"
        data = self._read(offer, SECRET_HINT, time.monotonic() + TEXT_TIMEOUT)
        return data is not None and data.strip(b"\0 \n") == b"secret"

    def hand_off(self) -> bool:
        """At exit: keep what we serve on the clipboard after we are gone (a keeper
        process serves it until another app copies). False when we own nothing. Main
        thread; blocks a few seconds at most."""
        source = self.dc.current_source()
        if source is None or not source.formats:
            return False
        from trayassist.desktop.wayland.keeper import keep_after_exit

        return keep_after_exit(source.formats)

    def close(self) -> None:
        with self._lock:
            if self._dc is not None:
                self._dc.close()
                self._dc = None
