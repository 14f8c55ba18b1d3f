"""The test suite under Windows CPython (Wine): everything but the Linux desktop stages.

Tests that cannot apply on Windows skip themselves with a reason (platform checks in the
tests); the summary of skips is printed so the CI log shows each reason.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import winpy  # installers/windows, put on sys.path by this folder's conftest

pytestmark = pytest.mark.windows

ROOT = Path(__file__).resolve().parents[2]


def test_suite_passes_under_windows_cpython(wine: winpy.WineSession, win_python: Path) -> None:
    started = time.monotonic()
    proc = wine.run([str(win_python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                     "-m", "not desktop and not wayland and not windows",
                     "--rootdir", winpy.win_path(ROOT), winpy.win_path(ROOT / "tests")],
                    timeout=900, check=False)
    tail = proc.stdout[-6000:]
    print(tail, file=sys.stderr)
    print(f"[windows] suite under Windows CPython in {time.monotonic() - started:.0f} s",
          file=sys.stderr)
    assert proc.returncode == 0, tail + proc.stderr[-2000:]
    assert " passed" in tail
