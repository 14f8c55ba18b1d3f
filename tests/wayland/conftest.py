"""Fixtures for the `wayland` stage: one headless sway session per test module."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if sys.platform == "win32":  # the harness runs sway as a Unix test user (pwd, setuid)
    pytest.skip("the Wayland stage runs on Linux", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).parent))

import harness  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.wayland)


@pytest.fixture(scope="module")
def sway() -> Iterator[harness.Session]:
    session = harness.start_session()
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def wayland_env(sway: harness.Session, monkeypatch: pytest.MonkeyPatch) -> harness.Session:
    """This process talks to the session too (root may use the user's sockets)."""
    for key, value in sway.root_env().items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("HYPRLAND_INSTANCE_SIGNATURE", raising=False)
    return sway
