"""How many CPU threads the in-process engines (llama-cpp, gpt4all) use when the config
leaves `threads` unset."""

from __future__ import annotations

import os


def _physical_cores() -> int:
    try:
        available = len(os.sched_getaffinity(0))  # honours taskset and cgroup cpusets
    except (AttributeError, OSError):
        available = os.cpu_count() or 2
    return available // 2 if available > 4 else available  # assume SMT on bigger machines


def default_threads() -> tuple[int, int]:
    """(decode threads, prompt threads) when the config leaves `threads` unset.

    Measured on this 2-core VM (docs/BENCHMARKS.md). Prompt processing is big matrix work
    with few barriers: a second thread makes it ~1.8x faster on an idle machine and, with
    passive OpenMP waiting (llama_cpp_engine.llama_lib), still ~1.2x with another process
    busy. Decoding one token is hundreds of small operations, each ending in a barrier: 2
    threads gave ~1.5x when idle but fell to ~0.3x (74 -> 13 tok/s) as soon as another
    process wanted a core, where 1 thread kept ~40. So decode leaves one core to the
    desktop and prompt processing uses them all, both at most 8 (beyond that decode is
    memory-bound).
    """
    cores = _physical_cores()
    return max(1, min(8, cores - 1)), max(1, min(8, cores))
