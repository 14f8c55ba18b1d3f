"""Keys on Wayland: injected over the virtual-keyboard protocol with wtype (sway, Hyprland,
other wlroots desktops). GNOME and KDE lack that protocol: see portal_keys.py.

wtype's quirks (measured, /work/shared/recipes/wayland-headless.md): the first key of each
call is lost without a lead-in sleep (`-s 50`), and GTK3 ignores a shortcut unless another
key follows it, hence the trailing VoidSymbol.
"""

from __future__ import annotations

import logging
import subprocess

from trayassist.desktop.wayland import tools
from trayassist.desktop.wayland.clipboard import PasteMark

log = logging.getLogger(__name__)

WTYPE_TIMEOUT = 5.0  # wtype returns in ~60 ms; a wedged compositor must not hang the worker
LEAD_IN_MS = "50"
_MODIFIERS = {"ctrl": "ctrl", "alt": "alt", "shift": "shift", "cmd": "logo",
              "alt_gr": "altgr", **{f"{m}_{s}": w for m, w in
                                    (("ctrl", "ctrl"), ("alt", "alt"), ("shift", "shift"),
                                     ("cmd", "logo")) for s in "lr"}}
_KEYSYMS = {"space": "space", "enter": "Return", "tab": "Tab", "esc": "Escape",
            "backspace": "BackSpace", "insert": "Insert", "delete": "Delete", "home": "Home",
            "end": "End", "page_up": "Prior", "page_down": "Next", "up": "Up",
            "down": "Down", "left": "Left", "right": "Right", "pause": "Pause",
            "print_screen": "Print", "scroll_lock": "Scroll_Lock", "menu": "Menu",
            **{f"f{n}": f"F{n}" for n in range(1, 21)}}


def wtype_args(chord: str) -> list[str]:
    """`<ctrl>+<shift>+c` -> wtype arguments pressing the chord, then VoidSymbol."""
    parts = [p.strip() for p in chord.split("+") if p.strip()] if chord != "+" else ["+"]
    mods: list[str] = []
    key: str | None = None
    for part in parts:
        name = part[1:-1].lower() if part.startswith("<") and part.endswith(">") else part
        if name in _MODIFIERS and part.startswith("<"):
            mods.append(_MODIFIERS[name])
        elif key is None:
            key = _KEYSYMS.get(name, name) if part.startswith("<") else part
        else:
            raise ValueError(f"chord {chord!r} has more than one key")
    if key is None:
        raise ValueError(f"chord {chord!r} has no key")
    args = ["-s", LEAD_IN_MS]
    for mod in mods:
        args += ["-M", mod]
    args += ["-k", key]
    for mod in reversed(mods):
        args += ["-m", mod]
    return [*args, "-k", "VoidSymbol"]


class WtypeKeys:
    """The Keys port over wtype. Worker thread."""

    can_inject = True

    def __init__(self, mark: PasteMark | None = None) -> None:
        self.mark = mark or PasteMark()
        tools.which("wtype")  # fail at start-up, naming the package

    def wait_modifiers_released(self, timeout: float) -> bool:
        # Wayland lets no client read the keyboard state. wtype's virtual keyboard
        # carries its own modifier state (the seat switches to it), and the desktop
        # bindings fire on release (sway `bindsym --release`), so nothing leaks.
        return True

    def send_copy(self) -> None:
        self.send_chord("<ctrl>+c")

    def send_paste(self) -> None:
        self.send_chord("<ctrl>+v")

    def send_chord(self, chord: str) -> None:
        # Any chord may be an app's paste chord (a profile's `paste`): only reads of our
        # result after it count as the paste (see PasteMark).
        self.mark.mark()
        try:
            tools.run(["wtype", *wtype_args(chord)], timeout=WTYPE_TIMEOUT)
        except subprocess.CalledProcessError as exc:
            raise OSError(f"wtype failed: {exc.stderr.decode(errors='replace').strip()}") \
                from exc
