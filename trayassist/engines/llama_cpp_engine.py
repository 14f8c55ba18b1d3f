"""llama-cpp-python runtime: the default engine, on llama.cpp's C API.

Why the C API and not `Llama.generate` (measured with `trayassist bench`, docs/BENCHMARKS.md):
profiled, `Llama.generate` spends ~98% of its time in llama_decode, so its per-token Python
(~0.4 ms: a penalty-sampler chain, eval bookkeeping, detokenizing) costs little; its 0.90x of
llama.cpp's own loop came mostly from its context settings (flash attention off). What the
C API gives is control: the context's settings, several KV sequences (the per-action head
cache, llama_kv), how prompts are grouped into batches (so reuse is bit-exact), and batched
verification for prompt lookup. A generated token costs one `llama_decode` on a reused
1-token batch, one greedy sampler made at load, a per-token-id piece cache and a set test
for end of generation.

Which tokens' KV the context keeps, and how prompts are grouped into batches so reuse is
bit-exact: llama_kv. Prompt-lookup drafts: prompt_lookup. Default thread counts: threads.
"""

from __future__ import annotations

import codecs
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trayassist.engines import prompt_lookup
from trayassist.engines.base import (
    Cancelled,
    DeadlineExceeded,
    EngineError,
    EngineInfo,
    GenOptions,
    ModelLoadError,
    PromptTooLong,
)
from trayassist.engines.gguf_meta import choose_context
from trayassist.engines.llama_kv import Interrupt, KvCache, Stats, context_params
from trayassist.engines.prompt_lookup import DEFAULT_LOOKUP
from trayassist.engines.threads import default_threads
from trayassist.prompting import ChatFormat, Prompt, Segment

log = logging.getLogger(__name__)

_MIN_ROOM = 16  # a prompt must leave at least this many tokens for the reply
_PENALTY_LAST_N = 64  # repeat_penalty looks this far back

_backend_ready = False


def llama_lib() -> Any:
    """llama_cpp, initialised once per process; typed Any to keep ctypes out of mypy's way."""
    global _backend_ready
    if "llama_cpp" not in sys.modules:
        # This ggml is built with OpenMP, whose threads spin at every barrier by default; a
        # preempted thread then stalls the rest (prompt processing on 2 threads fell to 1/7
        # with two other busy processes). Passive waiting costs ~10% on an idle machine.
        # libgomp reads this once, as llama_cpp loads it; the user's own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import llama_cpp

    if not _backend_ready:
        # llama_cpp's C log callback prints everything its logger lets through (default:
        # all of it, on stderr, at every load): keep errors only.
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
        llama_cpp.llama_backend_init()
        _backend_ready = True
    return llama_cpp


class LlamaCppEngine:
    """One model and context resident; owned by a single thread (see engines/base.py)."""

    def __init__(
        self,
        model_path: Path,
        chat_format: ChatFormat,
        *,
        threads: int | None = None,
        context_size: int | None = None,
        lookup: int = DEFAULT_LOOKUP,
    ) -> None:
        """`context_size` None: the model's own (from its GGUF header), at most 8192 and
        as far as memory allows (gguf_meta.choose_context)."""
        self._path = Path(model_path)
        self._format = chat_format
        # An explicit count applies to both phases; unset, each phase gets its own.
        self._threads, self._batch_threads = (threads, threads) if threads else \
            default_threads()
        self._n_ctx = context_size or choose_context(self._path)
        self.lookup = lookup  # prompt-lookup draft length; 0: off
        self._L: Any = None
        self._model: Any = None
        self._ctx: Any = None
        self._vocab: Any = None
        self._one: Any = None  # the 1-token batch of the decode loop
        self._greedy: Any = None
        self._n_vocab = 0
        self._eog: frozenset[int] = frozenset()
        self._pieces: dict[int, bytes] = {}
        self._head_tokens: dict[tuple[Segment, ...], list[int]] = {}
        self._kv: KvCache | None = None  # sequence 0 and the cached heads
        self._ignore_eog = False  # bench only: fixed-length generation
        self.stats = Stats()

    @property
    def info(self) -> EngineInfo:
        return EngineInfo("llama-cpp", self._path, self._n_ctx, self._format.name, self._threads)

    @property
    def chat_format(self) -> ChatFormat:
        return self._format

    @property
    def batch_threads(self) -> int:
        """Threads for prompt processing (info.threads is the decode count)."""
        return self._batch_threads

    @property
    def _cache(self) -> KvCache:
        assert self._kv is not None, "load() first"
        return self._kv

    # -- lifecycle -------------------------------------------------------------------

    def load(self) -> None:
        if self._ctx is not None:
            return
        try:
            L = llama_lib()
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelLoadError(
                "llama-cpp-python is not installed: run bash installers/install.sh"
            ) from exc
        if not self._path.is_file():
            raise ModelLoadError(f"model file not found: {self._path}")
        started = time.perf_counter()
        model = L.llama_model_load_from_file(str(self._path).encode(),
                                             L.llama_model_default_params())
        if not model:
            raise ModelLoadError(f"could not load model {self._path.name}: "
                                 "not a GGUF this llama.cpp can read")
        ctx = L.llama_init_from_model(model, context_params(L, self._n_ctx, self._threads,
                                                                self._batch_threads))
        if not ctx:
            L.llama_model_free(model)
            raise ModelLoadError(f"could not create a context for {self._path.name} "
                                 f"({self._n_ctx} tokens): out of memory?")
        self._L, self._model, self._ctx = L, model, ctx
        self._vocab = L.llama_model_get_vocab(model)
        self._n_vocab = L.llama_vocab_n_tokens(self._vocab)
        self._kv = KvCache(L, ctx, self._n_ctx, self.stats)
        self._one = L.llama_batch_init(1, 0, 1)
        self._one.n_tokens = 1
        self._one.n_seq_id[0] = 1
        self._one.seq_id[0][0] = 0
        self._one.logits[0] = 1
        self._greedy = L.llama_sampler_init_greedy()
        self._eog = self._end_of_generation_ids()
        log.info("model loaded: %s in %.2fs, threads: %d decode, %d prompt", self._path.name,
                 time.perf_counter() - started, self._threads, self._batch_threads)

    def close(self) -> None:
        if self._ctx is None:
            return
        L = self._L
        L.llama_sampler_free(self._greedy)
        self._cache.free()
        L.llama_batch_free(self._one)
        L.llama_free(self._ctx)
        L.llama_model_free(self._model)
        self._ctx = self._model = self._vocab = self._kv = None

    def clear_cache(self) -> None:
        """Forget every reusable KV state (bench: a cold start without reloading)."""
        self.load()
        self._cache.clear()

    def _end_of_generation_ids(self) -> frozenset[int]:
        L = self._L
        ids = {t for t in range(self._n_vocab) if L.llama_vocab_is_eog(self._vocab, t)}
        eot = self._tokenize(self._format.end_of_turn, add_bos=False, special=True)
        if len(eot) == 1:
            ids.add(eot[0])
        return frozenset(ids)

    # -- tokens ----------------------------------------------------------------------

    def _tokenize(self, text: str, *, add_bos: bool, special: bool) -> list[int]:
        if not text:
            return []
        data = text.encode("utf-8")
        cap = len(data) + 8  # a token is at least one byte, plus BOS/EOS
        buf = (self._L.llama_token * cap)()
        n = self._L.llama_tokenize(self._vocab, data, len(data), buf, cap, add_bos, special)
        if n < 0:
            raise EngineError("tokenizer failed")
        return list(buf[:n])

    def _segments_tokens(self, segments: tuple[Segment, ...], first: bool) -> list[int]:
        tokens: list[int] = []
        for i, seg in enumerate(segments):
            tokens += self._tokenize(seg.text, add_bos=first and i == 0, special=seg.special)
        return tokens

    def _head(self, head: tuple[Segment, ...]) -> list[int]:
        tokens = self._head_tokens.get(head)
        if tokens is None:
            if len(self._head_tokens) > 64:
                self._head_tokens.clear()
            tokens = self._head_tokens[head] = self._segments_tokens(head, True)
        return tokens

    def _prompt_tokens(self, prompt: Prompt) -> tuple[list[int], int, int]:
        """All tokens, the head's length and the user text's length. The user's text is
        tokenized with special=False, so `<|im_end|>` in it stays plain text."""
        head = self._head(prompt.head)
        text = self._tokenize(prompt.text, add_bos=not prompt.head, special=False)
        tail = self._segments_tokens(prompt.tail, False)
        return head + text + tail, len(head), len(text)

    def tokenize(self, prompt: Prompt) -> list[int]:
        self.load()
        return self._prompt_tokens(prompt)[0]

    def count_tokens(self, prompt: Prompt) -> int:
        return len(self.tokenize(prompt))

    def count_text_tokens(self, text: str) -> int:
        self.load()
        return len(self._tokenize(text, add_bos=False, special=False))

    def is_control_token(self, token: int) -> bool:
        """Whether `token` is a control token of this vocabulary (tests)."""
        self.load()
        return bool(self._L.llama_vocab_is_control(self._vocab, token))

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            buf = (self._L.ctypes.c_char * 64)()
            n = self._L.llama_token_to_piece(self._vocab, token, buf, 64, 0, False)
            if n < 0:  # longer than 64 bytes: ask again with the size it reported
                buf = (self._L.ctypes.c_char * -n)()
                n = self._L.llama_token_to_piece(self._vocab, token, buf, -n, 0, False)
            piece = self._pieces[token] = bytes(buf[:n])
        return piece

    # -- generation ------------------------------------------------------------------

    def warm(self, prompt: Prompt) -> None:
        """Evaluate the action's head now and keep it, so its jobs start from the text."""
        self.load()
        head = self._head(prompt.head)
        if head and tuple(head) not in self._cache.heads:
            self._L.llama_set_n_threads(self._ctx, self._threads, self._batch_threads)
            self._cache.prefill(head, len(head), lambda: None, logits=False)

    def _sampler(self, options: GenOptions) -> tuple[Any, bool]:
        """The sampler for these options, and whether the caller must free it."""
        if options.temperature <= 0 and options.repeat_penalty == 1.0:
            return self._greedy, False
        L = self._L
        chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        # top-k first: the penalty stage then scans 40 candidates, not the whole vocabulary.
        L.llama_sampler_chain_add(chain, L.llama_sampler_init_top_k(40))
        if options.repeat_penalty != 1.0:
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_penalties(
                self._n_vocab, _PENALTY_LAST_N, options.repeat_penalty, 0.0, 0.0))
        if options.temperature <= 0:
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_greedy())
        else:
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_top_p(0.95, 1))
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_min_p(0.05, 1))
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_temp(options.temperature))
            L.llama_sampler_chain_add(chain, L.llama_sampler_init_dist(random.getrandbits(32)))
        return chain, True

    def generate(
        self, prompt: Prompt, options: GenOptions, cancel: threading.Event
    ) -> Iterator[str]:
        self.load()
        tokens, head_len, text_len = self._prompt_tokens(prompt)
        if len(tokens) + _MIN_ROOM > self._n_ctx:
            raise PromptTooLong(
                f"the selection is too long for this model ({len(tokens)} tokens, "
                f"context {self._n_ctx})"
            )
        max_tokens = max(1, min(options.max_tokens, self._n_ctx - len(tokens)))
        deadline = time.monotonic() + options.deadline_s

        def interrupt() -> None:
            if cancel.is_set():
                raise Cancelled("cancelled")
            if time.monotonic() > deadline:
                raise DeadlineExceeded(f"generation took longer than {options.deadline_s:.0f}s")

        L = self._L
        # llama.cpp uses the prompt thread count for any batch of more than one token:
        # draft verification batches are decode work and must not spin up more threads.
        L.llama_set_n_threads(self._ctx, self._threads, self._batch_threads)
        self._cache.prefill(tokens, head_len, interrupt, reserve=max_tokens)
        L.llama_set_n_threads(self._ctx, self._threads, self._threads)
        sampler, owned = self._sampler(options)
        try:
            lookup = self.lookup if not owned else 0  # drafts are verified greedily
            source = tokens[head_len:head_len + text_len] if lookup else []
            yield from self._stream(sampler, max_tokens, interrupt, source, lookup)
        finally:
            if owned:
                L.llama_sampler_free(sampler)

    def _stream(self, sampler: Any, max_tokens: int, interrupt: Interrupt,
                source: list[int], lookup: int) -> Iterator[str]:
        kv = self._cache
        L, ctx, one, cur, stats = self._L, self._ctx, self._one, kv.cur, self.stats
        eog = frozenset() if self._ignore_eog else self._eog
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        index = prompt_lookup.ngram_index(source) if lookup else {}
        cursor = 0  # where in the user's text the last accepted draft ended
        pending: list[int] = []  # verified tokens still to hand out; all but the last decoded
        token = L.llama_sampler_sample(sampler, ctx, -1)
        produced = 0
        while True:
            stats.generated += 1
            if token in eog:
                break
            text = decoder.decode(self._piece(token))
            if text:
                yield text
            produced += 1
            if produced >= max_tokens:
                break
            interrupt()
            if pending:
                token = pending.pop(0)
                continue
            draft, end = prompt_lookup.draft(index, source, cur, token, cursor,
                                             min(lookup, max_tokens - produced - 1))
            if not draft:
                one.token[0], one.pos[0] = token, len(cur)
                kv.decode(one)
                cur.append(token)
                token = L.llama_sampler_sample(sampler, ctx, -1)
                continue
            accepted, nxt = self._verify(sampler, token, draft)
            if accepted:
                cursor = end + len(accepted)
            pending = [*accepted, nxt]
            token = pending.pop(0)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def _verify(self, sampler: Any, token: int, draft: list[int]) -> tuple[list[int], int]:
        """Decode `token` and the draft in one batch; keep the drafts the model agrees with.

        Returns the accepted drafts and the model's own next token after them.
        """
        kv = self._cache
        L, batch, cur, stats = self._L, kv.batch, kv.cur, self.stats
        start = len(cur)
        for i, t in enumerate([token, *draft]):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = t, start + i, 1, 1
            batch.seq_id[i][0] = 0
        batch.n_tokens = len(draft) + 1
        kv.decode(batch)
        cur.append(token)
        accepted: list[int] = []
        nxt = L.llama_sampler_sample(sampler, self._ctx, 0)
        for i, guess in enumerate(draft):
            if nxt != guess:
                break
            accepted.append(guess)
            cur.append(guess)
            nxt = L.llama_sampler_sample(sampler, self._ctx, i + 1)
        kv.drop_from(len(cur))  # forget the rejected drafts
        stats.drafted += len(draft)
        stats.accepted += len(accepted)
        return accepted, nxt
