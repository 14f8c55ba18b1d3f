"""X11 hotkeys (XGrabKey) against a real X server (Xvfb), xdotool and a real Tk window.

Every wait polls with a deadline; "exactly once" is checked after a sentinel hotkey that the
listener can only see after everything sent before it. What the Tk window got is checked
after a marker key it can only see after everything sent before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("Xlib", reason="python-xlib is installed on Linux only")

from Xlib import XK, X, error  # noqa: E402
from Xlib.display import Display  # noqa: E402

try:
    from . import xapp
except ImportError:
    import xapp  # type: ignore[no-redef]

from trayassist.desktop.base import HotkeyTaken
from trayassist.desktop.x11 import hotkeys as hotkeys_module  # noqa: E402
from trayassist.desktop.x11.hotkeys import X11Hotkeys  # noqa: E402
from trayassist.desktop.x11.keys import X11Keys  # noqa: E402

pytestmark = pytest.mark.desktop

wait_for, xclip_get, xclip_set, xdotool = xapp.wait_for, xapp.xclip_get, xapp.xclip_set, \
    xapp.xdotool
HOTKEY, SENTINEL = "<ctrl>+<alt>+<shift>+e", "<ctrl>+<alt>+<shift>+s"
CHORD_MODIFIERS = {"Control_L", "Alt_L", "Meta_L", "Shift_L"}  # what Tk may see of a chord
MARKER = "Control_R"  # a key Tk records and otherwise ignores


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def source(xserver) -> Iterator[X11Hotkeys]:
    hotkeys = X11Hotkeys(xserver.display)
    yield hotkeys
    hotkeys.stop()
    xdotool(xserver.env, "keyup", "ctrl", "alt", "shift", "e", "s")  # never leave keys down


@pytest.fixture
def hotkeys(source) -> Callable[..., tuple[Counter, Counter]]:
    """Start listening for Ctrl+Alt+Shift+E plus the sentinel, Ctrl+Alt+Shift+S."""

    def start(**extra: Callable[[], None]) -> tuple[Counter, Counter]:
        hit, sentinel = Counter(), Counter()
        source.start({HOTKEY: hit, SENTINEL: sentinel, **extra})
        return hit, sentinel

    return start


def _after_sentinel(env: dict[str, str], sentinel: Counter) -> None:
    xdotool(env, "key", "ctrl+alt+shift+s")
    wait_for(lambda: sentinel.calls == 1, timeout=3.0, what="the sentinel hotkey")


def _app_keys(env: dict[str, str], window: xapp.XAppClient) -> list[dict[str, Any]]:
    """Every key event the window got up to now (X delivers in order: marker last)."""
    xdotool(env, "key", MARKER)

    def seen() -> list[dict[str, Any]] | None:
        keys = window.keys()
        done = any(k["keysym"] == MARKER and k["type"] == "release" for k in keys)
        return keys if done else None

    events = wait_for(seen, timeout=3.0, what="the Tk window to see the marker key")
    return [k for k in events if k["keysym"] != MARKER]


def _thread() -> threading.Thread:
    return next(t for t in threading.enumerate() if t.name == "trayassist-hotkeys")


def _grab_from_another_client(display: str, keysym: int, mask: int) -> tuple[Display, bool]:
    """Grab a chord from a second connection, as another hotkey program would."""
    d = Display(display)
    catch = error.CatchError(error.BadAccess)
    d.screen().root.grab_key(d.keysym_to_keycode(keysym), mask, False, X.GrabModeAsync,
                             X.GrabModeAsync, onerror=catch)
    d.sync()
    return d, catch.get_error() is None


CHORD_MASK = X.ControlMask | X.ShiftMask | X.Mod1Mask  # Alt is Mod1 on Xvfb's layout


def test_hotkey_is_consumed_so_the_selection_survives(xserver, hotkeys, target_window):
    env = xserver.env
    target_window.set_text("The quick brown fox")
    target_window.select(4, 9)
    xclip_set(env, "older clipboard")
    target_window.clear_keys()
    hit, sentinel = hotkeys()
    xdotool(env, "key", "ctrl+alt+shift+e")
    _after_sentinel(env, sentinel)
    assert hit.calls == 1
    # Tk sees the modifiers go down (they are no hotkey on their own) but never the key,
    # so its Ctrl+E binding (end of line, drops the selection) never runs.
    got = _app_keys(env, target_window)
    assert {k["keysym"] for k in got} <= CHORD_MODIFIERS, got
    assert target_window.text() == "The quick brown fox"
    xdotool(env, "key", "ctrl+c")
    wait_for(lambda: xclip_get(env) == b"quick", timeout=3.0, what="Tk to copy the selection")


def test_keys_injected_after_the_hotkey_reach_the_app(xserver, source, target_window):
    """What the daemon does: on the hotkey, wait for the modifiers to go up, send Ctrl+C.

    People (and xdotool) often let go of the modifiers before the key. While the key is down
    the server sends every key to the grabbing client, so a Ctrl+C injected then would be
    swallowed: the hotkey must not fire before its key is up.
    """
    env = xserver.env
    target_window.set_text("The quick brown fox")
    target_window.select(4, 9)
    xclip_set(env, "older clipboard")
    keys = X11Keys(xserver.display)
    fired = threading.Event()

    def worker() -> None:
        if fired.wait(5.0) and keys.wait_modifiers_released(2.0):
            keys.send_copy()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        source.start({HOTKEY: fired.set})
        xdotool(env, "keydown", "ctrl", "alt", "shift", "e")
        xdotool(env, "keyup", "ctrl", "alt", "shift")
        xdotool(env, "keyup", "e")
        wait_for(lambda: xclip_get(env) == b"quick", timeout=3.0, what="Tk to copy")
    finally:
        fired.set()
        thread.join(5.0)
        keys.close()


def test_held_hotkey_with_auto_repeat_fires_once(xserver, hotkeys, monkeypatch):
    presses: list[int] = []
    handle = hotkeys_module._GrabListener._handle

    def counting(self: Any, ev: Any) -> None:
        if ev.type == X.KeyPress:
            presses.append(ev.detail)
        handle(self, ev)

    monkeypatch.setattr(hotkeys_module._GrabListener, "_handle", counting)
    hit, sentinel = hotkeys()
    env = xserver.env
    xdotool(env, "keydown", "ctrl+alt+shift+e")
    try:
        for _ in range(3):  # repeated presses without release, as some repeat sources send
            xdotool(env, "keydown", "e")
        # Then the server's own auto-repeat (release+press pairs, one timestamp each).
        wait_for(lambda: len(presses) >= 8, timeout=5.0, what="the X server to auto-repeat")
    finally:
        xdotool(env, "keyup", "e", "shift", "alt", "ctrl")
    _after_sentinel(env, sentinel)
    assert hit.calls == 1
    xdotool(env, "key", "ctrl+alt+shift+e")  # a new press after the release fires again
    wait_for(lambda: hit.calls == 2, timeout=3.0, what="the second press")


def _lock_state(display: str) -> int:
    d = Display(display)
    try:
        return int(d.screen().root.query_pointer().mask) & (X.LockMask | X.Mod2Mask)
    finally:
        d.close()


@pytest.mark.parametrize("lock", ["Num_Lock", "Caps_Lock"])
def test_hotkey_works_whatever_the_lock_state(xserver, hotkeys, lock):
    env = xserver.env
    assert _lock_state(xserver.display) == 0
    hit, sentinel = hotkeys()
    xdotool(env, "key", lock)
    try:
        wait_for(lambda: _lock_state(xserver.display), what=f"{lock} to be on")
        xdotool(env, "key", "ctrl+alt+shift+e")
        _after_sentinel(env, sentinel)
        assert hit.calls == 1
    finally:
        xdotool(env, "key", lock)
        wait_for(lambda: _lock_state(xserver.display) == 0, what=f"{lock} to be off")


def test_hotkey_with_shift_pressed_before_alt_and_alt_released_first(xserver, hotkeys):
    hit, sentinel = hotkeys(**{"<ctrl>+<shift>+e": Counter()})
    env = xserver.env
    # With Shift down, X reports the Alt key as Meta_L; its modifier bit is still Mod1.
    # Released Alt first, Ctrl+Shift+E is that other hotkey, not ours.
    for key in ("shift", "alt", "ctrl"):
        xdotool(env, "keydown", key)
    xdotool(env, "key", "e")
    for key in ("alt", "ctrl", "shift"):
        xdotool(env, "keyup", key)
    xdotool(env, "key", "ctrl+shift+e")
    _after_sentinel(env, sentinel)
    assert hit.calls == 1


def test_raising_callback_does_not_stop_the_listener(xserver, hotkeys):
    def boom() -> None:
        raise RuntimeError("callback bug")

    hit, sentinel = hotkeys(**{"<ctrl>+<alt>+<shift>+b": boom})
    xdotool(xserver.env, "key", "ctrl+alt+shift+b")
    xdotool(xserver.env, "key", "ctrl+alt+shift+e")
    _after_sentinel(xserver.env, sentinel)
    assert hit.calls == 1


def test_a_chord_grabbed_by_another_program_raises_hotkey_taken(xserver, source):
    other, grabbed = _grab_from_another_client(xserver.display, XK.XK_e, CHORD_MASK)
    try:
        assert grabbed
        with pytest.raises(HotkeyTaken) as err:
            source.start({HOTKEY: Counter(), SENTINEL: Counter()},
                         names={HOTKEY: "rewrite", SENTINEL: "fix"})
        assert str(err.value).startswith(
            "hotkey <ctrl>+<alt>+<shift>+e for rewrite is already taken by another program")
        assert "\n" not in str(err.value)
        # Nothing is left grabbed: the sentinel's chord is free for others.
        probe, free = _grab_from_another_client(xserver.display, XK.XK_s, CHORD_MASK)
        probe.close()
        assert free
    finally:
        other.close()
    hit, sentinel = Counter(), Counter()
    source.start({HOTKEY: hit, SENTINEL: sentinel})  # free again once the other program quits
    xdotool(xserver.env, "key", "ctrl+alt+shift+e")
    _after_sentinel(xserver.env, sentinel)
    assert hit.calls == 1


def test_stop_ends_the_thread_promptly_and_releases_the_grabs(xserver, hotkeys, source):
    hotkeys()
    thread = _thread()
    source.stop()
    assert not thread.is_alive()  # stop() joins; a blocked select() would outlast it
    probe, free = _grab_from_another_client(xserver.display, XK.XK_e, CHORD_MASK)
    probe.close()
    assert free


def _thread_activity(tid: int) -> tuple[int, int]:
    """(CPU ticks, voluntary context switches) of one thread of this process."""
    task = Path(f"/proc/self/task/{tid}")
    stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(stat[11]) + int(stat[12])  # utime + stime (fields 14 and 15)
    status = (task / "status").read_text()
    switches = next(int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("voluntary_ctxt_switches"))
    return ticks, switches


def test_an_idle_listener_sleeps_in_the_kernel(xserver, hotkeys):
    hotkeys()
    thread = _thread()
    assert thread.native_id is not None
    ticks, switches = _thread_activity(thread.native_id)
    threading.Event().wait(1.0)  # a window to observe, not a wait for a result
    ticks_after, switches_after = _thread_activity(thread.native_id)
    # Blocked in select(): no CPU and no wake-ups. A polling loop wakes 10-100 times a second.
    assert ticks_after - ticks <= 2
    assert switches_after - switches <= 2


def test_keyboard_mapping_change_moves_the_grab(xserver, hotkeys, source):
    d = Display(xserver.display)
    old = d.keysym_to_keycode(XK.XK_e)
    first, last = d.display.info.min_keycode, d.display.info.max_keycode
    mapping = d.get_keyboard_mapping(first, last - first + 1)
    spare = next(first + i for i, syms in enumerate(mapping) if not any(syms))
    width = len(mapping[0])
    try:
        hit, sentinel = hotkeys()
        # "e" moves to a spare keycode, as a layout switch (setxkbmap) moves keys.
        d.change_keyboard_mapping(spare, [[XK.XK_e, XK.XK_E] + [0] * (width - 2)])
        d.change_keyboard_mapping(old, [[0] * width])
        d.sync()
        # The listener re-grabs on MappingNotify, asynchronously: wait until it holds the
        # new keycode, or the press below could reach the server first.
        wait_for(lambda: any(code == spare for code, _ in source._listener._grabs),
                 timeout=3.0, what="the grab to move to the new keycode")
        xdotool(xserver.env, "key", "ctrl+alt+shift+e")  # xdotool looks "e" up afresh
        _after_sentinel(xserver.env, sentinel)
        assert hit.calls == 1
    finally:
        d.change_keyboard_mapping(old, [list(mapping[old - first])])
        d.change_keyboard_mapping(spare, [[0] * width])
        d.sync()
        d.close()
