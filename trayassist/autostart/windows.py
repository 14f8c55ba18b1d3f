"""Autostart on Windows: the value "trayassist" under
HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run (per user, no admin rights).

The installer writes the same value when "start at login" is ticked, and its uninstaller
deletes it. The command uses pythonw.exe (beside the python.exe that runs this) so no
console window opens at login.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
VALUE = "trayassist"


def _winreg() -> Any:
    import winreg

    return winreg


def windowless(command: list[str]) -> list[str]:
    """python.exe -> pythonw.exe (same folder) when it exists: no console at login."""
    exe = command[0]
    folder, name = os.path.split(exe)
    if name.lower() == "python.exe":
        quiet = os.path.join(folder, "pythonw.exe")
        if os.path.exists(quiet):
            return [quiet, *command[1:]]
    return command


def run_command(command: list[str], env: dict[str, str]) -> str:
    """The Run value's command line. A Run value cannot set environment variables, so
    `env` (e.g. a portable TRAYASSIST_HOME) is set by a one-line -c prologue."""
    command = windowless(command)
    if env and command[1:3] == ["-m", "trayassist"]:
        code = ("import os,runpy,sys;os.environ.update(" + repr(dict(env)) + ");"
                f"sys.argv=['trayassist',*{command[3:]!r}];"
                "runpy.run_module('trayassist',run_name='__main__')")
        command = [command[0], "-c", code]
    return subprocess.list2cmdline(command)


def enable(command: list[str], env: dict[str, str], *, systemd: bool = False) -> list[str]:
    if systemd:
        from trayassist import autostart

        unavailable: type[Exception] = getattr(autostart, "AutostartUnavailable", ValueError)
        raise unavailable("--systemd is for Linux; Windows uses the Run key")
    winreg = _winreg()
    line = run_command(command, env)
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
        winreg.SetValueEx(key, VALUE, 0, winreg.REG_SZ, line)
    return [f"wrote HKCU\\{RUN_KEY}\\{VALUE}: {line}"]


def current() -> str | None:
    """The Run value's command line, or None when there is none."""
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            value, _ = winreg.QueryValueEx(key, VALUE)
    except FileNotFoundError:
        return None
    return str(value)


def disable() -> list[str]:
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, VALUE)
    except FileNotFoundError:
        return []
    return [f"removed HKCU\\{RUN_KEY}\\{VALUE}"]


def status() -> str:
    line = current()
    if line is None:
        return "off (no Run value)"
    return f"on: HKCU\\{RUN_KEY}\\{VALUE} = {line}"


__all__ = ["disable", "enable", "status"]
