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
import sys
from collections.abc import Callable
from ctypes import wintypes
from typing import Any

from trayassist.desktop.windows._win32 import WNDCLASSW, WNDPROC, last_error

LRESULT = ctypes.c_ssize_t
CLASS_NAME = "trayassist-review"
TITLE = "trayassist review"

WM_DESTROY, WM_CLOSE, WM_SETFONT, WM_KEYDOWN, WM_SYSKEYDOWN = 0x02, 0x10, 0x30, 0x100, 0x104
WM_CTLCOLORSTATIC, WM_VSCROLL, WM_USER, WM_APP = 0x138, 0x115, 0x400, 0x8000
WM_INBOX = WM_APP + 7
EM_SETSEL, EM_SETRECT, EM_REPLACESEL, EM_SETREADONLY = 0xB1, 0xB3, 0xC2, 0xCF
EM_SETBKGNDCOLOR, EM_SETCHARFORMAT = WM_USER + 67, WM_USER + 68
SCF_SELECTION, SCF_ALL = 0x1, 0x4
CFM_STRIKEOUT, CFM_BACKCOLOR, CFM_COLOR = 0x8, 0x04000000, 0x40000000
CFE_STRIKEOUT, CFE_AUTOBACKCOLOR, CFE_AUTOCOLOR = 0x8, 0x04000000, 0x40000000
SB_BOTTOM = 7
WM_MOUSEWHEEL = 0x20A
# Scroll keys pressed on the window itself scroll the text (up, down, page up/down, home, end).
SCROLL_KEYS = {0x26: 0, 0x28: 1, 0x21: 2, 0x22: 3, 0x24: 6, 0x23: 7}
VK_RETURN, VK_ESCAPE, VK_INSERT, VK_CONTROL, VK_MENU = 0x0D, 0x1B, 0x2D, 0x11, 0x12

WS_POPUP, WS_CAPTION, WS_SYSMENU, WS_CHILD, WS_VISIBLE = (
    0x80000000, 0x00C00000, 0x00080000, 0x40000000, 0x10000000)
WS_VSCROLL, WS_BORDER, WS_EX_TOPMOST, WS_EX_CLIENTEDGE = 0x00200000, 0x800000, 0x8, 0x200
ES_MULTILINE, ES_READONLY, ES_AUTOVSCROLL = 0x4, 0x800, 0x40
SS_LEFT, SS_NOPREFIX, SS_LEFTNOWORDWRAP = 0x0, 0x80, 0xC
SW_HIDE, SW_SHOWNORMAL = 0, 1
HWND_TOPMOST = -1
SWP_NOSIZE, SWP_NOMOVE, SWP_SHOWWINDOW, SWP_NOACTIVATE = 0x1, 0x2, 0x40, 0x10
MONITOR_DEFAULTTONEAREST = 2
DT_WORDBREAK, DT_CALCRECT, DT_NOPREFIX = 0x10, 0x400, 0x800
LOGPIXELSY = 90
IDC_ARROW = 32512
FW_NORMAL, FW_BOLD = 400, 700
ASFW_ANY = 0xFFFFFFFF


def rgb(hex_colour: str) -> int:
    """"#rrggbb" -> a COLORREF (0x00bbggrr)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return r | (g << 8) | (b << 16)


class CHARFORMAT2W(ctypes.Structure):
    _fields_ = [("cbSize", wintypes.UINT), ("dwMask", wintypes.DWORD),
                ("dwEffects", wintypes.DWORD), ("yHeight", wintypes.LONG),
                ("yOffset", wintypes.LONG), ("crTextColor", wintypes.DWORD),
                ("bCharSet", wintypes.BYTE), ("bPitchAndFamily", wintypes.BYTE),
                ("szFaceName", wintypes.WCHAR * 32), ("wWeight", wintypes.WORD),
                ("sSpacing", wintypes.SHORT), ("crBackColor", wintypes.DWORD),
                ("lcid", wintypes.DWORD), ("dwReserved", wintypes.DWORD),
                ("sStyle", wintypes.SHORT), ("wKerning", wintypes.WORD),
                ("bUnderlineType", wintypes.BYTE), ("bAnimation", wintypes.BYTE),
                ("bRevAuthor", wintypes.BYTE), ("bUnderlineColor", wintypes.BYTE)]


class MONITORINFO(ctypes.Structure):
    _fields_ = [("cbSize", wintypes.DWORD), ("rcMonitor", wintypes.RECT),
                ("rcWork", wintypes.RECT), ("dwFlags", wintypes.DWORD)]


user32: Any = None
gdi32: Any = None
kernel32: Any = None
if sys.platform == "win32":
    # Own DLL objects: the argtypes set here do not touch the ones _win32 declares.
    user32 = ctypes.WinDLL("user32", use_last_error=True)
    gdi32 = ctypes.WinDLL("gdi32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    W, U, B, N, P = wintypes.HWND, wintypes.UINT, wintypes.BOOL, ctypes.c_int, ctypes.c_void_p
    WP, LP, H = wintypes.WPARAM, wintypes.LPARAM, wintypes.HANDLE
    for dll, table in ((user32, {
        "RegisterClassW": (wintypes.ATOM, [ctypes.POINTER(WNDCLASSW)]),
        "CreateWindowExW": (W, [wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR,
                                wintypes.DWORD, N, N, N, N, W, P, wintypes.HINSTANCE, P]),
        "DestroyWindow": (B, [W]), "DefWindowProcW": (LRESULT, [W, U, WP, LP]),
        "GetMessageW": (B, [ctypes.POINTER(wintypes.MSG), W, U, U]),
        "TranslateMessage": (B, [ctypes.POINTER(wintypes.MSG)]),
        "DispatchMessageW": (LRESULT, [ctypes.POINTER(wintypes.MSG)]),
        "PostMessageW": (B, [W, U, WP, LP]), "SendMessageW": (LRESULT, [W, U, WP, LP]),
        "PostQuitMessage": (None, [N]), "ShowWindow": (B, [W, N]),
        "SetWindowPos": (B, [W, P, N, N, N, N, U]), "SetForegroundWindow": (B, [W]),
        "BringWindowToTop": (B, [W]), "SetFocus": (W, [W]), "GetForegroundWindow": (W, []),
        "GetCursorPos": (B, [ctypes.POINTER(wintypes.POINT)]),
        "MonitorFromPoint": (H, [wintypes.POINT, wintypes.DWORD]),
        "GetMonitorInfoW": (B, [H, ctypes.POINTER(MONITORINFO)]),
        "SetWindowTextW": (B, [W, wintypes.LPCWSTR]), "GetKeyState": (ctypes.c_short, [N]),
        "LoadCursorW": (H, [wintypes.HINSTANCE, P]), "GetDC": (wintypes.HDC, [W]),
        "ReleaseDC": (N, [W, wintypes.HDC]), "UpdateWindow": (B, [W]),
        "MoveWindow": (B, [W, N, N, N, N, B]), "IsWindowVisible": (B, [W]),
        "GetWindowRect": (B, [W, ctypes.POINTER(wintypes.RECT)]),
        "AdjustWindowRectEx": (B, [ctypes.POINTER(wintypes.RECT), wintypes.DWORD, B,
                                   wintypes.DWORD]),
        "DrawTextW": (N, [wintypes.HDC, wintypes.LPCWSTR, N, ctypes.POINTER(wintypes.RECT),
                          U]),
        "AllowSetForegroundWindow": (B, [wintypes.DWORD]), "SetProcessDPIAware": (B, []),
    }), (gdi32, {
        "CreateFontW": (H, [N, N, N, N, N, wintypes.DWORD, wintypes.DWORD, wintypes.DWORD,
                            wintypes.DWORD, wintypes.DWORD, wintypes.DWORD, wintypes.DWORD,
                            wintypes.DWORD, wintypes.LPCWSTR]),
        "CreateSolidBrush": (H, [wintypes.DWORD]),
        "SetTextColor": (wintypes.DWORD, [wintypes.HDC, wintypes.DWORD]),
        "SetBkColor": (wintypes.DWORD, [wintypes.HDC, wintypes.DWORD]),
        "GetDeviceCaps": (N, [wintypes.HDC, N]), "SelectObject": (H, [wintypes.HDC, H]),
    }), (kernel32, {
        "GetModuleHandleW": (wintypes.HMODULE, [wintypes.LPCWSTR]),
        "LoadLibraryW": (wintypes.HMODULE, [wintypes.LPCWSTR]),
    })):
        for name, (restype, argtypes) in table.items():
            fn = getattr(dll, name)
            fn.restype, fn.argtypes = restype, argtypes


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
        self.scale = max(1.0, gdi32.GetDeviceCaps(dc, LOGPIXELSY) / 96.0)
        user32.ReleaseDC(None, dc)
        self.rich = bool(kernel32.LoadLibraryW("msftedit.dll"))
        self._brush = gdi32.CreateSolidBrush(rgb(self.BG))
        px = round(15 * self.scale)  # ~11 pt at 96 DPI, as the Tk window's text
        self._font = self._make_font(px, FW_NORMAL)
        self._bold = self._make_font(px, FW_BOLD)
        self._small = self._make_font(round(13 * self.scale), FW_NORMAL)
        self.line = round(px * 1.45)
        self._proc = WNDPROC(self._wndproc)  # kept alive as long as the window
        hinst = kernel32.GetModuleHandleW(None)
        wc = WNDCLASSW()
        wc.lpfnWndProc, wc.hInstance, wc.lpszClassName = self._proc, hinst, CLASS_NAME
        wc.hbrBackground, wc.hCursor = self._brush, user32.LoadCursorW(None, IDC_ARROW)
        if not user32.RegisterClassW(ctypes.byref(wc)):
            raise OSError(f"RegisterClassW failed ({last_error()})")
        self.style, self.exstyle = WS_POPUP | WS_CAPTION | WS_SYSMENU, WS_EX_TOPMOST
        self.hwnd = user32.CreateWindowExW(self.exstyle, CLASS_NAME, TITLE, self.style,
                                           0, 0, 100, 100, None, None, hinst, None)
        if not self.hwnd:
            raise OSError(f"CreateWindowExW failed ({last_error()})")
        self.header = self._static(self._bold)
        self.status = self._static(self._small)
        edit_class = "RICHEDIT50W" if self.rich else "EDIT"
        self.text = self._child(edit_class, WS_VSCROLL | ES_MULTILINE | ES_READONLY
                                | ES_AUTOVSCROLL, WS_EX_CLIENTEDGE, self._font)
        if self.rich:
            user32.SendMessageW(self.text, EM_SETBKGNDCOLOR, 0, 0xFFFFFF)
        self.note = self._static(self._small)
        self.flags = self._static(self._small)
        self.hint = self._static(self._small, SS_LEFTNOWORDWRAP)
        user32.SetWindowTextW(self.hint, keys_hint)
        self._colours = {self.header: self.FG, self.status: self.DIM, self.note: self.NOTE_FG,
                         self.flags: self.FLAG_FG, self.hint: self.DIM}
        self.layout()

    # -- building ---------------------------------------------------------------

    def _make_font(self, px: int, weight: int) -> Any:
        return gdi32.CreateFontW(-px, 0, 0, 0, weight, 0, 0, 0, 1, 0, 0, 5, 0, "Segoe UI")

    def _child(self, cls: str, style: int, exstyle: int, font: Any) -> Any:
        hwnd = user32.CreateWindowExW(exstyle, cls, "", WS_CHILD | WS_VISIBLE | style,
                                      0, 0, 10, 10, self.hwnd, None,
                                      kernel32.GetModuleHandleW(None), None)
        if not hwnd:
            raise OSError(f"CreateWindowExW({cls}) failed ({last_error()})")
        user32.SendMessageW(hwnd, WM_SETFONT, font, 1)
        return hwnd

    def _static(self, font: Any, style: int = SS_LEFT) -> Any:
        return self._child("STATIC", style | SS_NOPREFIX, 0, font)

    def _measure(self, text: str, width: int, font: Any) -> int:
        """Height in pixels of `text` word-wrapped to `width` (0 for no text)."""
        if not text:
            return 0
        dc = user32.GetDC(self.hwnd)
        old = gdi32.SelectObject(dc, font)
        rect = wintypes.RECT(0, 0, width, 0)
        user32.DrawTextW(dc, text, -1, ctypes.byref(rect),
                         DT_WORDBREAK | DT_CALCRECT | DT_NOPREFIX)
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
            user32.SendMessageW(self.text, EM_SETRECT, 0, ctypes.addressof(inset))
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
        user32.SendMessageW(self.text, EM_REPLACESEL, 0, ctypes.addressof(buf))

    def _writable(self, on: bool) -> None:
        user32.SendMessageW(self.text, EM_SETREADONLY, 0 if on else 1, 0)

    def _format(self, start: int, end: int, *, fg: str | None = None, bg: str | None = None,
                strike: bool = False, whole: bool = False) -> None:
        cf = CHARFORMAT2W()
        cf.cbSize = ctypes.sizeof(CHARFORMAT2W)
        cf.dwMask = CFM_COLOR | CFM_BACKCOLOR | CFM_STRIKEOUT
        cf.dwEffects = (CFE_STRIKEOUT if strike else 0) | (0 if fg else CFE_AUTOCOLOR) \
            | (0 if bg else CFE_AUTOBACKCOLOR)
        cf.crTextColor, cf.crBackColor = rgb(fg or self.FG), rgb(bg or "#ffffff")
        if not whole:
            user32.SendMessageW(self.text, EM_SETSEL, start, end)
        user32.SendMessageW(self.text, EM_SETCHARFORMAT, SCF_ALL if whole else SCF_SELECTION,
                            ctypes.addressof(cf))

    def _display(self, text: str) -> str:
        text = text.replace("\r\n", "\n")
        return text if self.rich else text.replace("\n", "\r\n")  # EDIT wants CRLF

    def set_text(self, text: str) -> None:
        self._writable(True)
        user32.SetWindowTextW(self.text, self._display(text))
        if self.rich:
            self._format(0, 0, whole=True)  # no colours left over from a diff
        self._writable(False)

    def append(self, piece: str) -> None:
        """Add a piece at the end, scroll to it, and draw it before returning."""
        self._writable(True)
        user32.SendMessageW(self.text, EM_SETSEL, -1, -1)
        self._replace_sel(self._display(piece))
        self._writable(False)
        user32.SendMessageW(self.text, WM_VSCROLL, SB_BOTTOM, 0)
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
        user32.SendMessageW(self.text, EM_SETSEL, 0, 0)
        self._writable(False)
        user32.UpdateWindow(self.text)

    # -- showing ----------------------------------------------------------------

    def _work_area(self, pt: Any) -> Any:
        info = MONITORINFO()
        info.cbSize = ctypes.sizeof(MONITORINFO)
        monitor = user32.MonitorFromPoint(pt, MONITOR_DEFAULTTONEAREST)
        if monitor and user32.GetMonitorInfoW(monitor, ctypes.byref(info)):
            return info.rcWork
        return wintypes.RECT(0, 0, 1024, 768)

    def _place(self, pt: Any, x: int, y: int, size: tuple[int, int], flags: int) -> None:
        """At (x, y), moved so the window stays on the work area of pt's monitor."""
        w, h = size
        work = self._work_area(pt)
        x = min(max(work.left, x), max(work.left, work.right - w))
        y = min(max(work.top, y), max(work.top, work.bottom - h))
        user32.SetWindowPos(self.hwnd, HWND_TOPMOST, x, y, w, h, flags)

    def show(self, size: tuple[int, int]) -> None:
        """Near the mouse pointer, kept on that monitor's work area; topmost, with the
        keyboard focus."""
        pt = wintypes.POINT()
        user32.GetCursorPos(ctypes.byref(pt))
        self._place(pt, pt.x + round(12 * self.scale), pt.y + round(16 * self.scale), size,
                    SWP_SHOWWINDOW)
        user32.ShowWindow(self.hwnd, SW_SHOWNORMAL)
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
        self._place(pt, rect.left, rect.top, size, SWP_NOACTIVATE)

    def hide(self, hand_back: bool = False) -> None:
        """Hide (never destroy) between jobs. `hand_back`: first let any process take
        the foreground, so the daemon can give the keyboard back to the target app."""
        if hand_back:
            user32.AllowSetForegroundWindow(ASFW_ANY)
        user32.ShowWindow(self.hwnd, SW_HIDE)

    # -- messages ---------------------------------------------------------------

    def post_inbox(self) -> None:
        """Any thread: run on_inbox on the window thread soon."""
        user32.PostMessageW(self.hwnd, WM_INBOX, 0, 0)

    def destroy(self) -> None:
        user32.DestroyWindow(self.hwnd)

    def _key_choice(self, vk: int) -> str | None:
        ctrl = user32.GetKeyState(VK_CONTROL) < 0
        alt = user32.GetKeyState(VK_MENU) < 0
        if vk == VK_RETURN:
            return "replace"
        if vk == VK_ESCAPE:
            return "discard"
        if ctrl and vk in (ord("C"), VK_INSERT):  # Ctrl+Insert copies in edit controls too
            return "copy"
        if vk == ord("R") and not ctrl and not alt:
            return "retry"
        return None

    def run(self) -> None:
        """The message loop. Our keys are taken before TranslateMessage, so the text
        control never sees them (its own Ctrl+C would copy the selection)."""
        msg = wintypes.MSG()
        while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
            if msg.message in (WM_KEYDOWN, WM_SYSKEYDOWN) and self._take_key(msg):
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
            if msg.hWnd == self.hwnd and vk in SCROLL_KEYS:
                user32.SendMessageW(self.text, WM_VSCROLL, SCROLL_KEYS[vk], 0)
                return True
        except Exception:  # noqa: BLE001 - one bad key must not end the window
            import traceback

            traceback.print_exc(file=sys.stderr)
            return True
        return False

    def _wndproc(self, hwnd: Any, msg: int, wparam: int, lparam: int) -> int:
        try:
            if msg == WM_INBOX:
                self._on_inbox()
                return 0
            if msg == WM_CTLCOLORSTATIC:
                colour = self._colours.get(lparam)
                if colour is not None:
                    gdi32.SetTextColor(wparam, rgb(colour))
                    gdi32.SetBkColor(wparam, rgb(self.BG))
                    return int(self._brush)
            elif msg == WM_MOUSEWHEEL:
                return int(user32.SendMessageW(self.text, msg, wparam, lparam))
            elif msg == WM_CLOSE:
                self._on_close()  # the title bar's X and Alt+F4: a discard, not a destroy
                return 0
            elif msg == WM_DESTROY:
                user32.PostQuitMessage(0)
                return 0
        except Exception:  # noqa: BLE001 - an exception must not cross into Windows
            import traceback

            traceback.print_exc(file=sys.stderr)
            return 0
        result: int = user32.DefWindowProcW(hwnd, msg, wparam, lparam)
        return result
