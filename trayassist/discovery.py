"""GGUF models other apps already keep on this machine: found, never modified.

Four sources, each in its platform's usual place (and where the app honours an
environment variable or a setting for its folder, that first):

- ``ollama``: Ollama's content-addressed store. A manifest per NAME:TAG names the
  blob (``sha256-...``) that holds the GGUF (layer media type
  ``application/vnd.ollama.image.model``). ``$OLLAMA_MODELS``, else ``~/.ollama/models``
  (and, on Linux, the system service's ``/usr/share/ollama/.ollama/models``).
- ``lmstudio``: LM Studio's ``publisher/repo/file.gguf`` tree: ``~/.lmstudio/models``
  (or the home named in ``~/.lmstudio-home-pointer``, or ``downloadsFolder`` in its
  settings.json), and the older ``~/.cache/lm-studio/models``.
- ``gpt4all``: GPT4All's flat folder (its ``modelPath`` setting, else the app-data
  folder: ``~/.local/share/nomic.ai/GPT4All``, ``~/Library/Application
  Support/nomic.ai/GPT4All``, ``%LOCALAPPDATA%\\nomic.ai\\GPT4All``) and the Python
  bindings' ``~/.cache/gpt4all``.
- ``hf``: the Hugging Face cache, ``models--ORG--REPO/snapshots/REV/FILE.gguf``:
  ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``.

A found model is named ``SOURCE:NAME`` (``ollama:llama3.2:1b``,
``lmstudio:lmstudio-community/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf``,
``gpt4all:Llama-3.2-1B-Instruct-Q4_0.gguf``, ``hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf``).
trayassist did not pin these files, so they are checked for being readable GGUF, not
against a SHA-256. Only this module reads the other apps' folders, and only reads.
"""

from __future__ import annotations

import configparser
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SOURCES = ("ollama", "lmstudio", "gpt4all", "hf")
SOURCE_TITLES = {"ollama": "Ollama", "lmstudio": "LM Studio", "gpt4all": "GPT4All",
                 "hf": "the Hugging Face cache"}
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_REGISTRY = "registry.ollama.ai"


@dataclass(frozen=True)
class FoundModel:
    source: str  # one of SOURCES
    name: str  # unique within its source
    path: Path  # the file itself (never copied); may be a symlink into a blob store
    size: int

    @property
    def spec(self) -> str:
        """What `models use` and the config's `model` take."""
        return f"{self.source}:{self.name}"


def split_spec(spec: str) -> tuple[str, str] | None:
    """``"ollama:llama3.2:1b"`` -> ``("ollama", "llama3.2:1b")``; None if not such a spec."""
    source, sep, name = spec.partition(":")
    if sep and source in SOURCES and name:
        return source, name
    return None


def _home() -> Path:
    return Path.home()


def _is_gguf(path: Path) -> int | None:
    """The file's size if it is a readable GGUF, else None."""
    try:
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                return None
        return path.stat().st_size
    except OSError:
        return None


# -- Ollama ---------------------------------------------------------------------------


def ollama_dirs() -> list[Path]:
    env = os.environ.get("OLLAMA_MODELS")
    if env:
        return [Path(env).expanduser()]
    dirs = [_home() / ".ollama" / "models"]
    if sys.platform.startswith("linux"):
        dirs.append(Path("/usr/share/ollama/.ollama/models"))
    return dirs


def _ollama_name(parts: tuple[str, ...]) -> str:
    host, namespace, model, tag = parts
    if host == OLLAMA_REGISTRY:
        base = model if namespace == "library" else f"{namespace}/{model}"
    else:
        base = f"{host}/{namespace}/{model}"
    return f"{base}:{tag}"


def _ollama(root: Path) -> Iterator[FoundModel]:
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in sorted(manifests.glob("*/*/*/*")):
        if not manifest.is_file():
            continue
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
            digest = next(layer["digest"] for layer in layers
                          if layer.get("mediaType") == OLLAMA_MODEL_LAYER)
        except (OSError, ValueError, KeyError, StopIteration, AttributeError, TypeError):
            log.debug("skipping an unreadable Ollama manifest")
            continue
        algo, _, hexdigest = str(digest).partition(":")
        # Blobs are "sha256-HEX"; very old stores used "sha256:HEX".
        for blob in (root / "blobs" / f"{algo}-{hexdigest}", root / "blobs" / str(digest)):
            size = _is_gguf(blob)
            if size is not None:
                parts = manifest.relative_to(manifests).parts
                yield FoundModel("ollama", _ollama_name(parts), blob, size)
                break


# -- LM Studio ------------------------------------------------------------------------


def lmstudio_dirs() -> list[Path]:
    home = _home()
    lms_home = home / ".lmstudio"
    try:
        pointer = (home / ".lmstudio-home-pointer").read_text(encoding="utf-8").strip()
        if pointer:
            lms_home = Path(pointer).expanduser()
    except OSError:
        pass
    dirs = []
    try:
        settings = json.loads((lms_home / "settings.json").read_text(encoding="utf-8"))
        folder = settings.get("downloadsFolder") if isinstance(settings, dict) else None
        if isinstance(folder, str) and folder:
            dirs.append(Path(folder).expanduser())
    except (OSError, ValueError):
        pass
    dirs += [lms_home / "models", home / ".cache" / "lm-studio" / "models"]
    return list(dict.fromkeys(dirs))


def _lmstudio(root: Path) -> Iterator[FoundModel]:
    if not root.is_dir():
        return
    for path in sorted(root.glob("*/*/*.gguf")):
        if path.name.lower().startswith("mmproj"):  # a vision projector, not a model
            continue
        size = _is_gguf(path)
        if size is not None:
            yield FoundModel("lmstudio", path.relative_to(root).as_posix(), path, size)


# -- GPT4All --------------------------------------------------------------------------


def _gpt4all_ini() -> Path:
    if sys.platform == "darwin":
        return _home() / "Library" / "Preferences" / "com.nomic.GPT4All.plist"  # not INI
    if sys.platform == "win32":
        return _home() / "AppData" / "Roaming" / "nomic.ai" / "GPT4All.ini"
    config = os.environ.get("XDG_CONFIG_HOME") or str(_home() / ".config")
    return Path(config) / "nomic.ai" / "GPT4All.ini"


def gpt4all_dirs() -> list[Path]:
    dirs: list[Path] = []
    ini = _gpt4all_ini()
    if ini.suffix == ".ini" and ini.is_file():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(ini, encoding="utf-8")
            for section in parser.sections():
                value = parser[section].get("modelpath")
                if value:
                    dirs.append(Path(value.strip('"')).expanduser())
        except (configparser.Error, OSError):
            log.debug("skipping an unreadable GPT4All settings file")
    if sys.platform == "darwin":
        dirs.append(_home() / "Library" / "Application Support" / "nomic.ai" / "GPT4All")
    elif sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(_home() / "AppData" / "Local")
        dirs.append(Path(local) / "nomic.ai" / "GPT4All")
    else:
        data = os.environ.get("XDG_DATA_HOME") or str(_home() / ".local" / "share")
        dirs.append(Path(data) / "nomic.ai" / "GPT4All")
    dirs.append(_home() / ".cache" / "gpt4all")  # the Python bindings' download folder
    return list(dict.fromkeys(dirs))


def _gpt4all(root: Path) -> Iterator[FoundModel]:
    if not root.is_dir():
        return
    for path in sorted(root.glob("*.gguf")):
        if path.name.startswith("incomplete-"):  # a download still under way
            continue
        size = _is_gguf(path)
        if size is not None:
            yield FoundModel("gpt4all", path.name, path, size)


# -- Hugging Face cache ---------------------------------------------------------------


def hf_dirs() -> list[Path]:
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return [Path(os.environ[var]).expanduser()]
    if os.environ.get("HF_HOME"):
        return [Path(os.environ["HF_HOME"]).expanduser() / "hub"]
    cache = os.environ.get("XDG_CACHE_HOME") or str(_home() / ".cache")
    return [Path(cache) / "huggingface" / "hub"]


def _hf(root: Path) -> Iterator[FoundModel]:
    if not root.is_dir():
        return
    for repo_dir in sorted(root.glob("models--*")):
        repo = repo_dir.name.removeprefix("models--").replace("--", "/")
        snapshots = repo_dir / "snapshots"
        if not snapshots.is_dir():
            continue
        # The snapshot refs/main points at first, then the newest others.
        try:
            main = (repo_dir / "refs" / "main").read_text().strip()
        except OSError:
            main = ""
        revs = sorted(snapshots.iterdir(), key=lambda p: (p.name != main, -p.stat().st_mtime))
        seen: set[str] = set()
        for rev in revs:
            for path in sorted(rev.rglob("*.gguf")):
                rel = path.relative_to(rev).as_posix()
                if rel in seen or path.name.lower().startswith("mmproj"):
                    continue
                size = _is_gguf(path)
                if size is not None:
                    seen.add(rel)
                    yield FoundModel("hf", f"{repo}/{rel}", path, size)


_SCANNERS = {"ollama": (ollama_dirs, _ollama), "lmstudio": (lmstudio_dirs, _lmstudio),
             "gpt4all": (gpt4all_dirs, _gpt4all), "hf": (hf_dirs, _hf)}


def places(source: str) -> list[Path]:
    """Where `source` is looked for on this machine, in order."""
    return _SCANNERS[source][0]()


def find_all(sources: tuple[str, ...] = SOURCES) -> list[FoundModel]:
    """Every readable GGUF the other apps keep, first place wins on a name clash."""
    found: dict[str, FoundModel] = {}
    for source in sources:
        dirs, scan = _SCANNERS[source]
        for root in dirs():
            try:
                for model in scan(root):
                    found.setdefault(model.spec, model)
            except OSError as exc:  # a folder we may not read: skip it, keep the rest
                log.debug("skipping %s models in an unreadable folder: %s", source,
                          exc.strerror)
    return list(found.values())


def find(spec: str) -> FoundModel | None:
    """The model a ``SOURCE:NAME`` spec names, or None."""
    parsed = split_spec(spec)
    if parsed is None:
        return None
    source, name = parsed
    if source == "ollama" and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"  # as `ollama run NAME` does
    wanted = f"{source}:{name}"
    return next((m for m in find_all((source,)) if m.spec == wanted), None)
