"""Start trayassist at login: one module per OS, this one only chooses.

Each backend module (linux.py, macos.py, and windows.py for Windows) provides

    enable(command: list[str], env: dict[str, str], *, systemd: bool) -> list[str]
    disable() -> list[str]
    status() -> str

`enable` writes what the OS reads at login and returns one line per thing it did;
`disable` removes only what trayassist wrote; `status` is one line. They never start
or stop a running daemon. Thread: any; they only touch files (and, best effort, the
OS's service manager).
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

BACKENDS = {"linux": "linux", "darwin": "macos", "win32": "windows"}


class AutostartUnavailable(Exception):
    """No autostart backend for this OS, or a backend option it does not support."""


def backend(platform: str | None = None) -> ModuleType:
    platform = platform or sys.platform
    key = next((k for k in BACKENDS if platform.startswith(k)), None)
    if key is None:
        raise AutostartUnavailable(f"autostart is not supported on {platform}")
    try:
        return importlib.import_module(f"trayassist.autostart.{BACKENDS[key]}")
    except ImportError as exc:
        raise AutostartUnavailable(f"autostart on {platform} is not available yet: {exc}") from exc


def daemon_command() -> list[str]:
    """What login runs: this Python (the venv's, absolute) with the daemon."""
    return [os.path.abspath(sys.executable), "-m", "trayassist", "daemon"]


def daemon_env() -> dict[str, str]:
    """Environment the daemon needs beyond the session's: a portable TRAYASSIST_HOME."""
    home = os.environ.get("TRAYASSIST_HOME")
    return {"TRAYASSIST_HOME": os.path.abspath(home)} if home else {}


def enable(*, systemd: bool = False) -> list[str]:
    return list(backend().enable(daemon_command(), daemon_env(), systemd=systemd))


def disable() -> list[str]:
    return list(backend().disable())


def status() -> str:
    return str(backend().status())
