"""Deliver: put the result where the user wants it, without losing their clipboard.

Worker thread. The caller's RestoreGuard restores the user's clipboard afterwards unless
delivery leaves the result on it on purpose (disarm).
"""

from __future__ import annotations

import time

from trayassist.actions import Action
from trayassist.clipboard_guard import RestoreGuard
from trayassist.job import JobResult, Status, Timing
from trayassist.ports import Clipboard, Keys
from trayassist.transform import Outcome


def deliver(action: Action, outcome: Outcome, original: str, clipboard: Clipboard,
            keys: Keys, guard: RestoreGuard, *, delivery: str, timing: Timing) -> JobResult:
    """Paste the result over the selection, or leave it on the clipboard."""
    if clipboard.is_secret() or clipboard.read_text() != original:
        # The user copied something while the model worked: that is now the
        # clipboard to give back after the paste.
        guard.resnapshot()
    clipboard.write_text(outcome.text)
    guard.expect(outcome.text)
    if delivery == "clipboard":
        guard.disarm()  # the result on the clipboard is what the user asked for
        return JobResult(Status.COPIED, f"{action.name}: result copied to the clipboard.",
                         outcome.flags, original)
    if not keys.wait_modifiers_released(timing.modifier_release_s):
        # Ctrl+V now would arrive as Ctrl+Alt+V: leave the result for the user.
        guard.disarm()
        return JobResult(Status.COPIED, f"{action.name}: keys were held, so the result "
                         "is on the clipboard: paste it with Ctrl+V.", outcome.flags, original)
    keys.send_paste()
    if clipboard.wait_read(timing.paste_read_s):
        time.sleep(timing.paste_settle_s)
    return JobResult(Status.DONE, f"{action.name} done.", outcome.flags, original)
