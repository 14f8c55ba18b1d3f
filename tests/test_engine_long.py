"""Long prompts on the real model: the context comes from the GGUF, a repeated or extended
prompt reuses the KV cache bit-exactly, and long texts run in pieces end to end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_marks import NO_LLAMA_ON_WINDOWS

from trayassist.actions import BUILTIN_ACTIONS
from trayassist.cleanup import repeated_sentence, trim_to_sentence
from trayassist.engines.base import GenOptions
from trayassist.engines.gguf_meta import choose_context, context_info
from trayassist.engines.llama_cpp_engine import LlamaCppEngine
from trayassist.engines.llama_kv import N_BATCH
from trayassist.longtext import article, letter
from trayassist.prompting import CHATML, build_prompt
from trayassist.transform import Progress, transform

pytestmark = [pytest.mark.engine, NO_LLAMA_ON_WINDOWS]


@pytest.fixture(scope="module")
def engine(model_path: Path) -> Iterator[LlamaCppEngine]:
    eng = LlamaCppEngine(model_path, CHATML, threads=1)
    eng.load()
    yield eng
    eng.close()


def test_the_context_is_the_models_own_as_far_as_memory_allows(model_path: Path,
                                                             engine: LlamaCppEngine) -> None:
    info = context_info(model_path)
    assert info.trained == 8192 and info.kv_bytes_per_token == 30 * 2 * 192 * 2
    assert choose_context(model_path, available=64 * 2**30) == 8192
    small = choose_context(model_path, available=400 * 2**20)  # 400 MiB free
    assert 2048 <= small < 8192 and small % 256 == 0
    assert engine.info.context_size == choose_context(model_path)


def _gen(engine: LlamaCppEngine, text: str, n: int = 10) -> str:
    a = BUILTIN_ACTIONS["summarize"]
    p = build_prompt(CHATML, a.instruction, text, a.example)
    return "".join(engine.generate(p, GenOptions(max_tokens=n), threading.Event()))


def test_a_repeated_long_prompt_decodes_only_its_last_batch(engine: LlamaCppEngine) -> None:
    text = article(900)
    engine.clear_cache()
    cold = _gen(engine, text)
    before = engine.stats.evaluated
    assert _gen(engine, text) == cold  # bit-identical
    assert engine.stats.evaluated - before <= N_BATCH
    # Extended: more text pasted after the same text reuses the whole batches before it.
    longer = text + "\n\n" + article(200, seed=5)
    before = engine.stats.evaluated
    warm = _gen(engine, longer)
    reused_eval = engine.stats.evaluated - before
    engine.clear_cache()
    assert _gen(engine, longer) == warm
    assert reused_eval < engine.stats.prompt_tokens and reused_eval <= \
        engine.count_text_tokens(longer) - N_BATCH


def test_a_ten_paragraph_proofread_streams_in_pieces(engine: LlamaCppEngine) -> None:
    text = letter(10)
    seen: list[Progress] = []
    out = transform(BUILTIN_ACTIONS["proofread"], text, engine, language="English",
                    cancel=threading.Event(), on_progress=seen.append)
    assert out.parts >= 10 and seen[-1].done == out.parts
    assert out.text.count("\n\n") == text.count("\n\n")  # paragraph breaks where they were
    assert out.text.endswith("\n") and not out.text.endswith("\n\n")


def test_a_long_summary_has_no_repeated_or_cut_sentence(engine: LlamaCppEngine) -> None:
    text = article(3000)
    out = transform(BUILTIN_ACTIONS["summarize"], text, engine, language="English",
                    cancel=threading.Event())
    summary = out.text.strip()
    assert out.parts > 3 and summary and len(summary) < len(text) / 4
    assert repeated_sentence(summary, {}) is None
    assert trim_to_sentence(summary) == (summary, False)
