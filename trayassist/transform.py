"""The model step of a job: text in, a cleaned and checked result out.

No desktop here: `pipeline.run_job` captures and delivers around it, and `trayassist run`
calls it directly. Owner thread of the engine only.

Short texts go to the model as one prompt. Long ones are worked in pieces (`chunking`):
proofread, rewrite and translate paragraph by paragraph (a very long paragraph by groups
of sentences), each piece a short prompt after the action's cached head, its result put
back between the original separators; summarize goes map-reduce (a summary per section,
then a summary of those). Attention costs grow with a prompt's length, so on a CPU many
short prompts beat one long one, and a tiny model keeps the thread.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from trayassist import chunking
from trayassist.actions import Action
from trayassist.cleanup import (
    clean_output,
    cut_repetition,
    drop_headings,
    frame_like,
    off_task,
    repeated_sentence,
    repeating_tail,
    sentence_counts,
    trim_to_sentence,
)
from trayassist.engines.base import Cancelled, Engine, EngineError, GenOptions
from trayassist.guard import Flag, check
from trayassist.prompting import build_prompt

log = logging.getLogger(__name__)

# The longest input taken (characters, ~50,000 tokens, ~30,000 words: a long report).
MAX_INPUT_CHARS = 200_000
# Texts up to this many tokens go as one prompt, as they always did (a hotkey on a
# paragraph or a short e-mail). Longer ones are worked in pieces.
ONE_PROMPT_TOKENS = 240
PIECE_TOKENS = 160  # an edit piece: a paragraph, or sentences of a longer one
FIRST_PIECE_TOKENS = 40  # the first piece is small, so its result shows within a second
# Summarize: sections of the map step. Larger sections mean fewer tokens generated (what
# costs most on a CPU: ~40 tok/s against ~200 tok/s for prompts) and more attention per
# prompt; 900 tokens keeps each prompt short of where attention starts to dominate.
SECTION_TOKENS = 900
SECTION_SUMMARY_TOKENS = 64  # budget of one section's summary (2-3 sentences)
SUMMARY_TOKENS = 160  # budget of the final summary
_SENTENCE_CUT = "the summary ran out of room; it was cut after its last complete sentence"
_LOOPED = "the model started repeating itself; its output was cut there"
MAX_LISTED = 8  # guard flags (and other notes) listed one line each; past that, a count


def capped_lines(lines: tuple[str, ...], what: str) -> tuple[str, ...]:
    """At most MAX_LISTED lines: a long text can have hundreds of flags, and one line
    each floods stderr, the notification and the review window (off the screen)."""
    if len(lines) <= MAX_LISTED:
        return lines
    rest = len(lines) - MAX_LISTED + 1
    return lines[:MAX_LISTED - 1] + (f"... and {rest} more {what}",)


class BadInput(ValueError):
    """The input cannot be worked on; the message is one line for the user."""


class EmptyInput(BadInput):
    pass


class OffTask(EngineError):
    """The model produced something other than an edit of the text; nothing is pasted."""


@dataclass(frozen=True)
class Progress:
    done: int  # pieces finished (0 at start)
    total: int  # pieces in all (1 for a short text)
    unit: str  # "paragraph", "section", ...
    text_so_far: str  # cleaned result of the finished pieces, framed like the input
    # (unit "section", a map-reduce summary: the section summaries so far, then at
    # done == total the final summary)

    def __str__(self) -> str:
        """"paragraph 3 of 12": the piece being worked on (never the user's text)."""
        return f"{self.unit} {min(self.done + 1, self.total)} of {self.total}"


ProgressFn = Callable[[Progress], None]
PieceFn = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    text: str  # cleaned, framed like the input: what gets pasted or printed
    flags: tuple[Flag, ...]
    input_tokens: int
    pieces: int  # raw pieces the model streamed
    engine_s: float  # time spent inside the engine
    looped: bool = False  # the model repeated itself; its output was cut there
    parts: int = 1  # prompts the job took (1: the text went as one prompt)
    notes: tuple[str, ...] = field(default=())  # other things the user should know

    @property
    def warnings(self) -> tuple[str, ...]:
        """Everything the user should check, one line each, without their text; past
        MAX_LISTED flags (or notes), the rest as a count."""
        notes = capped_lines(tuple(str(f) for f in self.flags), "changes")
        if self.looped:
            notes += (_LOOPED,)
        return notes + capped_lines(self.notes, "notes")


def check_input(text: str) -> None:
    """Refuse what no model should see, with one line saying why (raises BadInput)."""
    if len(text) > MAX_INPUT_CHARS:
        raise BadInput(f"the input is too long: {len(text):,} characters "
                       f"(the limit is {MAX_INPUT_CHARS:,})")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise BadInput("the input is not valid UTF-8 text")
    if "\0" in text:
        raise BadInput("the input contains NUL bytes: it looks like binary data, not text")
    if not text.strip():
        raise EmptyInput("the input is empty")
    if all(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise BadInput("the input has no text, only control characters")


@dataclass
class _Run:
    """One generation's cleaned result and what happened on the way."""

    text: str
    raw_pieces: int
    looped: bool
    cut: bool = False


def _generate(action: Action, text: str, engine: Engine, *, language: str,
              cancel: threading.Event, on_piece: PieceFn | None, deadline_s: float,
              budget: int | None = None, summary: bool = False) -> _Run:
    """One prompt: stream, stop at a loop, clean. Owner thread of `engine`."""
    prompt = build_prompt(engine.chat_format, action.instruction_for(language), text,
                          action.example)
    input_tokens = engine.count_text_tokens(text)
    context_left = engine.info.context_size - engine.count_tokens(prompt)
    max_tokens = action.token_budget(input_tokens, context_left)
    if budget is not None:
        max_tokens = max(16, min(budget, context_left))
    options = GenOptions(max_tokens=max_tokens, temperature=action.temperature,
                         deadline_s=deadline_s)
    allowed = sentence_counts(text)
    folded = text.lower()
    raw = ""
    pieces = 0
    looped = False
    stream = engine.generate(prompt, options, cancel)
    try:
        for piece in stream:
            raw += piece
            pieces += 1
            period = repeating_tail(raw)
            if period is not None and raw[-3 * period:].lower() not in folded:  # the text's
                # own repetitions (a table of "TBD" lines) are copied, not a loop
                raw = cut_repetition(raw, period)
                looped = True
                break
            if any(c in piece for c in ".!?\n…。！？"):
                at = repeated_sentence(raw, allowed)
                if at is not None:
                    raw = raw[:at]
                    looped = True
                    break
            if on_piece:
                on_piece(piece)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # a generator stopped early releases the engine at once
    result = clean_output(raw, text)
    cut = False
    if summary and result.strip():
        # A summary never ends mid-sentence: back to its last complete one; titles and
        # labels the model put above it go.
        trimmed, cut = trim_to_sentence(drop_headings(result.strip()))
        result = clean_output(trimmed, text)
    return _Run(result, pieces, looped, cut)


def transform(
    action: Action,
    text: str,
    engine: Engine,
    *,
    language: str,
    cancel: threading.Event,
    on_piece: PieceFn | None = None,
    on_progress: ProgressFn | None = None,
    deadline_s: float = 120.0,
) -> Outcome:
    """Run `action` on `text`. Owner thread of `engine`; blocks while generating.

    `on_piece` gets raw model pieces as they stream (for a streaming feel); in piecewise
    work it also gets the separator after each piece, and for a map-reduce summary only
    the final pass streams. `on_progress` gets a Progress at the start and after every
    piece. `deadline_s` bounds each prompt. Cancel stops between tokens and between
    pieces (raises Cancelled); nothing partial is returned then.
    """
    check_input(text)
    started = time.perf_counter()
    input_tokens = engine.count_text_tokens(text)
    if input_tokens > ONE_PROMPT_TOKENS:
        if not action.keep_all_facts:
            if input_tokens <= SECTION_TOKENS:  # one section: the summary is one prompt
                return _one_prompt(action, text, engine, language=language, cancel=cancel,
                                   on_piece=on_piece, on_progress=on_progress,
                                   deadline_s=deadline_s, started=started,
                                   input_tokens=input_tokens)
            return _summarize_long(action, text, engine, language=language, cancel=cancel,
                                   on_piece=on_piece, on_progress=on_progress,
                                   deadline_s=deadline_s, started=started,
                                   input_tokens=input_tokens)
        split = chunking.split(text, engine.count_text_tokens, PIECE_TOKENS,
                               first_limit=FIRST_PIECE_TOKENS)
        if len(split.bodies) > 1:
            return _edit_in_pieces(action, text, split, engine, language=language,
                                   cancel=cancel, on_piece=on_piece,
                                   on_progress=on_progress, deadline_s=deadline_s,
                                   started=started, input_tokens=input_tokens)
    return _one_prompt(action, text, engine, language=language, cancel=cancel,
                       on_piece=on_piece, on_progress=on_progress, deadline_s=deadline_s,
                       started=started, input_tokens=input_tokens)


def _one_prompt(action: Action, text: str, engine: Engine, *, language: str,
                cancel: threading.Event, on_piece: PieceFn | None,
                on_progress: ProgressFn | None, deadline_s: float, started: float,
                input_tokens: int) -> Outcome:
    """The whole text as one prompt, as every job ran before long texts were split."""
    if on_progress:
        on_progress(Progress(0, 1, "text", ""))
    run = _generate(action, text, engine, language=language, cancel=cancel,
                    on_piece=on_piece, deadline_s=deadline_s,
                    summary=not action.keep_all_facts)
    engine_s = time.perf_counter() - started
    if not run.text.strip():
        raise EngineError("the model returned nothing")
    problem = off_task(run.text, text, action.example)
    if problem is not None:
        raise OffTask(problem)
    flags = tuple(check(text, run.text, must_keep_all=action.keep_all_facts))
    if on_progress:
        on_progress(Progress(1, 1, "text", run.text))
    return Outcome(run.text, flags, input_tokens, run.raw_pieces, engine_s,
                   looped=run.looped, notes=(_SENTENCE_CUT,) if run.cut else ())


def _edit_in_pieces(action: Action, text: str, split: chunking.Split, engine: Engine, *,
                    language: str, cancel: threading.Event, on_piece: PieceFn | None,
                    on_progress: ProgressFn | None, deadline_s: float, started: float,
                    input_tokens: int) -> Outcome:
    """Proofread / rewrite / translate piece by piece; the guard checks each piece.

    A piece the model got wrong (empty, off task) keeps its original text and says so:
    one bad paragraph must not throw away ten good pages.
    """
    total = len(split.bodies)
    unit = "paragraph" if split.paragraphs == total else "part"
    results: list[str] = []
    flags: list[Flag] = []
    notes: list[str] = []
    pieces = 0
    looped = False
    if on_progress:
        on_progress(Progress(0, total, unit, split.prefix([])))
    for i, body in enumerate(split.bodies):
        if cancel.is_set():
            raise Cancelled("cancelled")
        run = _generate(action, body, engine, language=language, cancel=cancel,
                        on_piece=on_piece, deadline_s=deadline_s)
        pieces += run.raw_pieces
        looped = looped or run.looped
        result = run.text
        problem = "the model returned nothing" if not result.strip() else \
            off_task(result, body, action.example)
        if problem is not None:
            notes.append(f"{unit} {i + 1} of {total} left as it was: {problem}")
            result = body
        else:
            flags += check(body, result, must_keep_all=action.keep_all_facts)
        results.append(result)
        if on_piece:
            on_piece(split.seps[i])
        if on_progress:
            on_progress(Progress(i + 1, total, unit, split.prefix(results)))
    log.info("%s: %d pieces", action.name, total)
    return Outcome(split.join(results), tuple(flags), input_tokens, pieces,
                   time.perf_counter() - started, looped=looped, parts=total,
                   notes=tuple(notes))


def _summarize_long(action: Action, text: str, engine: Engine, *, language: str,
                    cancel: threading.Event, on_piece: PieceFn | None,
                    on_progress: ProgressFn | None, deadline_s: float, started: float,
                    input_tokens: int) -> Outcome:
    """Map-reduce: a short summary of each section, then one summary of those (again in
    sections while they are still long). The guard checks the final summary against
    the whole text: it may drop facts, never change or invent them."""
    layer = chunking.sections(text, engine.count_text_tokens, SECTION_TOKENS)
    pieces = 0
    parts = 0
    looped = False
    done = 0
    total = len(layer) + 1
    if on_progress:
        on_progress(Progress(0, total, "section", ""))
    while True:
        summaries: list[str] = []
        for section in layer:
            if cancel.is_set():
                raise Cancelled("cancelled")
            run = _generate(action, section, engine, language=language, cancel=cancel,
                            on_piece=None, deadline_s=deadline_s,
                            budget=SECTION_SUMMARY_TOKENS, summary=True)
            pieces += run.raw_pieces
            parts += 1
            looped = looped or run.looped
            if run.text.strip() and off_task(run.text, section, action.example) is None:
                summaries.append(run.text.strip())
            done += 1
            if on_progress:
                on_progress(Progress(done, total, "section", "\n\n".join(summaries)))
        if not summaries:
            raise EngineError("the model returned nothing")
        joined = "\n\n".join(summaries)
        if engine.count_text_tokens(joined) <= SECTION_TOKENS or len(layer) == 1:
            break
        layer = chunking.sections(joined, engine.count_text_tokens, SECTION_TOKENS)
        total += len(layer)
    if cancel.is_set():
        raise Cancelled("cancelled")
    final = _generate(action, joined, engine, language=language, cancel=cancel,
                      on_piece=on_piece, deadline_s=deadline_s, budget=SUMMARY_TOKENS,
                      summary=True)
    pieces += final.raw_pieces
    parts += 1
    result = final.text.strip()
    if not result or off_task(result, joined, action.example) is not None:
        result = joined  # the section summaries are a summary too
    result = frame_like(result, text)
    flags = tuple(check(text, result, must_keep_all=False))
    if on_progress:
        on_progress(Progress(total, total, "section", result))
    return Outcome(result, flags, input_tokens, pieces, time.perf_counter() - started,
                   looped=looped or final.looped, parts=parts,
                   notes=(_SENTENCE_CUT,) if final.cut else ())
