"""Give the keyboard focus back to the target window after the review window (Windows).

The review window takes the foreground so its keys work; before Ctrl+V the target must
have it again, or the paste lands in no window. `remember` notes the foreground window
before the review window opens; `restore` asks for it back with SetForegroundWindow and
polls GetForegroundWindow until it is (bounded).

Windows only lets a process take the foreground under rules (it received the last input,
or the foreground process allowed it): the review window calls
AllowSetForegroundWindow(ASFW_ANY) before it hides, and `remember` does the same for the
review window's sake (the daemon just got the hotkey). Proven under Wine, whose rules are
looser; see the README for what real Windows must still prove.
"""

from __future__ import annotations

import logging
import time

from trayassist.desktop.windows._win32 import user32

log = logging.getLogger(__name__)

ASFW_ANY = 0xFFFFFFFF
STEP_S = 0.01


class WindowsWindowFocus:
    """The review host's WindowFocus on Windows. Worker thread; local calls only."""

    def remember(self) -> object | None:
        hwnd = user32.GetForegroundWindow()
        # Let the review window (another process) take the foreground: the hotkey made
        # the daemon eligible to pass that on. Fails quietly where it is not.
        user32.AllowSetForegroundWindow(ASFW_ANY)
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
