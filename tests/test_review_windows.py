"""The native Windows review window (trayassist.desktop.windows.review_window), driven by
the real ReviewHost as the daemon drives it, with keys sent through SendInput.

Runs under Windows CPython: the Windows stage runs this file under Wine
(tests/windows/test_wine_suite.py). On Linux only the host's choice of window runs.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from review_log import count, events
from waiting import wait_for

from trayassist.review import ReviewHost, window_module

on_windows = pytest.mark.skipif(sys.platform != "win32",
                                reason="the native review window runs on Windows "
                                       "(the Windows stage runs this under Wine)")


def test_the_host_runs_the_native_window_on_windows_and_the_tk_one_elsewhere() -> None:
    assert window_module("win32") == "trayassist.desktop.windows.review_window"
    assert window_module("linux") == "trayassist.review_window"




class Window:
    """What a user sees of the review window: is it shown, its text (Win32 calls from
    this process, as another app would make them)."""

    def __init__(self) -> None:
        from ctypes import wintypes

        self.user32 = ctypes.WinDLL("user32")
        u = self.user32
        u.FindWindowW.restype = wintypes.HWND
        u.FindWindowW.argtypes = [wintypes.LPCWSTR, wintypes.LPCWSTR]
        u.FindWindowExW.restype = wintypes.HWND
        u.FindWindowExW.argtypes = [wintypes.HWND, wintypes.HWND, wintypes.LPCWSTR,
                                    wintypes.LPCWSTR]
        u.IsWindowVisible.argtypes = [wintypes.HWND]
        u.GetForegroundWindow.restype = wintypes.HWND
        u.SendMessageW.restype = ctypes.c_ssize_t
        u.SendMessageW.argtypes = [wintypes.HWND, wintypes.UINT, wintypes.WPARAM,
                                   ctypes.c_void_p]

    def hwnd(self) -> int | None:
        hwnd: int | None = self.user32.FindWindowW("trayassist-review", None)
        return hwnd

    def visible(self) -> bool:
        hwnd = self.hwnd()
        return bool(hwnd and self.user32.IsWindowVisible(hwnd))

    def foreground(self) -> bool:
        return bool(self.hwnd()) and self.user32.GetForegroundWindow() == self.hwnd()

    def text(self) -> str:
        box = self.user32.FindWindowExW(self.hwnd(), None, "RICHEDIT50W", None)
        buf = ctypes.create_unicode_buffer(8192)
        self.user32.SendMessageW(box, 0x000D, len(buf), ctypes.cast(buf, ctypes.c_void_p))
        return buf.value.replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture
def host(tmp_path: Path) -> Any:
    review = ReviewHost(log_path=tmp_path / "events.log")
    yield review
    review.stop()
    proc = review._proc
    if proc is not None:
        proc.wait(20)  # it quits on "quit" (or the closed pipe) by itself


@on_windows
def test_keys_choose_and_the_window_hides_between_jobs(host: ReviewHost,
                                                       tmp_path: Path) -> None:
    from trayassist.desktop.windows.keys import WindowsKeys

    keys, window, log = WindowsKeys(), Window(), tmp_path / "events.log"
    original = "meet the team at 3pm \U0001f600 in room 12"
    session = host.open("proofread", original, diff=True, note="a note",
                        cancel=threading.Event())
    wait_for(window.visible, 30, 0.05, what="the review window")
    wait_for(window.foreground, 10, 0.05, what="the window in the foreground")
    session.piece("Meet the team")
    wait_for(lambda: count(log, "first_piece") == 1, 10, 0.02, what="the first piece")
    assert window.text() == "Meet the team"
    session.final("Meet the team at 5pm \U0001f600 in room 12.", ["a number changed"])
    wait_for(lambda: count(log, "final") == 1, 10, 0.02, what="the result")
    # The word diff in one text: the removed words and the new ones (colours aside).
    shown = window.text()
    assert "3pm" in shown and "5pm" in shown and "\U0001f600" in shown, shown

    keys.send_chord("r")
    assert session.wait_choice(10) == "retry"
    assert window.visible()  # a retry keeps the window
    session.retrying()
    wait_for(lambda: count(log, "retrying") == 1, 10, 0.02, what="the retry")
    assert window.text() == ""
    session.final("Meet the team at 3pm in room 12.", [])
    wait_for(lambda: count(log, "final") == 2, 10, 0.02, what="the second result")
    keys.send_chord("<ctrl>+c")
    assert session.wait_choice(10) == "copy"
    wait_for(lambda: not window.visible(), 10, 0.02, what="the window to hide")
    session.close()

    cancel = threading.Event()
    second = host.open("rewrite", "a b c", diff=False, cancel=cancel)
    wait_for(window.visible, 10, 0.02, what="the window again")
    wait_for(window.foreground, 10, 0.05, what="the window in the foreground")
    # (The retry's result counted as a first piece too: it came with no pieces before it.)
    pieces = count(log, "first_piece")
    second.piece("A b")
    wait_for(lambda: count(log, "first_piece") > pieces, 10, 0.02, what="a piece")
    keys.send_chord("<esc>")  # while the model still writes: a discard that stops it
    assert second.wait_choice(10) == "discard"
    assert second.discarded_by_user and cancel.is_set()
    wait_for(lambda: not window.visible(), 10, 0.02, what="the window to hide")
    second.close()
    wait_for(lambda: count(log, "closed") == 2, 10, 0.02, what="the close")
    assert [e.get("choice") for e in events(log) if e["event"] == "choice"] == \
        ["retry", "copy", "discard"]
    assert original not in log.read_text(encoding="utf-8")  # never text in the log


@on_windows
def test_a_launcher_is_answered_at_once_without_a_window(host: ReviewHost,
                                                         tmp_path: Path) -> None:
    chosen: list[str] = []
    log, window = tmp_path / "events.log", Window()
    host.launcher(["rewrite", "proofread"], chosen.append)
    wait_for(lambda: count(log, "launcher_declined") == 1, 30, 0.05, what="the answer")
    wait_for(lambda: not host._launchers, 10, 0.02, what="the host to forget it")
    assert chosen == [] and not window.visible()


@on_windows
def test_the_ledger_panel_shows_its_text_and_esc_closes_it(host: ReviewHost,
                                                          tmp_path: Path) -> None:
    """The tray menu's "Privacy ledger" on Windows: the same window, read-only."""
    from trayassist.desktop.windows.keys import WindowsKeys

    log, window = tmp_path / "events.log", Window()
    host.info("trayassist privacy ledger", "rewrite    3 jobs    120 words")
    wait_for(window.visible, 30, 0.05, what="the ledger panel")
    wait_for(window.foreground, 10, 0.05, what="the panel in the foreground")
    assert window.text() == "rewrite    3 jobs    120 words"
    assert any(e["event"] == "launcher_shown" and e.get("items") == 0 for e in events(log))
    WindowsKeys().send_chord("<esc>")
    wait_for(lambda: not window.visible(), 10, 0.02, what="the panel to close")
    # A review after it still works and shows the review's keys, not the panel's.
    session = host.open("rewrite", "a b", diff=False, cancel=threading.Event())
    wait_for(lambda: count(log, "shown") == 1, 10, 0.02, what="the review window")
    assert window.text() == ""
    session.close()
