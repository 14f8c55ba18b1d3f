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

# Any key held during injection spoils it: a held modifier turns Ctrl+C into another
# chord, and while a grabbed hotkey's letter is down the X server sends every key to the
# grabbing client (our hotkey listener), which swallows the injected Ctrl+C. Lock keys
# (Caps Lock, Num Lock: the Lock and Mod2 rows) are toggles, not chords, and are ignored.
_LOCK_ROWS = (X.LockMapIndex, X.Mod2MapIndex)


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

    def held_keys(self) -> set[int]:
        """Keycodes that are physically down right now, lock keys excepted."""
        d = self._d()
        mapping = d.get_modifier_mapping()
        locks = {code for row in _LOCK_ROWS for code in mapping[row] if code}
        keymap = d.query_keymap()  # 32 bytes: bit (code % 8) of byte (code // 8)
        return {code for code in range(8, 256)
                if keymap[code // 8] & (1 << (code % 8)) and code not in locks}

    def wait_modifiers_released(self, timeout: float) -> bool:
        """Wait until no key is held at all (see _LOCK_ROWS for why not just modifiers)."""
        deadline = time.monotonic() + timeout
        while self.held_keys():
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
