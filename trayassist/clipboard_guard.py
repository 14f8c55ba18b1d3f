"""The restore rule every desktop shares: give the user's clipboard back, unless they
copied something new while the job ran."""

from __future__ import annotations

import logging
from collections.abc import Callable

from trayassist.ports import Clipboard, ClipboardSnapshot

log = logging.getLogger(__name__)


class RestoreGuard:
    """Restores the user's clipboard unless someone else changed it meanwhile.

    We only put back the snapshot while the clipboard still holds what we last saw
    there (the captured selection or our result); if the user copied something new
    during the job, theirs wins. Where the clipboard has a change counter
    (`change_count()`, e.g. Windows' sequence number), that decides: it also sees a new
    copy of identical text, or of content we cannot read as text.
    """

    def __init__(self, clipboard: Clipboard, snapshot: ClipboardSnapshot) -> None:
        self._clipboard = clipboard
        self._snapshot = snapshot
        self._expected: str | None = None  # None: still ours (cleared / copy pending)
        self._armed = True
        self._counter: Callable[[], int] | None = getattr(clipboard, "change_count", None)
        self._count: int | None = None

    def resnapshot(self) -> None:
        self._snapshot = self._clipboard.snapshot()

    def expect(self, text: str) -> None:
        self._expected = text
        if self._counter is not None:
            self._count = self._counter()

    def disarm(self) -> None:
        self._armed = False

    def restore(self) -> None:
        if not self._armed:
            return
        if self._count is not None and self._counter is not None:
            if self._counter() != self._count:
                log.info("clipboard changed during the job; not restoring")
                return
        elif self._expected is not None and not self._clipboard.is_secret():
            current = self._clipboard.read_text()
            if current is not None and current != self._expected:
                log.info("clipboard changed during the job; not restoring")
                return
        self._clipboard.restore(self._snapshot)
