"""The review window, the launcher and the ledger on a real X server: trayer hosts the
icon, a Tk window is the target, xdotool presses real keys, xclip reads the clipboard.

Screenshots go to $TRAYASSIST_ARTIFACTS (default: artifacts/ at the repo root, git-ignored);
each test prints the path of what it saved."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import review_log
from daemon_harness import DaemonProc, Daemons
from xapp import XAppClient, run_x, screenshot, wait_for, xclip_get, xclip_set, xdotool

pytestmark = pytest.mark.desktop

ARTIFACTS = Path(os.environ.get("TRAYASSIST_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / "artifacts")
REWRITE = "ctrl+alt+shift+e"
BEFORE = "what the user had on the clipboard"
ORIGINAL = "meet the team at 3pm in room 12"
CHANGED = "meet the team at 5pm in room 12"  # the guard flags 3pm -> 5pm




def events(daemon: DaemonProc) -> list[dict[str, Any]]:
    return review_log.events(daemon.home / "run" / review_log.NAME)


def has_event(daemon: DaemonProc, name: str, count: int = 1) -> bool:
    return review_log.count(daemon.home / "run" / review_log.NAME, name) >= count


def review_window(env: dict[str, str]) -> str | None:
    found = run_x(env, "xdotool", "search", "--onlyvisible", "--classname",
                  "^trayassist-review$", check=False).stdout.split()
    return found[0].decode() if found else None


def shot(env: dict[str, str], name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = screenshot(env, ARTIFACTS / name)
    assert path.stat().st_size > 1000
    print(f"screenshot: {path}")
    return path


def flagged_job(xserver, daemons: Daemons, target: XAppClient,  # type: ignore[no-untyped-def]
                reply: str | list[str] = CHANGED) -> DaemonProc:
    daemon = daemons.start(xserver.env, scripted={"reply": reply})
    xclip_set(xserver.env, BEFORE)
    target.set_text(ORIGINAL)
    target.select_all()
    xdotool(xserver.env, "mousemove", "200", "200")
    xdotool(xserver.env, "key", REWRITE)
    wait_for(lambda: has_event(daemon, "final"), timeout=20.0, what="the review window")
    assert review_window(xserver.env), "review window not visible"
    return daemon


def test_flagged_result_opens_the_window_and_esc_leaves_text_and_clipboard(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = flagged_job(xserver, daemons, target_window)
    shot(xserver.env, "review-flagged.png")
    assert target_window.text() == ORIGINAL  # nothing pasted while the window is open
    xdotool(xserver.env, "key", "Escape")
    status = daemon.wait_jobs(1)
    assert status["jobs"]["refused"] == 1 and status["last_message"].startswith("Discarded")
    assert target_window.text() == ORIGINAL
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")
    wait_for(lambda: not review_window(xserver.env), what="the window to close")
    wait_for(target_window.focus, what="the keyboard back in the target")
    assert ORIGINAL not in daemon.output() and CHANGED not in daemon.output()


def test_esc_while_the_model_still_writes_is_a_discard_not_a_failure(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    # Every word takes 5 s: the window is open and streaming long before the result ends.
    daemon = daemons.start(xserver.env, config='delivery = "review"\n',
                   scripted={"reply": "upper", "token_delay_s": 5.0})
    xclip_set(xserver.env, BEFORE)
    target_window.set_text(ORIGINAL)
    target_window.select_all()
    xdotool(xserver.env, "mousemove", "200", "200")
    xdotool(xserver.env, "key", REWRITE)
    wait_for(lambda: review_window(xserver.env), timeout=20.0, what="the review window")
    assert daemon.status()["state"] == "busy" and not has_event(daemon, "final")
    xdotool(xserver.env, "key", "Escape")
    status = daemon.wait_jobs(1)
    # Counted as the Esc after the end is (the user's choice), said as a discard.
    assert status["jobs"] == {"succeeded": 0, "refused": 1, "failed": 0}, daemon.output()
    assert status["last_message"].startswith("Discarded"), status["last_message"]
    assert not has_event(daemon, "final")  # it stopped the model, not waited for it
    assert target_window.text() == ORIGINAL
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")


@pytest.mark.parametrize("key, text_after, clipboard_after", [
    ("Return", CHANGED, BEFORE),  # replaces the selection; the user's clipboard comes back
    ("ctrl+c", ORIGINAL, CHANGED),  # copies, on purpose: the text stays as it was
])
def test_enter_replaces_and_ctrl_c_copies(
        xserver, daemons, target_window: XAppClient,  # type: ignore[no-untyped-def]
        key: str, text_after: str, clipboard_after: str) -> None:
    daemon = flagged_job(xserver, daemons, target_window)
    xdotool(xserver.env, "key", key)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    assert target_window.text() == text_after
    assert target_window.focus()  # the target has the keyboard again
    wait_for(lambda: xclip_get(xserver.env) == clipboard_after.encode(), timeout=3.0,
             what="the clipboard as the choice leaves it")


def test_r_runs_it_again_and_enter_pastes_the_new_result(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    again = "Meet the team at 3pm in room 12."
    daemon = flagged_job(xserver, daemons, target_window, reply=[CHANGED, again])
    xdotool(xserver.env, "key", "r")
    wait_for(lambda: has_event(daemon, "retrying"), timeout=10.0, what="the retry to start")
    wait_for(lambda: has_event(daemon, "final", 2), timeout=20.0, what="the second result")
    assert target_window.text() == ORIGINAL  # still nothing pasted
    shot(xserver.env, "review-retried.png")
    xdotool(xserver.env, "key", "Return")
    status = daemon.wait_jobs(1)
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    wait_for(lambda: target_window.text() == again, timeout=5.0, what="the new result pasted")
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")


def test_first_piece_is_visible_before_the_job_ends(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    words = "one two three four five six seven eight nine ten"
    daemon = daemons.start(xserver.env, config='delivery = "review"\n',
                   scripted={"reply": words, "token_delay_s": 0.15})
    target_window.set_text("count to ten please")
    target_window.select_all()
    xdotool(xserver.env, "key", REWRITE)
    wait_for(lambda: has_event(daemon, "first_piece"), timeout=20.0, what="the first piece")
    assert not has_event(daemon, "final")  # still writing
    assert daemon.status()["state"] == "busy"
    shot(xserver.env, "review-streaming.png")
    wait_for(lambda: has_event(daemon, "final"), timeout=20.0, what="the whole result")
    log = events(daemon)
    first = next(e["t"] for e in log if e["event"] == "first_piece")
    final = next(e["t"] for e in log if e["event"] == "final")
    assert final - first > 0.5  # ten words 0.15 s apart: the first came long before the end
    shot(xserver.env, "review-final.png")
    xdotool(xserver.env, "key", "Return")
    daemon.wait_jobs(1)
    assert target_window.text() == words


def test_launcher_opens_on_click_under_trayer(xserver, daemons) -> None:  # type: ignore[no-untyped-def]
    # pystray's plain X11 backend, the one trayer gets when no GTK/AppIndicator binding
    # (python gi) is installed: a click there used to reach nobody.
    env = {**xserver.env, "PYSTRAY_BACKEND": "xorg"}
    daemon = daemons.start(env, scripted={"reply": "upper"})
    click_tray_icon(xserver.env)
    wait_for(lambda: has_event(daemon, "launcher_shown"), timeout=10.0, what="the launcher")
    assert review_window(xserver.env)
    assert daemon.status()["jobs_done"] == 0  # the click ran no action
    shot(xserver.env, "launcher.png")
    xdotool(xserver.env, "key", "Escape")
    wait_for(lambda: not review_window(xserver.env), what="the launcher to close")
    assert daemon.status()["jobs_done"] == 0
    # Again, and pick "Privacy ledger" (entry 6: four actions, pause, ledger) by its key.
    xdotool(xserver.env, "click", "1")
    wait_for(lambda: has_event(daemon, "launcher_shown", 2), timeout=10.0,
             what="the launcher again")
    xdotool(xserver.env, "key", "6")
    wait_for(lambda: any(e["event"] == "launcher_shown" and e.get("items") == 0
                         for e in events(daemon)), timeout=10.0, what="the ledger panel")
    shot(xserver.env, "ledger.png")
    xdotool(xserver.env, "key", "Escape")
    wait_for(lambda: not review_window(xserver.env), what="the ledger panel to close")


def test_ledger_counts_a_job_and_never_holds_its_text(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = daemons.start(xserver.env, scripted={"reply": "upper"})
    text = "confidential plans for the Blueberry merger"
    target_window.set_text(text)
    target_window.select_all()
    xdotool(xserver.env, "key", REWRITE)
    daemon.wait_jobs(1)
    assert target_window.text() == text.upper()
    proc = daemon.cli("ledger", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["jobs"] == 1 and data["actions"]["rewrite"]["words"] == 6
    assert data["bytes_sent_remote"] == 0
    stored = (daemon.home / "data" / "ledger.json").read_text().lower()
    for word in ("confidential", "blueberry", "merger", "plans"):
        assert word not in stored and word not in proc.stdout.lower()


def click_tray_icon(env: dict[str, str]) -> None:
    wait_for(lambda: icon_embedding(env["DISPLAY"])[1] > 1, timeout=10.0,
             what="trayer to embed the icon")
    icon = wait_for(lambda: run_x(env, "xdotool", "search", "--classname",
                                  "^trayassistSystemTrayIcon$", check=False).stdout.split(),
                    timeout=10.0, what="the tray icon")
    xdotool(env, "mousemove", "--window", icon[0].decode(), "4", "4")
    xdotool(env, "click", "1")


def test_a_tray_click_while_the_review_window_waits_keeps_it_and_esc_still_works(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    """Found by hand: a click on the icon replaced the open review window by the
    launcher; the job then waited 15 minutes for a choice no window could give, and
    every hotkey was refused as busy."""
    env = {**xserver.env, "PYSTRAY_BACKEND": "xorg"}
    daemon = daemons.start(env, scripted={"reply": CHANGED})
    xclip_set(env, BEFORE)
    target_window.set_text(ORIGINAL)
    target_window.select_all()
    xdotool(env, "key", REWRITE)
    wait_for(lambda: has_event(daemon, "final"), timeout=20.0, what="the review window")
    click_tray_icon(env)
    wait_for(lambda: has_event(daemon, "shown", 2), timeout=10.0,
             what="the review window shown again")
    assert not has_event(daemon, "launcher_shown")  # the job's window keeps the screen
    assert review_window(env)
    xdotool(env, "key", "Escape")
    status = daemon.wait_jobs(1, timeout=10.0)
    assert status["jobs"]["refused"] == 1 and status["state"] == "ready"
    assert target_window.text() == ORIGINAL
    wait_for(lambda: xclip_get(env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")


def test_the_launcher_cancels_a_running_job_that_has_no_window(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    """A long clean job under delivery = auto shows no window; under trayer the launcher
    is the only menu, so it must offer what the tray menu offers: cancel."""
    env = {**xserver.env, "PYSTRAY_BACKEND": "xorg"}
    daemon = daemons.start(env, scripted={"reply": "echo", "token_delay_s": 0.5})
    xclip_set(env, BEFORE)
    text = "one two three four five six seven eight nine ten eleven twelve"
    target_window.set_text(text)
    target_window.select_all()
    xdotool(env, "key", REWRITE)
    wait_for(lambda: daemon.status()["state"] == "busy", timeout=10.0, what="the job")
    click_tray_icon(env)
    # four actions, cancel, pause, ledger, quit
    wait_for(lambda: any(e["event"] == "launcher_shown" and e.get("items") == 8
                         for e in events(daemon)), timeout=10.0, what="the launcher")
    xdotool(env, "key", "5")
    status = daemon.wait_jobs(1, timeout=10.0)
    assert status["jobs"]["succeeded"] == 0, status
    assert target_window.text() == text
    wait_for(lambda: xclip_get(env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")


def icon_embedding(display: str) -> tuple[int, int]:
    """(the window trayer embeds the icon in, the icon's width)."""
    from Xlib.display import Display

    d = Display(display)
    try:
        def find(window):  # type: ignore[no-untyped-def]
            for child in window.query_tree().children:
                if (child.get_wm_class() or ("", ""))[0] == "trayassistSystemTrayIcon":
                    return child
                found = find(child)
                if found is not None:
                    return found
            return None

        icon = find(d.screen().root)
        assert icon is not None, "no tray icon"
        return icon.query_tree().parent.id, icon.get_geometry().width
    finally:
        d.close()


def test_the_tray_icon_stays_docked_and_visible_through_state_changes(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    """Found by hand: pystray's X11 icon asked trayer to dock it again on every state
    change; trayer re-embedded it and often left it 1 pixel wide (invisible, unclickable)."""
    env = {**xserver.env, "PYSTRAY_BACKEND": "xorg"}
    daemon = daemons.start(env, scripted={"reply": "upper"})
    socket, width = wait_for(lambda: icon_embedding(xserver.display)[1] > 1
                             and icon_embedding(xserver.display), timeout=10.0,
                             what="the icon docked")
    assert width >= 16
    for n in range(1, 4):  # ready -> busy -> ready, three times
        target_window.set_text(f"job number {n}")
        target_window.select_all()
        xdotool(env, "key", REWRITE)
        daemon.wait_jobs(n)
        assert target_window.text() == f"JOB NUMBER {n}"
        assert icon_embedding(xserver.display) == (socket, width)


def test_a_flagged_result_notice_keeps_the_users_text_out_of_the_log(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    """Found by reading the log: under delivery = "paste" the notice of a flagged result
    ("check the result: dropped: alice@example.com") was logged word for word."""
    original = "write to alice@example.com before 3pm"
    reply = "write to bob@example.org before 5pm"
    daemon = daemons.start(xserver.env, config='delivery = "paste"\n',
                   scripted={"reply": reply})
    target_window.set_text(original)
    target_window.select_all()
    xdotool(xserver.env, "key", REWRITE)
    daemon.wait_jobs(1)
    assert target_window.text() == reply  # pasted: the user asked for no review
    log = daemon.output()
    assert "notify" in log  # the notice was given ...
    for secret in ("alice@example.com", "bob@example.org", "3pm", "5pm"):
        assert secret not in log  # ... and the log kept none of the text
