"""The Keys port on Windows: GetAsyncKeyState for held keys, SendInput for chords."""

from __future__ import annotations

import ctypes
from ctypes import wintypes

from trayassist.desktop.windows._win32 import last_error, user32
from trayassist.hotkey_syntax import MODIFIERS, parse_chord
from trayassist.job import poll

POLL_STEP = 0.01  # 10 ms, as on X11

INPUT_KEYBOARD = 1
KEYEVENTF_EXTENDEDKEY = 0x0001
KEYEVENTF_KEYUP = 0x0002
MAPVK_VK_TO_VSC = 0

MODIFIER_VKS = {"ctrl": 0x11, "shift": 0x10, "alt": 0x12, "alt_gr": 0xA5, "cmd": 0x5B}
SPECIAL_VKS = {
    "space": 0x20, "enter": 0x0D, "tab": 0x09, "esc": 0x1B, "backspace": 0x08,
    "insert": 0x2D, "delete": 0x2E, "home": 0x24, "end": 0x23, "page_up": 0x21,
    "page_down": 0x22, "up": 0x26, "down": 0x28, "left": 0x25, "right": 0x27,
    "pause": 0x13, "print_screen": 0x2C, "scroll_lock": 0x91, "menu": 0x5D,
    **{f"f{n}": 0x70 + n - 1 for n in range(1, 25)},
}  # fmt: skip
# Keys whose scan code is an extended one (the grey block, right-hand modifiers).
EXTENDED = {0x2D, 0x2E, 0x24, 0x23, 0x21, 0x22, 0x26, 0x28, 0x25, 0x27, 0x2C, 0x5D,
            0xA3, 0xA5, 0x5B, 0x5C}
# Mouse buttons are not keys; toggles (Caps/Num/Scroll Lock) only count while pressed.
_NOT_KEYS = {0x01, 0x02, 0x04, 0x05, 0x06}


class KEYBDINPUT(ctypes.Structure):
    _fields_ = [("wVk", wintypes.WORD), ("wScan", wintypes.WORD),
                ("dwFlags", wintypes.DWORD), ("time", wintypes.DWORD),
                ("dwExtraInfo", ctypes.c_size_t)]


class MOUSEINPUT(ctypes.Structure):
    _fields_ = [("dx", wintypes.LONG), ("dy", wintypes.LONG), ("mouseData", wintypes.DWORD),
                ("dwFlags", wintypes.DWORD), ("time", wintypes.DWORD),
                ("dwExtraInfo", ctypes.c_size_t)]


class _INPUTUNION(ctypes.Union):
    _fields_ = [("ki", KEYBDINPUT), ("mi", MOUSEINPUT)]


class INPUT(ctypes.Structure):
    _fields_ = [("type", wintypes.DWORD), ("u", _INPUTUNION)]


def key_vk(key: str) -> tuple[int, int]:
    """(virtual key, shift state bits) of one key token in pynput syntax ("c", "<insert>",
    "<65>"); characters map through the keyboard layout (VkKeyScanW)."""
    if key.startswith("<") and key.endswith(">") and len(key) > 2:
        name = key[1:-1]
        return (int(name) if name.isdigit() else SPECIAL_VKS[name]), 0
    scan = user32.VkKeyScanW(key)
    if scan == -1:
        raise OSError(f"the keyboard layout has no key for {key!r}")
    return scan & 0xFF, (scan >> 8) & 0xFF


def chord_vks(chord: str) -> list[int]:
    """Virtual-key codes to press in order for a chord ("<ctrl>+c", "<shift>+<insert>").
    ValueError for a chord that does not parse (parse_chord), OSError for a key the
    keyboard layout lacks."""
    parsed = parse_chord(chord)
    vks = [MODIFIER_VKS[name] for name in MODIFIERS if name in parsed.modifiers]
    vk, shift_state = key_vk(parsed.key)
    for bit, mod in ((1, 0x10), (2, 0x11), (4, 0x12)):  # a shifted symbol, e.g. "!"
        if shift_state & bit and mod not in vks:
            vks.append(mod)
    return [*vks, vk]


def _key(vk: int, up: bool) -> INPUT:
    flags = (KEYEVENTF_KEYUP if up else 0) | (KEYEVENTF_EXTENDEDKEY if vk in EXTENDED else 0)
    scan = user32.MapVirtualKeyW(vk, MAPVK_VK_TO_VSC)
    return INPUT(type=INPUT_KEYBOARD, u=_INPUTUNION(ki=KEYBDINPUT(vk, scan, flags, 0, 0)))


class WindowsKeys:
    """The Keys port on Windows. Worker thread (any one thread)."""

    def held_keys(self) -> list[int]:
        """Virtual keys physically down now (mouse buttons excepted)."""
        return [vk for vk in range(0x08, 0xFF)
                if vk not in _NOT_KEYS and user32.GetAsyncKeyState(vk) & 0x8000]

    def wait_modifiers_released(self, timeout: float) -> bool:
        """Wait until no key is held at all: a held hotkey letter spoils the chord too."""
        return poll(lambda: not self.held_keys(), timeout, POLL_STEP)

    def send_chord(self, chord: str) -> None:
        """Press the chord's keys in order and release them in reverse, in one SendInput."""
        vks = chord_vks(chord)
        events = [_key(vk, False) for vk in vks] + [_key(vk, True) for vk in reversed(vks)]
        array = (INPUT * len(events))(*events)
        sent = user32.SendInput(len(events), array, ctypes.sizeof(INPUT))
        if sent != len(events):
            raise OSError(f"SendInput injected {sent} of {len(events)} key events "
                          f"({last_error()}): input is blocked (UIPI or a secure desktop)")

    def send_copy(self) -> None:
        self.send_chord("<ctrl>+c")

    def send_paste(self) -> None:
        self.send_chord("<ctrl>+v")
