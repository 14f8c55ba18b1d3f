"""The daemon as a process: one per user, and the signals that mean "quit"."""

from __future__ import annotations

import signal

import filelock

from trayassist import paths
from trayassist.control import ensure_private_dir


class AlreadyRunning(Exception):
    pass


def stop_signals() -> list[signal.Signals]:
    """The signals that mean "quit" here: only those this OS has (SIGBREAK is Windows'
    Ctrl+Break; SIGTERM exists there but nothing sends it, hence `trayassist quit`)."""
    return [getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGBREAK")
            if hasattr(signal, name)]


def acquire_single_instance() -> filelock.BaseFileLock:
    """An OS file lock: released by the kernel when the process dies, even on kill -9,
    so there is never a stale PID file to clean up."""
    ensure_private_dir(paths.runtime_dir())
    lock = filelock.FileLock(str(paths.runtime_dir() / "daemon.lock"), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise AlreadyRunning(
            "trayassist is already running: use `trayassist status`, or `trayassist quit`"
        ) from exc
    return lock


