"""Make a model's reply pasteable: strip chatter, keep the input's shape.

Small models wrap their answer in "Here is the rewritten text:", quotes or a
trailing "Note: ..."; none of that belongs in the user's document. The user's
leading/trailing whitespace and line-ending style are restored exactly, so a
replaced paragraph still fits where it was.
"""

from __future__ import annotations

import re

_PREAMBLE = re.compile(
    r"""^\s*(?:
        (?:sure|certainly|of\ course|okay|ok)[!,.]?\s*
      )?
      (?:
        (?:here(?:'s|\ is|\ are)|below\ is|this\ is)\b[^\n]{0,80}?
        (?:text|version|translation|summary|sentence|paragraph|rewrite|correction|result)s?
        [^\n]{0,40}?
      | (?:the|your)\ (?:corrected|rewritten|revised|improved|translated|proofread|edited)
        \ (?:text|version|sentence|paragraph)\ (?:is|reads)
      ):[ \t]*\n?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_LABEL = re.compile(
    r"^\s*(?:rewritten|revised|corrected|proofread|improved|translated|summary|"
    r"translation|output|result|answer|text)(?:\s+(?:text|version))?\s*:\s*",
    re.IGNORECASE,
)
_TRAILING_NOTE = re.compile(
    r"\n\s*\(?\s*(?:"
    r"(?:note|notes|explanation|changes(?: made)?|let me know|i hope)\b"
    r"|i (?:have )?(?:changed|corrected|fixed|made)\b"
    r"|(?:the )?original(?: text)?(?: was| is)?:"
    r")[^\n]*(?:\n.*)*\Z",
    re.IGNORECASE | re.DOTALL,
)
_QUOTES = [('"', '"'), ("\u201c", "\u201d"), ("'", "'"), ("\u00ab", "\u00bb"), ("```", "```")]


def _unwrap_quotes(text: str, original: str) -> str:
    for left, right in _QUOTES:
        if (
            len(text) > len(left) + len(right)
            and text.startswith(left)
            and text.endswith(right)
            and not original.strip().startswith(left)
            and text.count(left) + (text.count(right) if right != left else 0) <= 2
        ):
            return text[len(left): -len(right)].strip()
    return text


_CHAT_REPLY = re.compile(
    r"^\s*(?:i'?m sorry|i apologi[sz]e|as an ai|as a (?:writing )?assistant|i'?d be happy to|"
    r"i'?m (?:unable|not able)|i can(?:not|'t) (?:help|assist)|unfortunately,? i|"
    r"sure,? i can help)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i: i + n]) for i in range(len(words) - n + 1)}


def off_task(result: str, original: str, example: tuple[str, str] | None) -> str | None:
    """Why `result` is not an edit of `original`, or None.

    Tiny models sometimes answer the worked example instead of the user's text, or
    reply to the text as if it were a message to them. Neither may be pasted over the
    user's words; the fact guard cannot see either, so they are caught here.
    """
    if example is not None:
        borrowed = _ngrams(result, 5) & (_ngrams(example[1], 5) - _ngrams(original, 5))
        if borrowed:
            return "the model answered the built-in example instead of your text"
    if _CHAT_REPLY.match(result) and not _CHAT_REPLY.match(original):
        return "the model replied to the text instead of editing it"
    return None


def repeating_tail(text: str, *, repeats: int = 3, max_period: int = 160) -> int | None:
    """The period of a loop at the end of `text` (the same chunk `repeats` times in a
    row), or None. Greedy decoding on small models falls into such loops; the caller
    stops generating instead of burning the whole token budget on them."""
    n = len(text)
    for period in range(4, min(max_period, n // repeats) + 1):
        tail = text[n - period:]
        if text.endswith(tail * repeats) and tail.strip():
            return period
    return None


def cut_repetition(text: str, period: int, repeats: int = 3) -> str:
    """Keep the text up to the first copy of the repeated chunk."""
    return text[: len(text) - (repeats - 1) * period]


def clean_output(output: str, original: str) -> str:
    """The model's reply, stripped of chatter, in the original's whitespace frame."""
    text = output.strip()
    # Small models sometimes stack the preamble ("The corrected text is:" twice).
    for _ in range(3):
        stripped = _LABEL.sub("", _PREAMBLE.sub("", text, count=1), count=1).strip()
        if stripped == text:
            break
        text = stripped
    if "\n" in text:
        stripped = _TRAILING_NOTE.sub("", text).strip()
        text = stripped or text
    text = _unwrap_quotes(text, original)
    return frame_like(text, original)


def frame_like(text: str, original: str) -> str:
    """Give `text` the original's leading/trailing whitespace and line endings."""
    lead = original[: len(original) - len(original.lstrip())]
    trail = original[len(original.rstrip()):]
    body = text.strip().replace("\r\n", "\n").replace("\r", "\n")
    if "\r\n" in original:
        body = body.replace("\n", "\r\n")
    elif "\r" in original:
        body = body.replace("\n", "\r")
    return lead + body + trail


class StreamCleaner:
    """Streams a reply while it is generated, never emitting what cleaning removes.

    Only complete lines are released, and the last HOLD_LINES of them are held back
    (a loop of repeated lines is cut before any copy of it was printed); a line that
    starts a trailing note is held with all after it, and a reply that opens with a
    quote is held to the end. So what was emitted is a prefix of the final text.
    """

    HOLD_LINES = 3

    def __init__(self, original: str) -> None:
        self._original = original
        self._raw = ""
        self._emitted = ""
        self._trail = original[len(original.rstrip()):]

    def feed(self, piece: str) -> str:
        self._raw += piece
        cut = len(self._raw)
        for _ in range(self.HOLD_LINES + 1):
            cut = self._raw.rfind("\n", 0, cut)
            if cut <= 0:
                return ""
        complete = self._raw[:cut]
        if complete.lstrip().startswith(tuple(q for q, _ in _QUOTES)):
            return ""
        candidate = clean_output(complete, self._original)
        if self._trail:
            candidate = candidate[: len(candidate) - len(self._trail)]
        return self._advance(candidate)

    def finish(self, final: str) -> str:
        """The rest of `final` (the pipeline's cleaned result) after what was printed."""
        return self._advance(final)

    def _advance(self, candidate: str) -> str:
        if candidate.startswith(self._emitted):
            delta = candidate[len(self._emitted):]
            self._emitted = candidate
            return delta
        # Only a loop longer than the holdback gets here: what was printed stays,
        # nothing contradicting it is added (the CLI warns that the output looped).
        return ""


# -- sentences: loops a chunk matcher cannot see, and replies cut mid-sentence -------------

_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*(?=\s|$)|\n")
_TERMINAL = re.compile(r"[.!?…。！？][\"'”’»)\]*_`]*\s*\Z")
_NORM_DROP = re.compile(r"[^\w\s]+")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each complete sentence of `text` (ended by . ! ? … or a line
    break); an unfinished last sentence is left out."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[start:m.end()].strip():
            spans.append((start, m.end()))
        start = m.end()
    return spans


def _norm(sentence: str) -> str:
    return " ".join(_NORM_DROP.sub(" ", sentence.lower()).split())


def sentence_counts(text: str) -> dict[str, int]:
    """How often each (normalised) sentence occurs in `text`."""
    counts: dict[str, int] = {}
    for start, end in _sentence_spans(text):
        key = _norm(text[start:end])
        if key:
            counts[key] = counts.get(key, 0) + 1
    return counts


def repeated_sentence(text: str, allowed: dict[str, int]) -> int | None:
    """Where the first sentence starts that `text` already wrote (more often than the
    source has it: `allowed`, from sentence_counts(source)), or None.

    Small models loop on whole sentences with other text in between ("A. B. C. A. B.
    C."), which the chunk matcher (repeating_tail) misses when the copies differ in a
    space or when a sentence is longer than its window.
    """
    seen: dict[str, int] = {}
    for start, end in _sentence_spans(text):
        key = _norm(text[start:end])
        if len(key.split()) < 2:
            continue  # "1." or "Yes." are not a loop
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > max(1, allowed.get(key, 0)):
            return start
    return None


def trim_to_sentence(text: str) -> tuple[str, bool]:
    """`text` up to its last complete sentence, and whether anything was cut.

    A text that already ends a sentence, or has no complete sentence to fall back on,
    is returned as it is."""
    body = text.rstrip()
    if not body or _TERMINAL.search(body):
        return text, False
    spans = [s for s in _sentence_spans(body) if body[s[1] - 1] != "\n"]
    if not spans:
        return text, False
    return body[: spans[-1][1]].rstrip(), True


_MARKUP = re.compile(r"^[#*_>\s-]+|[*_\s]+$")


def drop_headings(text: str) -> str:
    """A summary without the title and label lines small models put above it ("The Town
    of X: A History", "Work:", "**Summary**"): short lines that end no sentence go, when
    at least one line that does remains."""
    lines = text.split("\n")

    def heading(line: str) -> bool:
        bare = _MARKUP.sub("", line)
        return bool(bare) and not _TERMINAL.search(bare) and (
            bare.endswith(":") or len(bare.split()) <= 12)

    kept = [ln for ln in lines if not heading(ln)]
    if not any(_TERMINAL.search(_MARKUP.sub("", ln)) for ln in kept):
        return text
    out = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", out).strip()
