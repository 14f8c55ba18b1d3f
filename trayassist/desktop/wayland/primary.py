"""The primary selection on Wayland, trusted only when it belongs to the focused window.

wlr-data-control tells us *that* the primary selection changed, never *who* set it. So
we note which window had keyboard focus at the moment of each change (the event thread
asks the compositor at once: selecting text with mouse or keyboard happens in the focused
window). `read_primary` returns text only when the last change happened while the window
focused *now* had focus; otherwise (a selection made in another window, one made before
trayassist started, a compositor whose focus we cannot ask) it returns None and the caller
sends the copy keystroke instead. GTK withdraws the primary selection when its selection
is cleared, so a deselected editor does not leave stale text behind.
"""

from __future__ import annotations

import logging
import threading
import time

from trayassist.desktop.wayland.clipboard import TEXT_TYPES, WaylandClipboard
from trayassist.desktop.wayland.datacontrol import DataControl
from trayassist.desktop.wayland.focus import HyprlandFocus, SwayFocus
from trayassist.ports import AppInfo

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.5


class WaylandPrimary:
    """The PrimarySelection port. `note_change` runs on the data-control event thread;
    `read_primary` on the worker thread."""

    def __init__(self, focus: SwayFocus | HyprlandFocus) -> None:
        self._focus = focus
        self._clipboard: WaylandClipboard | None = None
        self._lock = threading.Lock()
        self._last: tuple[int, str] | None = None  # (primary serial, focused window key)

    def attach(self, clipboard: WaylandClipboard) -> None:
        """Start trusting changes from now on (the selection present at start-up has no
        known owner)."""
        self._clipboard = clipboard

    def note_change(self, dc: DataControl) -> None:
        if self._clipboard is None:
            return
        serial = dc.primary_serial
        found = self._focus.focused()
        with self._lock:
            self._last = (serial, found[0]) if found and dc.primary is not None else None

    def read_primary(self, app: AppInfo | None) -> str | None:
        clipboard = self._clipboard
        if clipboard is None:
            return None
        dc = clipboard.dc
        dc.roundtrip()  # let pending selection events (and their focus notes) land
        found = self._focus.focused()
        with self._lock:
            last = self._last
        offer = dc.primary
        if offer is None or found is None or last is None:
            return None
        if last != (dc.primary_serial, found[0]):
            return None  # changed in another window, or before we could tell
        deadline = time.monotonic() + READ_TIMEOUT
        for mime in TEXT_TYPES:
            if mime in offer.mimes:
                data = dc.receive(offer, mime, deadline)
                if data is None:
                    return None
                text = data.decode("latin-1" if mime == "STRING" else "utf-8",
                                   errors="replace")
                return text if text.strip() else None
        return None
