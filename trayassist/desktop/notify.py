"""Desktop notifications: `notify-send` when installed, else an injected fallback.

`notify` is called from any thread (worker, listener, tray) and must never block: the
command is started and not waited for. Callers pass fixed messages, never user text.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# Without a notification daemon notify-send waits for the D-Bus timeout (~25 s); cap how
# many may hang at once so a burst of errors cannot pile up processes.
MAX_PENDING = 3


def _log_only(title: str, message: str) -> None:
    log.info("notification: %s: %s", title, message)


class CommandNotifier:
    """The Notifier port. `fallback` (e.g. the tray tooltip; may be replaced at any time)
    is used when notify-send is missing, fails to start or is backed up; it must not block
    either."""

    def __init__(self, fallback: Callable[[str, str], None] | None = None,
                 command: str | None = None, app_name: str = "trayassist") -> None:
        self._command = command if command is not None else shutil.which("notify-send")
        self.fallback: Callable[[str, str], None] = fallback or _log_only
        self._app_name = app_name
        self._pending: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()  # any thread may notify

    def notify(self, title: str, message: str) -> None:
        if self._command and self._spawn(title, message):
            return
        try:
            self.fallback(title, message)
        except Exception:  # a broken fallback must not take the calling thread down
            log.exception("notification fallback failed")

    def _spawn(self, title: str, message: str) -> bool:
        with self._lock:
            # poll() reaps finished children, so none is left a zombie.
            self._pending = [p for p in self._pending if p.poll() is None]
            if len(self._pending) >= MAX_PENDING:
                return False
            try:
                proc = subprocess.Popen(
                    [str(self._command), f"--app-name={self._app_name}", "--", title, message],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True)
            except OSError as exc:
                log.warning("notify-send failed to start: %s", exc)
                return False
            self._pending.append(proc)
            return True
