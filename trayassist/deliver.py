"""Deliver: put the result where the user wants it, without losing their clipboard.

Worker thread. The caller's RestoreGuard restores the user's clipboard afterwards unless
delivery leaves the result on it on purpose (disarm).
"""

from __future__ import annotations

import time

from trayassist.actions import Action
from trayassist.apps import Plan
from trayassist.clipboard_guard import RestoreGuard
from trayassist.job import JobResult, Status, Timing
from trayassist.ports import Clipboard, Keys
from trayassist.transform import Outcome


def deliver(action: Action, outcome: Outcome, original: str, clipboard: Clipboard,
            keys: Keys, guard: RestoreGuard, *, delivery: str, timing: Timing,
            plan: Plan | None = None) -> JobResult:
    """Paste the result over the selection (with the app's paste chord), or leave it on
    the clipboard (the plan says so for terminals: terminal output cannot be replaced)."""
    if plan is not None:
        delivery = plan.delivery
    hint = plan.paste_hint if plan is not None and plan.paste_hint else "Ctrl+V"
    if clipboard.is_secret() or clipboard.read_text() != original:
        # The user copied something while the model worked: that is now the
        # clipboard to give back after the paste.
        guard.resnapshot()
    clipboard.write_text(outcome.text)
    guard.expect(outcome.text)
    if delivery == "clipboard":
        guard.disarm()  # the result on the clipboard is what the user asked for
        copied = (f"result copied: paste it with {hint}" if plan is not None
                  and plan.profile != "default" and plan.paste_hint
                  else "result copied to the clipboard")
        return JobResult(Status.COPIED, f"{action.name}: {copied}.", outcome.flags, original)
    if not keys.wait_modifiers_released(timing.modifier_release_s):
        # Ctrl+V now would arrive as Ctrl+Alt+V: leave the result for the user.
        guard.disarm()
        return JobResult(Status.COPIED, f"{action.name}: keys were held, so the result "
                         f"is on the clipboard: paste it with {hint}.", outcome.flags, original)
    if plan is not None and plan.paste:
        keys.send_chord(plan.paste)
    else:
        keys.send_paste()
    if clipboard.wait_read(timing.paste_read_s):
        time.sleep(timing.paste_settle_s)
    return JobResult(Status.DONE, f"{action.name} done.", outcome.flags, original)
