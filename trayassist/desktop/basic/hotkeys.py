"""The HotkeySource port through pynput's GlobalHotKeys (an observing hook)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trayassist.desktop.base import guarded

JOIN_TIMEOUT = 1.0  # stop(): the listener ends at once; the bound only protects a shutdown


class PynputHotkeys:
    """The HotkeySource port on Windows and macOS (pynput). `start` once; `stop` any thread."""

    def __init__(self) -> None:
        self._listener: Any = None

    def start(self, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None = None) -> None:
        if self._listener is not None:
            raise RuntimeError("hotkeys already started")
        from pynput import keyboard

        hotkeys = {combo: guarded(combo, cb) for combo, cb in bindings.items()}
        try:
            listener = keyboard.GlobalHotKeys(hotkeys)
        except ValueError as exc:  # pynput names only the bad part; name the whole binding
            raise ValueError(f"invalid hotkey in {sorted(bindings)}: {exc}") from exc
        listener.daemon = True  # never keep the process alive on its own
        listener.start()
        listener.wait()  # returns once the OS hook is live, so no press is missed
        self._listener = listener

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
            listener.join(JOIN_TIMEOUT)
