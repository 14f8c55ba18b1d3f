"""The tray daemon on a real X server: trayer hosts the icon, a Tk window is the target,
xdotool presses the real hotkeys, and xclip reads the clipboard."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from daemon_harness import DaemonProc, env_without_display
from xapp import XAppClient, run_x, screenshot, wait_for, xclip_get, xclip_set, xdotool

pytestmark = pytest.mark.desktop

ARTIFACTS = Path(os.environ.get("TRAYASSIST_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / "artifacts")
PROOFREAD = "ctrl+alt+shift+p"
REWRITE = "ctrl+alt+shift+e"
BEFORE = "what the user had on the clipboard"
TYPO = "teh cat sat on teh mat."
PASTE = 'delivery = "paste"\n'




def pressed(window: XAppClient, keysym: str) -> bool:
    events = window.keys()  # every key event the window received
    return any(e["type"] == "press" and e["keysym"] == keysym for e in events)


def modifiers_down(display: str) -> list[str]:
    from Xlib import XK
    from Xlib.display import Display

    d = Display(display)
    try:
        keymap = d.query_keymap()
        down = []
        for name in ("Control_L", "Control_R", "Alt_L", "Alt_R", "Shift_L", "Shift_R",
                     "Super_L", "Super_R"):
            code = d.keysym_to_keycode(XK.string_to_keysym(name))
            if code and keymap[code // 8] & (1 << (code % 8)):
                down.append(name)
        return down
    finally:
        d.close()


def test_icon_docks_in_the_tray_and_a_screenshot_is_saved(xserver, daemons) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper"})
    tree = run_x(xserver.env, "xwininfo", "-root", "-tree").stdout.decode()
    trayer_line = next(ln for ln in tree.splitlines() if "panel" in ln.lower()
                       or "trayer" in ln.lower())
    assert trayer_line
    # Docked: the icon's window is reparented below trayer's, not a top-level window.
    # pystray names the icon window's WM_CLASS instance "<name>SystemTrayIcon".
    icon = run_x(xserver.env, "xdotool", "search", "--classname", "^trayassistSystemTrayIcon$",
                 check=False).stdout.split()
    assert icon, f"no trayassist window:\n{tree}"
    parent = run_x(xserver.env, "xwininfo", "-children", "-id", icon[0].decode()).stdout.decode()
    assert "Parent window id" in parent and "(the root window)" not in parent.split(
        "Parent window id")[1].splitlines()[0], parent
    ARTIFACTS.mkdir(exist_ok=True)
    shot = screenshot(xserver.env, ARTIFACTS / "tray.png")
    assert shot.stat().st_size > 1000
    print(f"tray screenshot: {shot}")
    assert daemon.status()["state"] == "ready"


@pytest.mark.engine
def test_hotkey_replaces_the_selection_and_restores_the_clipboard(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    # delivery = "paste": the embedded model is not capable of proofread (docs/QUALITY.md),
    # so "auto" would show the review window; this test is about the paste itself.
    daemon = daemons.start(xserver.env, config=PASTE)
    xclip_set(xserver.env, BEFORE)
    target_window.set_text(TYPO)
    target_window.select_all()
    xdotool(xserver.env, "key", PROOFREAD)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    result = target_window.text()
    assert result != TYPO and result.strip() and "teh" not in result
    assert "<|im_" not in result
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")
    assert TYPO not in daemon.output() and result not in daemon.output()


def test_nothing_selected_leaves_text_and_daemon_answers(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper"})
    xclip_set(xserver.env, BEFORE)
    target_window.set_text("nothing is selected here")
    xdotool(xserver.env, "key", REWRITE)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["refused"] == 1 and status["state"] == "ready"
    assert target_window.text() == "nothing is selected here"
    assert "Nothing selected" in status["last_message"]
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")


def test_secret_marked_copy_is_never_transformed(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper"})
    target_window.set_text("hunter2 is my password")
    target_window.select_all()
    target_window.call("secret_copy", True)  # the app marks what it copies, as KeePassXC does
    xdotool(xserver.env, "key", REWRITE)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["refused"] == 1
    assert "secret" in status["last_message"]
    assert target_window.text() == "hunter2 is my password"
    assert "hunter2" not in daemon.output()


def test_held_modifiers_cause_no_stray_keys_and_none_stay_stuck(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper"})
    target_window.set_text("hold the keys")
    target_window.select_all()
    target_window.clear_keys()
    xdotool(xserver.env, "keydown", "ctrl", "alt", "shift", "e")
    xdotool(xserver.env, "keyup", "e")
    # The daemon must wait for the user to let go of Ctrl/Alt/Shift before copying.
    wait_for(lambda: daemon.status()["state"] == "busy", timeout=5.0, what="job started")
    assert target_window.text() == "hold the keys"
    xdotool(xserver.env, "keyup", "shift", "alt", "ctrl")
    daemon.wait_jobs(1)
    assert target_window.text() == "HOLD THE KEYS"
    assert modifiers_down(xserver.display) == []
    events = target_window.keys()  # every key event the window received
    injected = [k for k in events if k["type"] == "press" and k["keysym"] in "cvCV"]
    # Only clean Ctrl+C / Ctrl+V reached the window: Control (4) without Alt (8) or Shift (1).
    assert [(k["keysym"].lower(), k["state"] & 0b1101) for k in injected] == [
        ("c", 4), ("v", 4)]


def test_hammered_hotkey_during_a_slow_job_runs_exactly_one(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper", "token_delay_s": 0.4})
    target_window.set_text("one job only please")
    target_window.select_all()
    target_window.clear_keys()
    xdotool(xserver.env, "key", REWRITE)
    # Hammer while the model works: once the window has received the daemon's Ctrl+C.
    wait_for(lambda: pressed(target_window, "c"), timeout=5.0,
             what="the daemon's copy keystroke")
    xdotool(xserver.env, "key", "--repeat", "20", "--delay", "20", REWRITE)
    status = daemon.wait_jobs(21)
    assert status["jobs"] == {"succeeded": 1, "refused": 20, "failed": 0}
    assert target_window.text() == "ONE JOB ONLY PLEASE"


def test_sigterm_mid_job_restores_the_clipboard_and_exits_fast(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    # Each word takes 30 s: only the cancel, not the job's end, can let it exit soon.
    daemon = daemons.start(xserver.env, scripted={"reply": "upper", "token_delay_s": 30.0})
    xclip_set(xserver.env, BEFORE)
    target_window.set_text("a long job that will be interrupted")
    target_window.select_all()
    xdotool(xserver.env, "key", REWRITE)
    wait_for(lambda: daemon.status()["state"] == "busy", timeout=5.0, what="job started")
    elapsed = daemon.terminate()
    assert elapsed < 15.0, daemon.output()
    assert target_window.text() == "a long job that will be interrupted"
    assert xclip_get(xserver.env) == BEFORE.encode()


def test_quit_mid_job_restores_the_clipboard_and_waits_for_the_exit(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper", "token_delay_s": 1.0})
    xclip_set(xserver.env, BEFORE)
    target_window.set_text("a long job that will be interrupted")
    target_window.select_all()
    xdotool(xserver.env, "key", REWRITE)
    wait_for(lambda: daemon.status()["state"] == "busy", timeout=5.0, what="job started")
    proc = daemon.cli("quit", timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert daemon.proc is not None and daemon.proc.wait(timeout=5) == 0
    assert target_window.text() == "a long job that will be interrupted"
    assert xclip_get(xserver.env) == BEFORE.encode()
    again = daemon.cli("quit", timeout=30)
    assert again.returncode == 1 and "not running" in again.stderr


def test_second_instance_refused_and_kill_9_leaves_no_stale_lock(xserver, daemons) -> None:  # type: ignore[no-untyped-def]
    first = daemons.start(xserver.env, scripted={"reply": "upper"})
    second = first.cli("daemon", timeout=20)
    assert second.returncode == 1 and "already running" in second.stderr
    assert first.proc is not None
    first.proc.kill()
    first.proc.wait()
    assert Path(first.endpoint.address).exists()  # the dead daemon's socket is stale
    stale = first.cli("status", timeout=20)
    assert stale.returncode == 1 and "not running" in stale.stderr, stale.stderr
    again = DaemonProc(xserver.env, scripted={"reply": "upper"})
    again.home, again.env = first.home, first.env  # same home, same lock and socket paths
    daemons.append(again)
    again.start()
    assert again.status()["state"] == "ready"


@pytest.mark.engine
def test_trigger_does_what_the_hotkey_does(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, config=PASTE)
    target_window.set_text(TYPO)
    target_window.select_all()
    xdotool(xserver.env, "key", PROOFREAD)
    daemon.wait_jobs(1)
    by_hotkey = target_window.text()
    target_window.set_text(TYPO)
    target_window.select_all()
    proc = daemon.cli("trigger", "proofread")
    assert proc.returncode == 0, proc.stderr
    assert target_window.text() == by_hotkey != TYPO
    assert daemon.status()["jobs"]["succeeded"] == 2


def test_no_display_is_one_clear_line(xserver) -> None:  # type: ignore[no-untyped-def]
    import sys

    proc = subprocess.run([sys.executable, "-m", "trayassist", "daemon"],
                          env=env_without_display(xserver.env), capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "DISPLAY" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_status_reports_engine_and_model(xserver, daemons) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper"})
    proc = daemon.cli("status", "--json")
    assert proc.returncode == 0
    import json

    status = json.loads(proc.stdout)
    assert status["state"] == "ready" and status["jobs_done"] == 0
    assert status["engine"] == "scripted" and status["model"]
