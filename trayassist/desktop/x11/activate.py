"""Give the keyboard focus back to the target window after the review window (X11).

The review window takes the focus so the keyboard works in it; before Ctrl+V the target
must have it again, or the paste lands nowhere. Where a window manager supports
_NET_ACTIVE_WINDOW we ask it (EWMH, source indication 2 = a pager/tool acting for the
user); otherwise, and always as well, SetInputFocus. Then we poll until the X server
reports the focus back on the window (bounded).
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class X11WindowFocus:
    """The review host's WindowFocus on X11. Worker thread; opens its own connection
    per call (short-lived, so nothing is shared with other threads)."""

    def __init__(self, display: str | None = None) -> None:
        self._display = display

    def _open(self):  # type: ignore[no-untyped-def]
        from Xlib.display import Display

        return Display(self._display)

    def remember(self) -> object | None:
        try:
            d = self._open()
        except Exception:  # noqa: BLE001 - no display: nothing to give back
            return None
        try:
            focus = d.get_input_focus().focus
            wid = int(getattr(focus, "id", focus) or 0)
            root = d.screen().root.id
            return wid if wid > 1 and wid != root else None  # 0 None, 1 PointerRoot
        finally:
            d.close()

    def restore(self, window: object, timeout: float) -> bool:
        if not isinstance(window, int):
            return True
        from Xlib import X, Xatom, error
        from Xlib.protocol import event

        d = self._open()
        try:
            win = d.create_resource_object("window", window)
            root = d.screen().root
            try:
                top = self._toplevel(d, win)
                supported = root.get_full_property(d.intern_atom("_NET_SUPPORTED"),
                                                   Xatom.ATOM)
                active = d.intern_atom("_NET_ACTIVE_WINDOW")
                if supported is not None and active in supported.value:
                    ev = event.ClientMessage(window=top, client_type=active,
                                             data=(32, [2, X.CurrentTime, 0, 0, 0]))
                    root.send_event(ev, event_mask=X.SubstructureRedirectMask
                                    | X.SubstructureNotifyMask)
                win.set_input_focus(X.RevertToParent, X.CurrentTime)
                d.sync()
            except (error.XError, AttributeError) as exc:
                log.info("target window is gone: %s", exc)
                return False
            deadline = time.monotonic() + timeout
            while True:
                focus = d.get_input_focus().focus
                if int(getattr(focus, "id", focus) or 0) == window:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.01)
                win.set_input_focus(X.RevertToParent, X.CurrentTime)
                d.sync()
        finally:
            d.close()

    @staticmethod
    def _toplevel(d, win):  # type: ignore[no-untyped-def]
        root = d.screen().root
        while True:
            parent = win.query_tree().parent
            parent_id = int(getattr(parent, "id", parent) or 0)
            if parent_id in (0, root.id):  # win is the root, or a child of it
                return win
            win = parent
