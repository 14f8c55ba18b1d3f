"""Autostart on Linux: an XDG autostart entry (every desktop that follows the XDG
autostart spec: GNOME, KDE, Xfce, LXQt, ...), or with --systemd a systemd user unit
bound to graphical-session.target (for sessions that start their apps through systemd).

Only one of the two is kept, so the daemon never starts twice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ENTRY = "trayassist.desktop"
UNIT = "trayassist.service"
TARGET = "graphical-session.target"


def _config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".config"


def entry_path() -> Path:
    return _config_home() / "autostart" / ENTRY


def unit_path() -> Path:
    return _config_home() / "systemd" / "user" / UNIT


def _wants_link() -> Path:
    return _config_home() / "systemd" / "user" / f"{TARGET}.wants" / UNIT


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def exec_quote(arg: str) -> str:
    """One argument of a desktop entry's Exec key (quoting rules of the XDG spec,
    then the string escaping every value gets)."""
    arg = arg.replace("%", "%%")
    if arg and not (_RESERVED & set(arg)):
        quoted = arg
    else:
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        quoted = f'"{inner}"'
    return quoted.replace("\\", "\\\\")


def systemd_quote(arg: str) -> str:
    arg = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(c in arg for c in " \t\"'\\;"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def desktop_entry(command: list[str], env: dict[str, str]) -> str:
    prefix = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
    exec_line = " ".join(exec_quote(a) for a in [*prefix, *command])
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=trayassist",
        "Comment=Private writing assistant in the system tray",
        f"Exec={exec_line}",
        "Icon=trayassist",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "",
    ])


def service_unit(command: list[str], env: dict[str, str]) -> str:
    lines = [
        "[Unit]",
        "Description=trayassist writing assistant",
        f"PartOf={TARGET}",
        f"After={TARGET}",
        "",
        "[Service]",
        f"ExecStart={' '.join(systemd_quote(a) for a in command)}",
        *(f"Environment={systemd_quote(f'{k}={v}')}" for k, v in env.items()),
        "Restart=on-failure",
        "RestartSec=5",
        "",
        "[Install]",
        f"WantedBy={TARGET}",
        "",
    ]
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _systemctl(*args: str) -> bool:
    """Best effort: tell a running systemd user manager; False if there is none."""
    tool = shutil.which("systemctl")
    if tool is None:
        return False
    try:
        proc = subprocess.run([tool, "--user", *args], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _remove_unit() -> list[str]:
    done = []
    link, unit = _wants_link(), unit_path()
    if link.is_symlink() or link.exists():
        link.unlink()
    if unit.exists():
        unit.unlink()
        _systemctl("daemon-reload")
        done.append(f"removed {unit}")
    return done


def _remove_entry() -> list[str]:
    entry = entry_path()
    if entry.exists():
        entry.unlink()
        return [f"removed {entry}"]
    return []


def enable(command: list[str], env: dict[str, str], *, systemd: bool = False) -> list[str]:
    if systemd:
        done = _remove_entry()
        unit = unit_path()
        _write(unit, service_unit(command, env))
        # What `systemctl --user enable` does, done directly so it works without a
        # running user manager (e.g. over ssh); the manager is told if there is one.
        link = _wants_link()
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(unit)
        _systemctl("daemon-reload")
        return [*done, f"wrote {unit} (starts with {TARGET})"]
    done = _remove_unit()
    entry = entry_path()
    _write(entry, desktop_entry(command, env))
    return [*done, f"wrote {entry} (starts at login)"]


def disable() -> list[str]:
    return _remove_entry() + _remove_unit()


def status() -> str:
    if unit_path().exists():
        state = "enabled" if _wants_link().exists() else "written but not enabled"
        return f"on: systemd user unit {unit_path()} ({state})"
    if entry_path().exists():
        return f"on: XDG autostart entry {entry_path()}"
    return "off"
