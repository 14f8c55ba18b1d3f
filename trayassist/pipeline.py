"""One job, start to end: capture -> prompt -> generate -> deliver.

No threads and no OS calls here: every effect goes through a port, so the whole
flow runs synchronously in tests with the fakes from `trayassist.testing`.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trayassist.actions import Action
from trayassist.cleanup import clean_output, cut_repetition, off_task, repeating_tail
from trayassist.engines.base import Cancelled, Engine, EngineError, GenOptions
from trayassist.guard import Flag, check
from trayassist.ports import Clipboard, ClipboardSnapshot, Keys
from trayassist.prompting import build_prompt

log = logging.getLogger(__name__)


class EmptyInput(ValueError):
    pass


class OffTask(EngineError):
    """The model produced something other than an edit of the text; nothing is pasted."""


@dataclass(frozen=True)
class Outcome:
    text: str  # cleaned, framed like the input: what gets pasted or printed
    flags: tuple[Flag, ...]
    input_tokens: int
    pieces: int
    engine_s: float  # time spent inside the engine
    looped: bool = False  # the model repeated itself; its output was cut there

    @property
    def warnings(self) -> tuple[str, ...]:
        """Everything the user should check, one line each, without their text."""
        notes = tuple(str(f) for f in self.flags)
        if self.looped:
            notes += ("the model started repeating itself; its output was cut there",)
        return notes


def transform(
    action: Action,
    text: str,
    engine: Engine,
    *,
    language: str,
    cancel: threading.Event,
    on_piece: Callable[[str], None] | None = None,
    deadline_s: float = 120.0,
) -> Outcome:
    """Run `action` on `text`. Owner thread of `engine`; blocks while generating."""
    if not text.strip():
        raise EmptyInput("the input is empty")
    prompt = build_prompt(engine.chat_format, action.instruction_for(language), text,
                          action.example)
    started = time.perf_counter()
    input_tokens = engine.count_text_tokens(text)
    context_left = engine.info.context_size - engine.count_tokens(prompt)
    options = GenOptions(
        max_tokens=action.token_budget(input_tokens, context_left),
        temperature=action.temperature,
        deadline_s=deadline_s,
    )
    raw = ""
    pieces = 0
    period = None
    stream = engine.generate(prompt, options, cancel)
    try:
        for piece in stream:
            raw += piece
            pieces += 1
            period = repeating_tail(raw)
            if period is not None:
                raw = cut_repetition(raw, period)
                break
            if on_piece:
                on_piece(piece)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # a generator stopped early releases the engine at once
    engine_s = time.perf_counter() - started
    result = clean_output(raw, text)
    if not result.strip():
        raise EngineError("the model returned nothing")
    problem = off_task(result, text, action.example)
    if problem is not None:
        raise OffTask(problem)
    flags = tuple(check(text, result, must_keep_all=action.keep_all_facts))
    return Outcome(result, flags, input_tokens, pieces, engine_s, looped=period is not None)


class Status(enum.Enum):
    DONE = "done"
    COPIED = "copied"  # clipboard delivery mode: result is on the clipboard
    NOTHING_SELECTED = "nothing-selected"
    SECRET = "secret"
    KEYS_HELD = "keys-held"
    REFUSED = "refused"  # busy with another job, paused, or the model is not ready
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class Timing:
    """Every bound in one place; each exists for a reason a user would notice."""

    # The user's fingers may still be on Ctrl/Alt/Shift from the hotkey; copying
    # before they let go would send Ctrl+Alt+Shift+C.
    modifier_release_s: float = 1.5
    # Apps answer Ctrl+C within a few hundred ms; past this, nothing was selected.
    copy_timeout_s: float = 1.5
    poll_s: float = 0.01
    # The target reads the clipboard after Ctrl+V; we wait for that read, bounded,
    # before restoring the user's clipboard under it.
    paste_read_s: float = 1.5
    # After the read, some apps (Electron, terminals) paste asynchronously.
    paste_settle_s: float = 0.15


@dataclass
class JobResult:
    status: Status
    message: str  # one line for a notification; never contains the user's text
    flags: tuple[Flag, ...] = ()
    original: str | None = field(default=None, repr=False)  # for "copy last original"


def _poll(condition: Callable[[], bool], timeout: float, step: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def run_job(
    action: Action,
    clipboard: Clipboard,
    keys: Keys,
    engine: Engine,
    cancel: threading.Event,
    *,
    language: str,
    delivery: str = "paste",
    timing: Timing = Timing(),
    deadline_s: float = 120.0,
) -> JobResult:
    """Capture the selection, transform it, paste it back; the user's clipboard is
    restored on every path. Worker thread."""
    if not keys.wait_modifiers_released(timing.modifier_release_s):
        return JobResult(Status.KEYS_HELD, "Release the hotkey's keys, then try again.")
    snapshot = clipboard.snapshot()
    restore_guard = _RestoreGuard(clipboard, snapshot)
    try:
        clipboard.clear()
        keys.send_copy()
        copied = _poll(lambda: clipboard.is_secret() or bool(clipboard.read_text()),
                       timing.copy_timeout_s, timing.poll_s)
        if not copied:
            return JobResult(Status.NOTHING_SELECTED, "Nothing selected: select text first.")
        if clipboard.is_secret():
            log.info("job refused: selection is marked secret")
            return JobResult(Status.SECRET, "That text is marked secret; left untouched.")
        original = clipboard.read_text() or ""
        restore_guard.expect(original)
        if not original.strip():
            return JobResult(Status.NOTHING_SELECTED, "Nothing selected: select text first.")
        try:
            outcome = transform(action, original, engine, language=language, cancel=cancel,
                                deadline_s=deadline_s)
        except Cancelled:
            return JobResult(Status.CANCELLED, "Cancelled; your text is unchanged.",
                             original=original)
        except (EngineError, EmptyInput) as exc:
            return JobResult(Status.FAILED, f"{action.name} failed: {exc}; text unchanged.",
                             original=original)
        if cancel.is_set():
            return JobResult(Status.CANCELLED, "Cancelled; your text is unchanged.",
                             original=original)
        if clipboard.is_secret() or clipboard.read_text() != original:
            # The user copied something while the model worked: that is now the
            # clipboard to give back after the paste.
            restore_guard.resnapshot()
        clipboard.write_text(outcome.text)
        restore_guard.expect(outcome.text)
        if delivery == "clipboard":
            restore_guard.disarm()  # the result on the clipboard is what the user asked for
            return JobResult(Status.COPIED, f"{action.name}: result copied to the clipboard.",
                             outcome.flags, original)
        if not keys.wait_modifiers_released(timing.modifier_release_s):
            # Ctrl+V now would arrive as Ctrl+Alt+V: leave the result for the user.
            restore_guard.disarm()
            return JobResult(Status.COPIED, f"{action.name}: keys were held, so the result "
                             "is on the clipboard: paste it with Ctrl+V.", outcome.flags, original)
        keys.send_paste()
        if clipboard.wait_read(timing.paste_read_s):
            time.sleep(timing.paste_settle_s)
        return JobResult(Status.DONE, f"{action.name} done.", outcome.flags, original)
    finally:
        restore_guard.restore()


class _RestoreGuard:
    """Restores the user's clipboard unless someone else changed it meanwhile.

    We only put back the snapshot while the clipboard still holds what we last saw
    there (the captured selection or our result); if the user copied something new
    during the job, theirs wins.
    """

    def __init__(self, clipboard: Clipboard, snapshot: ClipboardSnapshot) -> None:
        self._clipboard = clipboard
        self._snapshot = snapshot
        self._expected: str | None = None  # None: still ours (cleared / copy pending)
        self._armed = True

    def resnapshot(self) -> None:
        self._snapshot = self._clipboard.snapshot()

    def expect(self, text: str) -> None:
        self._expected = text

    def disarm(self) -> None:
        self._armed = False

    def restore(self) -> None:
        if not self._armed:
            return
        if self._expected is not None and not self._clipboard.is_secret():
            current = self._clipboard.read_text()
            if current is not None and current != self._expected:
                log.info("clipboard changed during the job; not restoring")
                return
        self._clipboard.restore(self._snapshot)
