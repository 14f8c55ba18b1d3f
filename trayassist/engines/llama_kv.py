"""The llama-cpp engine's KV cache: its context's settings, and which tokens' KV it keeps.

A prompt is head (identical for every job of one action) + the user's text + tail.
Sequence 0 holds the last prompt and its reply; each action's head also lives in a
sequence of its own (1..HEAD_SLOTS) of a unified KV cache, where `llama_memory_seq_cp`
only adds an owner to the head's cells: no compute and no copy. A job whose head sequence
0 already holds keeps it, else takes it from the cache, and evaluates only the user's text
and the tail.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trayassist.engines.base import EngineError

N_BATCH = 512  # prompt tokens per llama_decode; cancel and the deadline are checked between
HEAD_SLOTS = 8  # cached action heads (4 built-in + user actions); least recently used goes
# Cached heads live in the context's own cells (built-ins: 66-185 tokens each), at most this
# many; a job that needs their room takes it (decode), so the context costs no extra memory.
HEAD_CELLS = 1024
# llama.cpp's flash attention (-1: auto, on for this CPU backend): prompt processing ~15%
# faster here. It makes results depend on how tokens are batched, hence prefill's grouping.
FLASH_ATTN = -1
KV_TYPE = 1  # GGML_TYPE_F16

Interrupt = Callable[[], None]


def context_params(L: Any, context_size: int, threads: int, batch_threads: int) -> Any:
    """The engine's llama_context_params (the bench's raw loop uses the same)."""
    params = L.llama_context_default_params()
    params.n_ctx = context_size
    params.n_batch = params.n_ubatch = N_BATCH
    params.n_seq_max = 1 + HEAD_SLOTS
    params.kv_unified = True  # heads share cells with sequence 0; each seq sees all of n_ctx
    params.n_threads, params.n_threads_batch = threads, batch_threads
    params.no_perf = True
    params.flash_attn_type = FLASH_ATTN
    params.type_k = params.type_v = KV_TYPE
    return params


@dataclass
class Stats:
    """Counters since load, for tests and `trayassist bench`. Never holds user text."""

    prompt_tokens: int = 0  # prompt tokens submitted (generate and warm)
    evaluated: int = 0  # of those, tokens actually decoded; the rest came from the KV cache
    head_restores: int = 0  # prompts whose head was taken from the head cache
    generated: int = 0  # tokens sampled
    drafted: int = 0  # prompt-lookup tokens proposed
    accepted: int = 0  # prompt-lookup tokens the model agreed with


class KvCache:
    """Sequence 0 and the cached heads of one llama.cpp context, and the batch that fills
    them. Owned by the engine's thread, like the engine."""

    def __init__(self, L: Any, ctx: Any, n_ctx: int, stats: Stats) -> None:
        self._L, self._ctx, self._n_ctx, self._stats = L, ctx, n_ctx, stats
        self._mem = L.llama_get_memory(ctx)
        self.batch = L.llama_batch_init(N_BATCH, 0, 1)  # prompts and draft verification
        self.cur: list[int] = []  # tokens whose KV sits in sequence 0 at positions 0..n-1
        self._batched = 0  # how many of them a prompt decoded in batches (reusable as such)
        self.heads: OrderedDict[tuple[int, ...], int] = OrderedDict()  # head -> seq id

    def free(self) -> None:
        """Free the batch (before the context itself is freed)."""
        self._L.llama_batch_free(self.batch)

    def clear(self) -> None:
        """Forget every reusable KV state."""
        self._L.llama_memory_clear(self._mem, False)
        self.cur, self.heads, self._batched = [], OrderedDict(), 0

    def drop_from(self, position: int) -> None:
        """Forget sequence 0 from `position` on (the caller trims `cur` to match)."""
        self._L.llama_memory_seq_rm(self._mem, 0, position, -1)

    def prefill(self, tokens: list[int], head_len: int, interrupt: Interrupt,
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
        if reusable and tuple(self.cur[:head_len]) == head:
            keep = head_len
            if head in self.heads:
                self.heads.move_to_end(head)
            else:
                self._remember_head(head)
        elif reusable and head in self.heads:
            self.heads.move_to_end(head)
            L.llama_memory_seq_rm(mem, 0, -1, -1)
            L.llama_memory_seq_cp(mem, self.heads[head], 0, -1, -1)
            self.cur, keep, self._batched = list(head), head_len, head_len
            self._stats.head_restores += 1
        if keep == head_len and keep:
            keep = self._reusable(tokens, head_len, logits)
        if not L.llama_memory_seq_rm(mem, 0, keep, -1):
            L.llama_memory_seq_rm(mem, 0, -1, -1)
            keep = 0
        del self.cur[keep:]
        self._batched = min(self._batched, keep)
        self._make_room(len(tokens) - keep + reserve)
        self._stats.prompt_tokens += len(tokens)
        self._stats.evaluated += len(tokens) - keep
        regions = [(keep, len(tokens))] if keep or not head_len else \
            [(0, head_len), (head_len, len(tokens))]
        chunks = [(i, min(i + N_BATCH, end)) for start, end in regions
                  for i in range(start, end, N_BATCH)]
        batch = self.batch
        tok, pos, nseq, seq, out = (batch.token, batch.pos, batch.n_seq_id, batch.seq_id,
                                    batch.logits)
        for n, (start, end) in enumerate(chunks):
            interrupt()
            for i in range(end - start):
                tok[i], pos[i], nseq[i], out[i] = tokens[start + i], start + i, 1, 0
                seq[i][0] = 0
            out[end - start - 1] = 1 if logits and n == len(chunks) - 1 else 0
            batch.n_tokens = end - start
            self.decode(batch)
            self.cur += tokens[start:end]
            self._batched = len(self.cur)
            if end == head_len and head not in self.heads:
                self._remember_head(head)

    def _reusable(self, tokens: list[int], head_len: int, logits: bool) -> int:
        """How much of sequence 0 a prompt whose head it holds can keep: the head, plus
        every whole batch after it that an earlier prompt decoded from the same tokens.

        A repeated prompt (summarize twice) or an extended one (more text pasted) then
        decodes only its last batch or its new tokens. Whole batches at the cold
        grouping's boundaries (the head, then N_BATCH at a time) keep the output
        bit-identical to a cold run; tokens generated one by one are never reused as
        prompt (their grouping differs). With `logits`, the last batch is decoded again:
        its last token's logits start the reply.
        """
        limit = min(self._batched, len(self.cur), len(tokens) - (1 if logits else 0))
        common = head_len
        cur = self.cur
        while common < limit and cur[common] == tokens[common]:
            common += 1
        return head_len + (common - head_len) // N_BATCH * N_BATCH

    def _remember_head(self, head: tuple[int, ...]) -> None:
        if len(head) > HEAD_CELLS:
            return
        used = sum(len(h) for h in self.heads)
        while self.heads and (len(self.heads) >= HEAD_SLOTS
                              or used + len(head) > HEAD_CELLS):
            old, slot = self.heads.popitem(last=False)
            self._L.llama_memory_seq_rm(self._mem, slot, -1, -1)
            used -= len(old)
        free = set(range(1, HEAD_SLOTS + 1)) - set(self.heads.values())
        slot = min(free)
        self._L.llama_memory_seq_cp(self._mem, 0, slot, 0, len(head))
        self.heads[head] = slot

    def decode(self, batch: Any) -> None:
        """llama_decode `batch` into sequence 0; EngineError (and an empty sequence 0) if
        it fails."""
        L = self._L
        status = L.llama_decode(self._ctx, batch)
        if status == 1 and self.heads:
            # No free KV cell though _make_room counted some (fragmentation): the cached
            # heads give theirs up. Status 1 leaves the cache as it was, so retry once.
            self._make_room(self._n_ctx + 1)
            status = L.llama_decode(self._ctx, batch)
        if status != 0:
            # Part of the batch may be in the cache: start from a clean sequence 0.
            L.llama_memory_seq_rm(self._mem, 0, -1, -1)
            self.cur, self._batched = [], 0
            raise EngineError(f"llama_decode failed ({status})")

    def _make_room(self, needed: int) -> None:
        """Drop cached heads, least recently used first and the one sequence 0 builds on
        last, until `needed` more cells fit in the context."""
        def shared(head: tuple[int, ...]) -> bool:
            return tuple(self.cur[:len(head)]) == head

        used = len(self.cur) + sum(len(h) for h in self.heads if not shared(h))
        for head in sorted(self.heads, key=shared):  # stable: LRU order within each group
            if self._n_ctx - used >= needed:
                return
            self._L.llama_memory_seq_rm(self._mem, self.heads.pop(head), -1, -1)
            used -= 0 if shared(head) else len(head)
