"""What a desktop job reports, and the bounds it runs under. Pure data."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trayassist.guard import Flag


class Status(enum.Enum):
    DONE = "done"
    COPIED = "copied"  # clipboard delivery mode: result is on the clipboard
    NOTHING_SELECTED = "nothing-selected"
    SECRET = "secret"
    KEYS_HELD = "keys-held"
    DISABLED = "disabled"  # the focused app's profile has trayassist off: nothing was done
    REFUSED = "refused"  # busy with another job, paused, or the model is not ready
    CANCELLED = "cancelled"
    DISCARDED = "discarded"  # the user discarded the result in the review window
    FAILED = "failed"


@dataclass(frozen=True)
class Timing:
    """Every bound in one place; each exists for a reason a user would notice."""

    # The user's fingers may still be on Ctrl/Alt/Shift from the hotkey; copying
    # before they let go would send Ctrl+Alt+Shift+C.
    modifier_release_s: float = 1.5
    # Apps answer Ctrl+C within a few hundred ms; past this, nothing was selected.
    copy_timeout_s: float = 1.5
    poll_s: float = 0.01
    # The target reads the clipboard after Ctrl+V; we wait for that read, bounded,
    # before restoring the user's clipboard under it.
    paste_read_s: float = 1.5
    # After the read, some apps (Electron, terminals) paste asynchronously.
    paste_settle_s: float = 0.15


@dataclass(frozen=True)
class JobStats:
    """Counters of a job whose model step ran (for the privacy ledger); never text."""

    words: int  # words of the user's text given to the model
    input_tokens: int
    output_tokens: int  # pieces generated, retries included


@dataclass
class JobResult:
    status: Status
    message: str  # one line for a notification; never contains the user's text
    flags: tuple[Flag, ...] = ()
    original: str | None = field(default=None, repr=False)  # for "copy last original"
    stats: JobStats | None = None  # set once the model ran, whatever happened after
    reviewed: bool = False  # the user saw the result (and its flags) in the review window


def poll(condition: Callable[[], bool], timeout: float, step: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


DEFAULT_TIMING = Timing()
