"""Autostart on macOS: a LaunchAgent plist in ~/Library/LaunchAgents, loaded by
launchd at login (RunAtLoad) in the user's GUI session (Aqua)."""

from __future__ import annotations

import contextlib
import os
import plistlib
import shutil
import subprocess
from pathlib import Path

LABEL = "io.github.trayassist"


def plist_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def agent(command: list[str], env: dict[str, str]) -> dict[str, object]:
    spec: dict[str, object] = {
        "Label": LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    }
    if env:
        spec["EnvironmentVariables"] = dict(env)
    return spec


def _launchctl(*args: str) -> None:
    tool = shutil.which("launchctl")
    if tool is None:
        return
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run([tool, *args], capture_output=True, timeout=10)


def enable(command: list[str], env: dict[str, str], *, systemd: bool = False) -> list[str]:
    if systemd:
        from trayassist.autostart import AutostartUnavailable

        raise AutostartUnavailable("--systemd is for Linux; macOS uses a LaunchAgent")
    path = plist_path()
    data = plistlib.dumps(agent(command, env))
    plistlib.loads(data)  # refuse to write anything launchd could not read
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return [f"wrote {path} (starts at login)"]


def disable() -> list[str]:
    path = plist_path()
    if not path.exists():
        return []
    _launchctl("bootout", f"gui/{os.getuid()}", str(path))
    path.unlink()
    return [f"removed {path}"]


def status() -> str:
    return f"on: LaunchAgent {plist_path()}" if plist_path().exists() else "off"
