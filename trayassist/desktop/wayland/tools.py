"""External commands the Wayland backend runs: always bounded by a timeout, and a missing
one is a single message naming the package that provides it."""

from __future__ import annotations

import shutil
import subprocess

# tool -> (Debian/Ubuntu package, Fedora, Arch)
PACKAGES = {
    "wtype": ("wtype", "wtype", "wtype"),
    "wl-copy": ("wl-clipboard", "wl-clipboard", "wl-clipboard"),
    "wl-paste": ("wl-clipboard", "wl-clipboard", "wl-clipboard"),
    "swaymsg": ("sway", "sway", "sway"),
    "hyprctl": ("hyprland", "hyprland", "hyprland"),
}


class ToolMissing(OSError):
    def __init__(self, tool: str) -> None:
        self.tool = tool
        super().__init__(f"{tool} is not installed: {install_hint(tool)}")


def install_hint(tool: str) -> str:
    deb, fedora, arch = PACKAGES.get(tool, (tool, tool, tool))
    return (f"sudo apt install {deb} (Fedora: sudo dnf install {fedora}; "
            f"Arch: sudo pacman -S {arch})")


def which(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolMissing(tool)
    return path


def run(args: list[str], timeout: float, data: bytes | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    """Run a tool with a hard timeout. Raises ToolMissing, subprocess.TimeoutExpired or
    CalledProcessError (with the tool's stderr)."""
    return subprocess.run([which(args[0]), *args[1:]], input=data, capture_output=True,
                          timeout=timeout, check=True)
