"""Model runtimes behind one small `Engine` protocol, chosen by name.

Choice order, as keyring and pystray do it: the TRAYASSIST_ENGINE environment
variable, then the command line / config, then "auto": llama-cpp when it imports, else
gpt4all; on Windows gpt4all first (it installs from wheels; llama-cpp-python would need
a compiler there). "openai" talks to an OpenAI-compatible server instead of loading a file.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trayassist.engines.base import Engine, EngineError, ModelLoadError
from trayassist.prompting import ChatFormat

if TYPE_CHECKING:
    from trayassist.config import Config

ENGINE_NAMES = ("auto", "llama-cpp", "gpt4all", "openai", "scripted")

__all__ = ["ENGINE_NAMES", "Engine", "EngineError", "ModelLoadError", "choose",
           "engine_from_config", "make_engine"]


def choose(requested: str) -> str:
    name = os.environ.get("TRAYASSIST_ENGINE") or requested
    if name not in ENGINE_NAMES:
        raise EngineError(f"unknown engine {name!r} (allowed: {', '.join(ENGINE_NAMES)})")
    if name != "auto":
        return name
    # Windows: gpt4all ships wheels; llama-cpp-python is sdist-only there (a compiler
    # would be needed), so pyproject leaves it out and gpt4all is the default.
    order = ("gpt4all", "llama_cpp") if sys.platform == "win32" else ("llama_cpp", "gpt4all")
    for module in order:
        if importlib.util.find_spec(module) is not None:
            return module.replace("_", "-")
    raise EngineError("no model runtime installed: run bash installers/install.sh")


def make_engine(
    requested: str,
    model_path: Path,
    chat_format: ChatFormat,
    *,
    threads: int | None = None,
    cache_dir: Path,
) -> Engine:
    """Build (not load) an in-process engine; loading happens on the owner thread."""
    fmt = chat_format
    name = choose(requested)
    if name == "llama-cpp":
        from trayassist.engines.llama_cpp_engine import LlamaCppEngine

        return LlamaCppEngine(model_path, fmt, threads=threads)
    if name == "gpt4all":
        from trayassist.engines.gpt4all_engine import Gpt4AllEngine

        return Gpt4AllEngine(model_path, fmt, threads=threads, cache_dir=cache_dir)
    if name == "openai":
        raise EngineError('engine "openai" serves a model by name: use engine_from_config')
    from trayassist.testing import scripted_engine_from_env

    return scripted_engine_from_env()


def engine_from_config(cfg: Config, *, model: str | None = None,
                       engine: str | None = None) -> Engine:
    """The configured engine, built (not loaded). Owner thread.

    Raises models.ModelError (model missing or corrupt) and EngineError (bad choice,
    a remote server without allow_remote, a model this runtime cannot run).
    """
    from trayassist import models, paths

    name = choose(engine or cfg.engine)
    spec = model or cfg.model
    if name == "openai":
        from trayassist.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(cfg.base_url, spec, allow_remote=cfg.allow_remote)
    entry = models.CATALOG.get(spec)
    if entry is not None and name in ("llama-cpp", "gpt4all") and name not in entry.engines:
        raise EngineError(f"{entry.name} runs on {', '.join(entry.engines)} only"
                          f"{': ' + entry.engine_note if entry.engine_note else ''}")
    resolved = models.resolve(spec)
    return make_engine(name, resolved.path, resolved.chat_format, threads=cfg.threads,
                       cache_dir=paths.cache_dir())
