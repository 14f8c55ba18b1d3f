"""What the tray's tooltip says: state, model, where the text goes, a long job's progress."""

from __future__ import annotations

from trayassist.engines import Engine
from trayassist.transform import Progress
from trayassist.worker import State


def tooltip(state: State, engine: Engine | None, configured_model: str, error: str) -> str:
    """"trayassist (ready) - model.gguf"; the error of a failed load; where text is sent."""
    model = engine.info.model_path.name if engine else configured_model
    detail = f": {error}" if state is State.ERROR else ""
    return f"trayassist ({state.value}{detail}) - {model}{engine_destination(engine)}"


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


