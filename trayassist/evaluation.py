"""`trayassist eval`: a small built-in evaluation per action, and what it decides.

The set (trayassist/data/evalset.json) is small and honest: ~10 items per action on
varied topics, written for trayassist. It answers one question per action: can this
model be trusted with it? The rules below were fixed before the first run:

- proofread: edit distance to a reference correction. Capable when at least 70 % of the
  items move closer to the reference and at most 10 % move farther away.
- rewrite / summarize: facts kept (each item lists words that must survive, matched
  case-insensitively) and nothing invented (the guard's "added" items, and capitalised
  words that appear nowhere in the input). Capable when facts kept >= 90 % (rewrite) or
  >= 75 % (summarize), at most 10 % of the items invent something, and no output looped;
  a summary must also be shorter than its input. "unchanged" (output == input) is
  reported, not judged: an echo harms nothing, it only helps nothing.
- translate: chrF (sacrebleu) of all outputs against reference translations into
  French. Capable when chrF >= 50 (a usable translation; word salad scores 20-35).

A failed or off-task item scores as the worst case (farther, no facts kept, empty).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from trayassist.actions import Action
from trayassist.engines.base import Engine, EngineError
from trayassist.guard import check
from trayassist.transform import transform

ACTIONS = ("proofread", "rewrite", "summarize", "translate")
PROOFREAD_CLOSER, PROOFREAD_FARTHER = 0.7, 0.1
FACTS_KEPT = {"rewrite": 0.9, "summarize": 0.75}
INVENTED_MAX = 0.1
CHRF_MIN = 50.0


def load_set() -> dict[str, Any]:
    text = resources.files("trayassist").joinpath("data/evalset.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _norm(text: str) -> str:
    return " ".join(text.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance on characters (the texts are one or two sentences)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


_WORD = re.compile(r"[^\W\d_][\w'-]*")


def invented_words(original: str, result: str) -> list[str]:
    """Capitalised words of `result` (not opening a sentence) found nowhere in `original`:
    names, places and brands a model made up."""
    known = {w.lower() for w in _WORD.findall(original)}
    found = []
    for m in _WORD.finditer(result):
        word = m.group()
        before = result[: m.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?:\"'(\n"
        if word[0].isupper() and not sentence_start and word.lower() not in known:
            found.append(word)
    return found


@dataclass
class Item:
    output: str
    seconds: float
    looped: bool = False
    error: str = ""


@dataclass
class ActionReport:
    action: str
    items: int
    capable: bool
    score: dict[str, float]  # the numbers that decided
    rule: str
    looped: int = 0
    failed: int = 0
    seconds: float = 0.0
    details: list[dict[str, Any]] = field(default_factory=list)  # per item, no model text

    def summary(self) -> str:
        parts = [f"{k}={v:g}" for k, v in self.score.items()]
        return ", ".join(parts)


def _run_items(action: Action, inputs: Iterable[str], engine: Engine, language: str,
               progress: Callable[[str], None]) -> list[Item]:
    items = []
    for text in inputs:
        started = time.perf_counter()
        try:
            outcome = transform(action, text, engine, language=language,
                                cancel=threading.Event())
            item = Item(outcome.text, time.perf_counter() - started, outcome.looped)
        except EngineError as exc:
            item = Item("", time.perf_counter() - started, error=str(exc))
        progress(".")
        items.append(item)
    return items


def score_proofread(cases: list[dict[str, str]], items: list[Item]) -> ActionReport:
    closer = farther = exact = 0
    details = []
    for case, item in zip(cases, items, strict=True):
        ref, before = _norm(case["reference"]), _norm(case["input"])
        after = _norm(item.output) if item.output else before
        d0, d1 = edit_distance(before, ref), edit_distance(after, ref)
        if item.error:
            d1 = max(d1, d0 + 1)
        closer += d1 < d0
        farther += d1 > d0
        exact += after == ref
        details.append({"distance_before": d0, "distance_after": d1, "exact": after == ref,
                        "looped": item.looped, "error": item.error})
    n = len(cases)
    score = {"closer": round(closer / n, 3), "farther": round(farther / n, 3),
             "exact": round(exact / n, 3)}
    capable = score["closer"] >= PROOFREAD_CLOSER and score["farther"] <= PROOFREAD_FARTHER
    rule = f"closer >= {PROOFREAD_CLOSER:g} and farther <= {PROOFREAD_FARTHER:g}"
    return ActionReport("proofread", n, capable, score, rule, details=details)


def score_facts(name: str, cases: list[dict[str, Any]], items: list[Item]) -> ActionReport:
    kept_total = facts_total = invented = longer = unchanged = 0
    details = []
    for case, item in zip(cases, items, strict=True):
        out = item.output.lower()
        kept = sum(f.lower() in out for f in case["facts"])
        kept_total += kept
        facts_total += len(case["facts"])
        added = [f for f in check(case["input"], item.output, must_keep_all=False)
                 if not f.original]
        names = invented_words(case["input"], item.output)
        invented += bool(added or names)
        too_long = len(item.output.split()) >= len(case["input"].split())
        longer += too_long
        unchanged += _norm(item.output) == _norm(case["input"])
        details.append({"facts_kept": kept, "facts": len(case["facts"]),
                        "invented_items": len(added) + len(names), "looped": item.looped,
                        "longer_than_input": too_long, "error": item.error})
    n = len(cases)
    loops = sum(i.looped for i in items)
    score = {"facts_kept": round(kept_total / facts_total, 3),
             "invented": round(invented / n, 3), "looped": round(loops / n, 3),
             "unchanged": round(unchanged / n, 3)}
    need = FACTS_KEPT[name]
    capable = (score["facts_kept"] >= need and score["invented"] <= INVENTED_MAX
               and loops == 0)
    rule = f"facts_kept >= {need:g}, invented <= {INVENTED_MAX:g}, no loops"
    if name == "summarize":
        score["longer_than_input"] = round(longer / n, 3)
        capable = capable and longer == 0
        rule += ", every summary shorter than its input"
    return ActionReport(name, n, capable, score, rule, details=details)


def score_translate(cases: list[dict[str, str]], items: list[Item]) -> ActionReport:
    import sacrebleu

    hyps = [_norm(i.output) for i in items]
    refs = [_norm(c["reference"]) for c in cases]
    chrf = sacrebleu.corpus_chrf(hyps, [refs]).score
    details = [{"chrf": round(sacrebleu.sentence_chrf(h, [r]).score, 1),
                "looped": i.looped, "error": i.error}
               for h, r, i in zip(hyps, refs, items, strict=True)]
    n = len(cases)
    score = {"chrf": round(chrf, 1), "looped": round(sum(i.looped for i in items) / n, 3)}
    return ActionReport("translate", n, chrf >= CHRF_MIN, score, f"chrf >= {CHRF_MIN:g}",
                        details=details)


def evaluate(engine: Engine, actions: dict[str, Action], which: Iterable[str],
             progress: Callable[[str], None] = lambda _s: None) -> list[ActionReport]:
    """Run the built-in set for each action in `which`. Owner thread of `engine`."""
    data = load_set()
    reports = []
    for name in which:
        cases = data[name]
        language = data["translate_to"] if name == "translate" else "English"
        progress(f"{name} ")
        started = time.perf_counter()
        items = _run_items(actions[name], [c["input"] for c in cases], engine, language,
                           progress)
        if name == "proofread":
            report = score_proofread(cases, items)
        elif name == "translate":
            report = score_translate(cases, items)
        else:
            report = score_facts(name, cases, items)
        report.looped = sum(i.looped for i in items)
        report.failed = sum(bool(i.error) for i in items)
        report.seconds = round(time.perf_counter() - started, 1)
        progress("\n")
        reports.append(report)
    return reports


def table(reports: list[ActionReport]) -> str:
    lines = [f"{'ACTION':<10} {'ITEMS':>5} {'CAPABLE':<8} {'LOOPED':>6} {'FAILED':>6}  "
             "SCORE (rule)"]
    for r in reports:
        lines.append(f"{r.action:<10} {r.items:>5} {'yes' if r.capable else 'no':<8} "
                     f"{r.looped:>6} {r.failed:>6}  {r.summary()}  ({r.rule})")
    return "\n".join(lines)


def to_json(model: str, engine_name: str, reports: list[ActionReport],
            date: str) -> dict[str, Any]:
    return {
        "model": model,
        "engine": engine_name,
        "date": date,
        "actions": {r.action: {"capable": r.capable, "score": r.score, "rule": r.rule,
                               "items": r.items, "looped": r.looped, "failed": r.failed,
                               "seconds": r.seconds, "details": r.details}
                    for r in reports},
    }
