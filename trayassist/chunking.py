"""Split a long text into pieces the model handles well, keeping every separator.

A text is `lead + body_0 + sep_0 + body_1 + ... + body_n + trail`: each body starts and
ends with a non-space character, and everything between bodies (blank lines, CRLF, the
next paragraph's indentation, trailing spaces) is kept byte for byte in the separators,
so `join` puts results back exactly where their originals were. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A paragraph ends at a line break followed by at least one blank line; the separator
# also takes the spaces around those line breaks and the next paragraph's indentation.
_EOL = r"(?:\r\n|\r(?!\n)|\n)"  # a CRLF is one line break, never two
_PARAGRAPH_BREAK = re.compile(rf"[ \t\f\v]*{_EOL}(?:[ \t\f\v]*{_EOL})+\s*")
# A sentence ends at . ! ? … (or their CJK forms), possibly followed by closing quotes or
# brackets, then whitespace. Abbreviations ("e.g. the") sometimes split too: harmless, a
# piece is only a unit of work, and the separator is kept either way.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*(\s+)|(?<=[。！？])()(?=\S)")
_SPACE = re.compile(r"\s+")

Count = Callable[[str], int]


@dataclass(frozen=True)
class Split:
    lead: str  # whitespace before the first piece
    bodies: tuple[str, ...]  # the pieces, each stripped
    seps: tuple[str, ...]  # seps[i] follows bodies[i]; the last one is the trailing space
    paragraph_of: tuple[int, ...]  # which paragraph each piece belongs to (0-based)

    @property
    def paragraphs(self) -> int:
        return (self.paragraph_of[-1] + 1) if self.paragraph_of else 0

    def join(self, results: list[str] | tuple[str, ...]) -> str:
        """The results (one per body) in the original's frame."""
        assert len(results) == len(self.bodies)
        return self.lead + "".join(r + s for r, s in zip(results, self.seps, strict=True))

    def prefix(self, results: list[str]) -> str:
        """The first len(results) pieces' results, framed: what to show while the rest
        is still being processed."""
        return self.lead + "".join(r + s for r, s in zip(results, self.seps, strict=False))


def _frame(text: str) -> tuple[str, str, str]:
    body = text.strip()
    if not body:
        return text, "", ""
    start = len(text) - len(text.lstrip())
    return text[:start], body, text[start + len(body):]


def paragraphs(text: str) -> tuple[str, list[str], list[str]]:
    """(lead, bodies, separators): the text split at blank lines; every byte kept."""
    lead, body, trail = _frame(text)
    if not body:
        return lead, [], []
    bodies, seps = [], []
    pos = 0
    for m in _PARAGRAPH_BREAK.finditer(body):
        bodies.append(body[pos:m.start()])
        seps.append(m.group())
        pos = m.end()
    bodies.append(body[pos:])
    seps.append(trail)
    return lead, bodies, seps


def sentences(paragraph: str) -> tuple[list[str], list[str]]:
    """A stripped paragraph's sentences and the whitespace after each (the last: "")."""
    bodies, gaps = [], []
    pos = 0
    for m in _SENTENCE_BREAK.finditer(paragraph):
        if m.end() >= len(paragraph):
            break
        bodies.append(paragraph[pos:m.start(1)])
        gaps.append(m.group(1))
        pos = m.end()
    bodies.append(paragraph[pos:])
    gaps.append("")
    return bodies, gaps


def _group(parts: list[str], gaps: list[str], count: Count, limit: int,
           first_limit: int | None) -> tuple[list[str], list[str]]:
    """Join consecutive parts (with the gaps between them) while a group stays within
    `limit` tokens (`first_limit` for the first group); a part over the limit stays whole."""
    bodies: list[str] = []
    seps: list[str] = []
    group: list[tuple[str, str]] = []
    size = 0

    def flush() -> None:
        bodies.append("".join(p + g for p, g in group[:-1]) + group[-1][0])
        seps.append(group[-1][1])

    for part, gap in zip(parts, gaps, strict=True):
        n = count(part)
        cap = first_limit if first_limit is not None and not bodies else limit
        if group and size + n > cap:
            flush()
            group, size = [], 0
        group.append((part, gap))
        size += n
    if group:
        flush()
    return bodies, seps


def _fine(parts: list[str], gaps: list[str], count: Count,
          limit: int) -> tuple[list[str], list[str]]:
    """Parts over `limit` tokens (a sentence without punctuation) cut at spaces."""
    out_parts: list[str] = []
    out_gaps: list[str] = []
    for part, gap in zip(parts, gaps, strict=True):
        if count(part) <= limit:
            out_parts.append(part)
            out_gaps.append(gap)
            continue
        words, spaces, pos = [], [], 0
        for m in _SPACE.finditer(part):
            words.append(part[pos:m.start()])
            spaces.append(m.group())
            pos = m.end()
        words.append(part[pos:])
        spaces.append(gap)
        out_parts += words
        out_gaps += spaces
    return out_parts, out_gaps


def split(text: str, count: Count, limit: int, first_limit: int | None = None) -> Split:
    """Paragraphs, and within a paragraph over `limit` tokens, groups of sentences.

    `first_limit` makes the first piece small (its result shows sooner); `count` gives
    a text's tokens.
    """
    lead, pbodies, pseps = paragraphs(text)
    bodies: list[str] = []
    seps: list[str] = []
    owner: list[int] = []
    for i, (para, psep) in enumerate(zip(pbodies, pseps, strict=True)):
        cap = first_limit if first_limit is not None and not bodies else limit
        if count(para) <= cap:
            parts, gaps = [para], [psep]
        else:
            sent, sgaps = _fine(*sentences(para), count, limit)
            parts, gaps = _group(sent, sgaps, count, limit,
                                 first_limit if not bodies else None)
            gaps[-1] = psep
        bodies += parts
        seps += gaps
        owner += [i] * len(parts)
    return Split(lead, tuple(bodies), tuple(seps), tuple(owner))


def sections(text: str, count: Count, limit: int) -> list[str]:
    """`text` in consecutive sections of about `limit` tokens, cut between paragraphs
    (or sentences, inside a longer paragraph), each with its inner separators kept."""
    pieces = split(text, count, limit)
    if not pieces.bodies:
        return []
    bodies, _seps = _group(list(pieces.bodies), list(pieces.seps), count, limit, None)
    return bodies
