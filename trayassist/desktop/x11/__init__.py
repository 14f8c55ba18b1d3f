"""The X11 backend: CLIPBOARD snapshots of every target, XTest keys, root-window key grabs,
the focused app by WM_CLASS, and keyless capture from PRIMARY."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from trayassist.desktop.base import Desktop, DesktopUnavailable
from trayassist.desktop.notify import CommandNotifier

log = logging.getLogger(__name__)

WAYLAND_HINT = "on Wayland use `trayassist trigger ACTION` from a desktop shortcut"


def make(notify_fallback: Callable[[str, str], None] | None = None) -> Desktop:
    """Connect to $DISPLAY or raise DesktopUnavailable saying how to fix it. Main thread."""
    display = os.environ.get("DISPLAY")
    if not display:
        where = "Wayland without XWayland; " if os.environ.get("WAYLAND_DISPLAY") else ""
        raise DesktopUnavailable(f"no X display ({where}DISPLAY is unset): set DISPLAY or run "
                                 f"under a desktop session ({WAYLAND_HINT})")
    if os.environ.get("WAYLAND_DISPLAY"):
        log.warning("Wayland session: hotkeys, copy and paste reach only X11 (XWayland) apps; "
                    "%s", WAYLAND_HINT)
    try:
        from trayassist.desktop.x11.clipboard import X11Clipboard
        from trayassist.desktop.x11.focus import X11Focus, X11Primary
        from trayassist.desktop.x11.hotkeys import X11Hotkeys
        from trayassist.desktop.x11.keys import X11Keys
    except ImportError as exc:
        raise DesktopUnavailable(f"python-xlib is missing ({exc}): pip install python-xlib") \
            from exc
    try:
        clipboard, keys = X11Clipboard(), X11Keys()
    except Exception as exc:
        raise DesktopUnavailable(f"cannot use X display {display!r} ({exc}): check DISPLAY and "
                                 "that the X server accepts this user (xhost/xauth)") from exc
    return Desktop(clipboard, keys, CommandNotifier(notify_fallback), X11Hotkeys(), "x11",
                   focus=X11Focus(), primary=X11Primary())
