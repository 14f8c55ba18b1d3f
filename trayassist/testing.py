"""In-memory fakes of every port and a scripted engine.

Shipped (not hidden in tests/) so that tests, benchmarks and users' own plugins can
drive the real pipeline without a desktop or a model. The scripted engine is also
reachable from a real daemon as engine "scripted", configured by the
TRAYASSIST_SCRIPTED environment variable, so desktop tests can run a slow job.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trayassist.engines.base import Cancelled, DeadlineExceeded, EngineInfo, GenOptions
from trayassist.hotkey_syntax import canonical_chord
from trayassist.ports import AppInfo, ClipboardSnapshot
from trayassist.prompting import CHATML, ChatFormat, Prompt

TEXT = "text/plain;charset=utf-8"
SECRET_HINT = "x-kde-passwordManagerHint"


@dataclass
class FakeApp:
    """A text field with a selection: what Ctrl+C / Ctrl+V act on."""

    text: str = ""
    selection: tuple[int, int] = (0, 0)
    copy_delay_polls: int = 0  # the app answers Ctrl+C only after this many reads
    # Chords (canonical) that copy / paste in this app besides the platform's own. Text
    # fields in GTK, Qt, Tk and browsers copy on Ctrl+Insert too (CUA keys).
    copy_chords: tuple[str, ...] = ("<ctrl>+<insert>",)
    paste_chords: tuple[str, ...] = ()
    interruptible: bool = False  # a terminal: a bare Ctrl+C chord kills its command
    interrupted: bool = False

    def select_all(self) -> None:
        self.selection = (0, len(self.text))

    @property
    def selected(self) -> str:
        return self.text[self.selection[0]: self.selection[1]]


class FakeClipboard:
    def __init__(self, formats: dict[str, bytes] | None = None) -> None:
        self.formats: dict[str, bytes] = dict(formats or {})
        self.reads_by_target = 0  # set by a pasting app: how often the target read us
        self.restores = 0
        self.ours = False  # the content is what trayassist wrote (carries our marker)
        self.history: list[str] = []  # what a clipboard manager recorded (honours the hint)

    def snapshot(self) -> ClipboardSnapshot:
        return ClipboardSnapshot(dict(self.formats), owned=bool(self.formats))

    def restore(self, snap: ClipboardSnapshot) -> None:
        self.restores += 1
        self.formats = dict(snap.formats)
        self.ours = False

    def clear(self) -> None:
        self.formats = {}
        self.ours = False

    def read_text(self) -> str | None:
        data = self.formats.get(TEXT)
        # As the X11 clipboard reads it: invalid UTF-8 comes back as lone surrogates.
        return data.decode("utf-8", errors="surrogateescape") if data is not None else None

    def write_text(self, text: str) -> None:
        # Marked as the real backends do, so clipboard history leaves it out.
        self.formats = {TEXT: text.encode("utf-8"), SECRET_HINT: b"secret"}
        self.ours = True
        self.reads_by_target = 0

    def wait_read(self, timeout: float) -> bool:
        return self.reads_by_target > 0

    def is_secret(self) -> bool:
        return not self.ours and self.formats.get(SECRET_HINT) == b"secret"

    def copy_from(self, text: str, *, secret: bool = False) -> None:
        """What an app (or a password manager) does on copy."""
        self.formats = {TEXT: text.encode("utf-8")}
        self.ours = False
        if secret:
            self.formats[SECRET_HINT] = b"secret"
        else:
            self.history.append(text)


class FakeKeys:
    """Keys wired to a FakeApp and a FakeClipboard, recording what was sent."""

    def __init__(self, app: FakeApp, clipboard: FakeClipboard, *,
                 modifiers_held: bool = False, secret: bool = False) -> None:
        self.app = app
        self.clipboard = clipboard
        self.modifiers_held = modifiers_held
        self.secret = secret
        self.sent: list[str] = []

    def wait_modifiers_released(self, timeout: float) -> bool:
        return not self.modifiers_held

    def send_copy(self, record: bool = True) -> None:
        if record:
            self.sent.append("copy")
            if self.app.interruptible:  # the platform's copy key is Ctrl+C
                self.app.interrupted = True
                return
        if self.app.selected:
            self.clipboard.copy_from(self.app.selected, secret=self.secret)

    def send_chord(self, chord: str) -> None:
        """Records the canonical chord; the app copies/pastes on the chords it knows."""
        canonical = canonical_chord(chord)
        self.sent.append(canonical)
        if canonical in self.app.copy_chords:
            self.send_copy(record=False)
        elif canonical in self.app.paste_chords:
            self.send_paste(record=False)
        elif canonical == "<ctrl>+c" and self.app.interruptible:
            self.app.interrupted = True

    def send_paste(self, record: bool = True) -> None:
        if record:
            self.sent.append("paste")
        text = self.clipboard.read_text()
        if text is None:
            return
        self.clipboard.reads_by_target += 1
        start, end = self.app.selection
        self.app.text = self.app.text[:start] + text + self.app.text[end:]
        self.app.selection = (start + len(text), start + len(text))


class FakePrimary:
    """A primary selection: `owner` is the app owning it, `text` its selection."""

    def __init__(self, text: str | None = None, owner: AppInfo | None = None) -> None:
        self.text, self.owner = text, owner
        self.reads = 0

    def read_primary(self, app: AppInfo | None) -> str | None:
        self.reads += 1
        if app is None or self.owner is None or app.app_id != self.owner.app_id:
            return None
        return self.text or None


class FakeFocus:
    def __init__(self, app: AppInfo | None = None) -> None:
        self.app = app

    def focused_app(self) -> AppInfo | None:
        return self.app


class FakeNotifier:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def notify(self, title: str, message: str) -> None:
        self.messages.append((title, message))


@dataclass
class ScriptedEngine:
    """An Engine that answers from a script instead of a model.

    `reply` maps the user's text to the answer (default: upper-case it). The answer is
    streamed word by word, `token_delay_s` apart, honouring cancel and the deadline,
    so tests can run slow jobs without a model.
    """

    reply: Callable[[str], str] = str.upper
    token_delay_s: float = 0.0
    fail_with: Exception | None = None
    chat_format: ChatFormat = CHATML
    calls: list[str] = field(default_factory=list)
    loaded: bool = False
    load_delay_s: float = 0.0

    @property
    def info(self) -> EngineInfo:
        return EngineInfo("scripted", Path("scripted"), 4096, self.chat_format.name, 1)

    def load(self) -> None:
        if not self.loaded and self.load_delay_s:
            time.sleep(self.load_delay_s)  # stands in for reading a model file
        self.loaded = True

    def count_tokens(self, prompt: Prompt) -> int:
        return sum(len(s.text.split()) + 1 for s in prompt.segments())

    def count_text_tokens(self, text: str) -> int:
        return len(text.split())

    def warm(self, prompt: Prompt) -> None:
        self.load()

    def generate(
        self, prompt: Prompt, options: GenOptions, cancel: threading.Event
    ) -> Iterator[str]:
        self.load()
        self.calls.append(prompt.text)
        if self.fail_with is not None:
            raise self.fail_with
        deadline = time.monotonic() + options.deadline_s
        words = self.reply(prompt.text).split(" ")
        for i, word in enumerate(words[: options.max_tokens]):
            if cancel.wait(self.token_delay_s) if self.token_delay_s else cancel.is_set():
                raise Cancelled("cancelled")
            if time.monotonic() > deadline:
                raise DeadlineExceeded("deadline")
            yield word if i == 0 else " " + word

    def close(self) -> None:
        self.loaded = False


def scripted_engine_from_env() -> ScriptedEngine:
    """Engine "scripted": TRAYASSIST_SCRIPTED='{"reply": "upper"|"echo"|"<fixed text>"|
    ["<first answer>", "<second>", ..], "token_delay_s": 0.05, "load_delay_s": 0}'.
    A list answers each generation with the next text (the last one repeats): a retry
    then gets a different answer."""
    spec = json.loads(os.environ.get("TRAYASSIST_SCRIPTED", "{}") or "{}")
    reply = spec.get("reply", "upper")
    replies: dict[str, Callable[[str], str]] = {"upper": str.upper, "echo": str}
    answers = [str(r) for r in reply] if isinstance(reply, list) else [str(reply)]

    def next_answer(_text: str) -> str:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    fn = replies.get(reply, next_answer) if isinstance(reply, str) else next_answer
    return ScriptedEngine(reply=fn, token_delay_s=float(spec.get("token_delay_s", 0.0)),
                          load_delay_s=float(spec.get("load_delay_s", 0.0)))
