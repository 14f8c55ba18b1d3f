"""The Windows backend (ctypes only): every clipboard format kept, delayed rendering so
we know when the paste target read our text, RegisterHotKey hotkeys (consumed),
SendInput keys, the focused app's executable name. Windows has no primary selection.

Proven under Wine in CI (tests/windows/); what only a real Windows machine can prove is
listed in the README.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from trayassist.desktop.base import Desktop, DesktopUnavailable
from trayassist.desktop.notify import CommandNotifier


def make(notify_fallback: Callable[[str, str], None] | None = None) -> Desktop:
    """Start the clipboard's owner window or raise DesktopUnavailable. Main thread."""
    if sys.platform != "win32":
        raise DesktopUnavailable("the windows desktop backend runs on Windows only: "
                                 "unset TRAYASSIST_DESKTOP or choose x11")
    from trayassist.desktop.windows.clipboard import WindowsClipboard
    from trayassist.desktop.windows.focus import WindowsFocus
    from trayassist.desktop.windows.hotkeys import WindowsHotkeys
    from trayassist.desktop.windows.keys import WindowsKeys

    try:
        clipboard = WindowsClipboard()
    except OSError as exc:
        raise DesktopUnavailable(f"cannot use the Windows clipboard ({exc}): run trayassist "
                                 "in an interactive desktop session") from exc
    # No notify-send on Windows: messages go to the fallback (the tray's balloon/tooltip).
    return Desktop(clipboard, WindowsKeys(), CommandNotifier(notify_fallback, command=""),
                   WindowsHotkeys(), "windows", focus=WindowsFocus(), primary=None)
