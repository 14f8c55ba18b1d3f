"""Give the keyboard focus back to the target window after the review window (Windows).

The review window takes the foreground so its keys work; before Ctrl+V the target must
have it again, or the paste lands in no window. `remember` notes the foreground window
before the review window opens; `restore` asks for it back with SetForegroundWindow and
polls GetForegroundWindow until it is (bounded).

Windows only lets a process take the foreground under rules (it received the last input,
or the foreground process allowed it): the review window allows its parent, the daemon,
before it hides, and `remember` allows the review window's process (the daemon just got
the hotkey, so it may pass that on). Only those two processes, never any (ASFW_ANY). Proven
under Wine, whose rules are looser; see the README for what real Windows must still prove.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from trayassist.desktop.windows._win32 import user32

log = logging.getLogger(__name__)

STEP_S = 0.01


class WindowsWindowFocus:
    """The review host's WindowFocus on Windows. Worker thread; local calls only.
    `window_pid` gives the review window's process id (None: not running)."""

    def __init__(self, window_pid: Callable[[], int | None]) -> None:
        self._window_pid = window_pid

    def remember(self) -> object | None:
        hwnd = user32.GetForegroundWindow()
        # Let the review window's process take the foreground: the hotkey made the daemon
        # eligible to pass that on. Fails quietly where it is not.
        pid = self._window_pid()
        if pid:
            user32.AllowSetForegroundWindow(pid)
        return int(hwnd) if hwnd else None

    def restore(self, window: object, timeout: float) -> bool:
        if not isinstance(window, int):
            return True
        deadline = time.monotonic() + timeout
        while True:
            if not user32.IsWindow(window):
                log.info("target window is gone")
                return False
            if user32.GetForegroundWindow() == window:
                return True
            user32.SetForegroundWindow(window)
            if time.monotonic() >= deadline:
                return user32.GetForegroundWindow() == window
            time.sleep(STEP_S)
