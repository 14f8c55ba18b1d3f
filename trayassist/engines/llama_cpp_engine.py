"""llama-cpp-python runtime: the default engine, on llama.cpp's C API.

Why the C API and not `Llama.generate` (measured with `trayassist bench`, docs/BENCHMARKS.md):
profiled, `Llama.generate` spends ~98% of its time in llama_decode, so its per-token Python
(~0.4 ms: a penalty-sampler chain, eval bookkeeping, detokenizing) costs little; its 0.90x of
llama.cpp's own loop came mostly from its context settings (flash attention off). What the
C API gives is control: the context's settings, several KV sequences (the per-action head
cache below), how prompts are grouped into batches (so reuse is bit-exact), and batched
verification for prompt lookup. A generated token costs one `llama_decode` on a reused
1-token batch, one greedy sampler made at load, a per-token-id piece cache and a set test
for end of generation.

KV reuse. A prompt is head (identical for every job of one action) + the user's text +
tail. Sequence 0 holds the last prompt and its reply; each action's head also lives in a
sequence of its own (1.._HEAD_SLOTS) of a unified KV cache, where `llama_memory_seq_cp`
only adds an owner to the head's cells: no compute and no copy. A job whose head sequence
0 already holds keeps it, else takes it from the cache, and evaluates only the user's text
and the tail.
"""

from __future__ import annotations

import codecs
import logging
import os
import random
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from trayassist.engines.gguf_meta import choose_context
from trayassist.prompting import ChatFormat, Prompt, Segment

log = logging.getLogger(__name__)

_N_BATCH = 512  # prompt tokens per llama_decode; cancel and the deadline are checked between
_HEAD_SLOTS = 8  # cached action heads (4 built-in + user actions); least recently used goes
# Cached heads live in the context's own cells (built-ins: 66-185 tokens each), at most this
# many; a job that needs their room takes it (_decode), so the context costs no extra memory.
_HEAD_CELLS = 1024
_MIN_ROOM = 16  # a prompt must leave at least this many tokens for the reply
_PENALTY_LAST_N = 64  # repeat_penalty looks this far back
# llama.cpp's flash attention (-1: auto, on for this CPU backend): prompt processing ~15%
# faster here. It makes results depend on how tokens are batched, hence _prefill's grouping.
_FLASH_ATTN = -1
_KV_TYPE = 1  # GGML_TYPE_F16
# Prompt-lookup decoding: when the last _NGRAM tokens of the reply occur in the user's text,
# draft the DEFAULT_LOOKUP tokens that follow them there and verify them in one batch. The
# output is the same as without it (greedy only); `trayassist bench` measured 1.0-1.15x on
# whole jobs here (docs/BENCHMARKS.md): on one decode thread a batch of 4 costs ~2.5 single
# steps, so only well-accepted short drafts pay. 0 turns it off.
DEFAULT_LOOKUP = 3
_NGRAM = 3

Interrupt = Callable[[], None]


def _physical_cores() -> int:
    try:
        available = len(os.sched_getaffinity(0))  # honours taskset and cgroup cpusets
    except (AttributeError, OSError):
        available = os.cpu_count() or 2
    return available // 2 if available > 4 else available  # assume SMT on bigger machines


def default_threads() -> tuple[int, int]:
    """(decode threads, prompt threads) when the config leaves `threads` unset.

    Measured on this 2-core VM (docs/BENCHMARKS.md). Prompt processing is big matrix work
    with few barriers: a second thread makes it ~1.8x faster on an idle machine and, with
    passive OpenMP waiting (_lib), still ~1.2x with another process busy. Decoding one token
    is hundreds of small operations, each ending in a barrier: 2 threads gave ~1.5x when
    idle but fell to ~0.3x (74 -> 13 tok/s) as soon as another process wanted a core, where
    1 thread kept ~40. So decode leaves one core to the desktop and prompt processing uses
    them all, both at most 8 (beyond that decode is memory-bound).
    """
    cores = _physical_cores()
    return max(1, min(8, cores - 1)), max(1, min(8, cores))


@dataclass
class Stats:
    """Counters since load, for tests and `trayassist bench`. Never holds user text."""

    prompt_tokens: int = 0  # prompt tokens submitted (generate and warm)
    evaluated: int = 0  # of those, tokens actually decoded; the rest came from the KV cache
    head_restores: int = 0  # prompts whose head was taken from the head cache
    generated: int = 0  # tokens sampled
    drafted: int = 0  # prompt-lookup tokens proposed
    accepted: int = 0  # prompt-lookup tokens the model agreed with


_backend_ready = False


def _lib() -> Any:
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


def context_params(L: Any, context_size: int, threads: int, batch_threads: int) -> Any:
    """The engine's llama_context_params (the bench's raw loop uses the same)."""
    params = L.llama_context_default_params()
    params.n_ctx = context_size
    params.n_batch = params.n_ubatch = _N_BATCH
    params.n_seq_max = 1 + _HEAD_SLOTS
    params.kv_unified = True  # heads share cells with sequence 0; each seq sees all of n_ctx
    params.n_threads, params.n_threads_batch = threads, batch_threads
    params.no_perf = True
    params.flash_attn_type = _FLASH_ATTN
    params.type_k = params.type_v = _KV_TYPE
    return params


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
        self._mem: Any = None
        self._vocab: Any = None
        self._batch: Any = None
        self._one: Any = None  # the 1-token batch of the decode loop
        self._greedy: Any = None
        self._n_vocab = 0
        self._eog: frozenset[int] = frozenset()
        self._pieces: dict[int, bytes] = {}
        self._head_tokens: dict[tuple[Segment, ...], list[int]] = {}
        self._cur: list[int] = []  # tokens whose KV sits in sequence 0 at positions 0..n-1
        self._batched = 0  # how many of them a prompt decoded in batches (reusable as such)
        self._heads: OrderedDict[tuple[int, ...], int] = OrderedDict()  # head -> seq id
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

    # -- lifecycle -------------------------------------------------------------------

    def load(self) -> None:
        if self._ctx is not None:
            return
        try:
            L = _lib()
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
        self._mem = L.llama_get_memory(ctx)
        self._vocab = L.llama_model_get_vocab(model)
        self._n_vocab = L.llama_vocab_n_tokens(self._vocab)
        self._batch = L.llama_batch_init(_N_BATCH, 0, 1)
        self._one = L.llama_batch_init(1, 0, 1)
        self._one.n_tokens = 1
        self._one.n_seq_id[0] = 1
        self._one.seq_id[0][0] = 0
        self._one.logits[0] = 1
        self._greedy = L.llama_sampler_init_greedy()
        self._eog = self._end_of_generation_ids()
        self._cur, self._heads, self._batched = [], OrderedDict(), 0
        log.info("model loaded: %s in %.2fs, threads: %d decode, %d prompt", self._path.name,
                 time.perf_counter() - started, self._threads, self._batch_threads)

    def close(self) -> None:
        if self._ctx is None:
            return
        L = self._L
        L.llama_sampler_free(self._greedy)
        L.llama_batch_free(self._batch)
        L.llama_batch_free(self._one)
        L.llama_free(self._ctx)
        L.llama_model_free(self._model)
        self._ctx = self._model = self._mem = self._vocab = None
        self._cur, self._heads, self._batched = [], OrderedDict(), 0

    def clear_cache(self) -> None:
        """Forget every reusable KV state (bench: a cold start without reloading)."""
        self.load()
        self._L.llama_memory_clear(self._mem, False)
        self._cur, self._heads, self._batched = [], OrderedDict(), 0

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

    # -- KV state --------------------------------------------------------------------

    def _prefill(self, tokens: list[int], head_len: int, interrupt: Interrupt,
                 logits: bool = True, reserve: int = 0) -> None:
        """Make sequence 0 hold `tokens`, decoding only what is not cached.

        Reuse is all or nothing at the head boundary, and the head is always decoded as a
        batch of its own: llama.cpp's results depend (in the last bits) on how tokens are
        grouped into batches, so a cold prompt, a warmed head and a restored head must be
        grouped alike for reuse never to change the output.
        """
        L, mem = self._L, self._mem
        head = tuple(tokens[:head_len])
        reusable = 0 < head_len < len(tokens) if logits else 0 < head_len <= len(tokens)
        keep = 0
        if reusable and tuple(self._cur[:head_len]) == head:
            keep = head_len
            if head in self._heads:
                self._heads.move_to_end(head)
            else:
                self._remember_head(head)
        elif reusable and head in self._heads:
            self._heads.move_to_end(head)
            L.llama_memory_seq_rm(mem, 0, -1, -1)
            L.llama_memory_seq_cp(mem, self._heads[head], 0, -1, -1)
            self._cur, keep, self._batched = list(head), head_len, head_len
            self.stats.head_restores += 1
        if keep == head_len and keep:
            keep = self._reusable(tokens, head_len, logits)
        if not L.llama_memory_seq_rm(mem, 0, keep, -1):
            L.llama_memory_seq_rm(mem, 0, -1, -1)
            keep = 0
        del self._cur[keep:]
        self._batched = min(self._batched, keep)
        self._make_room(len(tokens) - keep + reserve)
        self.stats.prompt_tokens += len(tokens)
        self.stats.evaluated += len(tokens) - keep
        regions = [(keep, len(tokens))] if keep or not head_len else \
            [(0, head_len), (head_len, len(tokens))]
        chunks = [(i, min(i + _N_BATCH, end)) for start, end in regions
                  for i in range(start, end, _N_BATCH)]
        batch = self._batch
        tok, pos, nseq, seq, out = (batch.token, batch.pos, batch.n_seq_id, batch.seq_id,
                                    batch.logits)
        for n, (start, end) in enumerate(chunks):
            interrupt()
            for i in range(end - start):
                tok[i], pos[i], nseq[i], out[i] = tokens[start + i], start + i, 1, 0
                seq[i][0] = 0
            out[end - start - 1] = 1 if logits and n == len(chunks) - 1 else 0
            batch.n_tokens = end - start
            self._decode(batch)
            self._cur += tokens[start:end]
            self._batched = len(self._cur)
            if end == head_len and head not in self._heads:
                self._remember_head(head)

    def _reusable(self, tokens: list[int], head_len: int, logits: bool) -> int:
        """How much of sequence 0 a prompt whose head it holds can keep: the head, plus
        every whole batch after it that an earlier prompt decoded from the same tokens.

        A repeated prompt (summarize twice) or an extended one (more text pasted) then
        decodes only its last batch or its new tokens. Whole batches at the cold
        grouping's boundaries (the head, then _N_BATCH at a time) keep the output
        bit-identical to a cold run; tokens generated one by one are never reused as
        prompt (their grouping differs). With `logits`, the last batch is decoded again:
        its last token's logits start the reply.
        """
        limit = min(self._batched, len(self._cur), len(tokens) - (1 if logits else 0))
        common = head_len
        cur = self._cur
        while common < limit and cur[common] == tokens[common]:
            common += 1
        return head_len + (common - head_len) // _N_BATCH * _N_BATCH

    def _remember_head(self, head: tuple[int, ...]) -> None:
        if len(head) > _HEAD_CELLS:
            return
        used = sum(len(h) for h in self._heads)
        while self._heads and (len(self._heads) >= _HEAD_SLOTS
                               or used + len(head) > _HEAD_CELLS):
            old, slot = self._heads.popitem(last=False)
            self._L.llama_memory_seq_rm(self._mem, slot, -1, -1)
            used -= len(old)
        free = set(range(1, _HEAD_SLOTS + 1)) - set(self._heads.values())
        slot = min(free)
        self._L.llama_memory_seq_cp(self._mem, 0, slot, 0, len(head))
        self._heads[head] = slot

    def _decode(self, batch: Any) -> None:
        L = self._L
        status = L.llama_decode(self._ctx, batch)
        if status == 1 and self._heads:
            # No free KV cell though _make_room counted some (fragmentation): the cached
            # heads give theirs up. Status 1 leaves the cache as it was, so retry once.
            self._make_room(self._n_ctx + 1)
            status = L.llama_decode(self._ctx, batch)
        if status != 0:
            # Part of the batch may be in the cache: start from a clean sequence 0.
            L.llama_memory_seq_rm(self._mem, 0, -1, -1)
            self._cur, self._batched = [], 0
            raise EngineError(f"llama_decode failed ({status})")

    def _make_room(self, needed: int) -> None:
        """Drop cached heads, least recently used first and the one sequence 0 builds on
        last, until `needed` more cells fit in the context."""
        def shared(head: tuple[int, ...]) -> bool:
            return tuple(self._cur[:len(head)]) == head

        used = len(self._cur) + sum(len(h) for h in self._heads if not shared(h))
        for head in sorted(self._heads, key=shared):  # stable: LRU order within each group
            if self._n_ctx - used >= needed:
                return
            self._L.llama_memory_seq_rm(self._mem, self._heads.pop(head), -1, -1)
            used -= 0 if shared(head) else len(head)

    # -- generation ------------------------------------------------------------------

    def warm(self, prompt: Prompt) -> None:
        """Evaluate the action's head now and keep it, so its jobs start from the text."""
        self.load()
        head = self._head(prompt.head)
        if head and tuple(head) not in self._heads:
            self._L.llama_set_n_threads(self._ctx, self._threads, self._batch_threads)
            self._prefill(head, len(head), lambda: None, logits=False)

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
        self._prefill(tokens, head_len, interrupt, reserve=max_tokens)
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
        L, ctx, one, cur, stats = self._L, self._ctx, self._one, self._cur, self.stats
        eog = frozenset() if self._ignore_eog else self._eog
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        index = _ngram_index(source) if lookup else {}
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
            draft, end = _draft(index, source, cur, token, cursor,
                                min(lookup, max_tokens - produced - 1))
            if not draft:
                one.token[0], one.pos[0] = token, len(cur)
                self._decode(one)
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
        L, batch, cur, stats = self._L, self._batch, self._cur, self.stats
        start = len(cur)
        for i, t in enumerate([token, *draft]):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = t, start + i, 1, 1
            batch.seq_id[i][0] = 0
        batch.n_tokens = len(draft) + 1
        self._decode(batch)
        cur.append(token)
        accepted: list[int] = []
        nxt = L.llama_sampler_sample(sampler, self._ctx, 0)
        for i, guess in enumerate(draft):
            if nxt != guess:
                break
            accepted.append(guess)
            cur.append(guess)
            nxt = L.llama_sampler_sample(sampler, self._ctx, i + 1)
        L.llama_memory_seq_rm(self._mem, 0, len(cur), -1)  # forget the rejected drafts
        stats.drafted += len(draft)
        stats.accepted += len(accepted)
        return accepted, nxt


def _ngram_index(source: list[int]) -> dict[tuple[int, ...], list[int]]:
    """Where each n-gram of the user's text ends: its continuation starts there."""
    index: dict[tuple[int, ...], list[int]] = {}
    for end in range(_NGRAM, len(source)):
        index.setdefault(tuple(source[end - _NGRAM:end]), []).append(end)
    return index


def _draft(index: dict[tuple[int, ...], list[int]], source: list[int], cur: list[int],
           token: int, cursor: int, limit: int) -> tuple[list[int], int]:
    """What the user's text says follows the last tokens, if they occur in it, and where
    in the text that continuation starts."""
    if limit <= 0 or not index:
        return [], 0
    ends = index.get((*cur[len(cur) - _NGRAM + 1:], token))
    if not ends:
        return [], 0
    # The reply walks through the text in order: take the first match at or after the
    # point the last accepted draft reached, else the first one.
    end = next((e for e in ends if e >= cursor), ends[0])
    return source[end:end + limit], end
