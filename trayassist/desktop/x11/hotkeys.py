"""Global hotkeys on X11: passive key grabs on the root window.

On X11 an observing listener (pynput's XRecord) is not enough: the focused app also gets
the chord and acts on it (Tk's Ctrl+E moves the cursor and drops the selection we are about
to copy). `X11Hotkeys` grabs each chord on the root window, as xbindkeys and sxhkd do, so
the X server hands the key to us instead of the app.

Xlib is imported lazily, so this module imports on any platform.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import threading
from collections.abc import Callable, Mapping
from typing import Any

from trayassist.desktop.base import HotkeyTaken, described, guarded
from trayassist.hotkey_syntax import Hotkey, parse_hotkey

log = logging.getLogger(__name__)

JOIN_TIMEOUT = 1.0  # stop(): the listener ends at once; the bound only protects a shutdown

# X11 keysyms (X11/keysymdef.h) of pynput's special keys and of the modifier keys.
_SPECIAL_KEYSYMS = {
    "space": 0x0020, "enter": 0xFF0D, "tab": 0xFF09, "esc": 0xFF1B, "backspace": 0xFF08,
    "insert": 0xFF63, "delete": 0xFFFF, "home": 0xFF50, "end": 0xFF57, "page_up": 0xFF55,
    "page_down": 0xFF56, "up": 0xFF52, "down": 0xFF54, "left": 0xFF51, "right": 0xFF53,
    "pause": 0xFF13, "print_screen": 0xFF61, "scroll_lock": 0xFF14, "menu": 0xFF67,
    **{f"f{n}": 0xFFBE + n - 1 for n in range(1, 21)},
}  # fmt: skip
# Per modifier, keysyms in order of preference: the Mod bit holding the first one found is
# the modifier's bit (Alt is Mod1 on most layouts, but the layout decides).
_MODIFIER_KEYSYMS = {
    "alt": ((0xFFE9, 0xFFEA), (0xFFE7, 0xFFE8)),  # Alt_L/R, else Meta_L/R
    "alt_gr": ((0xFE03, 0xFF7E),),  # ISO_Level3_Shift, Mode_switch
    "cmd": ((0xFFEB, 0xFFEC),),  # Super_L/R
    "num_lock": ((0xFF7F,),),
    "scroll_lock": ((0xFF14,),),
}
_SHIFT, _LOCK, _CONTROL = 1 << 0, 1 << 1, 1 << 2  # X.ShiftMask, X.LockMask, X.ControlMask
_MODIFIER_BITS = 0xFF  # an event's state also carries mouse button bits above these


class X11Hotkeys:
    """The HotkeySource port on X11: the chords are grabbed, so the focused app never gets
    them; a callback runs when the hotkey's key is released (held: once). `start` once from
    setup (raises HotkeyTaken); `stop` from any thread."""

    def __init__(self, display: str | None = None) -> None:
        self._display = display  # None: the DISPLAY environment variable
        self._listener: _GrabListener | None = None

    def start(self, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None = None) -> None:
        """`names` (hotkey -> action name) only makes a HotkeyTaken message clearer."""
        if self._listener is not None:
            raise RuntimeError("hotkeys already started")
        parsed: dict[Hotkey, tuple[str, Callable[[], None]]] = {}
        for spec, callback in bindings.items():
            hotkey = parse_hotkey(spec)
            if hotkey in parsed:
                raise ValueError(f"hotkeys {parsed[hotkey][0]!r} and {spec!r} are the same")
            parsed[hotkey] = (described(spec, names), guarded(spec, callback))
        listener = _GrabListener(self._display, parsed)  # grabs now: HotkeyTaken raises here
        listener.start()
        self._listener = listener

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
            listener.join(JOIN_TIMEOUT)


class _GrabListener(threading.Thread):
    """Owns one X connection: grabs the chords, then reads key events until stopped.

    The constructor runs on the caller's thread and makes the grabs (so failures raise
    there); afterwards only the thread touches the connection (python-xlib Displays are
    not thread-safe). It blocks in select() on the connection and a wake-up pipe: no
    polling, so an idle listener costs no CPU.
    """

    def __init__(self, display: str | None,
                 hotkeys: dict[Hotkey, tuple[str, Callable[[], None]]]) -> None:
        super().__init__(name="trayassist-hotkeys", daemon=True)
        from Xlib.display import Display

        self._hotkeys = hotkeys
        self._d: Any = Display(display)
        self._d.set_error_handler(_log_x_error)
        self._root = self._d.screen().root
        self._grabs: dict[tuple[int, int], Hotkey] = {}  # (keycode, full mask) we hold
        self._match: dict[tuple[int, int], Hotkey] = {}  # (keycode, mask without locks)
        self._ignored = 0  # lock bits (Caps, Num, Scroll Lock) that must not matter
        self._armed: dict[int, Hotkey | None] = {}  # keycode -> what its release fires
        self._queue: collections.deque[Any] = collections.deque()  # read-ahead events
        self._wake_r, self._wake_w = os.pipe()
        self._wake_lock = threading.Lock()  # stop() must never write to a closed (reused) fd
        self._closed = False
        try:
            taken = self._regrab()
            if taken:
                raise HotkeyTaken(taken)
        except BaseException:
            self._close()  # closing the connection also drops every grab it made
            raise

    # -- grabbing (constructor, then the thread on keyboard mapping changes) --------------
    def _regrab(self) -> list[str]:
        """Grab what the current keyboard mapping needs; return the hotkeys taken by others."""
        masks = _modifier_masks(self._d)
        locks = [_LOCK, masks.get("num_lock", 0), masks.get("scroll_lock", 0)]
        locks = list(dict.fromkeys(bit for bit in locks if bit))
        variants = [0]  # every combination of lock states
        for bit in locks:
            variants += [v | bit for v in variants]
        wanted: dict[tuple[int, int], Hotkey] = {}
        match: dict[tuple[int, int], Hotkey] = {}
        for hotkey, (label, _) in self._hotkeys.items():
            found = _keycode_and_mask(self._d, hotkey, masks)
            if isinstance(found, str):
                raise ValueError(f"hotkey {label}: {found}")
            keycode, mask = found
            match[(keycode, mask)] = hotkey
            wanted.update({(keycode, mask | v): hotkey for v in variants})
        self._ignored = sum(locks)
        self._match = match
        if wanted == self._grabs:
            return []  # e.g. xdotool remapping a spare keycode: nothing of ours moved
        from Xlib import X, error

        for keycode, mask in set(self._grabs) - set(wanted):
            self._root.ungrab_key(keycode, mask)
        checks = []
        for (keycode, mask), hotkey in wanted.items():
            if (keycode, mask) not in self._grabs:
                catch = error.CatchError(error.BadAccess)
                # owner_events False: the key goes to us even while our own windows have
                # focus; async modes: the keyboard is never frozen waiting for us.
                self._root.grab_key(keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync,
                                    onerror=catch)
                checks.append((catch, hotkey))
        self._d.sync()  # errors arrive asynchronously: make every grab's answer known
        taken = {hotkey for catch, hotkey in checks if catch.get_error() is not None}
        self._grabs = {key: hk for key, hk in wanted.items() if hk not in taken}
        for key, hk in wanted.items():
            if hk in taken:  # partly grabbed (some lock variants): give all of it back
                self._root.ungrab_key(*key)
        self._d.flush()
        return [self._hotkeys[hk][0] for hk in self._hotkeys if hk in taken]

    # -- the thread -----------------------------------------------------------------------
    def stop(self) -> None:
        with self._wake_lock:
            if not self._closed:
                os.write(self._wake_w, b"!")

    def run(self) -> None:
        try:
            while True:
                ev = self._next_event()
                if ev is not None:
                    self._handle(ev)
                    continue
                ready, _, _ = select.select([self._d, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
        except Exception:  # the X server went away: hotkeys end, the rest of the app lives
            log.exception("hotkey listener stopped: lost the X connection")
        finally:
            self._close()

    def _next_event(self) -> Any | None:
        if self._queue:
            return self._queue.popleft()
        return self._d.next_event() if self._d.pending_events() else None

    def _handle(self, ev: Any) -> None:
        from Xlib import X

        # A hotkey fires when its key is released, not pressed: the server keeps the whole
        # keyboard grabbed for us while the key is down, so keys injected before that (the
        # job's Ctrl+C, once the user let go of the modifiers) would come to us, not the app.
        # Auto-repeat (presses, or release+press pairs) only re-arms: it fires once.
        if ev.type == X.KeyPress:
            mods = ev.state & _MODIFIER_BITS & ~self._ignored
            self._armed[ev.detail] = self._match.get((ev.detail, mods))
        elif ev.type == X.KeyRelease:
            if not self._is_repeat_release(ev):
                hotkey = self._armed.pop(ev.detail, None)
                if hotkey is not None:
                    self._hotkeys[hotkey][1]()
        elif ev.type == X.MappingNotify and ev.request in (X.MappingKeyboard,
                                                           X.MappingModifier):
            self._d.refresh_keyboard_mapping(ev)  # python-xlib's keysym cache
            try:
                taken = self._regrab()
            except ValueError as exc:  # the new layout lacks a key: keep what we hold
                log.warning("keyboard layout changed: %s", exc)
                return
            if taken:
                log.warning("keyboard layout changed: %s", HotkeyTaken(taken))

    def _is_repeat_release(self, ev: Any) -> bool:
        """Auto-repeat may send release+press pairs with one timestamp while the key is held.

        The server generates both in one step, so after a round trip the press is queued.
        """
        from Xlib import X

        if not self._queue:
            self._d.query_keymap()  # any round trip will do
            while self._d.pending_events():
                self._queue.append(self._d.next_event())
        nxt = self._queue[0] if self._queue else None
        return (nxt is not None and nxt.type == X.KeyPress and nxt.detail == ev.detail
                and nxt.time == ev.time)

    def _close(self) -> None:
        try:
            self._d.close()
        except Exception:  # the server may be gone already
            log.debug("X connection already closed")
        with self._wake_lock:
            self._closed = True
            os.close(self._wake_r)
            os.close(self._wake_w)


def _log_x_error(err: Any, request: Any = None) -> None:
    # Errors of requests without their own handler, e.g. an ungrab after a layout change.
    log.debug("X error ignored: %s", type(err).__name__)


def _modifier_masks(d: Any) -> dict[str, int]:
    """Which Mod1..Mod5 bit each of Alt, AltGr, Super, Num Lock and Scroll Lock sets."""
    bit_of: dict[int, int] = {}  # keysym -> modifier bit
    for row, keycodes in enumerate(d.get_modifier_mapping()):
        if row < 3:  # Shift, Lock, Control: fixed bits
            continue
        for code in keycodes:
            for index in range(4):
                bit_of.setdefault(d.keycode_to_keysym(code, index), 1 << row)
    masks = {}
    for name, tiers in _MODIFIER_KEYSYMS.items():
        for keysyms in tiers:
            found = [bit_of[k] for k in keysyms if k in bit_of]
            if found:
                masks[name] = found[0]
                break
    return masks


def _keysym(key: str) -> int:
    """A pynput key token ("e", "<f5>", "<65>") as an X keysym."""
    if key.startswith("<"):
        name = key[1:-1]
        return int(name) if name.isdigit() else _SPECIAL_KEYSYMS[name]  # pynput's vk is a keysym
    code = ord(key)
    # Latin-1 characters are their own keysyms; the rest use the Unicode keysym range.
    return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x01000000 | code


def _keycode_and_mask(d: Any, hotkey: Hotkey, masks: Mapping[str, int]) -> tuple[int, int] | str:
    """The keycode and modifier mask to grab, or why the layout cannot type this hotkey."""
    fixed = {"ctrl": _CONTROL, "shift": _SHIFT}
    mask = 0
    for name in hotkey.modifiers:
        bit = fixed.get(name) or masks.get(name)
        if not bit:
            return f"no key on this keyboard layout acts as <{name}>"
        mask |= bit
    places = list(d.keysym_to_keycodes(_keysym(hotkey.key)))
    if not places:
        return f"no key on this keyboard layout types {hotkey.key}"
    keycode, index = places[0]
    if index % 2:  # a shifted symbol (e.g. "!"): the key is pressed with Shift
        mask |= _SHIFT
    return keycode, mask
