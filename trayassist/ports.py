"""The seams between the headless core and the desktop.

Every method states its thread contract. The core (pipeline, worker) only ever talks
to these protocols; `trayassist.desktop` implements them on a real desktop and
`trayassist.testing` implements them in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ClipboardSnapshot:
    """Every format the clipboard held, as bytes per target (MIME type or X atom name).

    `owned` is False when the clipboard was empty (no owner): restoring then clears it.
    """

    formats: dict[str, bytes] = field(default_factory=dict)
    owned: bool = True

    def __repr__(self) -> str:  # never print clipboard content, even in a traceback
        return f"ClipboardSnapshot(targets={sorted(self.formats)}, owned={self.owned})"


class Clipboard(Protocol):
    def snapshot(self) -> ClipboardSnapshot:
        """Read every readable format. Worker thread; may block (bounded, ~1 s)."""

    def restore(self, snap: ClipboardSnapshot) -> None:
        """Make the clipboard hold exactly `snap` again. Worker thread; returns promptly."""

    def clear(self) -> None:
        """Empty the clipboard so a later copy is detectable as a change. Worker thread."""

    def read_text(self) -> str | None:
        """The clipboard's text, or None when it holds no text. Worker thread."""

    def write_text(self, text: str) -> None:
        """Own the clipboard with `text` as its only content, marked so clipboard
        managers and history do not record it (X11/Wayland: x-kde-passwordManagerHint =
        secret). Our own marker never makes is_secret() true. Worker thread."""

    def wait_read(self, timeout: float) -> bool:
        """After write_text: block until a program has read our content (the paste
        target asked for it), or the timeout passes; False on timeout. Worker thread."""

    def is_secret(self) -> bool:
        """True when a password manager marked the current content secret.

        Checked from the target list only; the content itself is not read. Worker thread.
        """


@dataclass(frozen=True)
class AppInfo:
    """The app that had keyboard focus when the hotkey fired.

    Never holds the window title: titles carry document names and often the user's text.
    """

    app_id: str  # lower-case: X11 WM_CLASS class, Wayland app_id, Windows exe name sans .exe
    window_class: str | None = None  # X11 WM_CLASS instance, Windows window class
    process: str | None = None  # executable name, where the platform tells
    pid: int | None = None


class Focus(Protocol):
    def focused_app(self) -> AppInfo | None:
        """The focused app, or None when the platform cannot tell. Worker thread; fast
        (one or two local round trips) and bounded."""


class PrimarySelection(Protocol):
    def read_primary(self, app: AppInfo | None) -> str | None:
        """The focused app's current selection, read without sending any key, or None
        when it cannot be read that way (then the caller sends the copy keystroke).

        Returns text only when the selection demonstrably belongs to `app` (not a stale
        selection left by another window). Worker thread; bounded (~0.5 s)."""


class Keys(Protocol):
    def wait_modifiers_released(self, timeout: float) -> bool:
        """Block until the user holds no key (the hotkey's modifiers above all), so
        injected keys arrive as a clean chord; False on timeout. Worker thread."""

    def send_copy(self) -> None:
        """Inject the platform's copy shortcut into the focused window. Worker thread."""

    def send_paste(self) -> None:
        """Inject the platform's paste shortcut into the focused window. Worker thread."""

    def send_chord(self, chord: str) -> None:
        """Inject one chord in pynput syntax ("<ctrl>+<shift>+c", "<shift>+<insert>";
        see hotkey_syntax.parse_chord) into the focused window: an app's own copy or
        paste keys. Raises ValueError for a chord it cannot parse, OSError when the
        keyboard layout has no such key. Worker thread."""


class Notifier(Protocol):
    def notify(self, title: str, message: str) -> None:
        """Show a short message. Never pass user text. Any thread; must not block."""


class HotkeySource(Protocol):
    def start(self, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None = None) -> None:
        """Listen for hotkeys (pynput syntax -> callback). Callbacks run on the listener
        thread and must only enqueue. `names` (hotkey -> action) words errors. Called once
        from the daemon's setup; raises HotkeyTaken if another program holds one."""

    def stop(self) -> None:
        """Stop listening. Any thread."""
