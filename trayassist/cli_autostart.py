"""`trayassist autostart on|off|status`: start the tray daemon at login."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_autostart(args: argparse.Namespace) -> int:
    from trayassist import autostart

    try:
        if args.state == "on":
            lines = autostart.enable(systemd=args.systemd)
        elif args.state == "off":
            lines = autostart.disable() or ["autostart was already off"]
        else:
            lines = [autostart.status()]
    except (autostart.AutostartUnavailable, OSError) as exc:
        print(f"trayassist: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def register(subparsers: Any) -> None:
    """Add `autostart` to the top-level subcommands."""
    parser = subparsers.add_parser("autostart", help="start trayassist at login: on, off, status")
    parser.add_argument("state", choices=("on", "off", "status"))
    parser.add_argument("--systemd", action="store_true",
                        help="Linux: a systemd user unit instead of an XDG autostart entry")
    parser.set_defaults(func=cmd_autostart)
