"""The one deadline poll of the test suites (X11, Wayland, Wine): wait for a condition a
user would see, never sleep and hope. tests/ is on sys.path through tests/conftest.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(check: Callable[[], T], timeout: float, step: float = 0.01) -> T | None:
    """`check`'s first truthy value within `timeout`, else None."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(step)


def wait_for(check: Callable[[], T], timeout: float = 5.0, step: float = 0.01,
             what: str = "condition") -> T:
    """Like poll, but a timeout fails with `what`."""
    value = poll(check, timeout, step)
    if value is None:
        raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
    return value
