"""Deterministic synthetic long texts for the long-text tests and `trayassist bench`.

Generated, not copied: a fictional town's news (invented names, dates, amounts) in as
many paragraphs as asked, so the guard has facts to check and nobody's article ships
with the code. Same arguments, same text, on every machine.
"""

from __future__ import annotations

import random

_TOWNS = ("Brackenford", "Eastmere", "Holloway Cross", "Lindqvist Bay", "Marrow Hill")
_PEOPLE = ("Ada Whitcombe", "Tomas Ferreira", "Ines Kowalski", "Rahul Menon",
           "Grete Solberg", "Jonah Achterberg", "Mireille Dufour", "Owen Pritchard")
_ROLES = ("the mayor", "the town engineer", "the head of the library", "a local baker",
          "the harbour master", "the school principal", "a council member")
_PROJECTS = ("the new footbridge", "the library extension", "the harbour wall repair",
             "the community garden", "the bus depot", "the flood barrier", "the night market")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_OPENERS = (
    "At the council meeting on {date}, {person}, {role}, presented the plans for {project}.",
    "Work on {project} started on {date}, {person} told reporters outside the town hall.",
    "{person}, {role}, said on {date} that {project} was behind schedule.",
    "Residents of {town} met on {date} to discuss {project} with {person}.",
)
_MIDDLES = (
    "The budget for the work is {amount}, of which {share} percent comes from the "
    "regional fund.",
    "About {count} people have signed a petition asking for longer opening hours.",
    "The contractor expects to need {count} workers and {weeks} weeks to finish.",
    "Earlier estimates had put the cost at {amount}, but steel prices have risen since.",
    "The town will hold an open day so that families can see the site and ask questions.",
    "Several shop owners worry that the roadworks will keep customers away in the summer.",
    "A survey found that {share} percent of residents use the old route every week.",
    "The council also agreed to plant {count} trees along the river path next spring.",
)
_CLOSERS = (
    "A final decision is expected by {date}.",
    "More details will be published on the town's website in the coming weeks.",
    "{person} promised to report on progress at the next meeting.",
    "Questions can be sent to the council office until {date}.",
)


def _facts(rng: random.Random) -> dict[str, str]:
    year = rng.choice((2024, 2025, 2026))
    return {
        "date": f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, {year}",
        "person": rng.choice(_PEOPLE),
        "role": rng.choice(_ROLES),
        "project": rng.choice(_PROJECTS),
        "town": rng.choice(_TOWNS),
        "amount": f"${rng.randint(12, 980) * 1000:,}",
        "share": str(rng.randint(11, 89)),
        "count": str(rng.randint(14, 950)),
        "weeks": str(rng.randint(3, 40)),
    }


def paragraph(rng: random.Random, middles: int = 3) -> str:
    facts = _facts(rng)
    parts = [rng.choice(_OPENERS)]
    parts += rng.sample(_MIDDLES, middles)
    parts.append(rng.choice(_CLOSERS))
    return " ".join(p.format(**facts) for p in parts)


def article(words: int = 3000, seed: int = 12) -> str:
    """News paragraphs, blank-line separated, until about `words` words."""
    rng = random.Random(seed)
    paras: list[str] = []
    count = 0
    while count < words:
        para = paragraph(rng, middles=rng.randint(3, 5))
        paras.append(para)
        count += len(para.split())
    return "\n\n".join(paras) + "\n"


_TYPOS = (("the ", "teh "), (" receive", " recieve"), (" their ", " there "),
          (" which ", " wich "), (" until ", " untill "), ("ing ", "in "), (" a lot", " alot"))


def with_typos(text: str, seed: int = 3, rate: float = 0.5) -> str:
    """`text` with common misspellings sprinkled in (proofreading input)."""
    rng = random.Random(seed)
    out = []
    for sentence in text.split(". "):
        for right, wrong in _TYPOS:
            if right in sentence and rng.random() < rate:
                sentence = sentence.replace(right, wrong, 1)
        out.append(sentence)
    return ". ".join(out)


def letter(paragraphs: int = 10, seed: int = 7) -> str:
    """A `paragraphs`-paragraph text with typos, as people paste it to proofread."""
    rng = random.Random(seed)
    paras = [with_typos(paragraph(rng, middles=2), seed + i) for i in range(paragraphs)]
    return "\n\n".join(paras) + "\n"
