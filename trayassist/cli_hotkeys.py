"""`trayassist hotkeys`: what is bound and where; `hotkeys install DESKTOP [--print]`
writes (or prints) the desktop's own bindings that run `trayassist trigger ACTION`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from trayassist import hotkeys_install as hi


def _bindings() -> list[hi.Binding]:
    from trayassist.config import load_config

    cfg = load_config()
    return [hi.Binding(a.name, a.hotkey) for a in cfg.actions.values() if a.hotkey]


def detect_desktop() -> str | None:
    """The desktop whose bindings apply here, or None (X11: trayassist grabs the keys)."""
    from trayassist.desktop import choose
    from trayassist.desktop.base import DesktopUnavailable

    try:
        if choose() != "wayland":
            return None
    except DesktopUnavailable:
        return None
    from trayassist.desktop.wayland import compositor

    name = compositor()
    return name if name in hi.DESKTOPS else None


def cmd_hotkeys(args: argparse.Namespace) -> int:
    bindings = _bindings()
    desktop = detect_desktop()
    session = os.environ.get("XDG_SESSION_TYPE") or ("wayland" if os.environ.get(
        "WAYLAND_DISPLAY") else "x11" if os.environ.get("DISPLAY") else "none")
    print(f"session: {session}; desktop: {desktop or 'X11 or unknown'}")
    found = hi.installed(desktop) if desktop else {}
    for b in bindings:
        if desktop is None:
            where = "trayassist itself (X11 key grab) while the daemon runs"
        elif b.action in found:
            where = found[b.action]
        else:
            where = (f"not bound: the GlobalShortcuts portal (KDE, GNOME 48+) asks when the "
                     f"daemon starts; else run `trayassist hotkeys install {desktop}`")
        print(f"{b.action:<12} {b.hotkey:<26} {where}")
    return 0


def cmd_hotkeys_install(args: argparse.Namespace) -> int:
    bindings = _bindings()
    if args.print:
        sys.stdout.write(hi.render(args.desktop, bindings))
        return 0
    try:
        for line in hi.install(args.desktop, bindings):
            print(line)
    except OSError as exc:
        print(f"trayassist: {exc}", file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    hot = sub.add_parser("hotkeys", help="show where hotkeys are bound; install desktop "
                         "bindings on Wayland")
    hot.set_defaults(func=cmd_hotkeys)
    hsub = hot.add_subparsers(dest="hotkeys_command", metavar="SUBCOMMAND")
    inst = hsub.add_parser("install", help="bind the hotkeys in the desktop to run "
                           "`trayassist trigger ACTION`")
    inst.add_argument("desktop", choices=hi.DESKTOPS)
    inst.add_argument("--print", action="store_true",
                      help="print the bindings instead of writing them")
    inst.set_defaults(func=cmd_hotkeys_install)
