"""The Clipboard port on Windows: every format snapshotted, delayed rendering for our text.

- snapshot: every format EnumClipboardFormats lists whose data is global memory, as bytes.
  Formats that are GDI handles (CF_BITMAP, CF_PALETTE, CF_ENHMETAFILE, CF_METAFILEPICT,
  the owner-display and CF_DSP* formats, CF_GDIOBJ*) cannot be copied as bytes and are
  not kept; Windows synthesizes CF_BITMAP again from the kept CF_DIB/CF_DIBV5 (and
  CF_TEXT/CF_OEMTEXT from CF_UNICODETEXT). A lone CF_ENHMETAFILE / CF_PALETTE is lost.
- write_text: CF_UNICODETEXT by delayed rendering (SetClipboardData(fmt, NULL)); the
  hidden owner window renders it on WM_RENDERFORMAT, which is how `wait_read` knows the
  paste target asked. It carries ExcludeClipboardContentFromMonitorProcessing,
  CanIncludeInClipboardHistory=0 and CanUploadToCloudClipboard=0.
- is_secret: the markers password managers set (the same three, plus
  "Clipboard Viewer Ignore") on content that is not ours.
- change_count: GetClipboardSequenceNumber, with our own render not counted as a change.
- OpenClipboard is retried for OPEN_TIMEOUT; then ClipboardBusy names the program that
  holds it, and the job fails with the user's text unchanged.

Every clipboard call runs on the owner window's thread (`MessageWindow.call`).
Clipboard content is never logged.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from trayassist.desktop.windows._win32 import (
    GMEM_MOVEABLE,
    WM_DESTROYCLIPBOARD,
    WM_RENDERALLFORMATS,
    WM_RENDERFORMAT,
    MessageWindow,
    kernel32,
    last_error,
    user32,
    window_process,
)
from trayassist.ports import ClipboardSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")

OPEN_TIMEOUT = 1.0  # another program holding the clipboard longer than this is stuck
OPEN_STEP = 0.01
MAX_BYTES = 64 << 20  # one format larger than this is not kept (and the snapshot says so)

CF_TEXT, CF_UNICODETEXT = 1, 13
STANDARD = {
    1: "CF_TEXT", 2: "CF_BITMAP", 3: "CF_METAFILEPICT", 4: "CF_SYLK", 5: "CF_DIF",
    6: "CF_TIFF", 7: "CF_OEMTEXT", 8: "CF_DIB", 9: "CF_PALETTE", 10: "CF_PENDATA",
    11: "CF_RIFF", 12: "CF_WAVE", 13: "CF_UNICODETEXT", 14: "CF_ENHMETAFILE", 15: "CF_HDROP",
    16: "CF_LOCALE", 17: "CF_DIBV5", 0x80: "CF_OWNERDISPLAY", 0x81: "CF_DSPTEXT",
    0x82: "CF_DSPBITMAP", 0x83: "CF_DSPMETAFILEPICT", 0x8E: "CF_DSPENHMETAFILE",
}  # fmt: skip
BY_NAME = {name: num for num, name in STANDARD.items()}
# Handles that are not global memory: not readable as bytes (see the module docstring).
HANDLE_FORMATS = {2, 3, 9, 14, 0x80, 0x82, 0x83, 0x8E}
GDIOBJ_RANGE = range(0x0300, 0x0400)

EXCLUDE = "ExcludeClipboardContentFromMonitorProcessing"
HISTORY = "CanIncludeInClipboardHistory"
CLOUD = "CanUploadToCloudClipboard"
VIEWER_IGNORE = "Clipboard Viewer Ignore"
DWORD_ZERO = b"\0\0\0\0"


class ClipboardBusy(OSError):
    """Another program kept the clipboard open; the message names it where Windows tells."""


def format_name(fmt: int) -> str:
    if fmt in STANDARD:
        return STANDARD[fmt]
    if fmt >= 0xC000:
        buf = ctypes.create_unicode_buffer(256)
        if user32.GetClipboardFormatNameW(fmt, buf, len(buf)) > 0:
            return str(buf.value)
    return f"#{fmt}"


def format_id(name: str) -> int:
    if name in BY_NAME:
        return BY_NAME[name]
    if name.startswith("#") and name[1:].isdigit():
        return int(name[1:])
    fmt: int = user32.RegisterClipboardFormatW(name)
    if not fmt:
        raise OSError(f"RegisterClipboardFormatW failed ({last_error()})")
    return fmt


def _global_bytes(handle: Any) -> bytes | None:
    size = kernel32.GlobalSize(handle)
    if not size or size > MAX_BYTES:
        return None
    ptr = kernel32.GlobalLock(handle)
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr, size)
    finally:
        kernel32.GlobalUnlock(handle)


def _global_alloc(data: bytes) -> Any:
    handle = kernel32.GlobalAlloc(GMEM_MOVEABLE, max(len(data), 1))
    if not handle:
        raise MemoryError("GlobalAlloc failed")
    ptr = kernel32.GlobalLock(handle)
    ctypes.memmove(ptr, data, len(data))
    kernel32.GlobalUnlock(handle)
    return handle


def _set(fmt: int, data: bytes) -> None:
    handle = _global_alloc(data)
    if not user32.SetClipboardData(fmt, handle):  # on success the system owns the memory
        kernel32.GlobalFree(handle)
        raise OSError(f"SetClipboardData failed ({last_error()})")


def holder_description() -> str:
    """Who keeps the clipboard open: "the clipboard is held by KeePass.exe" or less."""
    _, exe = window_process(user32.GetOpenClipboardWindow())
    if exe:
        return f"the clipboard is held by {exe}"
    return "another program holds the clipboard (Windows does not say which)"


class WindowsClipboard:
    """The Clipboard port on Windows (see the module docstring). Worker thread."""

    def __init__(self) -> None:
        self._window = MessageWindow("clipboard", {
            WM_RENDERFORMAT: self._on_render,
            WM_RENDERALLFORMATS: self._on_render_all,
            WM_DESTROYCLIPBOARD: self._on_destroy_clipboard,
        })
        self._window.start_and_wait()
        self._pending: str | None = None  # our delayed text, until rendered or replaced
        self._rendered = threading.Event()
        self._lock = threading.Lock()
        # Sequence numbers our own render produced -> the number our write had, so the
        # paste target's read does not look like the user copying something new.
        self._alias: dict[int, int] = {}
        self._ours = -1  # the sequence number after our last write (or its render)

    # -- on the owner window's thread -----------------------------------------------------
    def _open(self) -> None:
        deadline = time.monotonic() + OPEN_TIMEOUT
        while not user32.OpenClipboard(self._window.hwnd):
            if time.monotonic() >= deadline:
                raise ClipboardBusy(f"{holder_description()}; try again")
            time.sleep(OPEN_STEP)

    def _with_open(self, fn: Callable[[], T]) -> T:
        def run() -> T:
            self._open()
            try:
                return fn()
            finally:
                user32.CloseClipboard()

        result: T = self._window.call(run)
        return result

    def _render_pending(self) -> None:
        with self._lock:
            text = self._pending
        if text is None:
            return
        before = user32.GetClipboardSequenceNumber()
        _set(CF_UNICODETEXT, (text + "\0").encode("utf-16-le"))
        after = user32.GetClipboardSequenceNumber()
        with self._lock:
            if before == self._ours and after != before:
                self._alias[after] = before
                self._ours = after
        self._rendered.set()

    def _on_render(self, wparam: int, lparam: int) -> int:
        # The clipboard is open by the program that asked (the paste target): only set.
        if wparam == CF_UNICODETEXT:
            self._render_pending()
        return 0

    def _on_render_all(self, wparam: int, lparam: int) -> int:
        # We are going away while owning unrendered text: render it so it outlives us.
        if not user32.OpenClipboard(self._window.hwnd):
            return 0
        try:
            if user32.GetClipboardOwner() == self._window.hwnd:
                self._render_pending()
        finally:
            user32.CloseClipboard()
        return 0

    def _on_destroy_clipboard(self, wparam: int, lparam: int) -> int:
        with self._lock:  # someone emptied the clipboard: our delayed text is gone
            self._pending = None
        return 0

    # -- the port (worker thread) ---------------------------------------------------------
    def snapshot(self) -> ClipboardSnapshot:
        def read() -> ClipboardSnapshot:
            if user32.CountClipboardFormats() == 0:
                return ClipboardSnapshot({}, owned=False)
            formats: dict[str, bytes] = {}
            skipped: list[str] = []
            fmt = user32.EnumClipboardFormats(0)
            while fmt:
                name = format_name(fmt)
                if fmt in HANDLE_FORMATS or fmt in GDIOBJ_RANGE:
                    skipped.append(name)
                else:
                    handle = user32.GetClipboardData(fmt)
                    data = _global_bytes(handle) if handle else None
                    if data is None:
                        skipped.append(name)
                    else:
                        formats[name] = data
                fmt = user32.EnumClipboardFormats(fmt)
            if skipped:
                # Format names are program-defined labels, not content.
                log.info("clipboard snapshot: %d formats kept, not kept: %s",
                         len(formats), ", ".join(sorted(set(skipped))))
            return ClipboardSnapshot(formats, owned=True)

        return self._with_open(read)

    def restore(self, snap: ClipboardSnapshot) -> None:
        def put() -> None:
            user32.EmptyClipboard()
            with self._lock:
                self._pending = None
            for name, data in snap.formats.items():
                try:
                    _set(format_id(name), data)
                except OSError as exc:
                    log.warning("clipboard restore: format %s not restored: %s", name, exc)

        self._with_open(put)

    def clear(self) -> None:
        def empty() -> None:
            user32.EmptyClipboard()
            with self._lock:
                self._pending = None

        self._with_open(empty)

    def write_text(self, text: str) -> None:
        def put() -> None:
            user32.EmptyClipboard()  # makes our window the owner (renders go to it)
            with self._lock:
                self._pending = text
                self._rendered.clear()
            # Delayed rendering: success returns the NULL we passed, so ask GetLastError.
            ctypes.set_last_error(0)  # type: ignore[attr-defined]
            if not user32.SetClipboardData(CF_UNICODETEXT, None) and last_error():
                raise OSError(f"SetClipboardData(delayed) failed ({last_error()})")
            _set(format_id(EXCLUDE), b"\0")
            _set(format_id(HISTORY), DWORD_ZERO)
            _set(format_id(CLOUD), DWORD_ZERO)

        self._with_open(put)
        with self._lock:
            self._ours = user32.GetClipboardSequenceNumber()

    def wait_read(self, timeout: float) -> bool:
        return self._rendered.wait(timeout)

    def _ours_now(self) -> bool:
        """The clipboard still holds our last write (rendered or not)."""
        with self._lock:
            return self.change_count() == self._alias.get(self._ours, self._ours)

    def read_text(self) -> str | None:
        with self._lock:
            pending = self._pending
        if pending is not None and not self._rendered.is_set() and self._ours_now():
            return pending  # reading it would render it and fake the paste target's read
        # Asked without opening the clipboard: capture polls this while the app copies,
        # and an app that finds the clipboard open (by us) drops its copy without retrying.
        if not user32.IsClipboardFormatAvailable(CF_UNICODETEXT):
            return None

        def read() -> str | None:
            if not user32.IsClipboardFormatAvailable(CF_UNICODETEXT):
                return None
            handle = user32.GetClipboardData(CF_UNICODETEXT)
            data = _global_bytes(handle) if handle else None
            if data is None:
                return None
            return data.decode("utf-16-le", errors="replace").split("\0", 1)[0]

        result: str | None = self._with_open(read)
        return result

    def is_secret(self) -> bool:
        if self._ours_now():
            return False  # our own markers keep history away; they do not mean "secret"

        # Availability is asked without opening the clipboard (see read_text).
        if any(user32.IsClipboardFormatAvailable(format_id(n)) for n in (EXCLUDE, VIEWER_IGNORE)):
            return True
        flags = [fmt for fmt in (format_id(HISTORY), format_id(CLOUD))
                 if user32.IsClipboardFormatAvailable(fmt)]
        if not flags:
            return False

        def marked() -> bool:
            for fmt in flags:
                handle = user32.GetClipboardData(fmt)
                data = _global_bytes(handle) if handle else None
                if data is not None and data[:4] == DWORD_ZERO:
                    return True
            return False

        result: bool = self._with_open(marked)
        return result

    def change_count(self) -> int:
        """The clipboard's change counter; our own render of our text is not a change.
        Any thread."""
        seq: int = user32.GetClipboardSequenceNumber()
        return self._alias.get(seq, seq)

    def hand_off(self, timeout: float = 2.0) -> bool:
        """At exit: our delayed text must outlive us. Destroying the owner window makes
        Windows ask for it (WM_RENDERALLFORMATS) while we can still answer. Main thread."""
        owned = bool(user32.GetClipboardOwner() == self._window.hwnd)
        self._window.close(timeout)
        return owned

    def close(self) -> None:
        """Render our text if we still own it (WM_RENDERALLFORMATS), then stop the window."""
        self._window.close()
