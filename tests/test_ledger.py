"""The privacy ledger: counters only, in the data folder, safe against concurrent writers."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from trayassist import cli, ledger, paths
from trayassist.actions import BUILTIN_ACTIONS
from trayassist.clipboard_guard import RestoreGuard  # noqa: F401 - the pipeline's import path
from trayassist.job import Timing
from trayassist.pipeline import run_job
from trayassist.testing import FakeApp, FakeClipboard, FakeKeys, ScriptedEngine

SECRET_TEXT = "the quarterly numbers for Zebulon Industries look grim"
FAST = Timing(modifier_release_s=0.01, copy_timeout_s=0.05, poll_s=0.001, paste_read_s=0.01,
              paste_settle_s=0.0)


def test_a_job_is_counted_and_its_text_never_written(trayassist_home: Path) -> None:
    ledger.record("rewrite", words=9, input_tokens=12, output_tokens=15)
    ledger.record("rewrite", words=1, input_tokens=2, output_tokens=3)
    ledger.record("translate", words=4, input_tokens=5, output_tokens=6)
    counts = ledger.load()
    assert ledger.ledger_file().parent == paths.data_dir()
    assert counts.actions["rewrite"].jobs == 2 and counts.actions["rewrite"].words == 10
    assert (counts.jobs, counts.words, counts.input_tokens, counts.output_tokens) == (
        3, 14, 19, 24)
    assert counts.bytes_sent_remote == 0 and counts.since


def test_concurrent_writers_lose_no_count() -> None:
    def work() -> None:
        for _ in range(20):
            ledger.record("proofread", words=1, input_tokens=1, output_tokens=1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.load().actions["proofread"].jobs == 80


def test_cost_estimate_uses_the_price_per_million_tokens() -> None:
    ledger.record("rewrite", words=1, input_tokens=1_000_000, output_tokens=2_000_000)
    assert ledger.load().cost(0.15, 0.60) == pytest.approx(1.35)


def test_remote_bytes_come_from_the_engine_meter() -> None:
    class Remote:
        bytes_sent_remote = 100
        remote_host = "api.example.test"

    engine = Remote()
    meter = ledger.EngineMeter(engine)
    engine.bytes_sent_remote = 350
    assert meter.sent() == 250 and meter.host == "api.example.test"
    local = ledger.EngineMeter(ScriptedEngine())
    assert local.sent() == 0 and local.host is None


def test_pipeline_reports_counts_but_the_ledger_holds_no_text(trayassist_home: Path) -> None:
    app = FakeApp(SECRET_TEXT)
    app.select_all()
    clipboard = FakeClipboard()
    keys = FakeKeys(app, clipboard)
    result = run_job(BUILTIN_ACTIONS["rewrite"], clipboard, keys, ScriptedEngine(),
                     threading.Event(), language="English", delivery="paste", timing=FAST)
    assert result.stats is not None and result.stats.words == len(SECRET_TEXT.split())
    ledger.record("rewrite", words=result.stats.words, input_tokens=result.stats.input_tokens,
                  output_tokens=result.stats.output_tokens)
    raw = ledger.ledger_file().read_text()
    for word in SECRET_TEXT.split():
        if len(word) > 3:
            assert word.lower() not in raw.lower()
    assert json.loads(raw)["actions"]["rewrite"]["jobs"] == 1


def test_ledger_command_prints_table_and_json(capsys) -> None:  # type: ignore[no-untyped-def]
    ledger.record("summarize", words=40, input_tokens=50, output_tokens=20)
    assert cli.main(["ledger"]) == 0
    out = capsys.readouterr().out
    assert "summarize" in out and "bytes sent off this machine: 0" in out
    assert "never any of your text" in out
    assert cli.main(["ledger", "--json", "--price-input", "1", "--price-output", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["jobs"] == 1 and data["words"] == 40
    assert data["hosted_api_estimate_usd"] == round((50 * 1 + 20 * 2) / 1e6, 6)


def test_an_unreadable_ledger_counts_from_zero() -> None:
    path = ledger.ledger_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert ledger.load().jobs == 0
    ledger.record("rewrite", words=1, input_tokens=1, output_tokens=1)
    assert ledger.load().jobs == 1
