"""One job, start to end: capture -> transform -> deliver.

No threads and no OS calls here: every effect goes through a port, so the whole
flow runs synchronously in tests with the fakes from `trayassist.testing`. Each step
lives in its own module: `capture`, `transform`, `deliver`; the restore rule in
`clipboard_guard`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Protocol

from trayassist.actions import Action
from trayassist.apps import Plan
from trayassist.capture import capture
from trayassist.clipboard_guard import RestoreGuard
from trayassist.deliver import (
    DIFF_ACTIONS,
    ReviewSession,
    deliver,
    deliver_reviewed,
    discarded,
    needs_review,
)
from trayassist.engines.base import Cancelled, Engine, EngineError
from trayassist.job import DEFAULT_TIMING, JobResult, JobStats, Status, Timing
from trayassist.ports import AppInfo, Clipboard, Keys, PrimarySelection
from trayassist.transform import (
    BadInput,
    EmptyInput,
    OffTask,
    Outcome,
    Progress,
    ProgressFn,
    transform,
)

log = logging.getLogger(__name__)

__all__ = ["EmptyInput", "JobResult", "OffTask", "Outcome", "Status", "Timing", "run_job",
           "transform"]

CANCELLED = "Cancelled; your text is unchanged."


class Reviewer(Protocol):
    """Opens the review window (trayassist.review.ReviewHost). Worker thread."""

    def open(self, action: str, original: str, *, diff: bool, note: str | None = None,
             cancel: threading.Event | None = None) -> ReviewSession: ...


def _open(reviewer: Reviewer, action: str, original: str, diff: bool, note: str | None,
          cancel: threading.Event) -> ReviewSession | None:
    try:
        return reviewer.open(action, original, diff=diff, note=note, cancel=cancel)
    except Exception:  # noqa: BLE001 - a window that cannot open must not lose the job
        log.exception("review window unavailable")
        return None


RETRY_TEMPERATURE = 0.3  # "a little temperature": a different answer, still on task


def run_job(
    action: Action,
    clipboard: Clipboard,
    keys: Keys,
    engine: Engine,
    cancel: threading.Event,
    *,
    language: str,
    delivery: str = "paste",
    timing: Timing = DEFAULT_TIMING,
    deadline_s: float = 120.0,
    plan: Plan | None = None,
    primary: PrimarySelection | None = None,
    app: AppInfo | None = None,
    on_progress: ProgressFn | None = None,
    reviewer: Reviewer | None = None,
    capable: bool = True,
    note: str | None = None,
) -> JobResult:
    """Capture the selection, transform it, deliver it; the user's clipboard is
    restored on every path. `plan` is the focused app's profile (None: the platform
    defaults); `primary` reads a selection without a key. Worker thread; `on_progress`
    is called on it too (and feeds the review window when one is open).

    `delivery` (or the plan's, which wins) is auto | review | paste | clipboard (see
    trayassist.deliver); without a `reviewer` auto means paste and review means
    clipboard (never paste unseen). `capable`: the model passed `trayassist eval` for
    this action (or is unmeasured); `note` says otherwise in the review window."""
    if plan is not None and not plan.enabled:
        log.debug("trayassist is off for %s: nothing done", plan.app_id)
        return JobResult(Status.DISABLED, f"trayassist is off in {plan.app_id}"
                         + (f" ({plan.note})" if plan.note else "") + ".")
    if plan is not None:
        delivery = plan.delivery
    if reviewer is None and delivery in ("auto", "review"):
        delivery = "paste" if delivery == "auto" else "clipboard"
    if not keys.wait_modifiers_released(timing.modifier_release_s):
        return JobResult(Status.KEYS_HELD, "Release the hotkey's keys, then try again.")
    guard = RestoreGuard(clipboard, clipboard.snapshot())
    session: ReviewSession | None = None
    try:
        captured = capture(clipboard, keys, guard, timing, plan, primary, app)
        if isinstance(captured, JobResult):
            return captured
        original = captured
        diff = action.name in DIFF_ACTIONS
        if reviewer is not None and (delivery == "review"
                                     or (delivery == "auto" and not capable)):
            # Known up front: stream into the window from the first piece.
            session = _open(reviewer, action.name, original, diff, note, cancel)

        def progress(p: Progress) -> None:
            if on_progress is not None:
                on_progress(p)
            if session is not None:
                session.progress(p)

        def run(act: Action) -> Outcome:
            return transform(act, original, engine, language=language, cancel=cancel,
                             deadline_s=deadline_s, on_progress=progress,
                             on_piece=session.piece if session is not None else None)

        try:
            outcome = run(action)
        except Cancelled:
            return _cancelled(session, original)
        except (EngineError, BadInput) as exc:
            return JobResult(Status.FAILED, f"{action.name} failed: {exc}; text unchanged.",
                             original=original)
        if cancel.is_set():
            return _cancelled(session, original)
        stats = JobStats(len(original.split()), outcome.input_tokens, outcome.pieces)
        review = reviewer is not None and needs_review(delivery, outcome, capable)
        if review and session is None and reviewer is not None:
            session = _open(reviewer, action.name, original, diff, note, cancel)
        if review and session is None:
            # The window could not open: never paste unseen what needed a look.
            result = deliver(action, outcome, original, clipboard, keys, guard,
                             delivery="clipboard", timing=timing, plan=plan)
            result.message = (f"{action.name}: the result needs a check and the review "
                              "window could not open, so it is on the clipboard.")
        elif review and session is not None:

            def again(attempt: int) -> Outcome:
                warmer = RETRY_TEMPERATURE + 0.1 * (attempt - 1)
                return run(replace(action, temperature=max(action.temperature, warmer)))

            try:
                result, extra = deliver_reviewed(action, outcome, original, clipboard, keys,
                                                 guard, session, retry=again, timing=timing,
                                                 note=note, plan=plan)
            except Cancelled:
                return _cancelled(session, original, stats)
            except (EngineError, BadInput) as exc:
                return JobResult(Status.FAILED, f"{action.name} failed: {exc}; text "
                                 "unchanged.", original=original, stats=stats)
            stats = replace(stats, output_tokens=stats.output_tokens + extra)
        else:
            if delivery not in ("paste", "clipboard"):
                delivery = "paste"
            result = deliver(action, outcome, original, clipboard, keys, guard,
                             delivery=delivery, timing=timing, plan=plan)
        result.stats = stats
        return result
    finally:
        if session is not None:
            session.close()
        guard.restore()


def _cancelled(session: ReviewSession | None, original: str,
               stats: JobStats | None = None) -> JobResult:
    """A job stopped by its cancel: the user's Esc in the review window is a discard
    (counted like one after the end); anything else (tray menu, quit) a cancel."""
    if session is not None and session.discarded_by_user:
        return discarded(original, stats)
    return JobResult(Status.CANCELLED, CANCELLED, original=original, stats=stats)
