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
from trayassist.ports import ClipboardSnapshot
from trayassist.prompting import CHATML, ChatFormat, Prompt

TEXT = "text/plain;charset=utf-8"
SECRET_HINT = "x-kde-passwordManagerHint"


@dataclass
class FakeApp:
    """A text field with a selection: what Ctrl+C / Ctrl+V act on."""

    text: str = ""
    selection: tuple[int, int] = (0, 0)
    copy_delay_polls: int = 0  # the app answers Ctrl+C only after this many reads

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

    def snapshot(self) -> ClipboardSnapshot:
        return ClipboardSnapshot(dict(self.formats), owned=bool(self.formats))

    def restore(self, snap: ClipboardSnapshot) -> None:
        self.restores += 1
        self.formats = dict(snap.formats)

    def clear(self) -> None:
        self.formats = {}

    def read_text(self) -> str | None:
        data = self.formats.get(TEXT)
        return data.decode("utf-8") if data is not None else None

    def write_text(self, text: str) -> None:
        self.formats = {TEXT: text.encode("utf-8")}
        self.reads_by_target = 0

    def wait_read(self, timeout: float) -> bool:
        return self.reads_by_target > 0

    def is_secret(self) -> bool:
        return self.formats.get(SECRET_HINT) == b"secret"

    def copy_from(self, text: str, *, secret: bool = False) -> None:
        """What an app (or a password manager) does on copy."""
        self.formats = {TEXT: text.encode("utf-8")}
        if secret:
            self.formats[SECRET_HINT] = b"secret"


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

    def send_copy(self) -> None:
        self.sent.append("copy")
        if self.app.selected:
            self.clipboard.copy_from(self.app.selected, secret=self.secret)

    def send_paste(self) -> None:
        self.sent.append("paste")
        text = self.clipboard.read_text()
        if text is None:
            return
        self.clipboard.reads_by_target += 1
        start, end = self.app.selection
        self.app.text = self.app.text[:start] + text + self.app.text[end:]
        self.app.selection = (start + len(text), start + len(text))


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
    """Engine "scripted": TRAYASSIST_SCRIPTED='{"reply": "upper"|"echo"|"<fixed text>",
    "token_delay_s": 0.05, "load_delay_s": 0}'."""
    spec = json.loads(os.environ.get("TRAYASSIST_SCRIPTED", "{}") or "{}")
    reply = spec.get("reply", "upper")
    replies: dict[str, Callable[[str], str]] = {"upper": str.upper, "echo": str}
    fn = replies.get(reply, lambda _text, fixed=reply: fixed)
    return ScriptedEngine(reply=fn, token_delay_s=float(spec.get("token_delay_s", 0.0)),
                          load_delay_s=float(spec.get("load_delay_s", 0.0)))
