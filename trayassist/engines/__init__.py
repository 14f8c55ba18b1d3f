"""Model runtimes behind one small `Engine` protocol, chosen by name.

Choice order, as keyring and pystray do it: the TRAYASSIST_ENGINE environment
variable, then the command line / config, then "auto" (llama-cpp when it imports,
else gpt4all).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from trayassist.engines.base import Engine, EngineError, ModelLoadError
from trayassist.prompting import ChatFormat

ENGINE_NAMES = ("auto", "llama-cpp", "gpt4all", "scripted")

__all__ = ["ENGINE_NAMES", "Engine", "EngineError", "ModelLoadError", "choose", "make_engine"]


def choose(requested: str) -> str:
    name = os.environ.get("TRAYASSIST_ENGINE") or requested
    if name not in ENGINE_NAMES:
        raise EngineError(f"unknown engine {name!r} (allowed: {', '.join(ENGINE_NAMES)})")
    if name != "auto":
        return name
    if importlib.util.find_spec("llama_cpp") is not None:
        return "llama-cpp"
    if importlib.util.find_spec("gpt4all") is not None:
        return "gpt4all"
    raise EngineError("no model runtime installed: run bash installers/install.sh")


def make_engine(
    requested: str,
    model_path: Path,
    chat_format: ChatFormat,
    *,
    threads: int | None = None,
    cache_dir: Path,
) -> Engine:
    """Build (not load) the engine; loading happens on the owner thread."""
    fmt = chat_format
    name = choose(requested)
    if name == "llama-cpp":
        from trayassist.engines.llama_cpp_engine import LlamaCppEngine

        return LlamaCppEngine(model_path, fmt, threads=threads)
    if name == "gpt4all":
        from trayassist.engines.gpt4all_engine import Gpt4AllEngine

        return Gpt4AllEngine(model_path, fmt, threads=threads, cache_dir=cache_dir)
    from trayassist.testing import scripted_engine_from_env

    return scripted_engine_from_env()
