"""One job, start to end: capture -> transform -> deliver.

No threads and no OS calls here: every effect goes through a port, so the whole
flow runs synchronously in tests with the fakes from `trayassist.testing`. Each step
lives in its own module: `capture`, `transform`, `deliver`; the restore rule in
`clipboard_guard`.
"""

from __future__ import annotations

import logging
import threading

from trayassist.actions import Action
from trayassist.apps import Plan
from trayassist.capture import capture
from trayassist.clipboard_guard import RestoreGuard
from trayassist.deliver import deliver
from trayassist.engines.base import Cancelled, Engine, EngineError
from trayassist.job import DEFAULT_TIMING, JobResult, Status, Timing
from trayassist.ports import AppInfo, Clipboard, Keys, PrimarySelection
from trayassist.transform import BadInput, EmptyInput, OffTask, Outcome, ProgressFn, transform

log = logging.getLogger(__name__)

__all__ = ["EmptyInput", "JobResult", "OffTask", "Outcome", "Status", "Timing", "run_job",
           "transform"]

CANCELLED = "Cancelled; your text is unchanged."


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
) -> JobResult:
    """Capture the selection, transform it, deliver it; the user's clipboard is
    restored on every path. `plan` is the focused app's profile (None: the platform
    defaults); `primary` reads a selection without a key. Worker thread; `on_progress`
    is called on it too."""
    if plan is not None and not plan.enabled:
        log.debug("trayassist is off for %s: nothing done", plan.app_id)
        return JobResult(Status.DISABLED, f"trayassist is off in {plan.app_id}"
                         + (f" ({plan.note})" if plan.note else "") + ".")
    if not keys.wait_modifiers_released(timing.modifier_release_s):
        return JobResult(Status.KEYS_HELD, "Release the hotkey's keys, then try again.")
    guard = RestoreGuard(clipboard, clipboard.snapshot())
    try:
        captured = capture(clipboard, keys, guard, timing, plan, primary, app)
        if isinstance(captured, JobResult):
            return captured
        original = captured
        try:
            outcome = transform(action, original, engine, language=language, cancel=cancel,
                                deadline_s=deadline_s, on_progress=on_progress)
        except Cancelled:
            return JobResult(Status.CANCELLED, CANCELLED, original=original)
        except (EngineError, BadInput) as exc:
            return JobResult(Status.FAILED, f"{action.name} failed: {exc}; text unchanged.",
                             original=original)
        if cancel.is_set():
            return JobResult(Status.CANCELLED, CANCELLED, original=original)
        return deliver(action, outcome, original, clipboard, keys, guard,
                       delivery=delivery, timing=timing, plan=plan)
    finally:
        guard.restore()
