"""`trayassist bench --json --quick`: a smoke test of the whole run, not a timing assertion."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trayassist.bench import KEYS

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(sys.platform == "win32", reason="the bench's raw_tok_s ceiling is "
                       "llama.cpp's own loop via llama-cpp-python, not installed on Windows"),
]


def test_quick_bench_reports_every_key(model_path: Path, tmp_path: Path) -> None:
    chart = tmp_path / "tokens.png"
    proc = subprocess.run(
        [sys.executable, "-m", "trayassist.bench", "--json", "--quick", "--threads", "1",
         "--model", str(model_path), "--chart", str(chart)],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    for key in KEYS:
        value = result[key]
        if key == "gpt4all_tok_s" and value is None:
            assert any(n.startswith("gpt4all_tok_s") for n in result["notes"])
            continue
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert value >= 0, key
    assert result["model_mb"] > 10 and result["rss_mb"] > result["model_mb"] / 2
    assert set(result["targets"]) and all(isinstance(v, bool) for v in
                                          result["targets"].values())
    if not any("matplotlib" in n for n in result["notes"]):
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
