"""`trayassist bench`'s options. The benchmark itself (llama_cpp and all) is imported
only when it runs, so every other command starts fast."""

from __future__ import annotations

import argparse
from pathlib import Path

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import Any


def _run(args: argparse.Namespace) -> int:
    from trayassist.bench import run

    return run(args)


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure engine speed, latency, overhead, memory")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true",
                   help="CI smoke run: 1 repetition, 2 s idle window (well under 30 s)")
    p.add_argument("--model", metavar="NAME|PATH", help="catalog name or .gguf path")
    p.add_argument("--threads", type=int, metavar="N", help="threads (default: config/auto)")
    p.add_argument("--repeat", type=int, metavar="N", help="repetitions per figure")
    p.add_argument("--chart", metavar="PNG", type=Path,
                   help="also draw tokens/s (raw, engine, gpt4all) into this PNG")
    p.set_defaults(func=_run)
