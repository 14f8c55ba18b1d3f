"""The desktop adapters: the only package that talks to the windowing system.

`make_desktop()` picks a backend the way pynput and keyring do: the TRAYASSIST_DESKTOP
environment variable, then the configured name, then the platform default.

- `x11` (Linux/BSD default): full CLIPBOARD snapshots (every target), XTest keys,
  notify-send.
- `basic` (Windows/macOS default): pyperclip + pynput. Its snapshot is TEXT ONLY: images,
  rich text and files on the clipboard are lost when a job restores it. Untested in CI.

Hotkeys follow the platform, not the backend: X11 key grabs (the focused app never sees
the chord) on Linux/BSD, pynput on Windows and macOS.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trayassist.desktop.hotkeys import HotkeyTaken, PynputHotkeys, X11Hotkeys
from trayassist.desktop.notify import CommandNotifier
from trayassist.ports import Clipboard, ClipboardSnapshot, HotkeySource, Keys, Notifier

log = logging.getLogger(__name__)

BACKENDS = ("x11", "basic")
ENV_VAR = "TRAYASSIST_DESKTOP"
_WAYLAND_HINT = "on Wayland use `trayassist trigger ACTION` from a desktop shortcut"


class DesktopUnavailable(RuntimeError):
    """No usable desktop backend; the message says how to fix it, in one line."""


@dataclass(frozen=True)
class Desktop:
    clipboard: Clipboard
    keys: Keys
    notifier: Notifier
    hotkeys: HotkeySource
    backend: str


def make_desktop(configured: str | None = None,
                 notify_fallback: Callable[[str, str], None] | None = None) -> Desktop:
    """Build the adapters for this session or raise DesktopUnavailable. Main thread."""
    name = os.environ.get(ENV_VAR) or configured or _platform_default()
    if name not in BACKENDS:
        raise DesktopUnavailable(f"unknown desktop backend {name!r} (from {ENV_VAR} or config): "
                                 f"choose one of {', '.join(BACKENDS)}")
    notifier = CommandNotifier(notify_fallback)
    if name == "x11":
        clipboard, keys = _x11()
    else:
        clipboard, keys = _BasicClipboard(), _BasicKeys()
    hotkeys: HotkeySource = PynputHotkeys() if _platform_default() == "basic" else X11Hotkeys()
    return Desktop(clipboard, keys, notifier, hotkeys, name)


def _platform_default() -> str:
    return "basic" if sys.platform in ("win32", "darwin") else "x11"


def _x11() -> tuple[Clipboard, Keys]:
    display = os.environ.get("DISPLAY")
    if not display:
        where = "Wayland without XWayland; " if os.environ.get("WAYLAND_DISPLAY") else ""
        raise DesktopUnavailable(f"no X display ({where}DISPLAY is unset): set DISPLAY or run "
                                 f"under a desktop session ({_WAYLAND_HINT})")
    if os.environ.get("WAYLAND_DISPLAY"):
        log.warning("Wayland session: hotkeys, copy and paste reach only X11 (XWayland) apps; "
                    "%s", _WAYLAND_HINT)
    try:
        from trayassist.desktop.x11_clipboard import X11Clipboard
        from trayassist.desktop.x11_keys import X11Keys
    except ImportError as exc:
        raise DesktopUnavailable(f"python-xlib is missing ({exc}): pip install python-xlib") \
            from exc
    try:
        return X11Clipboard(), X11Keys()
    except Exception as exc:
        raise DesktopUnavailable(f"cannot use X display {display!r} ({exc}): check DISPLAY and "
                                 "that the X server accepts this user (xhost/xauth)") from exc


class _BasicClipboard:
    """pyperclip: text in, text out. Snapshots keep text only (see module docstring)."""

    TARGET = "text/plain;charset=utf-8"

    def __init__(self) -> None:
        import pyperclip

        self._pc: Any = pyperclip

    def snapshot(self) -> ClipboardSnapshot:
        text = self.read_text()
        if not text:
            return ClipboardSnapshot({}, owned=False)
        return ClipboardSnapshot({self.TARGET: text.encode("utf-8")})

    def restore(self, snap: ClipboardSnapshot) -> None:
        data = snap.formats.get(self.TARGET)
        self._pc.copy(data.decode("utf-8") if data is not None else "")

    def clear(self) -> None:
        self._pc.copy("")

    def read_text(self) -> str | None:
        text: str = self._pc.paste()
        return text or None

    def write_text(self, text: str) -> None:
        self._pc.copy(text)

    def wait_read(self, timeout: float) -> bool:
        # pyperclip cannot see who reads: wait the whole bound so the paste target has had
        # its chance before the caller restores the old clipboard under it.
        time.sleep(timeout)
        return False

    def is_secret(self) -> bool:
        if sys.platform != "win32":
            return False  # macOS' org.nspasteboard.ConcealedType needs AppKit: not supported
        import ctypes

        # Password managers on Windows add this registered format to what they copy.
        user32 = ctypes.windll.user32
        fmt = user32.RegisterClipboardFormatW("ExcludeClipboardContentFromMonitorProcessing")
        return bool(fmt and user32.IsClipboardFormatAvailable(fmt))


class _BasicKeys:
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
        deadline = time.monotonic() + timeout
        while self._held():
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL_STEP)
        return True

    def send_copy(self) -> None:
        with self._ctl.pressed(self._mod):
            self._ctl.tap("c")

    def send_paste(self) -> None:
        with self._ctl.pressed(self._mod):
            self._ctl.tap("v")


__all__ = ["BACKENDS", "Desktop", "DesktopUnavailable", "HotkeyTaken", "make_desktop"]
