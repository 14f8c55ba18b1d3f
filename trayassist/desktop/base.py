"""What every desktop backend shares: the bundle of ports, and the errors they raise.

Each platform folder (`x11/`, `basic/`, and later `windows/`, `wayland/`) builds a
`Desktop` from its own adapters; `trayassist.desktop.make_desktop` only chooses which.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from trayassist.hotkey_syntax import parse_hotkey
from trayassist.ports import (
    AppInfo,
    Clipboard,
    Focus,
    HotkeySource,
    Keys,
    Notifier,
    PrimarySelection,
)

log = logging.getLogger(__name__)


class DesktopUnavailable(RuntimeError):
    """No usable desktop backend; the message says how to fix it, in one line."""


class HotkeyTaken(Exception):
    """Another program already holds a hotkey's key combination; the message says which."""

    def __init__(self, taken: list[str]) -> None:
        self.taken = taken  # e.g. ["<ctrl>+<alt>+<shift>+e for rewrite"]
        what = ", ".join(taken)
        verb = "is" if len(taken) == 1 else "are"
        super().__init__(f"hotkey{'s' * (len(taken) > 1)} {what} {verb} already taken by "
                         "another program: free it there or choose another in the config")


class NoFocus:
    """The Focus port where the platform cannot tell which app is focused."""

    def focused_app(self) -> AppInfo | None:
        return None


@dataclass(frozen=True)
class Desktop:
    clipboard: Clipboard
    keys: Keys
    notifier: Notifier
    hotkeys: HotkeySource
    backend: str
    focus: Focus = field(default_factory=NoFocus)
    # Reads the focused app's selection without a keystroke, where the platform can.
    primary: PrimarySelection | None = None


def guarded(name: str, callback: Callable[[], None]) -> Callable[[], None]:
    """A raising callback would kill the listener thread; log and carry on instead."""

    def run() -> None:
        try:
            callback()
        except Exception:
            log.exception("hotkey callback for %s failed", name)

    return run


def described(spec: str, names: Mapping[str, str] | None) -> str:
    """`<ctrl>+<alt>+e for rewrite`: how a hotkey is named in messages."""
    name = (names or {}).get(spec)
    return f"{parse_hotkey(spec).canonical} for {name}" if name else parse_hotkey(spec).canonical
