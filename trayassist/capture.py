"""Capture: get the user's selected text into memory without harming the app under it.

Worker thread. Returns the text, or a JobResult saying why there is none (nothing
selected, marked secret, no safe way to copy); the caller's RestoreGuard gives the
clipboard back either way.

Two paths, chosen by the app's profile (`trayassist.apps.Plan`):
- keyless: the focused app's primary selection (X11 PRIMARY), when the platform has one
  and the app owns it. No key reaches the app and the clipboard is not touched, so
  nothing lands in clipboard history.
- copy keys: clear the clipboard, send the app's copy chord, poll for the copy. A
  terminal's chord is never a bare Ctrl+C (SIGINT); an app with no safe copy chord gets
  no key at all.
"""

from __future__ import annotations

import logging

from trayassist.apps import Plan
from trayassist.clipboard_guard import RestoreGuard
from trayassist.job import JobResult, Status, Timing, poll
from trayassist.ports import AppInfo, Clipboard, Keys, PrimarySelection

log = logging.getLogger(__name__)

NOTHING_SELECTED = "Nothing selected: select text first."
NO_SAFE_COPY = ("Nothing captured: select the text with the mouse first (trayassist sends "
                "{app} no copy key).")


def capture(clipboard: Clipboard, keys: Keys, guard: RestoreGuard, timing: Timing,
            plan: Plan | None = None, primary: PrimarySelection | None = None,
            app: AppInfo | None = None) -> str | JobResult:
    """The selected text, keyless where the plan allows, else by the copy chord."""
    if plan is not None and plan.use_primary and primary is not None:
        text = primary.read_primary(app)
        if text is not None and text.strip():
            log.debug("captured from the primary selection of %s", plan.app_id)
            return text
    copy = None if plan is None else plan.copy
    if copy == "":
        assert plan is not None
        log.debug("no copy key for %s; nothing captured", plan.app_id)
        return JobResult(Status.NOTHING_SELECTED, NO_SAFE_COPY.format(app=plan.app_id))
    clipboard.clear()
    if copy is None:
        keys.send_copy()
    else:
        keys.send_chord(copy)
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
