"""`trayassist bench`: engine speed, time to first token, pipeline cost and the idle daemon,
measured in one run on the active model.

Every figure is the median of `repeat` samples (the table shows min and max). Generation
rates exclude prompt processing: they count tokens after the first one over the time since
the first one. Raw and engine samples alternate, so a busy machine slows both alike and
their ratio stays meaningful. The idle daemon runs in a subprocess from the start and is
read at the end: an idle process uses no CPU whatever its neighbours do, and the run needs
no extra 30 s for it. Never prints or logs the benchmark texts' outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayassist import bench_long, models, paths
from trayassist.actions import BUILTIN_ACTIONS, Action
from trayassist.bench_long import FIRST_PIECE_TARGET_S, LONG_KEYS
from trayassist.engines.base import Engine, EngineInfo, GenOptions
from trayassist.engines.llama_cpp_engine import (
    DEFAULT_LOOKUP,
    LlamaCppEngine,
    _lib,
    context_params,
)
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

KEYS = ("raw_tok_s", "engine_tok_s", "gpt4all_tok_s", "ttft_cold_ms", "ttft_warm_ms",
        "pipeline_overhead_ms", "idle_cpu_pct", "rss_mb", "model_mb", *LONG_KEYS)
LOOKUP_TRY = DEFAULT_LOOKUP or 3  # draft length compared with no lookup


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


# -- measurements --------------------------------------------------------------------------


class RawLoop:
    """llama.cpp's own decode loop through the low-level API, as in its `simple` example:
    llama_batch_get_one + llama_decode + a greedy sampler, nothing else per token."""

    def __init__(self, path: Path, threads: int, batch_threads: int, n_ctx: int) -> None:
        self.L = L = _lib()
        self.model = L.llama_model_load_from_file(str(path).encode(),
                                                  L.llama_model_default_params())
        params = context_params(L, n_ctx, threads, batch_threads)
        self.ctx = L.llama_init_from_model(self.model, params)
        self.mem = L.llama_get_memory(self.ctx)
        self.sampler = L.llama_sampler_init_greedy()
        self.prompt: list[int] = []

    def rate(self, tokens: list[int], n: int) -> float:
        """Tokens/s over n greedy tokens (end of generation ignored) after the first."""
        L, ctx = self.L, self.ctx
        if tokens != self.prompt:
            L.llama_memory_clear(self.mem, False)
            arr = (L.llama_token * len(tokens))(*tokens)
            L.llama_decode(ctx, L.llama_batch_get_one(arr, len(tokens)))
            self.prompt = tokens
        else:  # keep the prompt's KV, redo its last token for fresh logits
            L.llama_memory_seq_rm(self.mem, 0, len(tokens) - 1, -1)
            arr = (L.llama_token * 1)(tokens[-1])
            L.llama_decode(ctx, L.llama_batch_get_one(arr, 1))
        one = (L.llama_token * 1)()
        token = L.llama_sampler_sample(self.sampler, ctx, -1)
        started = time.perf_counter()
        for _ in range(n - 1):
            one[0] = token
            L.llama_decode(ctx, L.llama_batch_get_one(one, 1))
            token = L.llama_sampler_sample(self.sampler, ctx, -1)
        return (n - 1) / (time.perf_counter() - started)

    def close(self) -> None:
        self.L.llama_sampler_free(self.sampler)
        self.L.llama_free(self.ctx)
        self.L.llama_model_free(self.model)


def _rate(stream: Iterator[str], count: Callable[[], int]) -> tuple[float, int]:
    """Consume a stream; tokens/s after the first piece, and the tokens after it."""
    first_at = first_count = None
    for _piece in stream:
        if first_at is None:
            first_at, first_count = time.perf_counter(), count()
    if first_at is None or first_count is None:
        return 0.0, 0
    after = count() - first_count
    elapsed = time.perf_counter() - first_at
    return (after / elapsed if elapsed > 0 and after > 0 else 0.0), after


def engine_rate(engine: LlamaCppEngine, prompt: Prompt, n: int) -> float:
    """Like the raw loop: fixed length, and no prompt-lookup drafts (measured apart)."""
    saved, engine.lookup, engine._ignore_eog = engine.lookup, 0, True
    try:
        stream = engine.generate(prompt, GenOptions(max_tokens=n), threading.Event())
        return _rate(stream, lambda: engine.stats.generated)[0]
    finally:
        engine.lookup, engine._ignore_eog = saved, False


def ttft_ms(engine: Engine, prompt: Prompt) -> float:
    started = time.perf_counter()
    stream = engine.generate(prompt, GenOptions(max_tokens=8), threading.Event())
    try:
        next(stream)
        return (time.perf_counter() - started) * 1000
    finally:
        stream.close()  # type: ignore[attr-defined]


class TimedEngine:
    """An Engine that adds up the time spent inside the engine it wraps."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.spent = 0.0

    @property
    def info(self) -> EngineInfo:
        return self.inner.info

    @property
    def chat_format(self) -> ChatFormat:
        return self.inner.chat_format

    def _timed(self, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self.spent += time.perf_counter() - started

    def load(self) -> None:
        self._timed(self.inner.load)

    def count_tokens(self, prompt: Prompt) -> int:
        return int(self._timed(lambda: self.inner.count_tokens(prompt)))

    def count_text_tokens(self, text: str) -> int:
        return int(self._timed(lambda: self.inner.count_text_tokens(text)))

    def warm(self, prompt: Prompt) -> None:
        self._timed(lambda: self.inner.warm(prompt))

    def close(self) -> None:
        self._timed(self.inner.close)

    def generate(self, prompt: Prompt, options: GenOptions,
                 cancel: threading.Event) -> Iterator[str]:
        stream = self._timed(lambda: self.inner.generate(prompt, options, cancel))
        try:
            while True:
                try:
                    piece = self._timed(lambda: next(stream))
                except StopIteration:
                    return
                yield piece
        finally:
            self._timed(stream.close)


def pipeline_overhead_ms(engine: Engine, action: Action, language: str) -> float:
    """A whole job through run_job with fake ports, minus the time inside the engine.

    Timing.paste_settle_s (a fixed wait after the paste has landed, before the user's
    clipboard is restored) is set to 0: it is a deliberate delay, reported apart.
    """
    from trayassist.pipeline import Status, Timing, run_job
    from trayassist.testing import FakeApp, FakeClipboard, FakeKeys

    app = FakeApp(text=TEXT_C)
    app.select_all()
    clipboard = FakeClipboard()
    keys = FakeKeys(app, clipboard)
    timed = TimedEngine(engine)
    started = time.perf_counter()
    result = run_job(action, clipboard, keys, timed, threading.Event(), language=language,
                     timing=Timing(paste_settle_s=0.0))
    total = time.perf_counter() - started
    if result.status is not Status.DONE:
        raise RuntimeError(f"benchmark job did not finish: {result.status.value}")
    return (total - timed.spent) * 1000


def lookup_gain(engine: LlamaCppEngine, prompt: Prompt, budget: int) -> tuple[float, float]:
    """Generation tok/s of one natural job without, then with prompt-lookup drafts."""
    rates = []
    saved = engine.lookup
    try:
        for lookup in (0, LOOKUP_TRY):
            engine.lookup = lookup
            stream = engine.generate(prompt, GenOptions(max_tokens=budget), threading.Event())
            rates.append(_rate(stream, lambda: engine.stats.generated)[0])
    finally:
        engine.lookup = saved
    return rates[0], rates[1]


# -- the idle daemon -----------------------------------------------------------------------

PROC_STATS = Path("/proc/self/stat").exists()  # Linux; elsewhere idle CPU and RSS are n/a


class IdleDaemon:
    """A subprocess running the daemon's worker (real engine, fake desktop) and control
    socket: loaded, warmed, one job done, then idle until its stdin closes."""

    def __init__(self, model: str, threads: int | None, sock_dir: Path) -> None:
        cmd = [sys.executable, "-m", "trayassist.bench", "--daemon-child", model,
               str(threads or 0), str(sock_dir)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.samples: list[float] = []

    def wait_ready(self, timeout: float = 180.0) -> None:
        assert self.proc.stdout is not None
        timer = threading.Timer(timeout, self.proc.kill)  # a hung child must not hang us
        timer.start()
        line = self.proc.stdout.readline()
        timer.cancel()
        if not line.startswith("ready"):
            raise RuntimeError(f"the benchmark daemon did not start ({self.proc.poll()})")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def watch(self, window_s: float, parts: int, stop: threading.Event) -> threading.Thread:
        """Sample CPU% over `parts` consecutive sub-windows, in a thread of ours that sleeps."""
        def run() -> None:
            for _ in range(parts if PROC_STATS else 0):
                cpu, at = self.cpu_s(), time.monotonic()
                if stop.wait(window_s / parts):
                    return
                self.samples.append(100 * (self.cpu_s() - cpu) / (time.monotonic() - at))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _daemon_child(model: str, threads: int, run_dir: str) -> int:
    from trayassist.config import Config
    from trayassist.control import ControlServer, endpoint
    from trayassist.daemon import _load_engine
    from trayassist.pipeline import run_job
    from trayassist.testing import FakeApp, FakeClipboard, FakeKeys
    from trayassist.worker import Worker

    cfg = Config(model=model, engine="llama-cpp", threads=threads or None)
    app, clipboard = FakeApp(text=TEXT_C), FakeClipboard()
    keys = FakeKeys(app, clipboard)
    worker = Worker(lambda: _load_engine(cfg),
                    lambda a, e, c: run_job(a, clipboard, keys, e, c, language="English"),
                    on_result=lambda _a, _r: None)
    control = ControlServer(lambda _req: {"ok": True}, endpoint(Path(run_dir)))
    control.start()
    worker.start()
    worker.wait_loaded(170)
    app.select_all()
    worker.submit(cfg.actions["proofread"], from_hotkey=False).done.wait(170)
    print("ready", worker.state.value, flush=True)
    sys.stdin.read()  # blocks until the parent closes our stdin: nothing polls
    worker.stop()
    control.stop()
    return 0


# -- the run -------------------------------------------------------------------------------


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
                    pipeline_overhead_ms(engine, proofread, language))
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
            samples["gpt4all_tok_s"] = _gpt4all_rates(path, fmt, threads, p_rewrite,
                                                      plan, notes, engine.count_text_tokens)
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
    summary = _summary(samples, extra, notes, {
        "model": model_name, "engine": "llama-cpp", "threads": threads,
        "prompt_threads": batch_threads, "context_size": context_size,
        "repeat": plan.repeat, "gen_tokens": plan.gen_tokens, "idle_window_s": plan.idle_s,
        "cpus": os.cpu_count(), "load_avg_before": load_before,
        "load_avg_after": load_avg(),
        "seconds": round(time.monotonic() - started, 1), "phases_s": phases,
    })
    _long_summary(summary, long_extra)
    _memory_summary(summary, path, context_size)
    return summary


def _memory_summary(out: dict[str, Any], path: Path, context_size: int) -> None:
    """The KV cache's share of the RSS: the context now follows the model (8192 for
    SmolLM2, was 4096), and its f16 KV cache is allocated, and touched, at load."""
    from trayassist.engines.gguf_meta import context_info

    per_token = context_info(path).kv_bytes_per_token or 0
    kv_mb = round(context_size * per_token / 2**20, 1)
    out["extra"]["kv_cache_mb"] = kv_mb
    rest = out["ratios"]["rss_minus_model_mb"]
    out["ratios"]["rss_minus_model_and_kv_mb"] = round(rest - kv_mb, 1) if rest else None
    # The 200 MiB budget over the model was set with a 4096-token context (90 MiB of KV):
    # the same budget for everything but the KV cache is 110 MiB.
    out["targets"].pop("rss_mb - model_mb <= 200")
    out["targets"]["rss_mb - model_mb - kv_cache_mb <= 110"] = bool(
        rest is not None and rest - kv_mb <= 110)


def _long_summary(out: dict[str, Any], long_extra: dict[str, Any]) -> None:
    """Ratios and targets of the long-text section (bench_long)."""
    out["extra"].update({k: v for k, v in long_extra.items() if not k.endswith("_vs_raw")})
    for name in ("summarize", "proofread"):
        ratio = long_extra.get(f"long_{name}_vs_raw")
        out["ratios"][f"long_{name}_vs_raw"] = ratio
        out["targets"][f"long_{name}_total_s <= 1.0 x raw (one long prompt)"] = bool(
            ratio is not None and ratio <= 1.0)
    first = out["long_proofread_first_s"]
    out["targets"][f"long_proofread_first_s < {FIRST_PIECE_TARGET_S}"] = bool(
        first is not None and first < FIRST_PIECE_TARGET_S)
    out["notes"].append(
        "long_*: one transform of a generated text (summarize ~3,000 words, proofread 10 "
        "paragraphs; shorter with --quick); first_s is the first cleaned piece, raw_s is "
        "llama.cpp's loop on the whole text as one prompt plus as many generated tokens")


def _gpt4all_rates(path: Path, fmt: ChatFormat, threads: int, prompt: Prompt, plan: Plan,
                   notes: list[str], count: Callable[[str], int]) -> list[float]:
    """gpt4all through the Engine protocol, on the same prompt (it stops at end of turn:
    the rate counts the tokens it produced, re-tokenized with the llama.cpp tokenizer)."""
    try:
        from trayassist.engines.gpt4all_engine import Gpt4AllEngine

        g4 = Gpt4AllEngine(path, fmt, threads=threads, cache_dir=paths.cache_dir())
        g4.load()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, the run goes on
        notes.append(f"gpt4all_tok_s: engine unavailable: {type(exc).__name__}: {exc}")
        return []
    rates = []
    try:
        for _ in range(min(3, plan.repeat)):
            times: list[float] = []
            text = ""
            for piece in g4.generate(prompt, GenOptions(max_tokens=plan.gen_tokens),
                                     threading.Event()):
                times.append(time.perf_counter())
                text += piece
            after = count(text) - 1
            if len(times) > 1 and after > 0:
                rates.append(after / (times[-1] - times[0]))
    except Exception as exc:  # noqa: BLE001
        notes.append(f"gpt4all_tok_s: generation failed: {type(exc).__name__}: {exc}")
    finally:
        g4.close()
    return rates


def _summary(samples: dict[str, list[float]], extra: dict[str, list[float]],
             notes: list[str], config: dict[str, Any]) -> dict[str, Any]:
    def med(values: list[float]) -> float | None:
        return round(statistics.median(values), 3) if values else None

    out: dict[str, Any] = {k: med(samples[k]) for k in KEYS}
    out["spread"] = {k: [round(min(v), 3), round(max(v), 3)] for k, v in samples.items() if v}
    out["samples"] = {k: [round(x, 3) for x in v] for k, v in samples.items()}
    out["extra"] = {k: med(v) for k, v in extra.items()}
    for name in ("proofread", "rewrite"):
        off, on = out["extra"][f"lookup_{name}_off_tok_s"], out["extra"][
            f"lookup_{name}_on_tok_s"]
        out["extra"][f"lookup_{name}_gain"] = round(on / off, 3) if off and on else None
    from trayassist.job import Timing

    out["extra"]["pipeline_settle_ms"] = Timing().paste_settle_s * 1000
    raw = out["raw_tok_s"]
    pairs = [e / r for r, e in zip(samples["raw_tok_s"], samples["engine_tok_s"], strict=True)]
    out["ratios"] = {
        # medians of back-to-back pairs: steadier than ratios of medians on a busy machine
        "engine_vs_raw": med(pairs),
        "gpt4all_vs_raw": round(out["gpt4all_tok_s"] / raw, 3)
        if raw and out["gpt4all_tok_s"] else None,
        "warm_vs_cold_ttft": med([w / c for c, w in zip(samples["ttft_cold_ms"],
                                                       samples["ttft_warm_ms"], strict=True)]),
        "rss_minus_model_mb": round(out["rss_mb"] - out["model_mb"], 1)
        if out["rss_mb"] is not None else None,
    }
    r = out["ratios"]
    out["targets"] = {
        "engine_tok_s >= 0.90 x raw_tok_s": bool(r["engine_vs_raw"] and
                                                 r["engine_vs_raw"] >= 0.9),
        "ttft_warm_ms <= 0.5 x ttft_cold_ms": bool(r["warm_vs_cold_ttft"] and
                                                   r["warm_vs_cold_ttft"] <= 0.5),
        "pipeline_overhead_ms <= 50": out["pipeline_overhead_ms"] <= 50,
        "idle_cpu_pct <= 0.5": out["idle_cpu_pct"] is not None and out["idle_cpu_pct"] <= 0.5,
        "rss_mb - model_mb <= 200": r["rss_minus_model_mb"] is not None
        and r["rss_minus_model_mb"] <= 200,
    }
    out["config"] = config
    out["notes"] = notes + [
        "pipeline_overhead_ms excludes Timing.paste_settle_s (see extra.pipeline_settle_ms): "
        "a fixed wait after the paste has landed, before the clipboard is restored",
        "rates exclude prompt processing; raw and engine generate gen_tokens tokens "
        "ignoring end of turn, the engine without prompt-lookup drafts (see extra.lookup_*); "
        "gpt4all stops at end of turn",
        "rss_mb and model_mb are MiB; rss is the idle daemon's VmRSS after load, warm and "
        "one job",
    ]
    return out


# -- output --------------------------------------------------------------------------------

_UNITS = {"raw_tok_s": "tok/s", "engine_tok_s": "tok/s", "gpt4all_tok_s": "tok/s",
          "ttft_cold_ms": "ms", "ttft_warm_ms": "ms", "pipeline_overhead_ms": "ms",
          "idle_cpu_pct": "%", "rss_mb": "MiB", "model_mb": "MiB",
          **{k: "s" for k in LONG_KEYS}}


def format_table(result: dict[str, Any]) -> str:
    cfg = result["config"]
    r = result["ratios"]
    target = {"engine_tok_s": f"{r['engine_vs_raw']} x raw (>= 0.90)",
              "gpt4all_tok_s": f"{r['gpt4all_vs_raw']} x raw",
              "ttft_warm_ms": f"{r['warm_vs_cold_ttft']} x cold (<= 0.50)",
              "pipeline_overhead_ms": "<= 50", "idle_cpu_pct": "<= 0.5",
              "rss_mb": f"{r['rss_minus_model_mb']} over the model, "
                        f"{r.get('rss_minus_model_and_kv_mb')} over model and KV (<= 110)",
              "long_summarize_total_s": f"{r.get('long_summarize_vs_raw')} x raw (<= 1.0)",
              "long_proofread_total_s": f"{r.get('long_proofread_vs_raw')} x raw (<= 1.0)",
              "long_proofread_first_s": f"< {FIRST_PIECE_TARGET_S}"}
    lines = [f"trayassist bench: {cfg['model']}, llama-cpp, threads {cfg['threads']} decode / "
             f"{cfg['prompt_threads']} prompt, "
             f"median of {cfg['repeat']} (min..max), {cfg['seconds']} s, "
             f"load {cfg['load_avg_before']}->{cfg['load_avg_after']}",
             f"{'figure':<22}{'median':>10}  {'min..max':<19}{'unit':<7}target"]
    for key in KEYS:
        value = result[key]
        lo, hi = result["spread"].get(key, [None, None])
        spread = f"{lo:.1f}..{hi:.1f}" if lo is not None else "-"
        shown = f"{value:.2f}" if isinstance(value, float) else "n/a"
        lines.append(f"{key:<22}{shown:>10}  {spread:<19}{_UNITS[key]:<7}"
                     f"{target.get(key, '')}")
    ex = result["extra"]
    lines.append(f"prompt lookup gain: proofread {ex['lookup_proofread_gain']}, "
                 f"rewrite {ex['lookup_rewrite_gain']} (tok/s with / without)")
    for name, ok in result["targets"].items():
        lines.append(f"{'met ' if ok else 'MISSED'}  {name}")
    lines += [f"note: {n}" for n in result["notes"]]
    return "\n".join(lines)


def write_chart(result: dict[str, Any], png: Path) -> None:
    """Tokens/s for raw, engine and gpt4all as bars with min..max whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in ("raw_tok_s", "engine_tok_s", "gpt4all_tok_s") if result[k]]
    values = [result[k] for k in keys]
    lows = [v - result["spread"][k][0] for k, v in zip(keys, values, strict=True)]
    highs = [result["spread"][k][1] - v for k, v in zip(keys, values, strict=True)]
    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    ax.bar([k.removesuffix("_tok_s") for k in keys], values, yerr=[lows, highs],
           capsize=4, color=["#888888", "#2a7ab9", "#d98c2b"][: len(keys)])
    for i, v in enumerate(values):
        ax.text(i, v / 2, f"{v:.0f}", ha="center", color="white", fontweight="bold")
    cfg = result["config"]
    ax.set_ylabel("generated tokens/s")
    ax.set_title(f"{cfg['model']}: median of {cfg['repeat']}, whiskers min..max, "
                 f"{cfg['threads']} decode thread(s)", fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--daemon-child":
        sys.exit(_daemon_child(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    from trayassist.cli_bench import register

    parser = argparse.ArgumentParser(prog="trayassist")
    register(parser.add_subparsers())
    sys.exit(run(parser.parse_args(["bench", *sys.argv[1:]])))
