"""The long-text section of `trayassist bench`: a ~3,000-word summary and a 10-paragraph
proofread through `transform`, each against llama.cpp's own time for one long prompt.

For each job: the time until its first visible piece (the first cleaned result shown in
the review window or printed by `run`), its total time, and the raw baseline: llama.cpp's
low-level loop (the bench's RawLoop settings) given the whole text as ONE prompt (decoded
in batches of n_batch) and then generating as many tokens as the job generated in all,
greedy, end of turn ignored. Job and baseline run back to back in alternating order, so a
busy machine slows both; the ratio is the median of the pair ratios. Texts come from
`trayassist.longtext` (generated, deterministic). Never prints the outputs.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

from trayassist.actions import Action
from trayassist.engines.llama_cpp_engine import LlamaCppEngine, llama_lib
from trayassist.engines.llama_kv import context_params
from trayassist.longtext import article, letter
from trayassist.prompting import ChatFormat, build_prompt
from trayassist.transform import Progress, transform

LONG_KEYS = ("long_summarize_first_s", "long_summarize_total_s", "long_summarize_raw_s",
             "long_proofread_first_s", "long_proofread_total_s", "long_proofread_raw_s")
FIRST_PIECE_TARGET_S = 1.5


def texts(quick: bool) -> dict[str, str]:
    """The two texts: full size, or shorter ones for the CI smoke run (same keys)."""
    if quick:
        return {"summarize": article(400), "proofread": letter(3)}
    return {"summarize": article(3000), "proofread": letter(10)}


class RawLongPrompt:
    """llama.cpp's loop for one long prompt: llama_batch_get_one in n_batch slices, then
    greedy tokens one at a time. Its own context, the engine's settings and threads."""

    def __init__(self, path: Path, threads: int, batch_threads: int, n_ctx: int) -> None:
        self.L = L = llama_lib()
        self.n_ctx = n_ctx
        self.model = L.llama_model_load_from_file(str(path).encode(),
                                                  L.llama_model_default_params())
        self.params = context_params(L, n_ctx, threads, batch_threads)
        self.ctx = L.llama_init_from_model(self.model, self.params)
        self.mem = L.llama_get_memory(self.ctx)
        self.sampler = L.llama_sampler_init_greedy()

    def seconds(self, tokens: list[int], generate: int) -> float:
        L, ctx = self.L, self.ctx
        generate = max(1, min(generate, self.n_ctx - len(tokens)))
        L.llama_memory_clear(self.mem, True)
        started = time.perf_counter()
        step = self.params.n_batch
        for i in range(0, len(tokens), step):
            part = tokens[i:i + step]
            arr = (L.llama_token * len(part))(*part)  # must outlive llama_decode
            if L.llama_decode(ctx, L.llama_batch_get_one(arr, len(part))) != 0:
                raise RuntimeError("raw long prompt: llama_decode failed")
        one = (L.llama_token * 1)()
        token = L.llama_sampler_sample(self.sampler, ctx, -1)
        for _ in range(generate - 1):
            one[0] = token
            if L.llama_decode(ctx, L.llama_batch_get_one(one, 1)) != 0:
                raise RuntimeError("raw long prompt: llama_decode failed")
            token = L.llama_sampler_sample(self.sampler, ctx, -1)
        return time.perf_counter() - started

    def close(self) -> None:
        self.L.llama_sampler_free(self.sampler)
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def job(engine: LlamaCppEngine, action: Action, text: str,
        language: str) -> tuple[float, float, int]:
    """(first visible piece s, total s, tokens generated) of one transform."""
    first: list[float] = []
    started = time.perf_counter()
    generated = engine.stats.generated

    def on_progress(p: Progress) -> None:
        if not first and p.done >= 1 and p.text_so_far.strip():
            first.append(time.perf_counter() - started)

    transform(action, text, engine, language=language, cancel=threading.Event(),
              on_progress=on_progress, deadline_s=600)
    total = time.perf_counter() - started
    return (first[0] if first else total), total, engine.stats.generated - generated


def measure(engine: LlamaCppEngine, path: Path, fmt: ChatFormat, actions: dict[str, Action],
            language: str, quick: bool, repeat: int) -> tuple[dict[str, list[float]],
                                                              dict[str, Any]]:
    """Samples for LONG_KEYS, and extra figures (tokens, pieces, the pair ratios)."""
    samples: dict[str, list[float]] = {k: [] for k in LONG_KEYS}
    extra: dict[str, Any] = {}
    raw = RawLongPrompt(path, engine.info.threads, engine.batch_threads,
                        engine.info.context_size)
    try:
        for name, text in texts(quick).items():
            action = actions[name]
            one_prompt = engine.tokenize(build_prompt(fmt, action.instruction_for(language),
                                                      text, action.example))
            pairs: list[float] = []
            for i in range(repeat):
                order = ("job", "raw") if i % 2 == 0 else ("raw", "job")
                generated = 0
                raw_s = total = 0.0
                for which in order:
                    if which == "job":
                        engine.clear_cache()  # heads are warm in the daemon: warm them
                        engine.warm(build_prompt(fmt, action.instruction_for(language),
                                                 "", action.example))
                        first, total, generated = job(engine, action, text, language)
                        samples[f"long_{name}_first_s"].append(first)
                        samples[f"long_{name}_total_s"].append(total)
                    else:
                        # as many tokens as the job generated: the first pair runs the
                        # job first; a raw-first pair takes the count of the pair before
                        count = generated or extra[f"long_{name}_generated"]
                        raw_s = raw.seconds(one_prompt, count)
                        samples[f"long_{name}_raw_s"].append(raw_s)
                extra[f"long_{name}_generated"] = generated
                pairs.append(total / raw_s if raw_s else 0.0)
            extra[f"long_{name}_prompt_tokens"] = len(one_prompt)
            extra[f"long_{name}_words"] = len(text.split())
            extra[f"long_{name}_vs_raw"] = round(statistics.median(pairs), 3)
    finally:
        raw.close()
    return samples, extra
