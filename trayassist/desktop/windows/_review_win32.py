"""The Win32 declarations of the review window (trayassist.desktop.windows.review_ui):
constants, structures and the user32/gdi32/kernel32 functions with their argtypes.

Imports on any OS; the DLLs load only on Windows (`user32`, `gdi32`, `kernel32` are None
elsewhere). Its own DLL objects, so the argtypes set here never touch _win32's.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes
from typing import Any

from trayassist.desktop.windows._win32 import LRESULT, WM_APP, WNDCLASSW, _declare
from trayassist.desktop.windows._win32 import WM_CLOSE as WM_CLOSE  # for review_ui, as win.*
from trayassist.desktop.windows._win32 import WM_DESTROY as WM_DESTROY

CLASS_NAME = "trayassist-review"
TITLE = "trayassist review"

WM_SETFONT, WM_KEYDOWN, WM_SYSKEYDOWN = 0x30, 0x100, 0x104
WM_CTLCOLORSTATIC, WM_VSCROLL, WM_USER = 0x138, 0x115, 0x400
WM_INBOX = WM_APP + 7
EM_SETSEL, EM_SETRECT, EM_REPLACESEL, EM_SETREADONLY = 0xB1, 0xB3, 0xC2, 0xCF
EM_SETBKGNDCOLOR, EM_SETCHARFORMAT = WM_USER + 67, WM_USER + 68
SCF_SELECTION, SCF_ALL = 0x1, 0x4
CFM_STRIKEOUT, CFM_BACKCOLOR, CFM_COLOR = 0x8, 0x04000000, 0x40000000
CFM_FACE = 0x20000000
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
        _declare(dll, table)
