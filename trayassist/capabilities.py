"""What each model can be trusted with, per action, as measured by `trayassist eval`.

Two sources, the user's own first: `<state dir>/capabilities.json` (written by every
`trayassist eval` run on this machine) and the records shipped with the catalog
(trayassist/data/capabilities.json, from the runs documented in docs/QUALITY.md).

A model nobody measured is "unmeasured": it is treated as capable (its results are
pasted when clean, and go to the review window only when the guard flags them or the
output loops), because refusing every action of a model we could not test would punish
users of the bigger models that are the advice for the small one. `trayassist models list`
and `trayassist eval` say "unmeasured" for it, never a made-up score.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from trayassist import paths

log = logging.getLogger(__name__)

# The advice when a model is not capable: the smallest catalog model we would suggest.
# It could not be measured on the machine that wrote this (no downloads), so the
# advice is a judgement from its size and public reports, stated as such in QUALITY.md.
UPGRADE = "qwen2.5-1.5b-instruct"


@dataclass(frozen=True)
class Capability:
    model: str
    action: str
    capable: bool | None  # None: unmeasured
    score: dict[str, float] | None = None
    date: str | None = None
    engine: str | None = None

    @property
    def measured(self) -> bool:
        return self.capable is not None

    @property
    def trusted(self) -> bool:
        """Unmeasured counts as capable (see the module docstring)."""
        return self.capable is not False


def model_key(spec: str, engine: Any) -> str:
    """The name records use: the catalog name, else the loaded file's stem (or the
    server's model name for engine "openai")."""
    from trayassist.models import CATALOG

    if spec in CATALOG:
        return spec
    path = getattr(getattr(engine, "info", None), "model_path", None)
    return Path(path).stem if path is not None and str(path).endswith(".gguf") else spec


def user_file() -> Path:
    return paths.state_dir() / "capabilities.json"


def _shipped() -> dict[str, Any]:
    text = resources.files("trayassist").joinpath("data/capabilities.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data.get("models", {})


def _user() -> dict[str, Any]:
    try:
        data = json.loads(user_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("models", {}) if isinstance(data, dict) else {}


def _records(source: dict[str, Any], model: str) -> dict[str, Any]:
    entry = source.get(model)
    engines = entry.get("engines") if isinstance(entry, dict) else None
    return engines if isinstance(engines, dict) else {}


def lookup(model: str, action: str, engine: str | None = None) -> Capability:
    """The record for (model, action) as measured on `engine` (the model's behaviour
    differs between runtimes); without a record for that engine, any engine's, the
    default runtime (llama-cpp) first. `model` is a catalog name or a file's stem."""
    sources = [_records(_user(), model), _records(_shipped(), model)]
    tries = [(records, engine) for records in sources if engine in records]
    tries += [(records, name) for records in sources
              for name in sorted(records, key=lambda e: e != "llama-cpp")]
    for records, name in tries:
        rec = records[name].get("actions", {}).get(action)
        if isinstance(rec, dict) and isinstance(rec.get("capable"), bool):
            return Capability(model, action, rec["capable"], rec.get("score"),
                              records[name].get("date"), name)
    return Capability(model, action, None)


def record(report: dict[str, Any]) -> Path:
    """Keep an eval run's decisions (no details) as this machine's record for the
    model on that engine."""
    path = user_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    entry = data.setdefault("models", {}).setdefault(report["model"], {})
    run = entry.setdefault("engines", {}).setdefault(report["engine"], {"actions": {}})
    run["date"] = report["date"]
    for action, rec in report["actions"].items():
        run["actions"][action] = {"capable": rec["capable"], "score": rec["score"],
                                  "rule": rec["rule"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def advice(action: str, model: str) -> str:
    """One line for a model not capable of `action`, naming the model to pull."""
    from trayassist.models import CATALOG

    entry = CATALOG.get(UPGRADE)
    size = f", {entry.size / 1e9:.1f} GB" if entry else ""
    return (f"{action} needs a larger model than {model}: "
            f"trayassist models pull {UPGRADE}{size}")
