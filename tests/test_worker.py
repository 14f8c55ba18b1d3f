"""The worker thread: one job at a time, refusals at once, and it survives failures."""

from __future__ import annotations

import threading

from trayassist.actions import BUILTIN_ACTIONS
from trayassist.engines.base import EngineError, ModelLoadError
from trayassist.pipeline import JobResult, Status
from trayassist.testing import ScriptedEngine
from trayassist.worker import State, Worker

REWRITE = BUILTIN_ACTIONS["rewrite"]


def make(load, run):  # type: ignore[no-untyped-def]
    results: list[JobResult] = []
    worker = Worker(load, run, on_result=lambda _a, r: results.append(r))
    return worker, results


def test_a_hotkey_during_loading_waits_for_the_model() -> None:
    loading = threading.Event()

    def load() -> ScriptedEngine:
        loading.wait(5)
        return ScriptedEngine()

    worker, _ = make(load, lambda a, e, c: JobResult(Status.DONE, "ok"))
    worker.start()
    job = worker.submit(REWRITE)
    assert worker.state is State.LOADING and not job.done.is_set()
    loading.set()
    assert job.done.wait(5) and job.result is not None
    assert job.result.status is Status.DONE
    worker.stop()


def test_a_second_trigger_while_busy_is_refused_at_once() -> None:
    release = threading.Event()

    def run(action, engine, cancel):  # type: ignore[no-untyped-def]
        release.wait(5)
        return JobResult(Status.DONE, "ok")

    worker, _ = make(ScriptedEngine, run)
    worker.start()
    first = worker.submit(REWRITE)
    second = worker.submit(REWRITE)
    assert second.done.is_set() and second.result is not None
    assert second.result.status is Status.REFUSED and "Busy" in second.result.message
    release.set()
    assert first.done.wait(5)
    assert (worker.counts.succeeded, worker.counts.refused) == (1, 1)
    worker.stop()


def test_pause_refuses_hotkeys_but_not_explicit_triggers() -> None:
    worker, _ = make(ScriptedEngine, lambda a, e, c: JobResult(Status.DONE, "ok"))
    worker.start()
    assert worker.wait_loaded(5)
    worker.set_paused(True)
    assert worker.state is State.PAUSED
    refused = worker.submit(REWRITE, from_hotkey=True)
    assert refused.result is not None and refused.result.status is Status.REFUSED
    allowed = worker.submit(REWRITE, from_hotkey=False)
    assert allowed.done.wait(5) and allowed.result is not None
    assert allowed.result.status is Status.DONE
    worker.stop()


def test_a_model_that_fails_to_load_is_reported_and_jobs_say_why() -> None:
    def load() -> ScriptedEngine:
        raise ModelLoadError("model file not found: /nope.gguf")

    worker, _ = make(load, lambda a, e, c: JobResult(Status.DONE, "ok"))
    worker.start()
    assert worker.wait_loaded(5)
    assert worker.state is State.ERROR and "not found" in worker.error
    job = worker.submit(REWRITE)
    assert job.result is not None and "not found" in job.result.message
    worker.stop()


def test_a_crashing_job_fails_and_the_next_one_runs() -> None:
    calls: list[int] = []

    def run(action, engine, cancel):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise EngineError("boom")
        return JobResult(Status.DONE, "ok")

    worker, results = make(ScriptedEngine, run)
    worker.start()
    first = worker.submit(REWRITE)
    assert first.done.wait(5) and first.result is not None
    assert first.result.status is Status.FAILED and "boom" in first.result.message
    second = worker.submit(REWRITE)
    assert second.done.wait(5) and second.result is not None
    assert second.result.status is Status.DONE
    assert [r.status for r in results] == [Status.FAILED, Status.DONE]
    worker.stop()


def test_stop_cancels_the_running_job() -> None:
    started = threading.Event()

    def run(action, engine, cancel):  # type: ignore[no-untyped-def]
        started.set()
        cancelled = cancel.wait(5)
        return JobResult(Status.CANCELLED if cancelled else Status.DONE, "")

    worker, results = make(ScriptedEngine, run)
    worker.start()
    job = worker.submit(REWRITE)
    assert started.wait(5)
    worker.stop(timeout=5)
    assert job.done.is_set() and job.result is not None
    assert job.result.status is Status.CANCELLED
