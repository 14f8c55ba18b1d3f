"""Which engine "auto" picks on each OS."""

from __future__ import annotations

import importlib.util

import pytest

from trayassist import engines


@pytest.mark.parametrize(("platform", "expected"), [("win32", "gpt4all"),
                                                    ("linux", "llama-cpp")])
def test_auto_prefers_the_engine_that_installs_without_a_compiler(
        platform: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines.sys, "platform", platform)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())  # both present
    assert engines.choose("auto") == expected
    assert engines.choose("llama-cpp") == "llama-cpp"  # an explicit choice is kept


def test_auto_falls_back_to_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines.sys, "platform", "win32")
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: object() if name == "llama_cpp" else None)
    assert engines.choose("auto") == "llama-cpp"
