"""Deliver: put the result where the user wants it, without losing their clipboard.

Modes (config `delivery`):
- "auto" (default): a clean result is pasted at once; a result the guard flagged, one
  whose output looped, or one from a model not capable of the action (per `trayassist
  eval`) goes to the review window instead of over the user's text.
- "review": every result goes through the review window, streamed as it is written.
- "paste": always paste.   - "clipboard": only copy the result.

In the review window Enter pastes, Ctrl+C leaves the result on the clipboard (on
purpose), R runs the action again with a little temperature, Esc discards: the text is
untouched and the clipboard restored.

Worker thread. The caller's RestoreGuard restores the user's clipboard afterwards unless
delivery leaves the result on it on purpose (disarm).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from trayassist.actions import Action
from trayassist.apps import Plan
from trayassist.clipboard_guard import RestoreGuard
from trayassist.job import JobResult, Status, Timing
from trayassist.ports import Clipboard, Keys
from trayassist.transform import Outcome

DIFF_ACTIONS = frozenset({"rewrite", "proofread"})  # shown as a word diff
FOCUS_BACK_S = 1.5  # the target gets the focus back within a few ms; bounded anyway
CHOICE_TIMEOUT_S = 900.0  # a window left open this long is discarded (text untouched)
MAX_RETRIES = 5
DISCARDED = "Discarded; your text is unchanged."


class ReviewSession(Protocol):
    """One job's review window (trayassist.review.ReviewSession). Worker thread."""

    def piece(self, text: str) -> None: ...

    def progress(self, progress: Any) -> None: ...

    def final(self, text: str, warnings: list[str]) -> None: ...

    def retrying(self) -> None: ...

    def wait_choice(self, timeout: float) -> str: ...

    def restore_focus(self, timeout: float) -> bool: ...

    def close(self) -> None: ...

    @property
    def discarded_by_user(self) -> bool:
        """The user pressed Esc (or Discard), possibly while the model still wrote."""
        ...


def needs_review(delivery: str, outcome: Outcome, capable: bool) -> bool:
    """Whether a finished result goes to the review window instead of the paste."""
    if delivery == "review":
        return True
    return delivery == "auto" and (bool(outcome.flags) or outcome.looped or not capable)


def deliver(action: Action, outcome: Outcome, original: str, clipboard: Clipboard,
            keys: Keys, guard: RestoreGuard, *, delivery: str, timing: Timing,
            plan: Plan | None = None) -> JobResult:
    """Paste the result over the selection (with the app's paste chord), or leave it on
    the clipboard (the plan says so for terminals: terminal output cannot be replaced)."""
    if plan is not None and plan.delivery == "clipboard":
        delivery = "clipboard"  # the app cannot take a paste (a terminal): always wins
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


def deliver_reviewed(action: Action, outcome: Outcome, original: str, clipboard: Clipboard,
                     keys: Keys, guard: RestoreGuard, session: ReviewSession, *,
                     retry: Callable[[int], Outcome], timing: Timing,
                     note: str | None = None, plan: Plan | None = None
                     ) -> tuple[JobResult, int]:
    """Show the finished result in the review window and do what the user chooses.

    `retry(n)` runs the action again (the n-th retry) streaming into the same window.
    Returns the result and the number of pieces generated by retries."""
    extra_pieces = 0
    for attempt in range(1, MAX_RETRIES + 2):
        session.final(outcome.text, list(outcome.warnings))
        choice = session.wait_choice(CHOICE_TIMEOUT_S)
        if choice == "retry" and attempt <= MAX_RETRIES:
            session.retrying()
            outcome = retry(attempt)
            extra_pieces += outcome.pieces
            continue
        if choice == "copy":
            result = deliver(action, outcome, original, clipboard, keys, guard,
                             delivery="clipboard", timing=timing, plan=plan)
            return _reviewed(result), extra_pieces
        if choice == "replace":
            if not session.restore_focus(FOCUS_BACK_S):
                result = deliver(action, outcome, original, clipboard, keys, guard,
                                 delivery="clipboard", timing=timing, plan=plan)
                result.message = (f"{action.name}: the target window did not take the focus "
                                  "back, so the result is on the clipboard.")
                return _reviewed(result), extra_pieces
            result = deliver(action, outcome, original, clipboard, keys, guard,
                             delivery="paste", timing=timing, plan=plan)
            return _reviewed(result), extra_pieces
        break
    return _reviewed(JobResult(Status.DISCARDED, DISCARDED, outcome.flags, original)), \
        extra_pieces


def discarded(original: str, stats: Any = None) -> JobResult:
    """The user discarded the result in the review window: their choice, text unchanged."""
    return _reviewed(JobResult(Status.DISCARDED, DISCARDED, original=original, stats=stats))


def _reviewed(result: JobResult) -> JobResult:
    result.reviewed = True
    return result
