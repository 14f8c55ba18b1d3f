"""Which app has keyboard focus on Wayland: sway's IPC (the i3 protocol over $SWAYSOCK,
spoken directly: one local round trip), Hyprland's `hyprctl activewindow -j`, else unknown.
Window titles are never read into AppInfo."""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import subprocess
from pathlib import Path
from typing import Any

from trayassist.desktop.wayland import tools
from trayassist.ports import AppInfo

log = logging.getLogger(__name__)

IPC_TIMEOUT = 1.0
MAGIC = b"i3-ipc"
GET_TREE = 4


def _process(pid: int | None) -> str | None:
    if not pid:
        return None
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() or None
    except OSError:
        return None


def sway_ipc(kind: int, payload: bytes = b"", path: str | None = None) -> Any:
    target = path or os.environ.get("SWAYSOCK") or os.environ.get("I3SOCK")
    if not target:
        raise OSError("SWAYSOCK is unset")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(IPC_TIMEOUT)
        sock.connect(target)
        sock.sendall(MAGIC + struct.pack("=II", len(payload), kind) + payload)
        header = b""
        while len(header) < 14:
            chunk = sock.recv(14 - len(header))
            if not chunk:
                raise OSError("sway closed the IPC connection")
            header += chunk
        length, _ = struct.unpack("=II", header[6:])
        body = bytearray()
        while len(body) < length:
            chunk = sock.recv(min(65536, length - len(body)))
            if not chunk:
                raise OSError("sway closed the IPC connection")
            body += chunk
    return json.loads(body)


class SwayFocus:
    """The Focus port on sway (and i3-compatible IPC). Worker thread (any thread)."""

    def focused(self) -> tuple[str, AppInfo] | None:
        """(a key naming the focused window, its AppInfo), or None."""
        try:
            tree = sway_ipc(GET_TREE)
        except (OSError, ValueError) as exc:
            log.info("sway IPC failed: %s", exc)
            return None
        stack = [tree]
        while stack:
            node = stack.pop()
            if node.get("focused") and node.get("type") in ("con", "floating_con"):
                props = node.get("window_properties") or {}
                app_id = node.get("app_id") or props.get("class") or ""
                pid = node.get("pid")
                return str(node.get("id")), AppInfo(str(app_id).lower(), props.get("instance"),
                                                    _process(pid), pid)
            stack += node.get("nodes", []) + node.get("floating_nodes", [])
        return None

    def focused_app(self) -> AppInfo | None:
        found = self.focused()
        return found[1] if found else None


class HyprlandFocus:
    """The Focus port on Hyprland. Worker thread."""

    def focused(self) -> tuple[str, AppInfo] | None:
        try:
            out = tools.run(["hyprctl", "activewindow", "-j"], timeout=IPC_TIMEOUT).stdout
            win = json.loads(out or b"{}")
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            log.info("hyprctl failed: %s", exc)
            return None
        if not win.get("class") and not win.get("address"):
            return None
        pid = win.get("pid") or None
        return str(win.get("address")), AppInfo(str(win.get("class", "")).lower(),
                                                 win.get("initialClass"), _process(pid), pid)

    def focused_app(self) -> AppInfo | None:
        found = self.focused()
        return found[1] if found else None


def detect_focus() -> SwayFocus | HyprlandFocus | None:
    if os.environ.get("SWAYSOCK"):
        return SwayFocus()
    if os.environ.get("HYPRLAND_INSTANCE_SIGNATURE"):
        return HyprlandFocus()
    return None
