"""What the tray's tooltip says: state, model, where the text goes, a long job's progress."""

from __future__ import annotations

from pathlib import PurePath

from trayassist.engines import Engine
from trayassist.transform import Progress
from trayassist.worker import State


def tooltip(state: State, engine: Engine | None, configured_model: str, error: str) -> str:
    """"trayassist (ready) - smollm2-135m-instruct"; the error of a failed load; where the
    text is sent."""
    detail = f": {error}" if state is State.ERROR else ""
    return (f"trayassist ({state.value}{detail}) - {model_label(configured_model)}"
            f"{engine_destination(engine)}")


def model_label(configured_model: str) -> str:
    """The model as the user named it (a catalog name, "ollama:llama3.2:3b", a server's
    model); for a GGUF path, only the file's name: a tooltip has no room for directories."""
    if configured_model.lower().endswith(".gguf"):
        return PurePath(configured_model.replace("\\", "/")).name
    return configured_model


def engine_destination(engine: Engine | None) -> str:
    """For the tooltip: where the text goes when it leaves this process."""
    info = engine.info if engine else None
    if info is None or not info.endpoint:
        return ""
    if info.remote_host:
        return f" - your text is sent to {info.remote_host}"
    return " - via a local server"


def progress_tooltip(action: str, progress: Progress) -> str | None:
    """The busy tooltip of a job in pieces, or None for a one-prompt job."""
    if progress.total <= 1 or progress.done >= progress.total:
        return None
    return f"trayassist (busy) - {action}: {progress}"


