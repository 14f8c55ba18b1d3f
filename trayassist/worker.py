"""The one thread that owns the engine: loads it, then runs one job at a time.

Other threads (hotkey listener, tray menu, control socket, signal handlers) only call
`submit`, `cancel` and `stop`, which never block on the model. A trigger while a job
is pending is refused at once, never queued behind it.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trayassist.actions import Action
from trayassist.engines.base import Engine, EngineError
from trayassist.job import JobResult, Status

log = logging.getLogger(__name__)


class State(enum.StrEnum):
    LOADING = "loading"
    READY = "ready"
    BUSY = "busy"
    PAUSED = "paused"
    ERROR = "error"


RunJob = Callable[[Action, Engine, threading.Event], JobResult]


@dataclass
class Counts:
    succeeded: int = 0
    refused: int = 0  # busy, paused, nothing selected, secret, keys held, app disabled,
    # or discarded in the review window (Esc, also while the model still writes)
    failed: int = 0  # engine failures and cancellations

    @property
    def done(self) -> int:
        return self.succeeded + self.refused + self.failed


# A result the user discarded in the review window counts here too: their choice, no fault.
_REFUSED = {Status.NOTHING_SELECTED, Status.SECRET, Status.KEYS_HELD, Status.REFUSED,
            Status.DISABLED, Status.DISCARDED}


@dataclass
class Job:
    action: Action
    accepted_at: float
    done: threading.Event = field(default_factory=threading.Event)
    result: JobResult | None = None
_STOP = object()


class Worker:
    def __init__(
        self,
        load_engine: Callable[[], Engine],
        run_job: RunJob,
        *,
        on_result: Callable[[Action, JobResult], None],
        on_state: Callable[[State], None] = lambda _s: None,
        load_wait_s: float = 120.0,
    ) -> None:
        self._load_engine = load_engine
        self._run_job = run_job
        self._on_result = on_result
        self._on_state = on_state
        self._load_wait_s = load_wait_s
        self._queue: queue.Queue[object] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: Job | None = None  # accepted and not finished
        self._cancel = threading.Event()
        self._loaded = threading.Event()
        self._paused = False
        self._state = State.LOADING
        self._error = ""
        self.engine: Engine | None = None
        self.counts = Counts()
        self.last_original: str | None = None
        self._thread = threading.Thread(target=self._serve, name="trayassist-worker",
                                        daemon=True)

    # -- any thread -------------------------------------------------------------

    @property
    def state(self) -> State:
        with self._lock:
            if self._state in (State.READY,) and self._paused:
                return State.PAUSED
            return self._state

    @property
    def error(self) -> str:
        return self._error

    def start(self) -> None:
        self._thread.start()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._paused = paused
        self._on_state(self.state)

    @property
    def paused(self) -> bool:
        return self._paused

    def submit(self, action: Action, *, from_hotkey: bool = True) -> Job:
        """Accept a job unless one is pending; never blocks. A refused job comes back
        already done, its result saying why (and on_result is told, as for any job)."""
        job = Job(action, time.monotonic())
        with self._lock:
            if from_hotkey and self._paused:
                reason = "Hotkeys are paused."
            elif self._state is State.ERROR:
                reason = f"Not ready: {self._error}"
            elif self._pending is not None:
                reason = f"Busy with {self._pending.action.name}; try again when it finishes."
            else:
                self._pending = job
                self._queue.put(job)
                return job
        log.info("job refused: %s", action.name)
        self._finish(job, JobResult(Status.REFUSED, reason))
        return job

    def cancel(self) -> None:
        self._cancel.set()

    def stop(self, timeout: float = 1.5) -> None:
        """Cancel any job, let it restore the clipboard, and end the thread."""
        self._cancel.set()
        self._queue.put(_STOP)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_loaded(self, timeout: float) -> bool:
        return self._loaded.wait(timeout)

    # -- worker thread ----------------------------------------------------------

    def _set_state(self, state: State) -> None:
        with self._lock:
            self._state = state
        self._on_state(self.state)

    def _serve(self) -> None:
        try:
            self.engine = self._load_engine()
        except (EngineError, OSError, ValueError) as exc:
            self._error = str(exc)
            log.error("model failed to load: %s", exc)
            self._set_state(State.ERROR)
        else:
            self._set_state(State.READY)
        finally:
            self._loaded.set()
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Job)
            self._run_one(item)

    def _run_one(self, job: Job) -> None:
        action = job.action
        self._cancel.clear()
        try:
            if self.engine is None or time.monotonic() - job.accepted_at > self._load_wait_s:
                result = JobResult(Status.FAILED, f"Model not ready: {self._error or 'loading'}")
            else:
                self._set_state(State.BUSY)
                result = self._run_job(action, self.engine, self._cancel)
        except Exception as exc:  # noqa: BLE001 - a job must never kill the worker
            log.exception("job crashed")
            result = JobResult(Status.FAILED, f"{action.name} failed: {exc}")
        with self._lock:
            self._pending = None
        if self.engine is not None:
            self._set_state(State.READY)
        self._finish(job, result)

    def _finish(self, job: Job, result: JobResult) -> None:
        # Tell the daemon first: status readers poll the counters below, and must find
        # the job's message already in place once its count moved.
        self._on_result(job.action, result)
        with self._lock:
            if result.status in (Status.DONE, Status.COPIED):
                self.counts.succeeded += 1
            elif result.status in _REFUSED:
                self.counts.refused += 1
            else:
                self.counts.failed += 1
            if result.original is not None:
                self.last_original = result.original
        log.info("job finished: %s %s", job.action.name, result.status.value)
        job.result = result
        job.done.set()
