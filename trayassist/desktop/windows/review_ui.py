"""The review window's Win32 side (ctypes on user32/gdi32 only): one top-level window with
a header, a status line (progress), a read-only RichEdit for the text, a line for the
note, a line for the guard's warnings and the keys hint.

The text control is RichEdit 4.1 (msftedit.dll, part of Windows since XP SP1, built into
Wine): the word diff is shown in colour (removed words struck through on red, new words
on green) as the Tk window does. Where msftedit.dll cannot load, a plain EDIT control
shows the diff in words instead ("[-old-] {+new+}").

Everything here runs on the thread that created the window (the process's main thread);
`post_inbox` is the one call other threads may make. Imports on any OS; the DLLs load
only on Windows.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from ctypes import wintypes
from typing import Any

from trayassist.desktop.windows import _review_win32 as win
from trayassist.desktop.windows._review_win32 import (
    CHARFORMAT2W,
    MONITORINFO,
    gdi32,
    kernel32,
    rgb,
    user32,
)
from trayassist.desktop.windows._win32 import WNDCLASSW, WNDPROC, last_error


def _utf16_len(text: str) -> int:
    """Character positions in the control count UTF-16 units."""
    return len(text.encode("utf-16-le")) // 2


class ReviewWindowUI:
    """The window and its controls. `on_key(choice)` gets "replace" | "copy" | "retry" |
    "discard"; `on_close()` the title bar's close; `on_inbox()` runs for every
    `post_inbox()`. Window thread only, except `post_inbox`."""

    BG, FG, DIM = "#fbfbfa", "#1d1d1f", "#6b6b70"
    DEL_BG, INS_BG, FLAG_FG, NOTE_FG = "#fde2e1", "#dcf5df", "#a0360b", "#7a5b00"
    WIDTH, TEXT_LINES, PAD = 560, 9, 12  # client width and padding at 96 DPI

    def __init__(self, on_key: Callable[[str], None], on_close: Callable[[], None],
                 on_inbox: Callable[[], None], keys_hint: str) -> None:
        self._on_key, self._on_close, self._on_inbox = on_key, on_close, on_inbox
        if hasattr(user32, "SetProcessDPIAware"):
            user32.SetProcessDPIAware()  # real pixels: crisp text at 125-200 % scaling
        dc = user32.GetDC(None)
        self.scale = max(1.0, gdi32.GetDeviceCaps(dc, win.LOGPIXELSY) / 96.0)
        user32.ReleaseDC(None, dc)
        self.rich = bool(kernel32.LoadLibraryW("msftedit.dll"))
        self._brush = gdi32.CreateSolidBrush(rgb(self.BG))
        px = round(15 * self.scale)  # ~11 pt at 96 DPI, as the Tk window's text
        self._font = self._make_font(px, win.FW_NORMAL)
        self._bold = self._make_font(px, win.FW_BOLD)
        self._small = self._make_font(round(13 * self.scale), win.FW_NORMAL)
        self.line = round(px * 1.45)
        self._proc = WNDPROC(self._wndproc)  # kept alive as long as the window
        hinst = kernel32.GetModuleHandleW(None)
        wc = WNDCLASSW()
        wc.lpfnWndProc, wc.hInstance, wc.lpszClassName = self._proc, hinst, win.CLASS_NAME
        wc.hbrBackground, wc.hCursor = self._brush, user32.LoadCursorW(None, win.IDC_ARROW)
        if not user32.RegisterClassW(ctypes.byref(wc)):
            raise OSError(f"RegisterClassW failed ({last_error()})")
        self.style = win.WS_POPUP | win.WS_CAPTION | win.WS_SYSMENU
        self.exstyle = win.WS_EX_TOPMOST
        self.hwnd = user32.CreateWindowExW(self.exstyle, win.CLASS_NAME, win.TITLE, self.style,
                                           0, 0, 100, 100, None, None, hinst, None)
        if not self.hwnd:
            raise OSError(f"CreateWindowExW failed ({last_error()})")
        self.header = self._static(self._bold)
        self.status = self._static(self._small)
        edit_class = "RICHEDIT50W" if self.rich else "EDIT"
        self.text = self._child(edit_class, win.WS_VSCROLL | win.ES_MULTILINE | win.ES_READONLY
                                | win.ES_AUTOVSCROLL, win.WS_EX_CLIENTEDGE, self._font)
        if self.rich:
            user32.SendMessageW(self.text, win.EM_SETBKGNDCOLOR, 0, 0xFFFFFF)
        self.note = self._static(self._small)
        self.flags = self._static(self._small)
        self.hint = self._static(self._small, win.SS_LEFTNOWORDWRAP)
        user32.SetWindowTextW(self.hint, keys_hint)
        self._colours = {self.header: self.FG, self.status: self.DIM, self.note: self.NOTE_FG,
                         self.flags: self.FLAG_FG, self.hint: self.DIM}
        self.layout()

    # -- building ---------------------------------------------------------------

    def _make_font(self, px: int, weight: int) -> Any:
        return gdi32.CreateFontW(-px, 0, 0, 0, weight, 0, 0, 0, 1, 0, 0, 5, 0, "Segoe UI")

    def _child(self, cls: str, style: int, exstyle: int, font: Any) -> Any:
        hwnd = user32.CreateWindowExW(exstyle, cls, "", win.WS_CHILD | win.WS_VISIBLE | style,
                                      0, 0, 10, 10, self.hwnd, None,
                                      kernel32.GetModuleHandleW(None), None)
        if not hwnd:
            raise OSError(f"CreateWindowExW({cls}) failed ({last_error()})")
        user32.SendMessageW(hwnd, win.WM_SETFONT, font, 1)
        return hwnd

    def _static(self, font: Any, style: int = win.SS_LEFT) -> Any:
        return self._child("STATIC", style | win.SS_NOPREFIX, 0, font)

    def _measure(self, text: str, width: int, font: Any) -> int:
        """Height in pixels of `text` word-wrapped to `width` (0 for no text)."""
        if not text:
            return 0
        dc = user32.GetDC(self.hwnd)
        old = gdi32.SelectObject(dc, font)
        rect = wintypes.RECT(0, 0, width, 0)
        user32.DrawTextW(dc, text, -1, ctypes.byref(rect),
                         win.DT_WORDBREAK | win.DT_CALCRECT | win.DT_NOPREFIX)
        gdi32.SelectObject(dc, old)
        user32.ReleaseDC(self.hwnd, dc)
        return int(rect.bottom - rect.top)

    def layout(self, note: str = "", flags: str = "") -> tuple[int, int]:
        """Place the controls (the note and warnings lines take the height their words
        need) and size the window; returns its outer size."""
        s = self.scale
        pad, width = round(self.PAD * s), round(self.WIDTH * s)
        inner, gap = width - 2 * pad, round(4 * s)
        y = pad
        rows: list[tuple[Any, int]] = [
            (self.header, self.line), (self.status, round(self.line * 0.9)),
            (self.text, self.TEXT_LINES * self.line + round(12 * s)),
            (self.note, self._measure(note, inner, self._small)),
            (self.flags, self._measure(flags, inner, self._small)),
            (self.hint, round(self.line * 0.9))]
        for hwnd, height in rows:
            user32.MoveWindow(hwnd, pad, y, inner, max(height, 0), True)
            y += height + (gap if height else 0)
        if self.rich:  # inner margins of the text, as the Tk one's padx/pady
            h = self.TEXT_LINES * self.line + round(12 * s)
            inset = wintypes.RECT(round(8 * s), round(6 * s), inner - round(26 * s),
                                  h - round(6 * s))
            user32.SendMessageW(self.text, win.EM_SETRECT, 0, ctypes.addressof(inset))
        rect = wintypes.RECT(0, 0, width, y + pad - gap)
        user32.AdjustWindowRectEx(ctypes.byref(rect), self.style, False, self.exstyle)
        return rect.right - rect.left, rect.bottom - rect.top

    # -- contents ---------------------------------------------------------------

    def set_label(self, hwnd: Any, text: str) -> None:
        user32.SetWindowTextW(hwnd, text)

    def set_title(self, text: str) -> None:
        user32.SetWindowTextW(self.hwnd, text)

    def _replace_sel(self, text: str) -> None:
        buf = ctypes.create_unicode_buffer(text)
        user32.SendMessageW(self.text, win.EM_REPLACESEL, 0, ctypes.addressof(buf))

    def _writable(self, on: bool) -> None:
        user32.SendMessageW(self.text, win.EM_SETREADONLY, 0 if on else 1, 0)

    def _format(self, start: int, end: int, *, fg: str | None = None, bg: str | None = None,
                strike: bool = False, whole: bool = False, face: str = "") -> None:
        cf = CHARFORMAT2W()
        cf.cbSize = ctypes.sizeof(CHARFORMAT2W)
        cf.dwMask = win.CFM_COLOR | win.CFM_BACKCOLOR | win.CFM_STRIKEOUT
        if face:
            cf.dwMask |= win.CFM_FACE
            cf.szFaceName = face
        cf.dwEffects = (win.CFE_STRIKEOUT if strike else 0) | (0 if fg else win.CFE_AUTOCOLOR) \
            | (0 if bg else win.CFE_AUTOBACKCOLOR)
        cf.crTextColor, cf.crBackColor = rgb(fg or self.FG), rgb(bg or "#ffffff")
        if not whole:
            user32.SendMessageW(self.text, win.EM_SETSEL, start, end)
        scope = win.SCF_ALL if whole else win.SCF_SELECTION
        user32.SendMessageW(self.text, win.EM_SETCHARFORMAT, scope, ctypes.addressof(cf))

    def _display(self, text: str) -> str:
        text = text.replace("\r\n", "\n")
        return text if self.rich else text.replace("\n", "\r\n")  # EDIT wants CRLF

    def set_text(self, text: str, fixed: bool = False) -> None:
        """`fixed`: a fixed-width font, for a table (the ledger) whose columns must line up."""
        self._writable(True)
        user32.SetWindowTextW(self.text, self._display(text))
        if self.rich:  # no colours left over from a diff, and the font for this text
            self._format(0, 0, whole=True, face="Consolas" if fixed else "Segoe UI")
        self._writable(False)

    def append(self, piece: str) -> None:
        """Add a piece at the end, scroll to it, and draw it before returning."""
        self._writable(True)
        user32.SendMessageW(self.text, win.EM_SETSEL, -1, -1)
        self._replace_sel(self._display(piece))
        self._writable(False)
        user32.SendMessageW(self.text, win.WM_VSCROLL, win.SB_BOTTOM, 0)
        user32.UpdateWindow(self.text)

    def set_diff(self, runs: list[tuple[str, str]]) -> None:
        """(tag, text) runs of trayassist.review_window.word_diff: coloured in RichEdit,
        marked in words in a plain EDIT."""
        if not self.rich:
            marks = {"same": "{}", "del": "[-{}-]", "ins": "{{+{}+}}"}
            self.set_text("".join(marks[tag].format(run) for tag, run in runs))
            return
        shown = [(tag, self._display(run)) for tag, run in runs]
        self.set_text("".join(run for _, run in shown))
        self._writable(True)
        pos = 0
        for tag, run in shown:
            end = pos + _utf16_len(run)
            if tag == "del":
                self._format(pos, end, fg=self.DIM, bg=self.DEL_BG, strike=True)
            elif tag == "ins":
                self._format(pos, end, bg=self.INS_BG)
            pos = end
        user32.SendMessageW(self.text, win.EM_SETSEL, 0, 0)
        self._writable(False)
        user32.UpdateWindow(self.text)

    # -- showing ----------------------------------------------------------------

    def _work_area(self, pt: Any) -> Any:
        info = MONITORINFO()
        info.cbSize = ctypes.sizeof(MONITORINFO)
        monitor = user32.MonitorFromPoint(pt, win.MONITOR_DEFAULTTONEAREST)
        if monitor and user32.GetMonitorInfoW(monitor, ctypes.byref(info)):
            return info.rcWork
        return wintypes.RECT(0, 0, 1024, 768)

    def _place(self, pt: Any, x: int, y: int, size: tuple[int, int], flags: int) -> None:
        """At (x, y), moved so the window stays on the work area of pt's monitor."""
        w, h = size
        work = self._work_area(pt)
        x = min(max(work.left, x), max(work.left, work.right - w))
        y = min(max(work.top, y), max(work.top, work.bottom - h))
        user32.SetWindowPos(self.hwnd, win.HWND_TOPMOST, x, y, w, h, flags)

    def show(self, size: tuple[int, int]) -> None:
        """Near the mouse pointer, kept on that monitor's work area; topmost, with the
        keyboard focus."""
        pt = wintypes.POINT()
        user32.GetCursorPos(ctypes.byref(pt))
        self._place(pt, pt.x + round(12 * self.scale), pt.y + round(16 * self.scale), size,
                    win.SWP_SHOWWINDOW)
        user32.ShowWindow(self.hwnd, win.SW_SHOWNORMAL)
        user32.BringWindowToTop(self.hwnd)
        user32.SetForegroundWindow(self.hwnd)
        user32.SetFocus(self.hwnd)  # not the text: no caret in it (scroll keys are passed on)
        user32.UpdateWindow(self.hwnd)

    def resize(self, size: tuple[int, int]) -> None:
        """A new height (the notes grew) where the window is; it stays on screen."""
        if not user32.IsWindowVisible(self.hwnd):
            return
        rect = wintypes.RECT()
        user32.GetWindowRect(self.hwnd, ctypes.byref(rect))
        pt = wintypes.POINT(rect.left, rect.top)
        self._place(pt, rect.left, rect.top, size, win.SWP_NOACTIVATE)

    def hide(self, hand_back: bool = False) -> None:
        """Hide (never destroy) between jobs. `hand_back`: first let our parent, the
        daemon, take the foreground, so it can give the keyboard back to the target app."""
        if hand_back:
            user32.AllowSetForegroundWindow(os.getppid())
        user32.ShowWindow(self.hwnd, win.SW_HIDE)

    # -- messages ---------------------------------------------------------------

    def post_inbox(self) -> None:
        """Any thread: run on_inbox on the window thread soon."""
        user32.PostMessageW(self.hwnd, win.WM_INBOX, 0, 0)

    def destroy(self) -> None:
        user32.DestroyWindow(self.hwnd)

    def _key_choice(self, vk: int) -> str | None:
        ctrl = user32.GetKeyState(win.VK_CONTROL) < 0
        alt = user32.GetKeyState(win.VK_MENU) < 0
        if vk == win.VK_RETURN:
            return "replace"
        if vk == win.VK_ESCAPE:
            return "discard"
        if ctrl and vk in (ord("C"), win.VK_INSERT):  # Ctrl+Insert copies in edit controls too
            return "copy"
        if vk == ord("R") and not ctrl and not alt:
            return "retry"
        return None

    def run(self) -> None:
        """The message loop. Our keys are taken before TranslateMessage, so the text
        control never sees them (its own Ctrl+C would copy the selection)."""
        msg = wintypes.MSG()
        while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
            if msg.message in (win.WM_KEYDOWN, win.WM_SYSKEYDOWN) and self._take_key(msg):
                continue
            user32.TranslateMessage(ctypes.byref(msg))
            user32.DispatchMessageW(ctypes.byref(msg))

    def _take_key(self, msg: Any) -> bool:
        """True if the key was ours: a choice, or a scroll key pressed on the window."""
        vk = int(msg.wParam)
        try:
            choice = self._key_choice(vk)
            if choice is not None:
                self._on_key(choice)
                return True
            if msg.hWnd == self.hwnd and vk in win.SCROLL_KEYS:
                user32.SendMessageW(self.text, win.WM_VSCROLL, win.SCROLL_KEYS[vk], 0)
                return True
        except Exception:  # noqa: BLE001 - one bad key must not end the window
            import traceback

            traceback.print_exc(file=sys.stderr)
            return True
        return False

    def _wndproc(self, hwnd: Any, msg: int, wparam: int, lparam: int) -> int:
        try:
            if msg == win.WM_INBOX:
                self._on_inbox()
                return 0
            if msg == win.WM_CTLCOLORSTATIC:
                colour = self._colours.get(lparam)
                if colour is not None:
                    gdi32.SetTextColor(wparam, rgb(colour))
                    gdi32.SetBkColor(wparam, rgb(self.BG))
                    return int(self._brush)
            elif msg == win.WM_MOUSEWHEEL:
                return int(user32.SendMessageW(self.text, msg, wparam, lparam))
            elif msg == win.WM_CLOSE:
                self._on_close()  # the title bar's X and Alt+F4: a discard, not a destroy
                return 0
            elif msg == win.WM_DESTROY:
                user32.PostQuitMessage(0)
                return 0
        except Exception:  # noqa: BLE001 - an exception must not cross into Windows
            import traceback

            traceback.print_exc(file=sys.stderr)
            return 0
        result: int = user32.DefWindowProcW(hwnd, msg, wparam, lparam)
        return result
