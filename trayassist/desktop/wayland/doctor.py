"""`trayassist doctor` on a Wayland session: the session type and the path each job step
takes here (capture, paste, hotkeys, tray), with the exact install command for anything
missing. Every probe is bounded (one Wayland round trip, one D-Bus call each)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Any

from trayassist.desktop.wayland import VIRTUAL_KEYBOARD, compositor
from trayassist.desktop.wayland.tools import install_hint

GI_FIX = ("sudo apt install python3-gi gir1.2-ayatanaappindicator3-0.1, then run "
          "bash installers/install.sh (links gi into the venv)")


def _portal(interface: str) -> int | None:
    from trayassist.desktop.wayland.portal import Portal, PortalError

    try:
        portal = Portal(interface)
    except (PortalError, OSError):
        return None
    try:
        return portal.version
    finally:
        portal.close()


def checks(make_check: Any) -> list[Any]:
    """`make_check(name, ok, detail, fix="", required=True)` builds doctor's Check."""
    from trayassist.desktop.wayland.datacontrol import DataControl
    from trayassist.desktop.wayland.wire import WaylandError

    desk = compositor()
    out = [make_check("session", True, f"Wayland ({desk}; XDG_SESSION_TYPE="
                      f"{os.environ.get('XDG_SESSION_TYPE') or 'unset'}, "
                      f"WAYLAND_DISPLAY={os.environ.get('WAYLAND_DISPLAY')})")]
    has_vk = False
    try:
        dc = DataControl()
    except (WaylandError, OSError) as exc:
        if os.environ.get("DISPLAY"):
            out.append(make_check("capture", True, "copy keystroke; clipboard through "
                                  f"XWayland (no wlr-data-control: {exc})"))
        else:
            out.append(make_check("capture", False, f"no clipboard access: {exc}",
                                  "enable XWayland (GNOME), or use a desktop with "
                                  "wlr-data-control (sway, Hyprland, KDE)"))
    else:
        has_vk = dc.has_global(VIRTUAL_KEYBOARD)
        keyless = "primary selection when the focused window set it, else " \
            if desk in ("sway", "hyprland") else ""
        out.append(make_check("capture", True, f"{keyless}copy keystroke; clipboard via "
                              "wlr-data-control (every MIME type restored)"))
        dc.close()
    if has_vk and shutil.which("wtype"):
        out.append(make_check("paste", True, "Ctrl+V through wtype (virtual keyboard)"))
    elif has_vk:
        out.append(make_check("paste", False, "wtype is missing: results stay on the "
                              "clipboard", install_hint("wtype")))
    elif _portal("org.freedesktop.portal.RemoteDesktop") is not None:
        out.append(make_check("paste", True, "Ctrl+V through the RemoteDesktop portal "
                              "(the desktop asks once)"))
    else:
        out.append(make_check("paste", False, "no key injection: the result goes to the "
                              "clipboard, paste it with Ctrl+V",
                              "sudo apt install xdg-desktop-portal-gnome (GNOME) or "
                              "xdg-desktop-portal-kde (KDE)", required=False))
    version = _portal("org.freedesktop.portal.GlobalShortcuts")
    if version is not None:
        out.append(make_check("hotkeys", True, f"GlobalShortcuts portal (version {version})"))
    else:
        from trayassist import hotkeys_install

        target = desk if desk in hotkeys_install.DESKTOPS else None
        bound = hotkeys_install.installed(target) if target else {}
        if bound:
            out.append(make_check("hotkeys", True, f"{desk} bindings running `trayassist "
                                  f"trigger`: {', '.join(sorted(bound))}"))
        else:
            out.append(make_check("hotkeys", False, "no GlobalShortcuts portal and no "
                                  "desktop bindings yet",
                                  f"trayassist hotkeys install {target}" if target else
                                  "bind `trayassist trigger ACTION` in your desktop's "
                                  "shortcut settings", required=False))
    if importlib.util.find_spec("gi") is None:
        out.append(make_check("tray", False, "PyGObject (gi) missing: no tray icon",
                              GI_FIX, required=False))
    else:
        from trayassist.desktop.tray import has_sni_watcher

        if has_sni_watcher():
            out.append(make_check("tray", True, "StatusNotifierItem (appindicator, named "
                                  "icons)"))
        else:
            out.append(make_check("tray", False, "no StatusNotifierItem host on the bus",
                                  "sway: `tray_output *` in the bar block; waybar: the tray "
                                  "module; GNOME: the AppIndicator extension "
                                  "(gnome-shell-extension-appindicator)", required=False))
    return out
