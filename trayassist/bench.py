"""`trayassist bench`: engine speed, time to first token, pipeline cost and the idle daemon,
measured in one run on the active model.

Every figure is the median of `repeat` samples (the table shows min and max). Generation
rates exclude prompt processing: they count tokens after the first one over the time since
the first one. Raw and engine samples alternate, so a busy machine slows both alike and
their ratio stays meaningful. The idle daemon runs in a subprocess from the start and is
read at the end: an idle process uses no CPU whatever its neighbours do, and the run needs
no extra 30 s for it. Never prints or logs the benchmark texts' outputs.

The measurements live in bench_engine (the model), bench_pipeline (the job around it, the
idle daemon) and bench_long (long texts); bench_report turns the samples into the report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayassist import bench_long, models
from trayassist.actions import BUILTIN_ACTIONS, Action
from trayassist.bench_engine import RawLoop, engine_rate, gpt4all_rates, lookup_gain, ttft_ms
from trayassist.bench_pipeline import PROC_STATS, IdleDaemon, daemon_child, pipeline_overhead_ms
from trayassist.bench_report import (
    KEYS,
    add_long_summary,
    add_memory_summary,
    format_table,
    summarize,
    write_chart,
)
from trayassist.engines.base import GenOptions
from trayassist.engines.llama_cpp_engine import LlamaCppEngine
from trayassist.prompting import ChatFormat, Prompt, build_prompt

# Three 50-word texts: A for cold starts and rewrites, B for warm starts, C (with errors)
# for proofreading, where the reply copies the input.
TEXT_A = (
    "Our team meeting has moved to Thursday at three in the afternoon because the main "
    "conference room is being painted this week. Please bring your laptop, the latest sales "
    "figures and any questions about the new budget process, which finance will explain in "
    "detail before we vote on next year's plan together."
)
TEXT_B = (
    "The library will extend its opening hours during the exam period, starting next Monday. "
    "Students can study until midnight on weekdays and until eight in the evening on "
    "weekends. Quiet zones are on the second floor, and group rooms can be booked online up "
    "to three days in advance through the student portal."
)
TEXT_C = (
    "i has been working on this report for two weeks now and their are still alot of "
    "mistake in it. The numbers in the second table dont match the ones from last quarter, "
    "so could you please check them carefully before we sends the final version to the "
    "client on friday morning at nine?"
)


@dataclass(frozen=True)
class Plan:
    repeat: int
    gen_tokens: int  # fixed length of the raw/engine generation samples
    idle_s: float
    quick: bool = False  # smoke run: skips the optional comparisons


FULL = Plan(repeat=5, gen_tokens=96, idle_s=30.0)
QUICK = Plan(repeat=1, gen_tokens=32, idle_s=2.0, quick=True)


def run(args: argparse.Namespace) -> int:
    from trayassist.config import load_config

    cfg = load_config()
    plan = QUICK if args.quick else FULL
    if args.repeat:
        plan = Plan(max(1, args.repeat), plan.gen_tokens, plan.idle_s, plan.quick)
    try:
        model = models.resolve(args.model or cfg.model)
    except models.ModelError as exc:
        print(f"trayassist: {exc}", file=sys.stderr)
        return 5
    threads = args.threads or cfg.threads
    result = bench(model.name if model.catalog else str(model.path), model.path,
                   model.chat_format, threads, plan, dict(cfg.actions), cfg.translate_to)
    if args.chart:
        try:
            write_chart(result, args.chart)
        except ImportError:
            result["notes"].append("chart skipped: matplotlib is not installed")
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0


def load_avg() -> float | str:
    """The 1-minute load average, or "n/a" where the OS has none (Windows)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return "n/a"


def _prompt(fmt: ChatFormat, action: Action, text: str, language: str) -> Prompt:
    return build_prompt(fmt, action.instruction_for(language), text, action.example)


def bench(model_name: str, path: Path, fmt: ChatFormat, threads: int | None, plan: Plan,
          actions: dict[str, Action], language: str) -> dict[str, Any]:
    import tempfile

    actions = {**BUILTIN_ACTIONS, **actions}  # the config tunes built-ins; never lacks one
    samples: dict[str, list[float]] = {k: [] for k in KEYS}
    extra: dict[str, list[float]] = {"lookup_proofread_off_tok_s": [],
                                     "lookup_proofread_on_tok_s": [],
                                     "lookup_rewrite_off_tok_s": [],
                                     "lookup_rewrite_on_tok_s": []}
    notes: list[str] = []
    started, load_before = time.monotonic(), load_avg()
    with tempfile.TemporaryDirectory(prefix="trayassist-bench-") as tmp:
        daemon = IdleDaemon(model_name, threads, Path(tmp))
        stop = threading.Event()
        watcher: threading.Thread | None = None
        idle_until = 0.0

        def start_idle_window() -> None:
            nonlocal watcher, idle_until
            daemon.wait_ready()
            watcher = daemon.watch(plan.idle_s, 5 if plan.idle_s >= 10 else 1, stop)
            idle_until = time.monotonic() + plan.idle_s

        try:
            if not plan.quick:  # its start-up would disturb the timings; quick overlaps it
                start_idle_window()

            phases: dict[str, float] = {}
            mark = time.monotonic()

            def phase(name: str) -> None:
                nonlocal mark
                phases[name] = round(time.monotonic() - mark, 1)
                mark = time.monotonic()

            phase("daemon_start")
            batch_threads = context_size = 0
            engine = LlamaCppEngine(path, fmt, threads=threads)
            engine.load()
            threads = engine.info.threads
            batch_threads = engine.batch_threads
            context_size = engine.info.context_size
            raw = RawLoop(path, threads, batch_threads, engine.info.context_size)
            rewrite, proofread = actions["rewrite"], actions["proofread"]
            p_rewrite = _prompt(fmt, rewrite, TEXT_A, language)
            tokens = engine.tokenize(p_rewrite)
            for i in range(plan.repeat):  # pairs, in alternating order: drift hits both
                for which in (("raw", "engine") if i % 2 == 0 else ("engine", "raw")):
                    samples[f"{which}_tok_s"].append(
                        raw.rate(tokens, plan.gen_tokens) if which == "raw"
                        else engine_rate(engine, p_rewrite, plan.gen_tokens))
            raw.close()
            phase("tok_s")

            p_cold, p_warm = (_prompt(fmt, proofread, t, language) for t in (TEXT_A, TEXT_B))
            # Another action's job between the two (the shortest head: cheap), so the warm
            # job must take its head from the per-action cache, not from what the last job
            # left in the context. Cold and warm run back to back, as a pair.
            p_other = _prompt(fmt, actions["translate"], "Thanks for the update.", language)
            for _ in range(plan.repeat):
                engine.clear_cache()
                samples["ttft_cold_ms"].append(ttft_ms(engine, p_cold))
                for _piece in engine.generate(p_other, GenOptions(max_tokens=2),
                                              threading.Event()):
                    pass
                samples["ttft_warm_ms"].append(ttft_ms(engine, p_warm))
            phase("ttft")

            for _ in range(plan.repeat):
                samples["pipeline_overhead_ms"].append(
                    pipeline_overhead_ms(engine, proofread, language, TEXT_C))
            phase("pipeline")

            long_samples, long_extra = bench_long.measure(
                engine, path, fmt, actions, language, plan.quick,
                repeat=1 if plan.quick else 2)
            samples.update(long_samples)
            phase("long_text")

            if not plan.quick:
                for name, action, text in (("proofread", proofread, TEXT_C),
                                           ("rewrite", rewrite, TEXT_A)):
                    prompt = _prompt(fmt, action, text, language)
                    budget = action.token_budget(engine.count_text_tokens(text), 80)
                    for _ in range(max(1, plan.repeat - 3)):
                        off, on = lookup_gain(engine, prompt, budget)
                        extra[f"lookup_{name}_off_tok_s"].append(off)
                        extra[f"lookup_{name}_on_tok_s"].append(on)
            phase("lookup")
            samples["gpt4all_tok_s"] = gpt4all_rates(path, fmt, threads, p_rewrite, plan.repeat,
                                                     plan.gen_tokens, notes,
                                                     engine.count_text_tokens)
            engine.close()
            phase("gpt4all")
            if watcher is None:
                start_idle_window()
            time.sleep(max(0.0, idle_until - time.monotonic()))
            assert watcher is not None
            watcher.join()
            samples["idle_cpu_pct"] = daemon.samples
            samples["rss_mb"] = [daemon.rss_mb()] if PROC_STATS else []
            if not PROC_STATS:
                notes.append("idle CPU and RSS are read from /proc: n/a on this OS")
            phase("idle_rest")
        finally:
            stop.set()
            daemon.stop()
    samples["model_mb"] = [path.stat().st_size / 2**20]
    summary = summarize(samples, extra, notes, {
        "model": model_name, "engine": "llama-cpp", "threads": threads,
        "prompt_threads": batch_threads, "context_size": context_size,
        "repeat": plan.repeat, "gen_tokens": plan.gen_tokens, "idle_window_s": plan.idle_s,
        "cpus": os.cpu_count(), "load_avg_before": load_before,
        "load_avg_after": load_avg(),
        "seconds": round(time.monotonic() - started, 1), "phases_s": phases,
    })
    add_long_summary(summary, long_extra)
    add_memory_summary(summary, path, context_size)
    return summary


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--daemon-child":
        sys.exit(daemon_child(sys.argv[2], int(sys.argv[3]), sys.argv[4], TEXT_C))
    from trayassist.cli_bench import register

    parser = argparse.ArgumentParser(prog="trayassist")
    register(parser.add_subparsers())
    sys.exit(run(parser.parse_args(["bench", *sys.argv[1:]])))
