"""The fallback backend (macOS today): pyperclip + pynput.

Its clipboard snapshot is TEXT ONLY (see basic/clipboard.py). Not proven in CI: no macOS
machine is available to the project.
"""

from __future__ import annotations

from collections.abc import Callable

from trayassist.desktop.base import Desktop
from trayassist.desktop.notify import CommandNotifier


def make(notify_fallback: Callable[[str, str], None] | None = None) -> Desktop:
    from trayassist.desktop.basic.clipboard import BasicClipboard
    from trayassist.desktop.basic.hotkeys import PynputHotkeys
    from trayassist.desktop.basic.keys import BasicKeys

    return Desktop(BasicClipboard(), BasicKeys(), CommandNotifier(notify_fallback),
                   PynputHotkeys(), "basic")
