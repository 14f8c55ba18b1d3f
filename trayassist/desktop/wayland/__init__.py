"""The Wayland backend: chosen on a Wayland session (see desktop/__init__.py).

Per path, what it uses (the README has the per-desktop table):
- clipboard: our own wlr-data-control client (every MIME type; sway, Hyprland, KDE, other
  wlroots). GNOME has no data-control: there the X11 clipboard through XWayland (Mutter
  bridges the two clipboards), else the desktop is refused with the reason.
- keys: wtype (virtual-keyboard protocol: wlroots desktops); else the RemoteDesktop portal
  (GNOME, KDE); else none: results go to the clipboard with a "paste with Ctrl+V" notice.
- focus/primary: sway IPC or hyprctl; elsewhere unknown (then the copy keystroke is used).
- hotkeys: the GlobalShortcuts portal where the desktop has it (KDE, GNOME 48+); else the
  desktop's own bindings running `trayassist trigger ACTION` (`trayassist hotkeys install`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from trayassist.desktop.base import Desktop, DesktopUnavailable
from trayassist.desktop.notify import CommandNotifier

log = logging.getLogger(__name__)

VIRTUAL_KEYBOARD = "zwp_virtual_keyboard_manager_v1"


def compositor() -> str:
    """sway | hyprland | gnome | kde | wlroots (any other Wayland desktop)."""
    desktop = os.environ.get("XDG_CURRENT_DESKTOP", "").lower()
    if os.environ.get("SWAYSOCK") or "sway" in desktop:
        return "sway"
    if os.environ.get("HYPRLAND_INSTANCE_SIGNATURE") or "hyprland" in desktop:
        return "hyprland"
    if "gnome" in desktop:
        return "gnome"
    if "kde" in desktop:
        return "kde"
    return "wlroots"


@dataclass(frozen=True)
class Paths:
    """What this session uses for each job step (shown by `trayassist doctor`)."""

    capture: str
    paste: str
    hotkeys: str
    tray: str


def make(notify_fallback: Callable[[str, str], None] | None = None) -> Desktop:
    """Connect to $WAYLAND_DISPLAY or raise DesktopUnavailable saying how to fix it."""
    if not os.environ.get("WAYLAND_DISPLAY"):
        raise DesktopUnavailable("no Wayland display (WAYLAND_DISPLAY is unset): run under a "
                                 "Wayland session, or set TRAYASSIST_DESKTOP=x11")
    from trayassist.desktop.wayland.clipboard import PasteMark, WaylandClipboard
    from trayassist.desktop.wayland.focus import detect_focus
    from trayassist.desktop.wayland.hotkeys import make_hotkeys
    from trayassist.desktop.wayland.keys import WtypeKeys
    from trayassist.desktop.wayland.primary import WaylandPrimary
    from trayassist.desktop.wayland.tools import ToolMissing
    from trayassist.desktop.wayland.wire import WaylandError

    notifier = CommandNotifier(notify_fallback)
    mark = PasteMark()
    focus = detect_focus()
    primary = WaylandPrimary(focus) if focus is not None else None
    clipboard: object
    try:
        clipboard = WaylandClipboard(mark=mark,
                                     on_primary_change=primary.note_change if primary else None)
    except WaylandError as exc:
        clipboard = _clipboard_fallback(exc)
        primary = None
    else:
        if primary is not None:
            primary.attach(clipboard)
    keys: object
    has_vk = isinstance(clipboard, WaylandClipboard) and clipboard.dc.has_global(
        VIRTUAL_KEYBOARD)
    try:
        if not has_vk and compositor() in ("gnome", "kde"):
            raise ToolMissing("wtype")  # wtype cannot work there: no virtual keyboard
        keys = WtypeKeys(mark)
    except ToolMissing as exc:
        keys = _keys_fallback(exc, mark, notifier)
    from trayassist.desktop.base import NoFocus

    return Desktop(clipboard, keys, notifier, make_hotkeys(), "wayland",  # type: ignore[arg-type]
                   focus or NoFocus(), primary)


def _clipboard_fallback(exc: Exception) -> object:
    """GNOME: no data-control. Mutter bridges the X11 and Wayland clipboards, so the X11
    clipboard through XWayland keeps every type."""
    if os.environ.get("DISPLAY"):
        try:
            from trayassist.desktop.x11.clipboard import X11Clipboard

            log.info("no wlr-data-control (%s): using the clipboard through XWayland", exc)
            return X11Clipboard()
        except Exception as x11_exc:  # noqa: BLE001 - any failure: say both reasons
            exc = OSError(f"{exc}; XWayland: {x11_exc}")
    raise DesktopUnavailable(f"cannot reach the Wayland clipboard: {exc}. On GNOME enable "
                             "XWayland (DISPLAY), or set TRAYASSIST_DESKTOP=x11 in an X11 "
                             "session") from exc


def _keys_fallback(exc: Exception, mark: object, notifier: CommandNotifier) -> object:
    from trayassist.desktop.wayland.portal_keys import ClipboardOnlyKeys, PortalKeys

    try:
        keys = PortalKeys(mark)  # type: ignore[arg-type]
    except OSError as portal_exc:
        log.warning("no key injection (%s; RemoteDesktop portal: %s): results go to the "
                    "clipboard, paste them with Ctrl+V", exc, portal_exc)
        return ClipboardOnlyKeys()
    log.info("keys through the RemoteDesktop portal (%s)", exc)
    return keys
