"""Capture: get the user's selected text into memory without harming the app under it.

Worker thread. Returns the text, or a JobResult saying why there is none (nothing
selected, marked secret); the caller's RestoreGuard gives the clipboard back either way.
"""

from __future__ import annotations

import logging

from trayassist.clipboard_guard import RestoreGuard
from trayassist.job import JobResult, Status, Timing, poll
from trayassist.ports import Clipboard, Keys

log = logging.getLogger(__name__)

NOTHING_SELECTED = "Nothing selected: select text first."


def capture(clipboard: Clipboard, keys: Keys, guard: RestoreGuard,
            timing: Timing) -> str | JobResult:
    """Copy the selection with the copy keystroke and read it from the clipboard."""
    clipboard.clear()
    keys.send_copy()
    copied = poll(lambda: clipboard.is_secret() or bool(clipboard.read_text()),
                  timing.copy_timeout_s, timing.poll_s)
    if not copied:
        return JobResult(Status.NOTHING_SELECTED, NOTHING_SELECTED)
    if clipboard.is_secret():
        log.info("job refused: selection is marked secret")
        return JobResult(Status.SECRET, "That text is marked secret; left untouched.")
    original = clipboard.read_text() or ""
    guard.expect(original)
    if not original.strip():
        return JobResult(Status.NOTHING_SELECTED, NOTHING_SELECTED)
    return original
