"""llama-cpp-python runtime: the default engine (current llama.cpp, KV prefix reuse)."""

from __future__ import annotations

import codecs
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trayassist.engines.base import (
    Cancelled,
    DeadlineExceeded,
    EngineInfo,
    GenOptions,
    ModelLoadError,
    PromptTooLong,
)
from trayassist.prompting import ChatFormat, Prompt

log = logging.getLogger(__name__)


def default_threads() -> int:
    """Physical cores, at most 8: llama.cpp decode is memory-bound, and hyperthreads or
    more than ~8 threads slow it down on desktop CPUs."""
    logical = os.cpu_count() or 2
    return max(1, min(8, logical // 2 if logical > 4 else logical))


class LlamaCppEngine:
    """Keeps one `llama_cpp.Llama` resident; owned by a single thread."""

    def __init__(
        self,
        model_path: Path,
        chat_format: ChatFormat,
        *,
        threads: int | None = None,
        context_size: int = 4096,
    ) -> None:
        self._path = Path(model_path)
        self._format = chat_format
        self._threads = threads or default_threads()
        self._n_ctx = context_size
        self._llm: Any = None
        self._stop_ids: frozenset[int] = frozenset()

    @property
    def info(self) -> EngineInfo:
        n_ctx = self._llm.n_ctx() if self._llm is not None else self._n_ctx
        return EngineInfo("llama-cpp", self._path, n_ctx, self._format.name, self._threads)

    @property
    def chat_format(self) -> ChatFormat:
        return self._format

    def load(self) -> None:
        if self._llm is not None:
            return
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelLoadError(
                "llama-cpp-python is not installed: run bash installers/install.sh"
            ) from exc
        if not self._path.is_file():
            raise ModelLoadError(f"model file not found: {self._path}")
        started = time.perf_counter()
        try:
            self._llm = Llama(
                model_path=str(self._path),
                n_ctx=self._n_ctx,
                n_threads=self._threads,
                n_threads_batch=self._threads,
                n_batch=512,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"could not load model {self._path.name}: {exc}") from exc
        self._stop_ids = self._end_of_turn_ids()
        log.info("model loaded: %s in %.2fs, %d threads", self._path.name,
                 time.perf_counter() - started, self._threads)

    def _end_of_turn_ids(self) -> frozenset[int]:
        import llama_cpp

        ids = {self._llm.token_eos()}
        eot = self._llm.tokenize(self._format.end_of_turn.encode(), add_bos=False, special=True)
        if len(eot) == 1:
            ids.add(eot[0])
        vocab = self._llm._model.vocab
        ids.update(t for t in range(self._llm.n_vocab())
                   if llama_cpp.llama_vocab_is_eog(vocab, t))
        return frozenset(ids)

    def tokenize(self, prompt: Prompt) -> list[int]:
        tokens: list[int] = []
        for i, seg in enumerate(prompt.segments()):
            tokens += self._llm.tokenize(seg.text.encode("utf-8"), add_bos=(i == 0),
                                         special=seg.special)
        return tokens

    def count_tokens(self, prompt: Prompt) -> int:
        self.load()
        return len(self.tokenize(prompt))

    def count_text_tokens(self, text: str) -> int:
        self.load()
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def warm(self, prompt: Prompt) -> None:
        """Evaluate the head so the next job of this action reuses its KV state."""
        self.load()
        head = Prompt(prompt.head, "", ())
        tokens = self.tokenize(head)
        self._llm.reset()
        self._llm.eval(tokens)

    def generate(
        self, prompt: Prompt, options: GenOptions, cancel: threading.Event
    ) -> Iterator[str]:
        self.load()
        tokens = self.tokenize(prompt)
        room = self._llm.n_ctx() - len(tokens)
        if room < 16:
            raise PromptTooLong(
                f"the selection is too long for this model ({len(tokens)} tokens, "
                f"context {self._llm.n_ctx()})"
            )
        max_tokens = min(options.max_tokens, room)
        deadline = time.monotonic() + options.deadline_s
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        greedy = options.temperature <= 0
        for produced, token in enumerate(self._llm.generate(
            tokens,
            temp=options.temperature if not greedy else 0.0,
            top_k=1 if greedy else 40,
            top_p=1.0 if greedy else 0.95,
            min_p=0.0 if greedy else 0.05,
            repeat_penalty=options.repeat_penalty,
        ), start=1):
            if token in self._stop_ids:
                break
            piece = decoder.decode(self._llm.detokenize([token]))
            if piece:
                yield piece
            if produced >= max_tokens:
                break
            if cancel.is_set():
                raise Cancelled("cancelled")
            if time.monotonic() > deadline:
                raise DeadlineExceeded(f"generation took longer than {options.deadline_s:.0f}s")
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
