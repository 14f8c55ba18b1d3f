"""`trayassist eval`'s scoring and the capability records it feeds (no model needed)."""

from __future__ import annotations

import json

from trayassist import capabilities, evaluation
from trayassist.actions import BUILTIN_ACTIONS
from trayassist.testing import ScriptedEngine


def test_the_set_is_small_varied_and_complete() -> None:
    data = evaluation.load_set()
    for action in evaluation.ACTIONS:
        assert 8 <= len(data[action]) <= 12, action
        inputs = [c["input"] for c in data[action]]
        assert len(set(inputs)) == len(inputs)


def test_edit_distance() -> None:
    assert evaluation.edit_distance("kitten", "sitting") == 3
    assert evaluation.edit_distance("", "abc") == 3


def test_proofread_counts_closer_farther_and_exact() -> None:
    cases = [{"input": "teh cat", "reference": "The cat."}] * 3
    items = [evaluation.Item("The cat.", 0.1), evaluation.Item("teh cat is big and red", 0.1),
             evaluation.Item("", 0.1, error="off task")]
    report = evaluation.score_proofread(cases, items)
    assert report.score == {"closer": 0.333, "farther": 0.667, "exact": 0.333}
    assert not report.capable


def test_facts_and_invented_names_are_scored() -> None:
    cases = [{"input": "Anna meets Bob on Monday at 3pm.", "facts": ["Anna", "Monday"]}] * 2
    good = evaluation.Item("Anna meets Bob on Monday at 3pm.", 0.1)
    bad = evaluation.Item("Anna meets Gerald in Paris on Friday at 5pm.", 0.1)
    report = evaluation.score_facts("rewrite", cases, [good, bad])
    assert report.score["facts_kept"] == 0.75
    assert report.score["invented"] == 0.5
    assert not report.capable
    assert evaluation.invented_words("Anna meets Bob.", "Later, Anna met Gerald.") == ["Gerald"]


def test_translate_uses_chrf() -> None:
    cases = [{"input": "Where is the station?", "reference": "Où est la gare ?"}]
    same = evaluation.score_translate(cases, [evaluation.Item("Où est la gare ?", 0.1)])
    junk = evaluation.score_translate(cases, [evaluation.Item("Station station ok", 0.1)])
    assert same.capable and same.score["chrf"] == 100.0
    assert not junk.capable and junk.score["chrf"] < 30


def test_evaluate_runs_every_item_through_the_real_transform() -> None:
    engine = ScriptedEngine(reply=lambda prompt: "Où est la gare ?")
    reports = evaluation.evaluate(engine, dict(BUILTIN_ACTIONS), ["translate"])
    assert reports[0].items == len(engine.calls) == 10
    assert reports[0].score["chrf"] < 50 and not reports[0].capable
    data = evaluation.to_json("m", "scripted", reports, "2026-12-01")
    assert data["actions"]["translate"]["capable"] is False


def test_shipped_records_say_measured_or_unmeasured_never_invented() -> None:
    from trayassist.models import CATALOG, EMBEDDED

    for action in evaluation.ACTIONS:
        assert capabilities.lookup(EMBEDDED, action).measured
        rec = capabilities.lookup(EMBEDDED, action)
        assert rec.score and rec.date and rec.engine
    for name in CATALOG:
        if name != EMBEDDED:
            rec = capabilities.lookup(name, "translate")
            assert not rec.measured and rec.trusted and rec.score is None


def test_a_local_eval_run_overrides_the_shipped_record() -> None:
    report = {"model": "smollm2-135m-instruct", "engine": "scripted", "date": "2026-12-01",
              "actions": {"translate": {"capable": True, "score": {"chrf": 99.0},
                                        "rule": "chrf >= 50"}}}
    path = capabilities.record(report)
    assert json.loads(path.read_text())["models"]["smollm2-135m-instruct"]
    rec = capabilities.lookup("smollm2-135m-instruct", "translate", "scripted")
    assert rec.capable and rec.score == {"chrf": 99.0} and rec.engine == "scripted"
    # Another engine's record still comes from the shipped file.
    assert capabilities.lookup("smollm2-135m-instruct", "translate", "llama-cpp").capable \
        is False


def test_records_are_per_engine() -> None:
    assert capabilities.lookup("smollm2-135m-instruct", "proofread", "llama-cpp").engine == \
        "llama-cpp"
    assert capabilities.lookup("smollm2-135m-instruct", "proofread", "gpt4all").engine == \
        "gpt4all"
    assert capabilities.lookup("smollm2-135m-instruct", "proofread").engine == "llama-cpp"


def test_advice_names_the_model_to_pull() -> None:
    line = capabilities.advice("translate", "smollm2-135m-instruct")
    assert "trayassist models pull qwen2.5-1.5b-instruct, 1.1 GB" in line
    assert line.startswith("translate needs a larger model")
