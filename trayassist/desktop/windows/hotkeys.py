"""Global hotkeys on Windows: RegisterHotKey on a thread with its own message loop.

A registered hotkey is consumed: the focused app never sees the chord. MOD_NOREPEAT
makes a held chord fire once. WM_HOTKEY arrives on key press; the worker then waits
until every key is released before it injects Ctrl+C.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable, Mapping
from ctypes import wintypes

from trayassist.desktop.base import HotkeyTaken, described, guarded
from trayassist.desktop.windows._win32 import (
    ERROR_HOTKEY_ALREADY_REGISTERED,
    WM_HOTKEY,
    WM_QUIT,
    kernel32,
    last_error,
    user32,
)
from trayassist.desktop.windows.keys import key_vk
from trayassist.hotkey_syntax import Hotkey, parse_hotkey

log = logging.getLogger(__name__)

JOIN_TIMEOUT = 1.0
START_TIMEOUT = 30.0  # milliseconds on Windows; a loaded machine under Wine is slower
MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
_MOD_BITS = {"ctrl": MOD_CONTROL, "alt": MOD_ALT, "shift": MOD_SHIFT, "cmd": MOD_WIN,
             "alt_gr": MOD_CONTROL | MOD_ALT}  # AltGr is Ctrl+Alt on Windows


def hotkey_code(hotkey: Hotkey) -> tuple[int, int]:
    """(modifiers for RegisterHotKey, virtual key) of a parsed hotkey."""
    mods = MOD_NOREPEAT
    for name in hotkey.modifiers:
        mods |= _MOD_BITS[name]
    try:
        vk, shift_state = key_vk(hotkey.key)
    except OSError as exc:
        raise ValueError(f"hotkey {hotkey.canonical}: {exc}") from exc
    if shift_state & 1:  # a shifted symbol (e.g. "!"): registered with Shift
        mods |= MOD_SHIFT
    return mods, vk


class WindowsHotkeys:
    """The HotkeySource port on Windows. `start` once (raises HotkeyTaken); `stop` from
    any thread. Callbacks run on the hotkey thread and only enqueue."""

    def __init__(self) -> None:
        self._thread: _HotkeyThread | None = None

    def start(self, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None = None) -> None:
        if self._thread is not None:
            raise RuntimeError("hotkeys already started")
        entries: list[tuple[str, int, int, Callable[[], None]]] = []
        seen: dict[tuple[int, int], str] = {}
        for spec, callback in bindings.items():
            mods, vk = hotkey_code(parse_hotkey(spec))
            if (mods, vk) in seen:
                raise ValueError(f"hotkeys {seen[(mods, vk)]!r} and {spec!r} are the same")
            seen[(mods, vk)] = spec
            entries.append((described(spec, names), mods, vk, guarded(spec, callback)))
        thread = _HotkeyThread(entries)
        thread.start()
        if not thread.registered.wait(START_TIMEOUT):
            raise OSError("the hotkey thread did not start")
        self._thread = thread  # kept even when some are taken: the rest still work
        if thread.taken:
            raise HotkeyTaken(thread.taken)

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()
            thread.join(JOIN_TIMEOUT)


class _HotkeyThread(threading.Thread):
    """Registers the hotkeys (they belong to the thread that registers them) and runs
    the message loop that receives WM_HOTKEY."""

    def __init__(self, entries: list[tuple[str, int, int, Callable[[], None]]]) -> None:
        super().__init__(name="trayassist-hotkeys", daemon=True)
        self._entries = entries
        self.registered = threading.Event()
        self.taken: list[str] = []
        self._tid = 0

    def run(self) -> None:
        self._tid = kernel32.GetCurrentThreadId()
        msg = wintypes.MSG()
        # Create this thread's message queue before anyone may post WM_QUIT to it.
        user32.PeekMessageW(ctypes.byref(msg), None, 0, 0, 0)
        callbacks: dict[int, Callable[[], None]] = {}
        for ident, (label, mods, vk, callback) in enumerate(self._entries, start=1):
            if user32.RegisterHotKey(None, ident, mods, vk):
                callbacks[ident] = callback
                continue
            err = last_error()
            if err != ERROR_HOTKEY_ALREADY_REGISTERED:
                log.warning("RegisterHotKey failed for %s (error %d)", label, err)
            self.taken.append(label)
        self.registered.set()
        try:
            while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
                if msg.message == WM_HOTKEY:
                    fire = callbacks.get(int(msg.wParam))
                    if fire is not None:
                        fire()
        finally:
            for ident in callbacks:
                user32.UnregisterHotKey(None, ident)

    def stop(self) -> None:
        if self.registered.is_set() and self._tid:
            user32.PostThreadMessageW(self._tid, WM_QUIT, 0, 0)
