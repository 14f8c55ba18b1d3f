"""The model step of a job: text in, a cleaned and checked result out.

No desktop here: `pipeline.run_job` captures and delivers around it, and `trayassist run`
calls it directly. Owner thread of the engine only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from trayassist.actions import Action
from trayassist.cleanup import clean_output, cut_repetition, off_task, repeating_tail
from trayassist.engines.base import Engine, EngineError, GenOptions
from trayassist.guard import Flag, check
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
