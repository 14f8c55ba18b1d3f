"""The review window's own event log (times, event names and counts, never any text), as
the X11, Windows-suite and Wine end-to-end tests read it. tests/ is on sys.path through
tests/conftest.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NAME = "review-events.log"  # in the daemon's runtime folder


def events(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def count(log: Path, name: str) -> int:
    return sum(e["event"] == name for e in events(log))
