"""The Wayland adapters on a real headless sway: clipboard snapshots of every MIME type,
the restore rule, the secret hint, wtype keys into mousepad, focus and the primary
selection. Another Wayland client (a second data-control connection) plays "another app"."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import harness
import pytest

from trayassist.clipboard_guard import RestoreGuard
from trayassist.desktop.wayland.clipboard import SECRET_HINT, WaylandClipboard
from trayassist.desktop.wayland.datacontrol import DataControl
from trayassist.desktop.wayland.focus import SwayFocus
from trayassist.desktop.wayland.keys import WtypeKeys
from trayassist.desktop.wayland.primary import WaylandPrimary
from trayassist.ports import ClipboardSnapshot

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # binary, with NULs and high bytes


@pytest.fixture
def clipboard(wayland_env: harness.Session) -> Iterator[WaylandClipboard]:
    cb = WaylandClipboard()
    try:
        yield cb
    finally:
        cb.close()


@pytest.fixture
def other_app(wayland_env: harness.Session) -> Iterator[DataControl]:
    dc = DataControl()
    try:
        yield dc
    finally:
        dc.close()


def wl_paste(session: harness.Session, *args: str) -> bytes:
    return subprocess.run(["wl-paste", "-n", *args], env=session.root_env(),
                          capture_output=True, timeout=5, check=True).stdout


def test_snapshot_and_restore_keep_every_type(wayland_env: harness.Session,
                                              clipboard: WaylandClipboard,
                                              other_app: DataControl) -> None:
    other_app.own({"text/plain;charset=utf-8": "user's text ✓".encode(),
                   "text/html": b"<i>user's</i>", "image/png": PNG})
    clipboard.dc.roundtrip()
    snap = clipboard.snapshot()
    assert snap.formats == {"text/plain;charset=utf-8": "user's text ✓".encode(),
                            "text/html": b"<i>user's</i>", "image/png": PNG}
    clipboard.write_text("the result")
    assert wl_paste(wayland_env) == b"the result"
    listed = wl_paste(wayland_env, "-l").decode().split()
    assert SECRET_HINT in listed  # clipboard history keeps out of what we write
    assert wl_paste(wayland_env, "-t", SECRET_HINT) == b"secret"
    clipboard.restore(snap)
    assert wl_paste(wayland_env, "-t", "text/html") == b"<i>user's</i>"
    assert wl_paste(wayland_env, "-t", "image/png") == PNG
    assert wl_paste(wayland_env, "-t", "text/plain;charset=utf-8") == "user's text ✓".encode()


def test_restore_rule_keeps_what_the_user_copied_meanwhile(
        wayland_env: harness.Session, clipboard: WaylandClipboard,
        other_app: DataControl) -> None:
    other_app.own({"text/plain;charset=utf-8": b"before"})
    clipboard.dc.roundtrip()
    guard = RestoreGuard(clipboard, clipboard.snapshot())
    clipboard.write_text("our result")
    guard.expect("our result")
    other_app.own({"text/plain;charset=utf-8": b"copied during the job"})
    clipboard.dc.roundtrip()
    guard.restore()
    assert wl_paste(wayland_env) == b"copied during the job"


def test_secret_hint_is_honoured_and_ours_is_not_secret(
        wayland_env: harness.Session, clipboard: WaylandClipboard,
        other_app: DataControl) -> None:
    other_app.own({"text/plain;charset=utf-8": b"hunter2", SECRET_HINT: b"secret"})
    clipboard.dc.roundtrip()
    assert clipboard.is_secret()
    clipboard.write_text("our result")
    assert not clipboard.is_secret()


def test_empty_clipboard_snapshot_restores_empty(wayland_env: harness.Session,
                                                 clipboard: WaylandClipboard,
                                                 other_app: DataControl) -> None:
    other_app.own(None)
    clipboard.dc.roundtrip()
    snap = clipboard.snapshot()
    assert not snap.owned
    clipboard.write_text("x")
    clipboard.restore(snap)
    proc = subprocess.run(["wl-paste", "-n"], env=wayland_env.root_env(), capture_output=True,
                          timeout=5)
    assert proc.returncode != 0  # "No selection"


def test_wait_read_counts_only_reads_after_the_paste(wayland_env: harness.Session,
                                                     clipboard: WaylandClipboard) -> None:
    clipboard.write_text("result")
    wl_paste(wayland_env)  # a clipboard manager reading every new selection at once
    clipboard.mark.mark()  # the paste keystroke goes out now
    assert not clipboard.wait_read(0.3)
    wl_paste(wayland_env)
    assert clipboard.wait_read(1.0)


def test_copy_paste_focus_and_primary_in_mousepad(wayland_env: harness.Session,
                                                  clipboard: WaylandClipboard) -> None:
    session = wayland_env
    doc = harness.start_mousepad(session, "alpha beta gamma")
    focus = SwayFocus()
    app = focus.focused_app()
    assert app is not None and app.app_id == "mousepad" and app.process == "mousepad"
    primary = WaylandPrimary(focus)
    clipboard.close()
    clipboard = WaylandClipboard(on_primary_change=primary.note_change)
    primary.attach(clipboard)
    keys = WtypeKeys(clipboard.mark)

    assert primary.read_primary(app) is None  # nothing selected since we started
    keys.send_chord("<ctrl>+a")  # select all: GTK sets the primary selection
    harness.wait_for(lambda: primary.read_primary(app) == "alpha beta gamma", 5,
                     what="the selection on the primary selection")

    clipboard.clear()
    keys.send_copy()
    harness.wait_for(lambda: clipboard.read_text() == "alpha beta gamma", 5,
                     what="Ctrl+C to copy the selection")

    clipboard.write_text("ALPHA BETA GAMMA")
    keys.send_paste()
    assert clipboard.wait_read(2.0)

    def saved() -> bool:
        # GTK pastes asynchronously: a Ctrl+S may beat the insert, so save until it shows.
        keys.send_chord("<ctrl>+s")
        return doc.read_text() == "ALPHA BETA GAMMA"

    harness.wait_for(saved, 10, what="the pasted text saved")

    # A selection made in another window is not the focused app's: foot takes focus.
    keys.send_chord("<ctrl>+a")
    harness.wait_for(lambda: primary.read_primary(app), 5, what="selection")
    session.spawn("foot", "/bin/sh", log=session.root / "foot.log")
    harness.wait_for(lambda: session.focused_app_id() == "foot", 15, what="foot focused")
    foot = focus.focused_app()
    assert foot is not None and foot.app_id == "foot"
    time.sleep(0.1)  # nothing to poll for: the point is that nothing changes
    assert primary.read_primary(foot) is None


def test_doctor_names_the_path_of_each_step(wayland_env: harness.Session) -> None:
    proc = subprocess.run([sys.executable, "-m", "trayassist", "doctor"],
                          env={**wayland_env.root_env(), "XDG_CONFIG_HOME": str(
                              wayland_env.root / "root-config")},
                          capture_output=True, text=True, timeout=60)
    lines = {line.split()[1]: line for line in proc.stdout.splitlines()
             if line[:3] in ("ok ", "-- ")}
    assert "Wayland (sway" in lines["session"]
    assert "primary selection" in lines["capture"] and "wlr-data-control" in lines["capture"]
    assert "wtype" in lines["paste"] and lines["paste"].startswith("ok")
    # No bindings installed for this (root) user, no portal on this bus: the fix says how.
    assert lines["hotkeys"].startswith("--")
    assert "fix: trayassist hotkeys install sway" in proc.stdout
    assert "tray" in lines


def test_clipboard_outlives_the_daemon(wayland_env: harness.Session) -> None:
    cb = WaylandClipboard()
    cb.restore(ClipboardSnapshot({"text/plain;charset=utf-8": b"kept", "text/html": b"<p>"}))
    assert cb.hand_off()
    cb.close()  # we are gone; the keeper serves
    assert wl_paste(wayland_env, "-t", "text/html") == b"<p>"
    assert wl_paste(wayland_env) == b"kept"
    other = DataControl()
    other.own({"text/plain;charset=utf-8": b"new copy"})  # the keeper steps aside
    other.close()
