"""Global hotkeys through pynput's GlobalHotKeys, hardened for real keyboards.

Two pynput behaviours matter here (checked on Xvfb with xdotool):
- Key auto-repeat sends repeated presses of the held key without releases; pynput's HotKey
  only fires when its pressed-set *becomes* complete, so a held chord fires once.
- On X11 the Alt key read while Shift is down is the keysym Meta_L, which pynput does not
  treat as Alt: Shift-before-Alt never fires, and releasing Alt while Shift is down leaves
  Alt stuck "pressed" (then Ctrl+Shift+E alone would fire Ctrl+Alt+Shift+E). We fold
  Meta into Alt before pynput's matcher sees the key.
- pynput 1.8's X11 `stop()` disables the RECORD context through the connection the listener
  thread is blocked on, so the thread lingers until the next key event and then dies with a
  broken pipe (pynput PR #583). We disable it through a connection of our own instead.

pynput is imported lazily: on Linux importing it needs a reachable X display.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_META_TO_ALT = {0xFFE7: "alt_l", 0xFFE8: "alt_r"}  # X11 keysyms Meta_L, Meta_R


def _guarded(name: str, callback: Callable[[], None]) -> Callable[[], None]:
    """A raising callback would kill pynput's listener thread; log and carry on instead."""

    def run() -> None:
        try:
            callback()
        except Exception:
            log.exception("hotkey callback for %s failed", name)

    return run


class PynputHotkeys:
    """The HotkeySource port. `start` once from setup; `stop` from any thread."""

    def __init__(self) -> None:
        self._listener: Any = None

    def start(self, bindings: dict[str, Callable[[], None]]) -> None:
        if self._listener is not None:
            raise RuntimeError("hotkeys already started")
        from pynput import keyboard

        class _Listener(keyboard.GlobalHotKeys):
            _context: Any  # pynput's X RECORD context (private; X11 backend only)

            def canonical(self, key: Any) -> Any:
                vk = getattr(key, "vk", None)
                if isinstance(key, keyboard.KeyCode) and vk in _META_TO_ALT:
                    key = keyboard.Key[_META_TO_ALT[vk]]
                return super().canonical(key)

            def _stop_platform(self) -> None:
                if not hasattr(self, "_display_record"):  # not the X11 backend
                    super()._stop_platform()
                    return
                if not hasattr(self, "_context"):
                    self.wait()
                # A connection of our own: the listener thread may be closing its two.
                from Xlib.display import Display

                d = Display()
                try:
                    d.record_disable_context(self._context)
                    d.sync()
                finally:
                    d.close()

        hotkeys = {combo: _guarded(combo, cb) for combo, cb in bindings.items()}
        try:
            listener = _Listener(hotkeys)
        except ValueError as exc:  # pynput names only the bad part; name the whole binding
            raise ValueError(f"invalid hotkey in {sorted(bindings)}: {exc}") from exc
        listener.daemon = True  # never keep the process alive on its own
        listener.start()
        listener.wait()  # returns once the X RECORD context is live, so no press is missed
        self._listener = listener

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
            listener.join(1.0)  # it ends at once; the bound only protects a shutdown
