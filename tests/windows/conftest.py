"""The Windows stage: Windows CPython under Wine, in a fresh private WINEPREFIX.

Fixtures (session-wide, made once): `wine` (a fresh prefix under a temp folder, its own
Xvfb), `win_python` (the embeddable CPython with trayassist's Windows packages + pytest,
the repo on its path), `installer` (the NSIS installer built from this checkout).
Downloads are cached under ~/.cache/trayassist/windows/ (see installers/windows/winpy.py).

A missing tool skips on a developer's machine but FAILS in CI (CI=true): a Windows stage
that skips proves nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "installers" / "windows"))

import winpy  # noqa: E402

TOOLS = {"wine": "wine", "wineserver": "wine", "Xvfb": "xvfb", "xdotool": "xdotool",
         "makensis": "nsis", "import": "imagemagick"}
TEST_REQS = ["pytest>=8"]
HELPER = ROOT / "tests" / "windows" / "winhelper.py"
ARTIFACTS = ROOT / "artifacts"


def _require_tools() -> None:
    if sys.platform != "linux":
        pytest.skip("the Wine stage runs on Linux")
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        message = (f"Wine stage needs {', '.join(missing)}: "
                   "bash installers/install.sh --dev installs them")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[winpy.WineSession]:
    _require_tools()
    started = time.monotonic()
    session = winpy.WineSession(tmp_path_factory.mktemp("wine") / "prefix")
    print(f"[windows] fresh prefix in {time.monotonic() - started:.0f} s", file=sys.stderr)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def win_python(wine: winpy.WineSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """python.exe with trayassist's Windows packages and pytest; the repo on its path."""
    sys.path.insert(0, str(ROOT / "installers" / "windows"))
    from build import SMOLLM2  # type: ignore[import-not-found]

    python = winpy.embedded_python(tmp_path_factory.mktemp("winpy") / "py",
                                   [winpy.win_path(ROOT)])
    reqs = [*winpy.project_requirements(ROOT), *TEST_REQS]
    winpy.copy_site(winpy.site_tree(python, reqs, [SMOLLM2], lambda: wine), python)
    return python


@pytest.fixture(scope="session")
def installer(wine: winpy.WineSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The installer .exe built from this checkout (zlib: fast to build and unpack)."""
    from build import build  # type: ignore[import-not-found]

    started = time.monotonic()
    exe: Path = build(tmp_path_factory.mktemp("dist"), "zlib", lambda: wine)
    print(f"[windows] installer {exe.stat().st_size / 1e6:.0f} MB built in "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    return exe


def wine_py(wine: winpy.WineSession, python: Path, *args: str, timeout: float = 120,
            check: bool = True, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    return wine.run([str(python), *args], timeout=timeout, check=check, env=env)


def helper(wine: winpy.WineSession, python: Path, *args: str) -> str:
    return wine_py(wine, python, winpy.win_path(HELPER), *args).stdout
