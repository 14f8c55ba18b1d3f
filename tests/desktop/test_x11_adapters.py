"""The X11 clipboard and keys against a real X server (Xvfb), real X clients (xclip, xdotool)
and a real Tk window; hotkeys are in test_x11_hotkeys.py. Every wait polls with a deadline."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("Xlib", reason="python-xlib is installed on Linux only")

from Xlib import X  # noqa: E402
from Xlib.display import Display
from Xlib.protocol.event import SelectionNotify

try:
    from . import xapp
except ImportError:
    import xapp  # type: ignore[no-redef]

from trayassist.desktop import BACKENDS, DesktopUnavailable, make_desktop
from trayassist.desktop.notify import CommandNotifier
from trayassist.desktop.x11.clipboard import X11Clipboard
from trayassist.desktop.x11.hotkeys import X11Hotkeys
from trayassist.desktop.x11.keeper import KEEPER_MODULE
from trayassist.desktop.x11.keys import X11Keys
from trayassist.desktop.x11.selection import pump
from trayassist.ports import ClipboardSnapshot

pytestmark = pytest.mark.desktop

ALT, CONTROL = xapp.ALT, xapp.CONTROL
wait_for, xclip_get, xclip_set, xdotool = xapp.wait_for, xapp.xclip_get, xapp.xclip_set, \
    xapp.xdotool
MACHINERY = {"TARGETS", "TIMESTAMP", "MULTIPLE"}


@pytest.fixture
def clipboard(xserver) -> Iterator[X11Clipboard]:
    cb = X11Clipboard(xserver.display)
    yield cb
    cb.close()


@pytest.fixture
def keys(xserver) -> Iterator[X11Keys]:
    k = X11Keys(xserver.display)
    yield k
    k.close()


# ---- clipboard ---------------------------------------------------------------------------

def test_write_text_is_served_in_every_text_target(xserver, clipboard):
    clipboard.write_text("héllo wörld ✓")
    targets = set(xapp.xclip_targets(xserver.env))
    assert {"UTF8_STRING", "text/plain;charset=utf-8", "STRING", "TEXT"} <= targets
    assert xclip_get(xserver.env) == "héllo wörld ✓".encode()
    assert xclip_get(xserver.env, "text/plain;charset=utf-8") == "héllo wörld ✓".encode()
    assert xclip_get(xserver.env, "STRING") == "héllo wörld ?".encode("latin-1")
    assert clipboard.read_text() == "héllo wörld ✓"


def test_read_text_from_another_owner_and_from_none(xserver, clipboard):
    xclip_set(xserver.env, "from xclip")
    assert clipboard.read_text() == "from xclip"
    xclip_set(xserver.env, "<b>no text target</b>", target="text/html")
    assert clipboard.read_text() is None
    clipboard.restore(ClipboardSnapshot({}, owned=False))
    assert xclip_get(xserver.env, "TARGETS") is None
    assert clipboard.read_text() is None
    assert clipboard.snapshot() == ClipboardSnapshot({}, owned=False)


def test_snapshot_clear_restore_serves_every_target_again(xserver, clipboard, target_window):
    target_window.own_clipboard({"STRING": "plain ✓ text", "text/html": "<p>rich</p>",
                                 "application/x-custom": "custom bytes"})
    env = xserver.env
    targets = [t for t in xapp.xclip_targets(env) if t not in MACHINERY]
    before = {t: xclip_get(env, t) for t in targets}
    assert {"UTF8_STRING", "STRING", "text/html", "application/x-custom"} <= set(before)

    snap = clipboard.snapshot()
    assert snap.owned and set(snap.formats) == set(targets)

    clipboard.clear()
    assert xclip_get(env) is None  # empty: a later copy is a visible change
    assert not set(xapp.xclip_targets(env)) - MACHINERY
    assert clipboard.read_text() is None

    clipboard.restore(snap)
    assert {t: xclip_get(env, t) for t in targets} == before
    assert clipboard.read_text() == "plain ✓ text"


def test_large_payloads_travel_incrementally_both_ways(xserver, clipboard):
    big = "".join(f"line {i:07d} " + "x" * 90 + "\n" for i in range(15000))  # ~1.6 MB
    xclip_set(xserver.env, big)  # xclip serves this with INCR: it exceeds one request
    assert clipboard.read_text() == big
    snap = clipboard.snapshot()
    assert snap.formats["UTF8_STRING"] == big.encode()
    clipboard.clear()
    clipboard.restore(snap)  # now we serve it with INCR
    assert xclip_get(xserver.env) == big.encode()


def test_another_app_copying_takes_over(xserver, clipboard):
    changes = clipboard.owner_changes()
    clipboard.write_text("ours")
    xclip_set(xserver.env, "theirs")
    assert clipboard.read_text() == "theirs"
    wait_for(lambda: clipboard.owner_changes() >= changes + 2, what="XFixes owner changes")


def test_secret_hint_is_detected_without_reading_the_text(xserver, clipboard, target_window):
    target_window.own_clipboard({"STRING": "hunter2", "x-kde-passwordManagerHint": "secret"})
    assert clipboard.is_secret()
    target_window.own_clipboard({"STRING": "just text"})
    assert not clipboard.is_secret()
    xclip_set(xserver.env, "plain copy")
    assert not clipboard.is_secret()


def test_hand_off_gives_our_content_to_a_clipboard_manager(xserver, clipboard):
    assert not clipboard.hand_off(0.5)  # nothing of ours on the clipboard: nothing to keep
    saved: dict[str, bytes | None] = {}
    ready, stop = threading.Event(), threading.Event()
    manager = threading.Thread(target=_clipboard_manager, args=(xserver, saved, ready, stop))
    manager.start()
    try:
        assert ready.wait(5.0)
        clipboard.restore(ClipboardSnapshot({"UTF8_STRING": b"kept", "text/html": b"<i>k</i>"}))
        assert clipboard.hand_off()
    finally:
        stop.set()
        manager.join(5.0)
    assert saved == {"UTF8_STRING": b"kept", "text/html": b"<i>k</i>"}
    _no_keepers(xserver.display)  # the manager keeps it: no process of ours needed


def _keepers(display: str) -> list[int]:
    """Live clipboard keeper processes serving `display` (other sessions may run their own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:  # it exited while we looked
            continue
        # A zombie has exited; init reaps it whenever it gets to it.
        if KEEPER_MODULE.encode() in argv and display.encode() in argv and state != "Z":
            found.append(int(entry))
    return found


def _no_keepers(display: str) -> None:
    # One left by an earlier test (a daemon's exit) ends once it loses the clipboard.
    wait_for(lambda: not _keepers(display), timeout=5.0, what="no clipboard keeper")


# Run as a separate process that exits right after hand_off, as the daemon does at exit.
# The content comes in on stdin; the process prints what hand_off returned.
HAND_OFF_SCRIPT = """
import pickle, sys
from trayassist.desktop.x11.clipboard import X11Clipboard
from trayassist.ports import ClipboardSnapshot
clipboard = X11Clipboard(sys.argv[1])
clipboard.restore(ClipboardSnapshot(pickle.loads(sys.stdin.buffer.read())))
print(clipboard.hand_off())
"""


def test_without_a_manager_the_clipboard_outlives_us_until_someone_copies(xserver):
    env = xserver.env
    formats = {
        "UTF8_STRING": "kept ✓ after exit".encode(),
        "text/html": b"<b>kept</b>",
        "image/png": bytes(range(256)) * 4096,  # 1 MiB: the keeper serves it with INCR
    }
    xclip_set(env, "before")
    _no_keepers(xserver.display)
    # capture_output: the call only returns once nothing holds our pipes, so this also
    # checks that the keeper does not keep the exiting process's output open.
    done = subprocess.run([sys.executable, "-c", HAND_OFF_SCRIPT, xserver.display], env=env,
                          input=pickle.dumps(formats), capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.strip() == b"True"
    assert set(formats) <= set(xapp.xclip_targets(env))
    assert {t: xclip_get(env, t) for t in formats} == formats
    assert len(_keepers(xserver.display)) == 1
    xclip_set(env, "copied later")
    wait_for(lambda: not _keepers(xserver.display), timeout=5.0,
             what="the keeper to exit once another program owns the clipboard")
    assert xclip_get(env) == b"copied later"


def test_hand_off_keeps_nothing_once_another_app_owns_the_clipboard(xserver, clipboard):
    clipboard.write_text("ours")
    xclip_set(xserver.env, "theirs")
    _no_keepers(xserver.display)
    assert not clipboard.hand_off(0.5)  # the user's newer copy is not ours to keep
    assert not _keepers(xserver.display)
    assert xclip_get(xserver.env) == b"theirs"


def _clipboard_manager(xserver, saved: dict, ready: threading.Event,
                       stop: threading.Event) -> None:
    """A minimal freedesktop clipboard manager: on SAVE_TARGETS, copy the clipboard."""
    d = Display(xserver.display)
    win = d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
    manager, save = d.intern_atom("CLIPBOARD_MANAGER"), d.intern_atom("SAVE_TARGETS")
    win.set_selection_owner(manager, X.CurrentTime)
    d.sync()
    ready.set()
    try:
        while not stop.is_set():
            ev = pump(d, lambda e: e.type == X.SelectionRequest, time.monotonic() + 0.05)
            if ev is None:
                continue
            ok = ev.target == save
            if ok:  # the owner is serving us while it waits for this answer
                saved.update({t: xclip_get(xserver.env, t) for t in ("UTF8_STRING", "text/html")})
            ev.requestor.send_event(SelectionNotify(
                time=ev.time, requestor=ev.requestor, selection=ev.selection, target=ev.target,
                property=(ev.property or ev.target) if ok else X.NONE))
            d.flush()
    finally:
        d.close()


# ---- keys --------------------------------------------------------------------------------

def test_send_copy_copies_the_selection_without_stray_keys(xserver, clipboard, keys,
                                                         target_window):
    target_window.set_text("The quick brown fox")
    target_window.select(4, 9)
    clipboard.clear()
    target_window.clear_keys()
    assert keys.wait_modifiers_released(1.0)
    keys.send_copy()
    # Tk answers within ~40 ms under Xvfb; 2 s is the pipeline's own bound.
    wait_for(lambda: clipboard.read_text() == "quick", timeout=2.0, what="Tk to copy")
    events = target_window.keys()
    presses = [(k["keysym"], k["state"]) for k in events if k["type"] == "press"]
    assert presses == [("Control_L", 0), ("c", CONTROL)]
    assert not any(k["state"] & ALT or k["send_event"] for k in events)


def test_send_paste_replaces_the_selection(xserver, clipboard, keys, target_window):
    target_window.set_text("The quick brown fox")
    target_window.select(4, 9)
    clipboard.write_text("slow")
    keys.send_paste()
    wait_for(lambda: target_window.text() == "The slow brown fox", timeout=2.0,
             what="Tk to paste")


def test_wait_read_waits_for_the_focused_app_not_for_others(xserver, clipboard, keys,
                                                             target_window):
    target_window.set_text("The quick brown fox")
    target_window.select(4, 9)
    clipboard.write_text("slow")
    assert not clipboard.wait_read(0.1)
    # Another client (as a clipboard manager does on every change) reads it: not the paste.
    assert xclip_get(xserver.env) == b"slow"
    assert not clipboard.wait_read(0.1)
    keys.send_paste()
    assert clipboard.wait_read(2.0)
    wait_for(lambda: target_window.text() == "The slow brown fox", timeout=2.0,
             what="Tk to paste")


@pytest.mark.parametrize("key", ["ctrl", "alt", "shift", "super"])
def test_wait_modifiers_released_while_held_and_after(xserver, keys, key):
    xdotool(xserver.env, "keydown", key)
    try:
        started = time.monotonic()
        assert not keys.wait_modifiers_released(0.2)
        assert time.monotonic() - started >= 0.2
    finally:
        xdotool(xserver.env, "keyup", key)
    assert keys.wait_modifiers_released(1.0)


# ---- notifier, backend choice, tray host ------------------------------------------------

def test_notifier_never_blocks_and_falls_back(tmp_path: Path):
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")  # a notify-send stuck without a daemon
    hang.chmod(0o755)
    shown: list[tuple[str, str]] = []
    notifier = CommandNotifier(lambda t, m: shown.append((t, m)), command=str(hang))
    started = time.monotonic()
    for i in range(5):
        notifier.notify("trayassist", f"message {i}")
    assert time.monotonic() - started < 10.0  # five waits on it would take 150 s
    assert shown == [("trayassist", "message 3"), ("trayassist", "message 4")]
    for proc in notifier._pending:
        proc.kill()
        proc.wait()
    CommandNotifier(lambda t, m: shown.append((t, m)), command=str(tmp_path / "missing")
                    ).notify("t", "m")
    assert shown[-1] == ("t", "m")


def test_make_desktop_on_x11(xserver, monkeypatch):
    monkeypatch.delenv("TRAYASSIST_DESKTOP", raising=False)
    desktop = make_desktop()
    assert desktop.backend == "x11"
    assert isinstance(desktop.hotkeys, X11Hotkeys)  # grabs: the focused app never sees them
    desktop.clipboard.write_text("via make_desktop")
    assert xclip_get(xserver.env) == b"via make_desktop"
    desktop.clipboard.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("wayland", [False, True])
def test_make_desktop_without_display_says_how_to_fix(monkeypatch, wayland):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("TRAYASSIST_DESKTOP", raising=False)
    if wayland:
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    else:
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(DesktopUnavailable, match="set DISPLAY") as err:
        make_desktop("x11")
    assert "trayassist trigger" in str(err.value)
    assert ("Wayland without XWayland" in str(err.value)) == wayland


def test_unknown_backend_is_rejected(monkeypatch):
    monkeypatch.setenv("TRAYASSIST_DESKTOP", "nope")
    with pytest.raises(DesktopUnavailable, match="unknown desktop backend 'nope'") as err:
        make_desktop()
    for name in BACKENDS:  # the message lists every backend the user can choose
        assert name in str(err.value)


def test_a_backend_its_libraries_refuse_is_one_clear_line(monkeypatch):
    """pynput (the basic backend) raises ImportError when it finds no display to use."""
    monkeypatch.setenv("TRAYASSIST_DESKTOP", "basic")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for name in [m for m in sys.modules if m == "pynput" or m.startswith("pynput.")]:
        monkeypatch.delitem(sys.modules, name)  # pynput decides its backend on import
    with pytest.raises(DesktopUnavailable, match="the basic desktop backend cannot start"):
        make_desktop()


def test_tray_host_is_running(xserver, tray_host, tmp_path):
    assert tray_host.poll() is None
    if shutil.which("import"):  # ImageMagick
        shot = xapp.screenshot(xserver.env, tmp_path / "tray-host.png")
        assert shot.stat().st_size > 0
