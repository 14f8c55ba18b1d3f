"""The desktop adapters: the only package that talks to the windowing system.

One folder per platform, each building the same ports into a `Desktop`:
- `x11/` (Linux/BSD default): full CLIPBOARD snapshots (every target), XTest keys,
  root-window key grabs (the focused app never sees the chord), notify-send.
- `wayland/` (a Wayland session): our own wlr-data-control client (every MIME type),
  wtype or the RemoteDesktop portal, the GlobalShortcuts portal or desktop bindings.
- `windows/` (Windows default): every clipboard format, delayed rendering, RegisterHotKey
  hotkeys, SendInput keys (ctypes).
- `basic/` (the fallback elsewhere, macOS today): pyperclip + pynput, text-only snapshots.

`make_desktop()` only chooses, the way pynput and keyring do: the TRAYASSIST_DESKTOP
environment variable, then the configured name, then the platform default.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable

from trayassist.desktop.base import Desktop, DesktopUnavailable, HotkeyTaken

BACKENDS = ("x11", "wayland", "windows", "basic")
ENV_VAR = "TRAYASSIST_DESKTOP"


def platform_default() -> str:
    """The backend this session gets when nothing is configured.

    Wayland when the session says so (XDG_SESSION_TYPE=wayland), or when WAYLAND_DISPLAY
    is set and no X display is (a compositor without XWayland). A Wayland session with
    XWayland still gets `wayland`: X11 keys and grabs would reach only XWayland apps.
    """
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "basic"
    session = os.environ.get("XDG_SESSION_TYPE", "").lower()
    if os.environ.get("WAYLAND_DISPLAY") and (session == "wayland" or (
            session != "x11" and not os.environ.get("DISPLAY"))):
        return "wayland"
    return "x11"


def choose(configured: str | None = None) -> str:
    name = os.environ.get(ENV_VAR) or configured or platform_default()
    if name not in BACKENDS:
        raise DesktopUnavailable(f"unknown desktop backend {name!r} (from {ENV_VAR} or config): "
                                 f"choose one of {', '.join(BACKENDS)}")
    return name


def make_desktop(configured: str | None = None,
                 notify_fallback: Callable[[str, str], None] | None = None) -> Desktop:
    """Build the adapters for this session or raise DesktopUnavailable. Main thread."""
    name = choose(configured)
    backend = importlib.import_module(f"trayassist.desktop.{name}")
    try:
        desktop: Desktop = backend.make(notify_fallback)
    except ImportError as exc:  # pynput and pystray say "platform not supported" this way
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DesktopUnavailable(f"the {name} desktop backend cannot start here: "
                                 f"{reason}") from exc
    return desktop


__all__ = ["BACKENDS", "Desktop", "DesktopUnavailable", "HotkeyTaken", "choose",
           "make_desktop", "platform_default"]
