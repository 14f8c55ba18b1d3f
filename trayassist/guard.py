"""Faithfulness guard: did the numbers, times, dates, amounts, URLs and e-mails survive a run?

Pure functions, no I/O. Each text is scanned kind by kind (URL, e-mail, phone, date, time,
amount, number) and every match is masked, so digits inside a URL, date, time or amount are
not counted again as a bare number. Values are normalised so equivalent spellings match:
``3pm`` == ``3:00 PM`` == ``15:00`` == ``15 Uhr`` == ``15h``; ``€1,200.50`` == ``1.200,50 €``;
``20 %`` == ``20 percent`` == ``20 Prozent``; ``May 1, 2024`` == ``1. Mai 2024`` ==
``2024-05-01``. Ambiguous spellings carry every plausible reading and match any of them:
``1,200`` is 1200 or 1.2, ``05/01/2024`` is 1 May or 5 January, ``3:00`` (no am/pm) is 03:00
or 15:00. Month names: English, French, German, Spanish, Italian, Portuguese, Dutch.

Phones (``+49 30 123456``, ``(555) 123-4567``, ``555-123-4567``), versions (``v1.2.3``) and
dotted digit runs that are no number (IP addresses) are ``number`` items kept verbatim.
Known limits: number words ("three") and month-year dates ("May 2024": the year is a bare
number) are not understood; kinds are compared separately (``20%`` -> ``20`` is a dropped
amount plus an added number); digit groups split by one space are one number (``1 200``);
``5 h`` and German ``5 am Montag`` read as 05:00.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

Key = tuple[object, ...]
KINDS = ("number", "time", "date", "amount", "url", "email")


@dataclass(frozen=True)
class Flag:
    """One protected item that was changed, dropped (no replacement) or added (no original)."""

    kind: str  # "number" | "time" | "date" | "amount" | "url" | "email"
    original: str  # as written in the input, "" if the output invented it
    replacement: str  # as written in the output, "" if dropped

    def __str__(self) -> str:
        if not self.replacement:
            return f"dropped: {self.original}"
        if not self.original:
            return f"added: {self.replacement}"
        return f"{self.original} -> {self.replacement}"


@dataclass(frozen=True)
class _Item:
    kind: str
    text: str
    keys: frozenset[Key]  # every plausible normalised reading
    pos: int


_MONTH_NAMES = (
    "january jan januar jänner janvier enero gennaio janeiro januari",
    "february feb februar février fevrier febrero febbraio fevereiro februari",
    "march mar märz marz mars marzo março maart",
    "april apr avril abril aprile",
    "may mai mayo maggio maio mei",
    "june jun juni juin junio giugno junho",
    "july jul juli juillet julio luglio julho",
    "august aug août aout agosto augustus",
    "september sep sept septembre septiembre setiembre settembre setembro",
    "october oct oktober octobre octubre ottobre outubro",
    "november nov novembre noviembre novembro",
    "december dec dezember décembre decembre diciembre dicembre dezembro",
)
_MONTHS = {name: i for i, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_CAPITALISED_ONLY = frozenset({"may", "march", "mar"})  # also plain English words
_MON = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")(?!\w)\.?"
_YEAR = r"(?P<y>(?:1[6-9]|2[01])\d\d)(?!\d)"
_NUM = r"[-−]?(?:\d{1,3}(?:[ \xa0\u202f\u2009']\d{3})+(?!\d)(?:[.,]\d+)?|\d+(?:[.,]\d+)*)"
_CUR = r"US\$|[$€£¥₹]|\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|CNY)\b"
_UNIT = (
    _CUR + r"|%|\b(?:dollars?|euros?|percent|per\s?cent|pour\s?cent|por\s?ciento"
    r"|per\s?cento|por\s?cento|prozent|procent)\b"
)
_CURRENCY = {"$": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD", "€": "EUR",
             "euro": "EUR", "euros": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'“”‘’«»]+", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{5,}\d|\(\d{2,4}\)\s?\d{3}[ .-]?\d{3,4}"
                    r"|\d{3}[-.]\d{3}[-.]\d{4})(?!\d)")
_DATE_ISO = re.compile(r"(?<![\d.,])(?P<y>\d{4})([-/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?!\d)")
_DATE_NUM = re.compile(r"(?<![\d.,/-])(?P<a>\d{1,2})(?P<s>[./-])(?P<b>\d{1,2})(?P=s)"
                       r"(?P<y>\d{4}|\d{2})(?!\d)")
_DATE_DM = re.compile(r"(?<![\d.,])(?P<d>\d{1,2})(?:st|nd|rd|th|er|º|°|\.)?\s*(?:of\s+|de\s+)?"
                      + _MON + r"(?:,?\s*(?:de\s+)?" + _YEAR + ")?", re.I)
_DATE_MD = re.compile(r"(?<!\w)" + _MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?![\d:])"
                      r"(?:,?\s+" + _YEAR + ")?", re.I)
_TIME = re.compile(
    r"(?P<pre>\b(?:alle|ore|um|om|às|à)\s+)?(?<![\d:.,])(?P<h>\d{1,2})"
    r"(?:(?P<sep>[:.])(?P<mi>\d{2})(?::(?P<sec>\d{2}))?)?"
    r"(?:\s?(?:(?P<ap>[ap])(?:\.\s?m\.|\s?m\b)"
    r"|(?P<u>uhr\b|uur\b|h(?![^\W\d_]))(?:\s?(?P<mi2>\d{2})(?!\d))?))?(?!\d)", re.I)
_AMOUNT = re.compile(
    rf"(?P<c1>{_CUR})\s?(?P<n1>{_NUM})|(?<![\w.,])(?P<n2>{_NUM})\s?(?P<c2>{_UNIT})", re.I)
_NUMBER = re.compile(rf"(?<![\w.,])(?:(?P<v>v)(?=\d))?(?P<n>{_NUM})")
_GROUPED = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_SPACES = re.compile(r"[\s']")

_Parsed = tuple[str, frozenset[Key]] | None


def _values(raw: str) -> frozenset[object]:
    """Readings of a written number: Decimals, or the bare string if it is no valid number."""
    s = _SPACES.sub("", raw).replace("−", "-")
    sign, s = ("-", s[1:]) if s.startswith("-") else ("", s)
    seps = [c for c in s if c in ".,"]
    reads: set[str] = set()
    if len(set(seps)) == 2:  # both kinds: the last one is the decimal mark
        head, dec, tail = s.rpartition(seps[-1])
        if seps.count(dec) == 1 and _GROUPED.fullmatch(head):
            reads.add(head.replace(seps[0], "") + "." + tail)
    elif len(seps) > 1:  # one kind, repeated: thousands groups only
        if _GROUPED.fullmatch(s):
            reads.add(s.replace(seps[0], ""))
    elif seps:  # one mark: decimal, or thousands if three digits follow (ambiguous)
        head, _, tail = s.partition(seps[0])
        reads.add(f"{head}.{tail}")
        if len(tail) == 3 and len(head) <= 3 and not head.startswith("0"):
            reads.add(head + tail)
    else:
        reads.add(s)
    return frozenset(Decimal(sign + r) for r in reads) if reads else frozenset({s})


def _url(m: re.Match[str]) -> _Parsed:
    url = m[0]
    while url[-1] in ".,;:!?)]}" and not (
        url[-1] in ")]}" and url.count(url[-1]) <= url.count("([{"[")]}".index(url[-1])])
    ):
        url = url[:-1]
    return url, frozenset({(url,)})


def _email(m: re.Match[str]) -> _Parsed:
    return m[0], frozenset({(m[0].lower(),)})


def _phone(m: re.Match[str]) -> _Parsed:
    digits = re.sub(r"\D", "", m[0])
    return (m[0], frozenset({(digits,)})) if len(digits) >= 7 else None


def _date(m: re.Match[str]) -> _Parsed:
    g = m.groupdict()
    year = int(g["y"]) if g.get("y") else None
    if g.get("mon"):
        mon = g["mon"]
        if mon.lower() in _CAPITALISED_ONLY and not mon[0].isupper():
            return None
        cands = [(_MONTHS[mon.lower()], int(g["d"]))]
    elif g.get("a"):
        if g["s"] == "." and len(g["y"]) == 2:  # 1.2.24 is more likely a version
            return None
        a, b = int(g["a"]), int(g["b"])
        cands = [(a, b), (b, a)]  # month/day or day/month
        year = year + 2000 if year is not None and year < 100 else year
    else:
        cands = [(int(g["m"]), int(g["d"]))]
    keys = frozenset((year, mo, d) for mo, d in cands if 1 <= mo <= 12 and 1 <= d <= 31)
    return (m[0].strip().rstrip("."), keys) if keys else None


def _time(m: re.Match[str]) -> _Parsed:
    hour, minute, sec = int(m["h"]), int(m["mi"] or m["mi2"] or 0), int(m["sec"] or 0)
    if m["ap"]:
        if not 1 <= hour <= 12:
            return None
        hours = {hour % 12 + (12 if m["ap"].lower() == "p" else 0)}
    elif m["u"] or m["sep"] == ":" or (m["sep"] and m["pre"]):
        twelve = not m["u"] and 1 <= hour <= 11 and not m["h"].startswith("0")
        hours = {hour, hour + 12} if twelve else {hour}  # bare 3:00 may mean 15:00
    else:
        return None
    if hour > 23 or minute > 59 or sec > 59:
        return None
    return m[0][m.start("h") - m.start():].strip(), frozenset((h, minute, sec) for h in hours)


def _amount(m: re.Match[str]) -> _Parsed:
    unit = re.sub(r"\s+", "", m["c1"] or m["c2"]).lower()
    cur = "%" if unit[0] in "%p" else _CURRENCY.get(unit, unit.upper())
    return m[0].strip(), frozenset((cur, v) for v in _values(m["n1"] or m["n2"]))


def _number(m: re.Match[str]) -> _Parsed:
    if m["v"]:
        return m[0], frozenset({(m["n"],)})
    return m[0], frozenset((v,) for v in _values(m["n"]))


_RULES: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], _Parsed]], ...] = (
    ("url", _URL, _url), ("email", _EMAIL, _email), ("number", _PHONE, _phone),
    ("date", _DATE_ISO, _date), ("date", _DATE_NUM, _date), ("date", _DATE_DM, _date),
    ("date", _DATE_MD, _date), ("time", _TIME, _time), ("amount", _AMOUNT, _amount),
    ("number", _NUMBER, _number),
)


def _extract(text: str) -> list[_Item]:
    """Protected items of ``text`` in order; each match is masked before the next rule runs."""
    items: list[_Item] = []
    for kind, pattern, parse in _RULES:
        spans = []
        for m in pattern.finditer(text):
            if parsed := parse(m):
                items.append(_Item(kind, parsed[0], parsed[1], m.start()))
                spans.append(m.span())
        for start, end in spans:
            text = text[:start] + "\0" * (end - start) + text[end:]
    return sorted(items, key=lambda item: item.pos)


def _pair(a: list[_Item], b: list[_Item]) -> dict[int, int]:
    """Maximum matching of items sharing a reading (b index -> a index), exact ones first."""
    owner: dict[int, int] = {}

    def grow(i: int, seen: set[int]) -> bool:
        for j in sorted(range(len(b)), key=lambda j: b[j].keys != a[i].keys):
            if j not in seen and a[i].keys & b[j].keys:
                seen.add(j)
                if j not in owner or grow(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(a)):
        grow(i, set())
    return owner


def check(original: str, result: str, *, must_keep_all: bool = True) -> list[Flag]:
    """Flag protected items of ``original`` that ``result`` dropped, changed or invented.

    Items are compared per kind as multisets of normalised values. With ``must_keep_all``
    (rewrite, proofread, translate) every input item must reappear. Without it (summarize),
    dropping is fine and an output value is only flagged if it occurs nowhere in the input.
    A dropped and an added item of one kind are reported together as a change, paired in
    order of appearance. Flags come in input order, then added items in output order.
    """
    src, out = _extract(original), _extract(result)
    found: list[tuple[int, int, Flag]] = []
    for kind in KINDS:
        a = [x for x in src if x.kind == kind]
        b = [y for y in out if y.kind == kind]
        owner = _pair(a, b)
        dropped = [x for i, x in enumerate(a) if i not in owner.values()]
        added = [y for j, y in enumerate(b) if j not in owner]
        if not must_keep_all:
            known = {k for x in a for k in x.keys}
            added = [y for y in added if not y.keys & known]
        found += [(0, x.pos, Flag(kind, x.text, y.text))
                  for x, y in zip(dropped, added, strict=False)]
        n = min(len(dropped), len(added))
        if must_keep_all:
            found += [(0, x.pos, Flag(kind, x.text, "")) for x in dropped[n:]]
        found += [(1, y.pos, Flag(kind, "", y.text)) for y in added[n:]]
    return [flag for *_, flag in sorted(found, key=lambda t: (t[0], t[1]))]
