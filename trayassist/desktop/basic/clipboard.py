"""The Clipboard port through pyperclip: text in, text out.

Its snapshot keeps TEXT ONLY: images, rich text and files on the clipboard are lost when
a job restores it. It is the fallback where no native backend exists (macOS today).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from trayassist.ports import ClipboardSnapshot


class BasicClipboard:
    """pyperclip: text in, text out. Snapshots keep text only (see module docstring)."""

    TARGET = "text/plain;charset=utf-8"

    def __init__(self) -> None:
        import pyperclip

        self._pc: Any = pyperclip

    def snapshot(self) -> ClipboardSnapshot:
        text = self.read_text()
        if not text:
            return ClipboardSnapshot({}, owned=False)
        return ClipboardSnapshot({self.TARGET: text.encode("utf-8")})

    def restore(self, snap: ClipboardSnapshot) -> None:
        data = snap.formats.get(self.TARGET)
        self._pc.copy(data.decode("utf-8") if data is not None else "")

    def clear(self) -> None:
        self._pc.copy("")

    def read_text(self) -> str | None:
        text: str = self._pc.paste()
        return text or None

    def write_text(self, text: str) -> None:
        self._pc.copy(text)

    def wait_read(self, timeout: float) -> bool:
        # pyperclip cannot see who reads: wait the whole bound so the paste target has had
        # its chance before the caller restores the old clipboard under it.
        time.sleep(timeout)
        return False

    def is_secret(self) -> bool:
        if sys.platform != "win32":
            return False  # macOS' org.nspasteboard.ConcealedType needs AppKit: not supported
        import ctypes

        # Password managers on Windows add this registered format to what they copy.
        user32 = ctypes.windll.user32
        fmt = user32.RegisterClipboardFormatW("ExcludeClipboardContentFromMonitorProcessing")
        return bool(fmt and user32.IsClipboardFormatAvailable(fmt))
