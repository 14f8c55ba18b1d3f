"""A small Windows program for the tests: another process that uses the clipboard,
notepad and hotkeys the way a user's apps would. Run with the Windows python.exe
(under Wine in CI). Standard library + ctypes only; it does not import trayassist.

  clip-set TEXT [--html HTML] [--private NAME=HEX] [--secret]   own the clipboard
  clip-dump                     every global-memory format as JSON {name: hex}
  clip-read                     CF_UNICODETEXT as JSON (renders delayed content)
  clip-hold SECONDS             keep the clipboard open (prints "held" first)
  notepad-text                  the text in notepad's edit control, as JSON
  notepad-set TEXT              replace that text
  notepad-sel                   the selection [start, end] in that control, as JSON
  foreground                    the class name of the foreground window
  review-text                   the text in trayassist's review window, as JSON
  notepad-watch SECONDS         print "<time.time()> <length>" whenever the text changes
  hotkey-hold MODS VK SECONDS   register a hotkey (prints "held" first)
  secret-app TEXT SECONDS       a window that, like a password manager, answers Ctrl+C
                                by copying TEXT marked secret; prints "ready", "copied"
                                per copy, "key VK" for any other key it gets
"""

from __future__ import annotations

import ctypes
import json
import sys
import time
from ctypes import wintypes

user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
H, W, U = wintypes.HANDLE, wintypes.HWND, wintypes.UINT
for name, res, args in [
    ("OpenClipboard", wintypes.BOOL, [W]), ("CloseClipboard", wintypes.BOOL, []),
    ("EmptyClipboard", wintypes.BOOL, []), ("SetClipboardData", H, [U, H]),
    ("GetClipboardData", H, [U]), ("EnumClipboardFormats", U, [U]),
    ("GetClipboardFormatNameW", ctypes.c_int, [U, wintypes.LPWSTR, ctypes.c_int]),
    ("RegisterClipboardFormatW", U, [wintypes.LPCWSTR]),
    ("FindWindowW", W, [wintypes.LPCWSTR, wintypes.LPCWSTR]),
    ("FindWindowExW", W, [W, W, wintypes.LPCWSTR, wintypes.LPCWSTR]),
    ("SendMessageW", ctypes.c_ssize_t, [W, U, wintypes.WPARAM, ctypes.c_void_p]),
    ("RegisterHotKey", wintypes.BOOL, [W, ctypes.c_int, U, U]),
    ("CreateWindowExW", W, [wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR,
                            wintypes.DWORD, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                            ctypes.c_int, W, H, H, ctypes.c_void_p]),
]:
    fn = getattr(user32, name)
    fn.restype, fn.argtypes = res, args
for name, res, args in [
    ("GlobalAlloc", H, [U, ctypes.c_size_t]), ("GlobalLock", ctypes.c_void_p, [H]),
    ("GlobalUnlock", wintypes.BOOL, [H]), ("GlobalSize", ctypes.c_size_t, [H]),
]:
    fn = getattr(kernel32, name)
    fn.restype, fn.argtypes = res, args

CF_UNICODETEXT = 13
STANDARD = {1: "CF_TEXT", 7: "CF_OEMTEXT", 13: "CF_UNICODETEXT", 16: "CF_LOCALE"}


def _open() -> None:
    deadline = time.monotonic() + 5
    while not user32.OpenClipboard(None):
        if time.monotonic() > deadline:
            raise SystemExit("cannot open the clipboard")
        time.sleep(0.01)


def _set(fmt: int, data: bytes) -> None:
    h = kernel32.GlobalAlloc(2, len(data))
    ctypes.memmove(kernel32.GlobalLock(h), data, len(data))
    kernel32.GlobalUnlock(h)
    user32.SetClipboardData(fmt, h)


def _get(fmt: int) -> bytes | None:
    h = user32.GetClipboardData(fmt)
    if not h:
        return None
    size = kernel32.GlobalSize(h)
    p = kernel32.GlobalLock(h)
    try:
        return ctypes.string_at(p, size)
    finally:
        kernel32.GlobalUnlock(h)


def _name(fmt: int) -> str:
    if fmt < 0xC000:
        return STANDARD.get(fmt, f"#{fmt}")
    buf = ctypes.create_unicode_buffer(256)
    user32.GetClipboardFormatNameW(fmt, buf, 256)
    return buf.value


def clip_set(args: list[str]) -> None:
    text, extra, secret = args[0], {}, False
    i = 1
    while i < len(args):
        if args[i] == "--html":
            extra["HTML Format"] = args[i + 1].encode("utf-8") + b"\0"
            i += 2
        elif args[i] == "--private":
            key, _, value = args[i + 1].partition("=")
            extra[key] = bytes.fromhex(value)
            i += 2
        elif args[i] == "--secret":
            secret = True
            i += 1
        else:
            raise SystemExit(f"unknown option {args[i]}")
    _open()
    user32.EmptyClipboard()
    _set(CF_UNICODETEXT, (text + "\0").encode("utf-16-le"))
    for key, data in extra.items():
        _set(user32.RegisterClipboardFormatW(key), data)
    if secret:  # what KeePass and other password managers add
        _set(user32.RegisterClipboardFormatW("ExcludeClipboardContentFromMonitorProcessing"),
             b"\0")
        _set(user32.RegisterClipboardFormatW("CanIncludeInClipboardHistory"), b"\0\0\0\0")
    user32.CloseClipboard()


def clip_dump() -> dict[str, str]:
    _open()
    try:
        out = {}
        fmt = user32.EnumClipboardFormats(0)
        while fmt:
            if fmt not in (2, 3, 9, 14):  # GDI handles
                data = _get(fmt)
                if data is not None:
                    out[_name(fmt)] = data.hex()
            fmt = user32.EnumClipboardFormats(fmt)
        return out
    finally:
        user32.CloseClipboard()


def clip_read() -> str | None:
    _open()
    try:
        data = _get(CF_UNICODETEXT)
        return None if data is None else data.decode("utf-16-le").split("\0", 1)[0]
    finally:
        user32.CloseClipboard()


def notepad_text() -> str | None:
    top = user32.FindWindowW("Notepad", None)
    edit = user32.FindWindowExW(top, None, "Edit", None) if top else None
    if not edit:
        return None
    buf = ctypes.create_unicode_buffer(65536)
    user32.SendMessageW(edit, 0x000D, len(buf), ctypes.cast(buf, ctypes.c_void_p))  # WM_GETTEXT
    return buf.value


def secret_app(text: str, seconds: float) -> None:
    proto = ctypes.WINFUNCTYPE(ctypes.c_ssize_t, W, U, wintypes.WPARAM, wintypes.LPARAM)
    user32.DefWindowProcW.restype = ctypes.c_ssize_t
    user32.DefWindowProcW.argtypes = [W, U, wintypes.WPARAM, wintypes.LPARAM]
    user32.GetKeyState.restype = ctypes.c_short

    def wndproc(hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        if msg == 0x0100:  # WM_KEYDOWN
            if wparam == ord("C") and user32.GetKeyState(0x11) < 0:
                clip_set([text, "--secret"])
                print("copied", flush=True)
            elif wparam not in (0x10, 0x11, 0x12):
                print(f"key {wparam}", flush=True)
            return 0
        return int(user32.DefWindowProcW(hwnd, msg, wparam, lparam))

    proc = proto(wndproc)

    class WNDCLASSW(ctypes.Structure):
        _fields_ = [("style", U), ("lpfnWndProc", proto), ("cbClsExtra", ctypes.c_int),
                    ("cbWndExtra", ctypes.c_int), ("hInstance", H), ("hIcon", H),
                    ("hCursor", H), ("hbrBackground", H), ("lpszMenuName", wintypes.LPCWSTR),
                    ("lpszClassName", wintypes.LPCWSTR)]

    wc = WNDCLASSW(lpfnWndProc=proc, lpszClassName="SecretApp")
    user32.RegisterClassW(ctypes.byref(wc))
    hwnd = user32.CreateWindowExW(0, "SecretApp", "Secret App", 0x10CF0000, 50, 50, 300,
                                  200, None, None, None, None)  # WS_OVERLAPPEDWINDOW|VISIBLE
    print("ready", flush=True)
    msg = wintypes.MSG()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        while user32.PeekMessageW(ctypes.byref(msg), None, 0, 0, 1):  # PM_REMOVE
            user32.TranslateMessage(ctypes.byref(msg))
            user32.DispatchMessageW(ctypes.byref(msg))
        time.sleep(0.01)
    user32.DestroyWindow(hwnd)


def notepad_edit() -> int | None:
    top = user32.FindWindowW("Notepad", None)
    return user32.FindWindowExW(top, None, "Edit", None) if top else None


def notepad_watch(seconds: float) -> None:
    last = notepad_text()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = notepad_text()
        if text != last:
            print(f"{time.time():.4f} {len(text or '')}", flush=True)
            last = text
        time.sleep(0.005)


def main(argv: list[str]) -> None:
    cmd, args = argv[0], argv[1:]
    if cmd == "clip-set":
        clip_set(args)
    elif cmd == "clip-dump":
        print(json.dumps(clip_dump()))
    elif cmd == "clip-read":
        print(json.dumps(clip_read()))
    elif cmd == "clip-hold":  # with a window, so GetOpenClipboardWindow can name us
        hwnd = user32.CreateWindowExW(0, "STATIC", "holder", 0, 0, 0, 0, 0, None, None,
                                      None, None)
        if not user32.OpenClipboard(hwnd):
            raise SystemExit("cannot open the clipboard")
        print("held", flush=True)
        time.sleep(float(args[0]))
        user32.CloseClipboard()
    elif cmd == "notepad-text":
        print(json.dumps(notepad_text()))
    elif cmd == "hotkey-hold":
        if not user32.RegisterHotKey(None, 1, int(args[0], 0), int(args[1], 0)):
            raise SystemExit(f"RegisterHotKey failed ({ctypes.get_last_error()})")
        print("held", flush=True)
        time.sleep(float(args[2]))
    elif cmd == "notepad-set":
        buf = ctypes.create_unicode_buffer(args[0])
        user32.SendMessageW(notepad_edit(), 0x000C, 0, ctypes.cast(buf, ctypes.c_void_p))
    elif cmd == "review-text":  # what the user sees in the review window
        top = user32.FindWindowW("trayassist-review", None)
        box = user32.FindWindowExW(top, None, "RICHEDIT50W", None) if top else None
        buf = ctypes.create_unicode_buffer(65536)
        if box:
            user32.SendMessageW(box, 0x000D, len(buf), ctypes.cast(buf, ctypes.c_void_p))
        print(json.dumps(buf.value if box else None))
    elif cmd == "foreground":  # class of Wine's foreground window (test diagnostics)
        buf = ctypes.create_unicode_buffer(256)
        user32.GetClassNameW.argtypes = [W, wintypes.LPWSTR, ctypes.c_int]
        user32.GetForegroundWindow.restype = W
        user32.GetClassNameW(user32.GetForegroundWindow(), buf, 256)
        print(buf.value)
    elif cmd == "notepad-sel":
        start, end = wintypes.DWORD(0), wintypes.DWORD(0)
        user32.SendMessageW(notepad_edit(), 0x00B0, ctypes.addressof(start),  # EM_GETSEL
                            ctypes.addressof(end))
        print(json.dumps([start.value, end.value]))
    elif cmd == "notepad-watch":
        notepad_watch(float(args[0]))
    elif cmd == "secret-app":
        secret_app(args[0], float(args[1]))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
