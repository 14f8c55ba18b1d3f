"""The daemon's side of the review window and the launcher (trayassist.review_window;
on Windows trayassist.desktop.windows.review_window, same protocol).

`ReviewHost` keeps one child process running, withdrawn between jobs, so a window shows
within milliseconds of a job starting. Threads: `open`/`launcher` are called from the
worker thread or a tray callback and never block on the user; a session's
`wait_choice` blocks the worker thread (the job is not done until the user chose);
one reader thread per child turns its stdout lines into choices.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHOICES = ("replace", "copy", "discard", "retry")
FOCUS_BACK_S = 1.5  # the target takes the focus back in a few ms; bounded anyway
CANCEL_POLL_S = 0.1  # how soon a cancel ends a wait for the user's choice
START_TIMEOUT_S = 15.0  # Python + Tk start in ~0.3 s; a loaded machine gets more


class WindowFocus(Protocol):
    """Remember the window that has the keyboard focus and give it back later."""

    def remember(self) -> object | None:
        """The focused window, or None where the platform cannot tell. Worker thread."""

    def restore(self, window: object, timeout: float) -> bool:
        """Give `window` the focus again and wait until it has it. Worker thread."""


class NoWindowFocus:
    def remember(self) -> object | None:
        return None

    def restore(self, window: object, timeout: float) -> bool:
        return True


class ReviewUnavailable(RuntimeError):
    pass


def window_module(platform: str = sys.platform) -> str:
    """The child the host runs: Tk everywhere, a native Win32 window on Windows (the
    installer's embeddable CPython has no tkinter). Both speak the same protocol."""
    if platform == "win32":
        return "trayassist.desktop.windows.review_window"
    return "trayassist.review_window"


class ReviewSession:
    """One job's window. Worker thread, except `_deliver_choice` (reader thread)."""

    def __init__(self, host: ReviewHost, number: int, cancel: threading.Event | None,
                 target: object | None) -> None:
        self._host = host
        self.number = number
        self._cancel = cancel
        self.target = target
        self._choices: queue.Queue[str] = queue.Queue()
        self.closed = False
        self._discarded_by_user = False

    @property
    def discarded_by_user(self) -> bool:
        return self._discarded_by_user

    def piece(self, text: str) -> None:
        self._host.send({"op": "piece", "text": text})

    def progress(self, progress: Any) -> None:
        """A trayassist.transform.Progress (issue 12's contract) or anything alike."""
        self._host.send({"op": "progress", "done": getattr(progress, "done", 0),
                         "total": getattr(progress, "total", 1),
                         "unit": getattr(progress, "unit", "part")})

    def final(self, text: str, warnings: list[str]) -> None:
        self._host.send({"op": "final", "text": text, "warnings": warnings})

    def retrying(self) -> None:
        self._host.send({"op": "retrying"})

    def wait_choice(self, timeout: float) -> str:
        """Block until the user chose; "discard" on timeout, if the window died, or once
        the job is cancelled (the tray's "Cancel running job", quit)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._choices.get(timeout=min(CANCEL_POLL_S, timeout))
            except queue.Empty:
                pass
            if self._cancel is not None and self._cancel.is_set():
                log.info("review window: job cancelled; discarding")
                return "discard"
            if time.monotonic() >= deadline:
                log.info("review window: no choice in %.0f s; discarding", timeout)
                return "discard"

    def close(self) -> None:
        """Hide the window and give the keyboard back to the app the user was in,
        whatever they chose (Esc too: their next hotkey must reach that app)."""
        if not self.closed:
            self.closed = True
            self._host.end(self)
            if self.target is not None:
                self._host.focus.restore(self.target, FOCUS_BACK_S)

    def restore_focus(self, timeout: float) -> bool:
        return self.target is None or self._host.focus.restore(self.target, timeout)

    def _deliver_choice(self, choice: str, by_user: bool = True) -> None:
        if choice == "discard":
            # Set before the cancel: the job that stops on it reads this to tell the
            # user's Esc (a discard) from the tray's "Cancel running job" or a dead window.
            self._discarded_by_user = by_user
            if self._cancel is not None:
                self._cancel.set()  # Esc while the model still writes stops it at once
        self._choices.put(choice)


class ReviewHost:
    def __init__(self, *, log_path: Path | None = None, focus: WindowFocus | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.focus: WindowFocus = focus or NoWindowFocus()
        self._env = env
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._numbers = itertools.count(1)
        self._sessions: dict[int, ReviewSession] = {}
        self._launchers: dict[int, Callable[[str], None]] = {}

    # -- process ----------------------------------------------------------------

    def start(self) -> None:
        """Start the child if it is not running. Any thread; returns before it is ready."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            self._ready.clear()
            cmd = [sys.executable, "-m", window_module()]
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                cmd += ["--log", str(self.log_path)]
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                env=self._env if self._env is not None else os.environ.copy(),
                encoding="utf-8",
                # Windows: never a console window beside the review window (a python.exe
                # child of a daemon that has no console would open one).
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
            proc = self._proc
        threading.Thread(target=self._read, args=(proc,), name="trayassist-review",
                         daemon=True).start()

    def _ensure(self) -> None:
        self.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready.wait(0.05):
            proc = self._proc
            if proc is None or proc.poll() is not None:
                raise ReviewUnavailable("the review window could not start"
                                        + ("" if sys.platform == "win32"
                                           else " (is Tk installed?)"))
            if time.monotonic() >= deadline:
                raise ReviewUnavailable("the review window did not start")

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("ready"):
                self._ready.set()
                continue
            number, choice = msg.get("session"), str(msg.get("choice", ""))
            with self._lock:
                session = self._sessions.get(number)
                launch = self._launchers.pop(number, None)
            if session is not None:
                session._deliver_choice(choice)
            elif launch is not None and choice:
                try:
                    launch(choice)
                except Exception:  # noqa: BLE001 - a launcher item must not kill the reader
                    log.exception("launcher action failed")
        # The child is gone: every open session reads as discarded (text untouched).
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session._deliver_choice("discard", by_user=False)

    def window_pid(self) -> int | None:
        """The window process's pid while it runs (Windows lets exactly it take the
        foreground)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def send(self, payload: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(json.dumps(payload) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            log.warning("review window is gone")

    def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self.send({"op": "quit"})
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        # No wait: it quits on "quit" or on the closed pipe by itself, and the daemon's
        # shutdown (which must stay under ~2 s) does not wait on a window.

    # -- sessions -----------------------------------------------------------------

    def open(self, action: str, original: str, *, diff: bool, note: str | None = None,
             cancel: threading.Event | None = None) -> ReviewSession:
        """Remember the focused window, then show the window. Worker thread."""
        self._ensure()  # first: the focus port may hand the foreground to its process
        target = self.focus.remember()
        session = ReviewSession(self, next(self._numbers), cancel, target)
        with self._lock:
            self._sessions[session.number] = session
        self.send({"op": "open", "session": session.number, "action": action,
                   "original": original, "diff": diff, "note": note})
        return session

    def end(self, session: ReviewSession) -> None:
        with self._lock:
            self._sessions.pop(session.number, None)
        self.send({"op": "close"})

    def _show_open_session(self) -> bool:
        """While a job's window waits for the user, it keeps the screen: the launcher or
        a panel in its place would leave the job waiting for a choice no window can give.
        Shows that window again instead (it may be behind another); True if there was one."""
        with self._lock:
            open_session = bool(self._sessions)
        if open_session:
            self.send({"op": "show"})
        return open_session

    def launcher(self, items: list[str], on_choice: Callable[[str], None],
                 title: str = "trayassist") -> None:
        """Show the launcher; `on_choice(label)` runs on the reader thread. Never blocks
        on the user (tray callbacks call this)."""
        if self._show_open_session():
            return
        self._ensure()
        target = self.focus.remember()
        number = next(self._numbers)

        def chosen(label: str) -> None:
            if target is not None:  # an action must copy from the window the user was in
                self.focus.restore(target, 1.5)
            on_choice(label)

        with self._lock:
            self._launchers[number] = chosen
        self.send({"op": "launcher", "session": number, "items": items, "title": title})

    def info(self, title: str, body: str) -> None:
        """A read-only panel (the ledger); Esc or Enter closes it. Never blocks."""
        if self._show_open_session():
            return
        self._ensure()
        self.send({"op": "launcher", "session": next(self._numbers), "items": [],
                   "title": title, "body": body})
