"""`trayassist status | trigger | quit`: talk to the running daemon.

Kept light: compositor bindings (sway, GNOME shortcuts) run `trayassist trigger ACTION`
on every key press, so this path imports only the control client, lazily.
"""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing itself costs start-up time on this path
if TYPE_CHECKING:
    from typing import Any

OK, FAILED = 0, 1
TRIGGER_TIMEOUT_S = 330.0  # the daemon gives a job 300 s; its reply may take a moment more
QUIT_WAIT_S = 10.0


def _err(message: str) -> None:
    print(f"trayassist: {message}", file=sys.stderr)


def _ask(payload: dict[str, Any], timeout: float = 5.0) -> dict[str, Any] | None:
    """The reply, or None after saying why on stderr."""
    from trayassist.control import ControlError, NoDaemon, request

    try:
        return request(payload, timeout=timeout)
    except (NoDaemon, ControlError) as exc:
        _err(str(exc))
        return None


def cmd_status(args: argparse.Namespace) -> int:
    reply = _ask({"cmd": "status"})
    if reply is None:
        return FAILED
    reply.pop("ok", None)
    if args.json:
        import json

        print(json.dumps(reply))
    else:
        print(f"{reply['state']}: {reply['model']} on {reply['engine']}, "
              f"{reply['jobs_done']} job(s) done")
        if reply.get("error"):
            print(f"error: {reply['error']}")
    return OK


def cmd_trigger(args: argparse.Namespace) -> int:
    reply = _ask({"cmd": "trigger", "action": args.action}, timeout=TRIGGER_TIMEOUT_S)
    if reply is None:
        return FAILED
    if not reply.get("ok"):
        _err(reply.get("message") or reply.get("error") or "failed")
        return FAILED
    for flag in reply.get("flags", []):
        _err(f"guard: {flag}")
    return OK


def cmd_quit(args: argparse.Namespace) -> int:
    from trayassist.control import wait_gone

    reply = _ask({"cmd": "quit"})
    if reply is None:
        return FAILED
    if not wait_gone(timeout=QUIT_WAIT_S):
        _err(f"trayassist (pid {reply.get('pid')}) did not exit within {QUIT_WAIT_S:.0f} s")
        return FAILED
    return OK


def register(sub: Any) -> None:
    status = sub.add_parser("status", help="ask the running daemon how it is")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(func=cmd_status)
    trigger = sub.add_parser(
        "trigger", help="run an action on the current selection, as its hotkey would "
        "(for Wayland and desktop shortcuts)")
    trigger.add_argument("action")
    trigger.set_defaults(func=cmd_trigger)
    sub.add_parser("quit", help="stop the running daemon (waits until it has exited)"
                   ).set_defaults(func=cmd_quit)
