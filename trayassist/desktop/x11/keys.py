"""Keys on X11: XTest key injection and the physical modifier state, via python-xlib.

XTest events are indistinguishable from a real keyboard, unlike pynput's XSendEvent path
for character keys (flagged `send_event`, which xterm and others ignore). Each calling
thread gets its own Display because python-xlib connections are not thread-safe.
"""

from __future__ import annotations

import os
import threading

from Xlib import XK, X
from Xlib.display import Display
from Xlib.ext import xtest

from trayassist.hotkey_syntax import parse_chord
from trayassist.job import poll

POLL_STEP = 0.01  # 10 ms: well under human reaction time, cheap (one local round trip)

# Any key held during injection spoils it: a held modifier turns Ctrl+C into another
# chord, and while a grabbed hotkey's letter is down the X server sends every key to the
# grabbing client (our hotkey listener), which swallows the injected Ctrl+C. Lock keys
# (Caps Lock, Num Lock: the Lock and Mod2 rows) are toggles, not chords, and are ignored.
_LOCK_ROWS = (X.LockMapIndex, X.Mod2MapIndex)

_MODIFIER_SYMS = {"ctrl": "Control_L", "alt": "Alt_L", "alt_gr": "ISO_Level3_Shift",
                  "shift": "Shift_L", "cmd": "Super_L"}
_SPECIAL_SYMS = {"esc": "Escape", "enter": "Return", "backspace": "BackSpace",
                 "page_up": "Prior", "page_down": "Next", "print_screen": "Print",
                 "scroll_lock": "Scroll_Lock"}


def chord_keysyms(chord: str) -> list[int]:
    """A chord in pynput syntax -> keysyms, modifiers first (ValueError if unparsable)."""
    parsed = parse_chord(chord)
    syms = [XK.string_to_keysym(_MODIFIER_SYMS[m]) for m in sorted(parsed.modifiers)]
    key = parsed.key
    if len(key) == 1:
        code = ord(key)  # Latin-1 keysyms are their code points; the rest are offset
        sym = code if 0x20 <= code <= 0xFF else 0x01000000 + code
    elif key[1:-1].isdigit():
        sym = int(key[1:-1])  # pynput's <N> on X11 is a keysym
    else:
        name = key[1:-1]
        sym = XK.string_to_keysym(_SPECIAL_SYMS.get(name, name.capitalize()))
    if not sym:
        raise ValueError(f"no X keysym for {key} in {chord!r}")
    return [*syms, sym]


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
        return poll(lambda: not self.held_keys(), timeout, POLL_STEP)

    def send_copy(self) -> None:
        self._chord([XK.XK_Control_L, XK.XK_c])

    def send_paste(self) -> None:
        self._chord([XK.XK_Control_L, XK.XK_v])

    def send_chord(self, chord: str) -> None:
        self._chord(chord_keysyms(chord))

    def _chord(self, syms: list[int]) -> None:
        d = self._d()
        codes = [d.keysym_to_keycode(sym) for sym in syms]
        for sym, code in zip(syms, codes, strict=True):
            if not code:
                raise OSError(f"keyboard layout has no key for {XK.keysym_to_string(sym)!r}")
        # Press and release as one chord, as a person does; sync so the events are queued
        # in the server before we return and the caller starts polling for the effect.
        for code in codes:
            xtest.fake_input(d, X.KeyPress, code)
        for code in reversed(codes):
            xtest.fake_input(d, X.KeyRelease, code)
        d.sync()

    def close(self) -> None:
        d = getattr(self._local, "display", None)
        if d is not None:
            d.close()
            self._local.display = None
