"""Prompt-lookup decoding for the llama-cpp engine: when the last NGRAM tokens of the reply
occur in the user's text, draft the DEFAULT_LOOKUP tokens that follow them there; the
engine verifies a draft in one batch. The output is the same as without it (greedy only);
`trayassist bench` measured 1.0-1.15x on whole jobs here (docs/BENCHMARKS.md): on one
decode thread a batch of 4 costs ~2.5 single steps, so only well-accepted short drafts
pay. 0 turns it off.
"""

from __future__ import annotations

DEFAULT_LOOKUP = 3
NGRAM = 3


def ngram_index(source: list[int]) -> dict[tuple[int, ...], list[int]]:
    """Where each n-gram of the user's text ends: its continuation starts there."""
    index: dict[tuple[int, ...], list[int]] = {}
    for end in range(NGRAM, len(source)):
        index.setdefault(tuple(source[end - NGRAM:end]), []).append(end)
    return index


def draft(index: dict[tuple[int, ...], list[int]], source: list[int], cur: list[int],
          token: int, cursor: int, limit: int) -> tuple[list[int], int]:
    """What the user's text says follows the last tokens, if they occur in it, and where
    in the text that continuation starts."""
    if limit <= 0 or not index:
        return [], 0
    ends = index.get((*cur[len(cur) - NGRAM + 1:], token))
    if not ends:
        return [], 0
    # The reply walks through the text in order: take the first match at or after the
    # point the last accepted draft reached, else the first one.
    end = next((e for e in ends if e >= cursor), ends[0])
    return source[end:end + limit], end
