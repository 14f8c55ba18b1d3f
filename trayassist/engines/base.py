"""The Engine port: a model loaded once, kept resident, generating cancellably.

Thread contract: an engine is owned by exactly one thread (the worker in the daemon,
the main thread in the CLI). `load`, `generate` and `close` are called on that thread
and may block; only `cancel` (a threading.Event) is touched from other threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from trayassist.prompting import ChatFormat, Prompt


class EngineError(Exception):
    """A model could not be loaded or run; the message is one line for the user."""


class ModelLoadError(EngineError):
    pass


class Cancelled(EngineError):
    """The caller set the cancel event; generation stopped between two tokens."""


class DeadlineExceeded(EngineError):
    """Generation ran past its wall-clock bound."""


class PromptTooLong(EngineError):
    pass


@dataclass(frozen=True)
class GenOptions:
    max_tokens: int
    temperature: float = 0.0
    deadline_s: float = 120.0
    # >1 discourages the loops greedy decoding falls into on tiny models.
    repeat_penalty: float = 1.0


@dataclass(frozen=True)
class EngineInfo:
    name: str
    model_path: Path
    context_size: int
    chat_format: str
    threads: int
    endpoint: str | None = None  # a server's URL (engine "openai"); None: in-process
    remote_host: str | None = None  # set when that server is not on this machine


@runtime_checkable
class Engine(Protocol):
    @property
    def info(self) -> EngineInfo: ...

    @property
    def chat_format(self) -> ChatFormat: ...

    def load(self) -> None:
        """Load the model (idempotent). Owner thread; blocks for seconds."""

    def count_tokens(self, prompt: Prompt) -> int:
        """Tokens the whole prompt takes. Owner thread."""

    def count_text_tokens(self, text: str) -> int:
        """Tokens plain text takes (no control tokens). Owner thread."""

    def generate(
        self, prompt: Prompt, options: GenOptions, cancel: threading.Event
    ) -> Iterator[str]:
        """Stream text pieces until end of turn, max_tokens, cancel or the deadline.

        Owner thread. Raises Cancelled / DeadlineExceeded (after yielding what it had)
        and PromptTooLong before yielding anything.
        """

    def warm(self, prompt: Prompt) -> None:
        """Precompute state for the prompt's head so later jobs start fast. Owner thread."""

    def close(self) -> None:
        """Free the model. Owner thread."""
