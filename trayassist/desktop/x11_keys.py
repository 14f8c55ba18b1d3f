"""Keys on X11: XTest key injection and the physical modifier state, via python-xlib.

XTest events are indistinguishable from a real keyboard, unlike pynput's XSendEvent path
for character keys (flagged `send_event`, which xterm and others ignore). Each calling
thread gets its own Display because python-xlib connections are not thread-safe.
"""

from __future__ import annotations

import os
import threading
import time

from Xlib import XK, X
from Xlib.display import Display
from Xlib.ext import xtest

POLL_STEP = 0.01  # 10 ms: well under human reaction time, cheap (one local round trip)

# Modifier rows whose keys, held during injection, would turn Ctrl+C into another chord:
# Shift, Control, Mod1 (Alt/Meta), Mod3 (Hyper, where used), Mod4 (Super), Mod5 (AltGr).
# Lock (Caps Lock) and Mod2 (Num Lock) are locks, not held chords, so they are ignored.
_WATCHED = (X.ShiftMapIndex, X.ControlMapIndex, X.Mod1MapIndex, X.Mod3MapIndex,
            X.Mod4MapIndex, X.Mod5MapIndex)


class X11Keys:
    """The Keys port on X11. All methods are for the worker thread (any one thread)."""

    def __init__(self, display: str | None = None) -> None:
        self._display = display  # None: the DISPLAY environment variable
        self._local = threading.local()
        d = self._d()  # fail now, with the reason, rather than on the first job
        if not d.has_extension("XTEST"):
            raise OSError(f"X display {display or os.environ.get('DISPLAY')!r} lacks XTEST")

    def _d(self) -> Display:
        d: Display | None = getattr(self._local, "display", None)
        if d is None:
            d = self._local.display = Display(self._display)
        # Keep python-xlib's keysym table current when the layout changes (MappingNotify
        # goes to every client), and keep the unread event queue from growing.
        while d.pending_events():
            ev = d.next_event()
            if ev.type == X.MappingNotify:
                d.refresh_keyboard_mapping(ev)
        return d

    def held_modifiers(self) -> set[int]:
        """Keycodes of modifier keys that are down right now."""
        d = self._d()
        mapping = d.get_modifier_mapping()
        watched = {code for row in _WATCHED for code in mapping[row] if code}
        keymap = d.query_keymap()  # 32 bytes: bit (code % 8) of byte (code // 8)
        return {code for code in watched if keymap[code // 8] & (1 << (code % 8))}

    def wait_modifiers_released(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.held_modifiers():
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_STEP)
        return True

    def send_copy(self) -> None:
        self._chord(XK.XK_Control_L, XK.XK_c)

    def send_paste(self) -> None:
        self._chord(XK.XK_Control_L, XK.XK_v)

    def _chord(self, modifier_sym: int, key_sym: int) -> None:
        d = self._d()
        mod, key = d.keysym_to_keycode(modifier_sym), d.keysym_to_keycode(key_sym)
        if not mod or not key:
            raise OSError(f"keyboard layout has no key for {XK.keysym_to_string(key_sym)!r}")
        # Press and release as one chord, as a person does; sync so the events are queued
        # in the server before we return and the caller starts polling for the effect.
        xtest.fake_input(d, X.KeyPress, mod)
        xtest.fake_input(d, X.KeyPress, key)
        xtest.fake_input(d, X.KeyRelease, key)
        xtest.fake_input(d, X.KeyRelease, mod)
        d.sync()

    def close(self) -> None:
        d = getattr(self._local, "display", None)
        if d is not None:
            d.close()
            self._local.display = None
