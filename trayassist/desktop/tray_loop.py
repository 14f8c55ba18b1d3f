"""Tray updates run on pystray's X11 loop thread (its plain "xorg" backend).

pystray's xorg backend carries a property change made on another thread (icon, title,
visible, stop) to its loop by sending a ClientMessage on the loop's own python-xlib
connection from the calling thread, then blocks that thread until the loop has run it.
python-xlib's Display is not safe for that: when the caller's flush overlaps a round trip
of the loop (e.g. get_geometry when it redraws, or docking: GrabServer, GetSelectionOwner,
UngrabServer), a sender that finds the socket readable returns without waking the thread
waiting for its reply. The loop then waits for good, the caller with it (a job never
ends), and if it stopped between GrabServer and UngrabServer the X server stays grabbed:
every other X client (a paste, a clipboard read) hangs.

`LoopCalls` keeps pystray's connection to its loop thread: other threads queue a callable
and wake the loop with a ClientMessage sent through a connection of their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

WAKE_ATOM = "_TRAYASSIST_TRAY_CALL"


class LoopCalls:
    """Runs callables on the thread of a pystray xorg icon's loop."""

    def __init__(self, icon: Any) -> None:
        from Xlib import X
        from Xlib.display import Display

        self._lock = threading.Lock()  # guards _pending and our connection
        self._pending: list[Callable[[], None]] = []
        self._display = Display()  # pystray connects to $DISPLAY too
        # BadWindow once the icon's window is gone at exit: nothing left to update.
        self._display.set_error_handler(lambda err, *_: log.debug("tray wake: %s",
                                                                  type(err).__name__))
        self._atom = self._display.intern_atom(WAKE_ATOM)
        self._window = self._display.create_resource_object("window", icon._window.id)
        self.loop_thread: threading.Thread | None = None  # set by the loop's owner
        handlers = icon._message_handlers  # event type -> handler, run by the loop
        theirs = handlers.get(X.ClientMessage, lambda _ev: None)

        def on_client_message(ev: Any) -> None:
            if ev.client_type == self._atom:
                self._run_pending()
            else:
                theirs(ev)  # pystray's own cross-thread calls, if anyone still makes one

        handlers[X.ClientMessage] = on_client_message

    def call(self, fn: Callable[[], None]) -> None:
        """Any thread; never waits for the loop. On the loop thread `fn` runs at once."""
        if threading.current_thread() is self.loop_thread:
            fn()
            return
        from Xlib import X
        from Xlib.protocol import event

        with self._lock:
            self._pending.append(fn)
            try:
                self._window.send_event(event.ClientMessage(
                    window=self._window, client_type=self._atom, data=(32, [0] * 5)),
                    event_mask=X.NoEventMask)
                self._display.sync()  # sent for sure (a flush may leave bytes behind)
            except Exception:  # noqa: BLE001 - the X server went away: the tray is gone too
                log.warning("cannot reach the tray loop; tray update dropped")

    def _run_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for fn in pending:
            try:
                fn()
            except Exception:  # noqa: BLE001 - one failed update must not stop the loop
                log.exception("tray update failed")

    def close(self) -> None:
        with self._lock:
            try:
                self._display.close()
            except Exception:  # noqa: BLE001 - the server may already be gone
                log.debug("tray wake connection already closed")
