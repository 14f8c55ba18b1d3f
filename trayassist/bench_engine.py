"""`trayassist bench`, the engine figures: llama.cpp's own decode loop (the ceiling), the
llama-cpp engine's generation rate and time to first token, prompt-lookup's gain, and
gpt4all on the same prompt. Never prints or logs what the model generates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from trayassist import paths
from trayassist.engines.base import Engine, GenOptions
from trayassist.engines.llama_cpp_engine import LlamaCppEngine, llama_lib
from trayassist.engines.llama_kv import context_params
from trayassist.engines.prompt_lookup import DEFAULT_LOOKUP
from trayassist.prompting import ChatFormat, Prompt

LOOKUP_TRY = DEFAULT_LOOKUP or 3  # draft length compared with no lookup


class RawLoop:
    """llama.cpp's own decode loop through the low-level API, as in its `simple` example:
    llama_batch_get_one + llama_decode + a greedy sampler, nothing else per token."""

    def __init__(self, path: Path, threads: int, batch_threads: int, n_ctx: int) -> None:
        self.L = L = llama_lib()
        self.model = L.llama_model_load_from_file(str(path).encode(),
                                                  L.llama_model_default_params())
        params = context_params(L, n_ctx, threads, batch_threads)
        self.ctx = L.llama_init_from_model(self.model, params)
        self.mem = L.llama_get_memory(self.ctx)
        self.sampler = L.llama_sampler_init_greedy()
        self.prompt: list[int] = []

    def rate(self, tokens: list[int], n: int) -> float:
        """Tokens/s over n greedy tokens (end of generation ignored) after the first."""
        L, ctx = self.L, self.ctx
        if tokens != self.prompt:
            L.llama_memory_clear(self.mem, False)
            arr = (L.llama_token * len(tokens))(*tokens)
            L.llama_decode(ctx, L.llama_batch_get_one(arr, len(tokens)))
            self.prompt = tokens
        else:  # keep the prompt's KV, redo its last token for fresh logits
            L.llama_memory_seq_rm(self.mem, 0, len(tokens) - 1, -1)
            arr = (L.llama_token * 1)(tokens[-1])
            L.llama_decode(ctx, L.llama_batch_get_one(arr, 1))
        one = (L.llama_token * 1)()
        token = L.llama_sampler_sample(self.sampler, ctx, -1)
        started = time.perf_counter()
        for _ in range(n - 1):
            one[0] = token
            L.llama_decode(ctx, L.llama_batch_get_one(one, 1))
            token = L.llama_sampler_sample(self.sampler, ctx, -1)
        return (n - 1) / (time.perf_counter() - started)

    def close(self) -> None:
        self.L.llama_sampler_free(self.sampler)
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def _rate(stream: Iterator[str], count: Callable[[], int]) -> tuple[float, int]:
    """Consume a stream; tokens/s after the first piece, and the tokens after it."""
    first_at = first_count = None
    for _piece in stream:
        if first_at is None:
            first_at, first_count = time.perf_counter(), count()
    if first_at is None or first_count is None:
        return 0.0, 0
    after = count() - first_count
    elapsed = time.perf_counter() - first_at
    return (after / elapsed if elapsed > 0 and after > 0 else 0.0), after


def engine_rate(engine: LlamaCppEngine, prompt: Prompt, n: int) -> float:
    """Like the raw loop: fixed length, and no prompt-lookup drafts (measured apart)."""
    saved, engine.lookup, engine._ignore_eog = engine.lookup, 0, True
    try:
        stream = engine.generate(prompt, GenOptions(max_tokens=n), threading.Event())
        return _rate(stream, lambda: engine.stats.generated)[0]
    finally:
        engine.lookup, engine._ignore_eog = saved, False


def ttft_ms(engine: Engine, prompt: Prompt) -> float:
    started = time.perf_counter()
    stream = engine.generate(prompt, GenOptions(max_tokens=8), threading.Event())
    try:
        next(stream)
        return (time.perf_counter() - started) * 1000
    finally:
        stream.close()  # type: ignore[attr-defined]


def lookup_gain(engine: LlamaCppEngine, prompt: Prompt, budget: int) -> tuple[float, float]:
    """Generation tok/s of one natural job without, then with prompt-lookup drafts."""
    rates = []
    saved = engine.lookup
    try:
        for lookup in (0, LOOKUP_TRY):
            engine.lookup = lookup
            stream = engine.generate(prompt, GenOptions(max_tokens=budget), threading.Event())
            rates.append(_rate(stream, lambda: engine.stats.generated)[0])
    finally:
        engine.lookup = saved
    return rates[0], rates[1]


def gpt4all_rates(path: Path, fmt: ChatFormat, threads: int, prompt: Prompt, repeat: int,
                  gen_tokens: int, notes: list[str],
                  count: Callable[[str], int]) -> list[float]:
    """gpt4all through the Engine protocol, on the same prompt (it stops at end of turn:
    the rate counts the tokens it produced, re-tokenized with the llama.cpp tokenizer)."""
    try:
        from trayassist.engines.gpt4all_engine import Gpt4AllEngine

        g4 = Gpt4AllEngine(path, fmt, threads=threads, cache_dir=paths.cache_dir())
        g4.load()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, the run goes on
        notes.append(f"gpt4all_tok_s: engine unavailable: {type(exc).__name__}: {exc}")
        return []
    rates = []
    try:
        for _ in range(min(3, repeat)):
            times: list[float] = []
            text = ""
            for piece in g4.generate(prompt, GenOptions(max_tokens=gen_tokens),
                                     threading.Event()):
                times.append(time.perf_counter())
                text += piece
            after = count(text) - 1
            if len(times) > 1 and after > 0:
                rates.append(after / (times[-1] - times[0]))
    except Exception as exc:  # noqa: BLE001
        notes.append(f"gpt4all_tok_s: generation failed: {type(exc).__name__}: {exc}")
    finally:
        g4.close()
    return rates
