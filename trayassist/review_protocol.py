"""The side of the review-window protocol that both windows share (the Tk one in
trayassist.review_window, the Win32 one in trayassist.desktop.windows.review_window): the
session's state, the event log (times, event names and counts, never any text), the
answers on stdout and the reader thread that turns stdin lines into a queue.

The protocol itself is documented in trayassist.review_window."""

from __future__ import annotations

import json
import queue
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


class ProtocolSide:
    def __init__(self, log_path: str | None, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.session: int | None = None
        self.mode = ""  # "review", "launcher"/"panel", or "" between jobs
        self.final = False  # the whole result is shown
        self.pieces = 0
        self.original = ""
        self.diff = False

    def log(self, event: str, **fields: Any) -> None:
        if self.log_file is not None:
            self.log_file.write(json.dumps({"t": time.time(), "event": event,
                                            "session": self.session, **fields}) + "\n")
            self.log_file.flush()

    def send(self, payload: dict[str, Any]) -> None:
        self.out.write(json.dumps(payload) + "\n")
        self.out.flush()

    def read_stdin(self, stream: TextIO, wake: Callable[[], None] = lambda: None) -> None:
        """Reader thread: queues each request (None once the daemon went away) and calls
        `wake` after each; it never touches the window."""
        for line in stream:
            try:
                self.inbox.put(json.loads(line))
            except ValueError:
                continue
            wake()
        self.inbox.put(None)
        wake()
