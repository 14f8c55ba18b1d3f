"""The few Win32 calls the Windows backend needs, declared once through ctypes.

Every function gets argtypes/restype (64-bit handles must not be truncated to int).
Imports on any OS; the DLLs load only on Windows (`user32`/`kernel32` are None elsewhere).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable
from ctypes import wintypes
from typing import Any

LRESULT = ctypes.c_ssize_t
_FUNCTYPE: Any = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)  # stdcall on Windows
WNDPROC = _FUNCTYPE(LRESULT, wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)

HWND_MESSAGE = wintypes.HWND(-3)
WM_DESTROY = 0x0002
WM_CLOSE = 0x0010
WM_QUIT = 0x0012
WM_RENDERFORMAT = 0x0305
WM_RENDERALLFORMATS = 0x0306
WM_DESTROYCLIPBOARD = 0x0307
WM_HOTKEY = 0x0312
WM_GETTEXT = 0x000D
WM_APP = 0x8000
GMEM_MOVEABLE = 0x0002
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
ERROR_HOTKEY_ALREADY_REGISTERED = 1409


class WNDCLASSW(ctypes.Structure):
    _fields_ = [("style", wintypes.UINT), ("lpfnWndProc", WNDPROC),
                ("cbClsExtra", ctypes.c_int), ("cbWndExtra", ctypes.c_int),
                ("hInstance", wintypes.HINSTANCE), ("hIcon", wintypes.HICON),
                ("hCursor", wintypes.HANDLE), ("hbrBackground", wintypes.HBRUSH),
                ("lpszMenuName", wintypes.LPCWSTR), ("lpszClassName", wintypes.LPCWSTR)]


def _declare(dll: Any, table: dict[str, tuple[Any, list[Any]]]) -> None:
    for name, (restype, argtypes) in table.items():
        fn = getattr(dll, name)
        fn.restype, fn.argtypes = restype, argtypes


user32: Any = None
kernel32: Any = None
if sys.platform == "win32":
    user32 = ctypes.WinDLL("user32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    H, W, U, B = wintypes.HANDLE, wintypes.HWND, wintypes.UINT, wintypes.BOOL
    _declare(user32, {
        "OpenClipboard": (B, [W]), "CloseClipboard": (B, []), "EmptyClipboard": (B, []),
        "EnumClipboardFormats": (U, [U]), "CountClipboardFormats": (ctypes.c_int, []),
        "GetClipboardData": (H, [U]), "SetClipboardData": (H, [U, H]),
        "IsClipboardFormatAvailable": (B, [U]), "GetClipboardOwner": (W, []),
        "GetOpenClipboardWindow": (W, []), "GetClipboardSequenceNumber": (wintypes.DWORD, []),
        "RegisterClipboardFormatW": (U, [wintypes.LPCWSTR]),
        "GetClipboardFormatNameW": (ctypes.c_int, [U, wintypes.LPWSTR, ctypes.c_int]),
        "RegisterClassW": (wintypes.ATOM, [ctypes.POINTER(WNDCLASSW)]),
        "CreateWindowExW": (W, [wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR,
                                wintypes.DWORD, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                ctypes.c_int, W, wintypes.HMENU, wintypes.HINSTANCE,
                                wintypes.LPVOID]),
        "DestroyWindow": (B, [W]), "DefWindowProcW": (LRESULT, [W, U, wintypes.WPARAM,
                                                                wintypes.LPARAM]),
        "GetMessageW": (B, [ctypes.POINTER(wintypes.MSG), W, U, U]),
        "TranslateMessage": (B, [ctypes.POINTER(wintypes.MSG)]),
        "DispatchMessageW": (LRESULT, [ctypes.POINTER(wintypes.MSG)]),
        "PostMessageW": (B, [W, U, wintypes.WPARAM, wintypes.LPARAM]),
        "PostThreadMessageW": (B, [wintypes.DWORD, U, wintypes.WPARAM, wintypes.LPARAM]),
        "PeekMessageW": (B, [ctypes.POINTER(wintypes.MSG), W, U, U, U]),
        "RegisterHotKey": (B, [W, ctypes.c_int, U, U]),
        "UnregisterHotKey": (B, [W, ctypes.c_int]),
        "GetForegroundWindow": (W, []), "SetForegroundWindow": (B, [W]), "IsWindow": (B, [W]),
        "AllowSetForegroundWindow": (B, [wintypes.DWORD]),
        "GetWindowThreadProcessId": (wintypes.DWORD, [W, ctypes.POINTER(wintypes.DWORD)]),
        "GetClassNameW": (ctypes.c_int, [W, wintypes.LPWSTR, ctypes.c_int]),
        "GetAsyncKeyState": (ctypes.c_short, [ctypes.c_int]),
        "VkKeyScanW": (ctypes.c_short, [wintypes.WCHAR]),
        "MapVirtualKeyW": (U, [U, U]),
        "SendInput": (U, [U, ctypes.c_void_p, ctypes.c_int]),
    })
    _declare(kernel32, {
        "GlobalAlloc": (H, [U, ctypes.c_size_t]), "GlobalFree": (H, [H]),
        "GlobalLock": (ctypes.c_void_p, [H]), "GlobalUnlock": (B, [H]),
        "GlobalSize": (ctypes.c_size_t, [H]),
        "OpenProcess": (H, [wintypes.DWORD, B, wintypes.DWORD]),
        "CloseHandle": (B, [H]),
        "QueryFullProcessImageNameW": (B, [H, wintypes.DWORD, wintypes.LPWSTR,
                                           ctypes.POINTER(wintypes.DWORD)]),
        "GetModuleHandleW": (wintypes.HMODULE, [wintypes.LPCWSTR]),
        "GetCurrentThreadId": (wintypes.DWORD, []),
    })


def last_error() -> int:
    code: int = getattr(ctypes, "get_last_error", lambda: 0)()
    return code


def window_process(hwnd: Any) -> tuple[int | None, str | None]:
    """The pid and executable name ("notepad.exe") of the process owning `hwnd`."""
    if not hwnd:
        return None, None
    pid = wintypes.DWORD(0)
    user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
    if not pid.value:
        return None, None
    return pid.value, process_exe(pid.value)


def process_exe(pid: int) -> str | None:
    handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return None
    try:
        buf = ctypes.create_unicode_buffer(1024)
        size = wintypes.DWORD(len(buf))
        if not kernel32.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size)):
            return None
        return os.path.basename(buf.value.replace("/", "\\").split("\\")[-1]) or None
    finally:
        kernel32.CloseHandle(handle)


def window_class(hwnd: Any) -> str | None:
    buf = ctypes.create_unicode_buffer(256)
    n = user32.GetClassNameW(hwnd, buf, len(buf))
    return buf.value if n > 0 else None


class MessageWindow(threading.Thread):
    """A hidden message-only window on a thread of its own, pumping its messages.

    `handlers` (message -> fn(wparam, lparam) -> int) run on that thread; `call(fn)` runs
    `fn` there too and returns its result, so every use of the window (e.g. owning the
    clipboard) happens on the thread that answers its messages.
    """

    WM_CALL = WM_APP + 1
    _class_lock = threading.Lock()
    _classes: set[str] = set()

    def __init__(self, name: str, handlers: dict[int, Callable[[int, int], int]]) -> None:
        super().__init__(name=name, daemon=True)
        self._handlers = handlers
        self._proc = WNDPROC(self._wndproc)  # kept alive as long as the window
        self._calls: list[tuple[Callable[[], Any], threading.Event, list[Any]]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.hwnd: Any = None
        self.tid = 0

    def start_and_wait(self, timeout: float = 30.0) -> None:
        """Start the thread and wait for its window. Milliseconds on Windows; the bound is
        generous because a process's first window on a busy machine under Wine took over 5 s
        (user32 and the desktop start with it)."""
        self.start()
        if not self._ready.wait(timeout):
            raise OSError(f"{self.name}: the message window did not start")
        if self._error is not None:
            raise OSError(f"{self.name}: {self._error}")

    def run(self) -> None:
        try:
            self.tid = kernel32.GetCurrentThreadId()
            cls = f"trayassist.{self.name}.{id(self)}"
            wc = WNDCLASSW()
            wc.lpfnWndProc = self._proc
            wc.hInstance = kernel32.GetModuleHandleW(None)
            wc.lpszClassName = cls
            if not user32.RegisterClassW(ctypes.byref(wc)):
                raise OSError(f"RegisterClassW failed ({last_error()})")
            self.hwnd = user32.CreateWindowExW(0, cls, self.name, 0, 0, 0, 0, 0,
                                               HWND_MESSAGE, None, wc.hInstance, None)
            if not self.hwnd:
                raise OSError(f"CreateWindowExW failed ({last_error()})")
        except BaseException as exc:  # noqa: BLE001 - reported to start_and_wait
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        msg = wintypes.MSG()
        while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
            user32.TranslateMessage(ctypes.byref(msg))
            user32.DispatchMessageW(ctypes.byref(msg))

    def _wndproc(self, hwnd: Any, msg: int, wparam: int, lparam: int) -> int:
        try:
            if msg == self.WM_CALL:
                self._run_calls()
                return 0
            handler = self._handlers.get(msg)
            if handler is not None:
                return handler(wparam, lparam)
            if msg == WM_DESTROY:
                user32.PostThreadMessageW(self.tid, WM_QUIT, 0, 0)
                return 0
        except Exception:  # noqa: BLE001 - an exception must not cross into Windows
            import logging

            logging.getLogger(__name__).exception("%s: message %#x failed", self.name, msg)
            return 0
        result: int = user32.DefWindowProcW(hwnd, msg, wparam, lparam)
        return result

    def _run_calls(self) -> None:
        with self._lock:
            calls, self._calls = self._calls, []
        for fn, done, out in calls:
            try:
                out.append((True, fn()))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                out.append((False, exc))
            done.set()

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run `fn` on the window's thread and return its result (or raise its error)."""
        if threading.get_ident() == self.ident:
            return fn()
        done, out = threading.Event(), list[tuple[bool, Any]]()
        with self._lock:
            self._calls.append((fn, done, out))
        user32.PostMessageW(self.hwnd, self.WM_CALL, 0, 0)
        if not done.wait(timeout):
            raise TimeoutError(f"{self.name}: no answer within {timeout} s")
        ok, value = out[0]
        if not ok:
            raise value
        return value

    def close(self, timeout: float = 2.0) -> None:
        if self.hwnd:
            try:
                self.call(lambda: user32.DestroyWindow(self.hwnd), timeout)
            except (TimeoutError, OSError):
                user32.PostThreadMessageW(self.tid, WM_QUIT, 0, 0)
        self.join(timeout)
