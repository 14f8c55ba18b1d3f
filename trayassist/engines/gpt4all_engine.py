"""The Engine port on gpt4all 2.8.2 (its bundled llama.cpp, via its ctypes binding).

We call `llmodel_prompt` directly rather than `GPT4All.generate` because:
- its C++ `prompt(text, template, ..., special)` tokenizes the template around %1 with
  special tokens on and `text` with `special` as given; the template is split at %1/%2
  (no escape), so content holding "%1" cannot go into it. Each segment is therefore the
  *text* of its own call, template "%1%2", n_predict=0: tokenized with its own flag,
  scaffolding True, all content (instruction and the user's text) False;
- `generate` always allows context shifting, which silently drops the prompt's start
  (the instruction) on overflow; with allow_context_shift=False the backend refuses;
- per-segment calls give head KV reuse: later jobs rewind n_past to the head's end
  (evalTokens drops KV cells from n_past on) and evaluate only text and tail.

Kept quirk: the backend also stops on hard-coded "### Instruction", "### Prompt",
"### Response", "### Human", "### Assistant" and "### Context" in the output.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import importlib
import importlib.util
import logging
import os
import queue
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from trayassist.engines.base import (
    Cancelled,
    DeadlineExceeded,
    EngineError,
    EngineInfo,
    GenOptions,
    ModelLoadError,
    PromptTooLong,
)
from trayassist.engines.gguf_meta import GgufError, choose_context, compatible_model
from trayassist.engines.threads import default_threads
from trayassist.prompting import ChatFormat, Prompt, Segment

log = logging.getLogger(__name__)

_N_BATCH = 128  # gpt4all caps prompt batches at LLMODEL_MAX_PROMPT_BATCH = 128
# Pre-token shapes of GPT-2-style tokenizers; count_text_tokens prices each one.
_PRETOKEN = re.compile(r"\d|\s?[^\W\d_]+|\s?[^\w\s]+|\s+|_+")

Interrupt = Callable[[], "type[EngineError] | None"]


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Capture fd 2 (the C++ side prints there) into the yielded list, filled at exit.

    Process-wide for the ~0.3 s of a load; only used there (no user text is involved).
    """
    lines: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all (e.g. pythonw): nothing to capture
        yield lines
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())


def _load_error(lines: list[str], exc: BaseException | None) -> str:
    """The most telling line the backend printed, as one line for the user."""
    noise = ("libllamamodel-mainline-cuda", "libcudart")  # optional CUDA variants
    useful = [ln.strip() for ln in lines if ln.strip() and not any(n in ln for n in noise)]
    errors = [ln for ln in useful if "error" in ln.lower()]
    reason = (errors or useful or [str(exc) if exc else "unknown error"])[0]
    return " ".join(reason.split())


def _holdback(text: str, marker: str) -> int:
    """Length of the longest end of `text` that could start `marker`."""
    for n in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-n:]):
            return n
    return 0


class _Loaded:
    """The shape of gpt4all.GPT4All this engine uses: `.model` and `close()`."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def close(self) -> None:
        self.model.close()


def _import_bindings() -> Any:
    """gpt4all's ctypes bindings, without running gpt4all/__init__.py.

    That __init__ imports gpt4all's model downloader and with it `requests`, whose
    urllib3 opens a socket at import time to probe for IPv6. trayassist never downloads
    through gpt4all, and `trayassist run` must create no socket at all.
    """
    if "gpt4all._pyllmodel" in sys.modules:
        return sys.modules["gpt4all._pyllmodel"]
    spec = importlib.util.find_spec("gpt4all")  # locates the package, does not run it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("no module named gpt4all")
    if "gpt4all" not in sys.modules:
        sys.modules["gpt4all"] = importlib.util.module_from_spec(spec)  # not executed
    return importlib.import_module("gpt4all._pyllmodel")


class Gpt4AllEngine:
    def __init__(self, model_path: Path, chat_format: ChatFormat, *, threads: int | None = None,
                 context_size: int | None = None, cache_dir: Path) -> None:
        self._model_path = Path(model_path)
        self._format = chat_format
        # gpt4all's own default is every core, which collapses when anything else wants
        # one (measured, docs/BENCHMARKS.md); use the rule the llama-cpp engine uses.
        # gpt4all has one thread count for prompt and decode: take the decode one.
        self._threads = threads or default_threads()[0]
        # None: the model's own context, capped as the llama-cpp engine caps it.
        self._context_size = context_size or choose_context(self._model_path)
        self._compat_dir = Path(cache_dir) / "gpt4all-compat"
        self._gpt: Any = None  # gpt4all.GPT4All; untyped
        self._lib: Any = None  # gpt4all._pyllmodel, for the ctypes prototypes
        self._ctx: Any = None  # LLModelPromptContext we own; n_past is our KV cursor
        self._head: tuple[Segment, ...] | None = None  # head whose KV sits at [0, _head_len)
        self._head_len = 0
        self._worker: tuple[threading.Thread, threading.Event] | None = None
        self.loaded_path: Path | None = None  # the file actually loaded (maybe the copy)

    @property
    def info(self) -> EngineInfo:
        threads = self._threads
        if self._gpt is not None:
            threads = int(self._gpt.model.thread_count())
        n_ctx = self._ctx.n_ctx if self._ctx is not None and self._ctx.n_ctx else 0
        return EngineInfo(name="gpt4all", model_path=self._model_path,
                          context_size=n_ctx or self._context_size,
                          chat_format=self._format.name, threads=threads)

    @property
    def chat_format(self) -> ChatFormat:
        return self._format

    def load(self) -> None:
        if self._gpt is not None:
            return
        name = self._model_path.name
        try:
            _pyllmodel = _import_bindings()
        except ImportError as exc:
            raise ModelLoadError(f"gpt4all is not installed: {exc}") from exc
        try:
            path = compatible_model(self._model_path, self._compat_dir)
        except (OSError, GgufError) as exc:
            raise ModelLoadError(f"cannot read {name}: {exc}") from exc
        model, error = None, None
        with _captured_stderr() as lines:
            try:
                # What GPT4All(device="cpu") does, minus its model lookup and downloader:
                # Kompute without a device is its CPU path (macOS: the "cpu" backend).
                backend = "cpu" if sys.platform == "darwin" else "kompute"
                model = _pyllmodel.LLModel(str(path), self._context_size, 0, backend)
                model.load_model()
            except Exception as exc:  # gpt4all raises bare Exception/RuntimeError
                error = exc
        for line in lines:
            log.debug("gpt4all: %s", line)
        if model is None or model.model is None or not _pyllmodel.llmodel.llmodel_isModelLoaded(
                model.model):
            if model is not None:
                model.close()
            raise ModelLoadError(f"gpt4all could not load {name}: {_load_error(lines, error)}")
        model.set_thread_count(self._threads)
        gpt = _Loaded(model)
        self._gpt, self._lib, self.loaded_path = gpt, _pyllmodel, path
        self._ctx = _pyllmodel.LLModelPromptContext(n_batch=_N_BATCH, repeat_penalty=1.0,
                                                    repeat_last_n=64, context_erase=0.5)
        self._head, self._head_len = None, 0

    def count_text_tokens(self, text: str) -> int:
        """An estimate: gpt4all 2.8 exposes no tokenizer to Python.

        Priced per pre-token (GPT-2-style split) to err high: measured against SmolLM2's
        real tokenizer it over-counts English prose by ~1.5x and code, digits, CJK and
        emoji by 1.0-1.9x; random strings like keys can be under-counted. generate()
        enforces the exact limit (the backend tokenizes before it evaluates).
        """
        n = 0
        for m in _PRETOKEN.finditer(text):
            s = m.group()
            b = len(s.encode("utf-8", "replace"))
            if not s.isascii():
                n += 1 + 2 * b // 3
            elif s[-1].isalpha():  # words; capitals inside one split much more
                n += 1 + (b - 1) // (4 if s.strip()[1:].islower() else 2)
            elif s.isspace():
                n += 1 + (b - 1) // 2
            else:  # punctuation: BPE merges little of it
                n += b
        return n

    def count_tokens(self, prompt: Prompt) -> int:
        """Estimate (see count_text_tokens); a control token counts as its text would."""
        return 1 + sum(self.count_text_tokens(s.text) for s in prompt.segments())

    def warm(self, prompt: Prompt) -> None:
        self.load()
        self._stop_worker()
        self._feed_head(prompt.head, lambda: None)

    def generate(self, prompt: Prompt, options: GenOptions,
                 cancel: threading.Event) -> Iterator[str]:
        self.load()
        self._stop_worker()
        deadline = time.monotonic() + options.deadline_s

        def interrupted() -> type[EngineError] | None:
            if cancel.is_set():
                return Cancelled
            return DeadlineExceeded if time.monotonic() > deadline else None

        rest = (Segment(prompt.text, special=False), *prompt.tail)
        if not any(s.text for s in rest):
            self._head = None  # the last logits must be the head's, so evaluate it anew
        self._feed_head(prompt.head, interrupted)
        self._feed(rest, interrupted)
        if self._ctx.n_past == 0:
            raise EngineError("the prompt is empty")
        if self._ctx.n_past + options.max_tokens > self._ctx.n_ctx:
            raise PromptTooLong(f"the prompt takes {self._ctx.n_past} tokens; with "
                                f"{options.max_tokens} for the reply it exceeds the context "
                                f"of {self._ctx.n_ctx}")
        pieces: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        stop = threading.Event()
        outcome: dict[str, Any] = {}
        eot = self._format.end_of_turn
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""  # held back while it could be the start of end_of_turn

        def on_token(token_id: int, raw: bytes) -> bool:
            nonlocal pending
            if token_id < 0:
                outcome["error"] = raw.decode("utf-8", "replace")
                return False
            why = interrupted()
            if stop.is_set() or why:
                outcome["why"] = why
                return False
            pending += decoder.decode(raw)
            if eot and eot in pending:  # a text-level end of turn (EOS stops by itself)
                pieces.put(pending[:pending.index(eot)])
                pending = ""
                return False
            keep = _holdback(pending, eot) if eot else 0
            if len(pending) > keep:
                pieces.put(pending[:len(pending) - keep])
                pending = pending[len(pending) - keep:]
            return True

        def run() -> None:
            try:
                self._call("", False, options.max_tokens, on_token, lambda: True,
                           temp=max(0.0, options.temperature), penalty=options.repeat_penalty)
                if "why" not in outcome and "error" not in outcome:
                    pieces.put(pending + decoder.decode(b"", final=True))
            except BaseException as exc:  # noqa: BLE001 - reported on the owner thread
                outcome["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                pieces.put(None)

        worker = threading.Thread(target=run, name="gpt4all-generate", daemon=True)
        self._worker = (worker, stop)
        worker.start()
        try:
            while (piece := pieces.get()) is not None:
                if cancel.is_set():  # yield nothing more once the caller has cancelled
                    outcome.setdefault("why", Cancelled)
                    break
                if piece:
                    yield piece
        finally:
            self._stop_worker()
        if "error" in outcome:
            raise EngineError(f"gpt4all generation failed: {outcome['error']}")
        if outcome.get("why") is Cancelled:
            raise Cancelled("generation cancelled")
        if outcome.get("why") is DeadlineExceeded:
            raise DeadlineExceeded(f"generation ran past {options.deadline_s:g} s")

    def close(self) -> None:
        self._stop_worker()
        if self._gpt is not None:
            self._gpt.close()
        self._gpt = self._ctx = None
        self._head, self._head_len = None, 0

    # -- internals -----------------------------------------------------------------------

    def _stop_worker(self) -> None:
        """Make sure no generation thread still uses the model (e.g. an abandoned stream)."""
        if self._worker is not None:
            thread, stop = self._worker
            stop.set()
            thread.join()
            self._worker = None

    def _call(self, text: str, special: bool, n_predict: int,
              on_token: Callable[[int, bytes], bool], on_prompt: Callable[[], bool],
              temp: float = 0.0, penalty: float = 1.0) -> None:
        """One llmodel_prompt call: tokenize `text`, evaluate it, then sample n_predict."""
        lib, ctx = self._lib, self._ctx
        ctx.n_predict, ctx.temp, ctx.repeat_penalty = n_predict, temp, penalty
        # temp 0 is greedy in gpt4all's sampler; top_k=1 says the same explicitly.
        ctx.top_k, ctx.top_p, ctx.min_p = (1, 1.0, 0.0) if temp == 0 else (40, 0.95, 0.05)
        failure: list[BaseException] = []

        def guard(fn: Callable[..., bool]) -> Callable[..., bool]:
            # An exception must not escape into C (ctypes would print it and go on).
            def wrapped(*args: Any) -> bool:
                try:
                    return bool(fn(*args))
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    failure.append(exc)
                    return False
            return wrapped

        # c_char_p ends at NUL; U+FFFD keeps the text's length and meaning visible.
        data = text.replace("\0", "\ufffd").encode("utf-8", "replace")
        prompt_cb = lib.PromptCallback(guard(lambda _tok: on_prompt()))
        response_cb = lib.ResponseCallback(guard(on_token))
        lib.llmodel.llmodel_prompt(self._gpt.model.model, data, b"%1%2", prompt_cb,
                                   response_cb, False, ctypes.byref(ctx), special, None)
        if failure:
            raise failure[0]

    def _feed(self, segments: tuple[Segment, ...], interrupted: Interrupt) -> None:
        """Evaluate segments after n_past, each tokenized with its own `special` flag."""
        why: list[type[EngineError]] = []
        errors: list[str] = []

        def on_prompt() -> bool:  # called per evaluated token, after each batch
            if (w := interrupted()) is not None:
                why.append(w)
                return False
            return True

        def on_token(token_id: int, raw: bytes) -> bool:  # only errors come here
            errors.append(raw.decode("utf-8", "replace"))
            return False

        for seg in segments:
            if not seg.text:
                continue
            before = self._ctx.n_past
            self._call(seg.text, seg.special, 0, on_token, on_prompt)
            if why:
                raise why[0]("generation cancelled" if why[0] is Cancelled
                             else "generation ran past its deadline")
            if errors or self._ctx.n_past == before:  # refused: no room left in the context
                raise PromptTooLong(f"the prompt does not fit the context of "
                                    f"{self._ctx.n_ctx} tokens")

    def _feed_head(self, head: tuple[Segment, ...], interrupted: Interrupt) -> None:
        if self._head == head:
            self._ctx.n_past = self._head_len  # reuse its KV; later cells get overwritten
            return
        self._head, self._ctx.n_past = None, 0
        self._feed(head, interrupted)
        self._head, self._head_len = head, self._ctx.n_past

    def _prompt_token_ids(self, prompt: Prompt) -> list[int]:
        """Token ids the whole prompt evaluates to (tests; it evaluates the prompt)."""
        self.load()
        self._stop_worker()
        self._feed_head(prompt.head, lambda: None)
        self._feed((Segment(prompt.text, special=False), *prompt.tail), lambda: None)
        return [self._ctx.tokens[i] for i in range(self._ctx.tokens_size)]
