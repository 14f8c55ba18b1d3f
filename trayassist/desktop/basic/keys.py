"""The Keys port through pynput's Controller; modifier state from the OS where it tells."""

from __future__ import annotations

import sys
from typing import Any

from trayassist.job import poll


class BasicKeys:
    """pynput's Controller; the modifier state comes from the OS where we can ask it."""

    POLL_STEP = 0.01  # 10 ms, as on X11

    def __init__(self) -> None:
        from pynput import keyboard

        self._kb: Any = keyboard
        self._ctl = keyboard.Controller()
        self._mod = keyboard.Key.cmd if sys.platform == "darwin" else keyboard.Key.ctrl

    def _held(self) -> bool:
        if sys.platform == "win32":
            import ctypes

            state = ctypes.windll.user32.GetAsyncKeyState
            # VK_SHIFT, VK_CONTROL, VK_MENU (Alt), VK_LWIN, VK_RWIN; high bit = down now
            return any(state(vk) & 0x8000 for vk in (0x10, 0x11, 0x12, 0x5B, 0x5C))
        if sys.platform == "darwin":
            import Quartz

            flags = Quartz.CGEventSourceFlagsState(Quartz.kCGEventSourceStateHIDSystemState)
            mask = (Quartz.kCGEventFlagMaskShift | Quartz.kCGEventFlagMaskControl
                    | Quartz.kCGEventFlagMaskAlternate | Quartz.kCGEventFlagMaskCommand)
            return bool(flags & mask)
        return False  # no portable query elsewhere; the x11 backend is the one to use there

    def wait_modifiers_released(self, timeout: float) -> bool:
        return poll(lambda: not self._held(), timeout, self.POLL_STEP)

    def send_copy(self) -> None:
        with self._ctl.pressed(self._mod):
            self._ctl.tap("c")

    def send_paste(self) -> None:
        with self._ctl.pressed(self._mod):
            self._ctl.tap("v")

    def send_chord(self, chord: str) -> None:
        """pynput's own parser reads the chord (parse_chord checks it first)."""
        from trayassist.hotkey_syntax import parse_chord

        keys = self._kb.HotKey.parse(parse_chord(chord).canonical)
        for key in keys:
            self._ctl.press(key)
        for key in reversed(keys):
            self._ctl.release(key)
