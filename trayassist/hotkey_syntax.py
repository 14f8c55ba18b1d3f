"""Hotkey strings in pynput's syntax, checked without importing pynput.

`parse_hotkey("<Shift>+<ctrl_l>+<alt>+E").canonical == "<ctrl>+<alt>+<shift>+e"`. Parts are
joined by `+`; modifiers and special keys are written in angle brackets, other keys as one
character, and `<65>` is a virtual key code, exactly as `pynput.keyboard.HotKey.parse` reads
them. On top of pynput's rules a hotkey needs exactly one key and at least one of <ctrl>,
<alt> or <cmd>: anything less would swallow ordinary typing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Canonical order of modifiers; the side-specific names fold into these.
MODIFIERS = ("ctrl", "alt", "alt_gr", "shift", "cmd")
_MODIFIER_NAMES = {
    **{name: name for name in MODIFIERS},
    **{f"{name}_{side}": name for name in ("ctrl", "alt", "shift", "cmd") for side in "lr"},
}
# Modifiers that make a combination safe to grab: without one, typing would trigger it.
_GUARDING = frozenset({"ctrl", "alt", "cmd"})

SPECIAL_KEYS = (
    "space", "enter", "tab", "esc", "backspace", "insert", "delete", "home", "end",
    "page_up", "page_down", "up", "down", "left", "right", "pause", "print_screen",
    "scroll_lock", "menu", *(f"f{n}" for n in range(1, 21)),
)  # fmt: skip
_SPECIAL = frozenset(SPECIAL_KEYS)

EXPECTED = (
    "expected modifiers like <ctrl>, <alt>, <shift>, <cmd> joined by + with one key, "
    "e.g. <ctrl>+<alt>+<shift>+e"
)


class HotkeyError(ValueError):
    """A hotkey string that cannot be used; the message says what is allowed."""

    def __init__(self, spec: str, reason: str = "") -> None:
        self.spec = spec
        detail = f"{reason}; {EXPECTED}" if reason else EXPECTED
        super().__init__(f'"{spec}" is not a hotkey: {detail}')


@dataclass(frozen=True)
class Hotkey:
    modifiers: frozenset[str]  # side-less names from MODIFIERS, e.g. {"ctrl", "alt"}
    key: str  # in pynput syntax: "e", "<f5>", "<space>" or a key code "<65>"

    @property
    def canonical(self) -> str:
        mods = [f"<{name}>" for name in MODIFIERS if name in self.modifiers]
        return "+".join([*mods, self.key])

    def __str__(self) -> str:
        return self.canonical


def _split(text: str, spec: str) -> Iterator[str]:
    """pynput's splitter: a `+` that starts a part is the plus key itself (`<ctrl>++`)."""
    start = 0
    for i, char in enumerate(text):
        if char == "+" and i != start:
            yield text[start:i]
            start = i + 1
    if start == len(text):
        raise HotkeyError(spec)
    yield text[start:]


def _part(spec: str, raw: str) -> tuple[str, str]:
    """One part -> ("modifier", name) or ("key", pynput token)."""
    part = raw.strip()
    if len(part) == 1:
        return "key", part.lower()
    if len(part) > 2 and part[0] == "<" and part[-1] == ">":
        name = part[1:-1].strip().lower()
        if name in _MODIFIER_NAMES:
            return "modifier", _MODIFIER_NAMES[name]
        if name in _SPECIAL:
            return "key", f"<{name}>"
        if name.isdigit() and int(name) > 0:
            return "key", f"<{int(name)}>"
        raise HotkeyError(
            spec,
            f"{part} is not a key pynput knows (special keys: <space>, <enter>, <tab>, <esc>, "
            "<backspace>, <insert>, <delete>, <home>, <end>, <page_up>, <page_down>, <up>, "
            "<down>, <left>, <right>, <pause>, <print_screen>, <scroll_lock>, <menu>, "
            "<f1>..<f20>, or a key code like <65>)",
        )
    if not part:
        raise HotkeyError(spec)
    if part.lower() in _MODIFIER_NAMES or part.lower() in _SPECIAL:
        raise HotkeyError(spec, f"write {part} in angle brackets, as <{part.lower()}>")
    raise HotkeyError(spec, f"{part!r} is neither one character nor a <special> key")


def _parse(spec: str) -> Hotkey:
    """Modifiers and exactly one key, in pynput syntax; no rule about which modifiers."""
    text = spec.strip()
    if not text:
        raise HotkeyError(spec)
    modifiers: list[str] = []
    keys: list[str] = []
    for raw in _split(text, spec):
        kind, name = _part(spec, raw)
        seen = modifiers if kind == "modifier" else keys
        if name in seen:
            shown = f"<{name}>" if kind == "modifier" else name
            raise HotkeyError(spec, f"{shown} appears twice")
        seen.append(name)
    if not keys:
        raise HotkeyError(spec, "it has modifiers but no key")
    if len(keys) > 1:
        raise HotkeyError(spec, f"it has {len(keys)} keys ({', '.join(keys)}) but takes one")
    return Hotkey(frozenset(modifiers), keys[0])


def parse_hotkey(spec: str) -> Hotkey:
    """Parse and check a hotkey; raise HotkeyError saying what is allowed."""
    hotkey = _parse(spec)
    if not _GUARDING.intersection(hotkey.modifiers):
        raise HotkeyError(
            spec, "it needs <ctrl>, <alt> or <cmd>, else it would swallow ordinary typing"
        )
    return hotkey


def canonical_hotkey(spec: str) -> str:
    """`parse_hotkey(spec).canonical`: the form to compare and to hand to pynput."""
    return parse_hotkey(spec).canonical



CHORD_EXPECTED = ('expected modifiers and one key joined by +, e.g. "<ctrl>+<shift>+v" or '
                  '"<shift>+<insert>"')


class ChordError(ValueError):
    """A key chord to send that cannot be used; the message says what is allowed."""


def parse_chord(spec: str) -> Hotkey:
    """A chord trayassist *sends* (an app's copy or paste keys), e.g. "<ctrl>+<shift>+c"
    or "<shift>+<insert>": the hotkey syntax, but any modifiers (or none) are allowed,
    since nothing is grabbed. Still exactly one key."""
    try:
        return _parse(spec)
    except HotkeyError as exc:
        reason = str(exc).split(" is not a hotkey: ", 1)[-1]
        reason = reason.removesuffix(EXPECTED).removesuffix("; ")
        detail = f"{reason}; {CHORD_EXPECTED}" if reason else CHORD_EXPECTED
        raise ChordError(f'"{spec}" is not a key chord: {detail}') from None


def chord_label(spec: str) -> str:
    """How a chord is shown to people: "<ctrl>+<shift>+v" -> "Ctrl+Shift+V"."""
    chord = parse_chord(spec)
    names = {"ctrl": "Ctrl", "alt": "Alt", "alt_gr": "AltGr", "shift": "Shift", "cmd": "Cmd"}
    mods = [names[m] for m in MODIFIERS if m in chord.modifiers]
    key = chord.key.strip("<>")
    key = key.upper() if len(key) == 1 else key.replace("_", " ").title()
    return "+".join([*mods, key])


def canonical_chord(spec: str) -> str:
    """`parse_chord(spec).canonical`: the form to compare and to send."""
    return parse_chord(spec).canonical
