"""End to end on headless sway, as the user would run it: the trayassist daemon (as the
unprivileged test user, scripted engine), sway bindings written by `trayassist hotkeys
install sway`, pressed with wtype over the virtual keyboard, mousepad as the editor,
foot as the terminal, swaybar as the tray host. A grim screenshot is kept as an artifact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
import pytest

from trayassist.control import ControlError, NoDaemon, endpoint, request
from trayassist.desktop.wayland.datacontrol import DataControl

REWRITE = ("-M", "ctrl", "-M", "alt", "-M", "shift", "-k", "e", "-m", "shift", "-m", "alt",
           "-m", "ctrl")
WATCHER = ("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher",
           "org.kde.StatusNotifierWatcher")
READY_BLUE = (33, 150, 243)  # the ready state's colour (icons/ready.png)


@dataclass
class Rig:
    session: harness.Session
    home: Path  # TRAYASSIST_HOME
    proc: subprocess.Popen[bytes]
    log: Path

    def status(self) -> dict[str, Any]:
        return request({"cmd": "status"}, ep=endpoint(self.home / "run"), timeout=5)

    def wait_jobs(self, count: int, timeout: float = 30.0) -> dict[str, Any]:
        harness.wait_for(lambda: self.proc.poll() is not None
                         or self.status()["jobs_done"] >= count, timeout,
                         what=f"{count} job(s) done")
        assert self.proc.poll() is None, self.log.read_text()
        return self.status()


def _ready(rig: Rig) -> bool:
    if rig.proc.poll() is not None:
        raise RuntimeError(f"daemon exited: {rig.log.read_text()[-3000:]}")
    try:
        return rig.status()["state"] == "ready"
    except (NoDaemon, ControlError, OSError, ValueError):
        return False


def sni_items(session: harness.Session) -> list[str]:
    proc = session.run("busctl", "--user", "--json=short", "get-property", *WATCHER,
                       "RegisteredStatusNotifierItems", check=False)
    if proc.returncode:
        return []
    return list(json.loads(proc.stdout)["data"])


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    root = Path(tempfile.mkdtemp(prefix="ta-wl-"))
    home = root / "ta"
    home.mkdir()
    pythonpath = os.pathsep.join([str(harness.REPO),
                                  *filter(None, os.environ.get("PYTHONPATH", "").split(
                                      os.pathsep))])
    app_env = {"TRAYASSIST_HOME": str(home), "TRAYASSIST_ENGINE": "scripted",
               "TRAYASSIST_SCRIPTED": json.dumps({"reply": "upper"}),
               "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}
    access = harness.Access()
    access.grant(harness.REPO, Path(sys.prefix), Path(os.path.realpath(sys.executable)),
                 *(Path(p) for p in pythonpath.split(os.pathsep)))
    # An editor opted in to the keyless capture (mousepad under another app_id).
    (home / "config.toml").write_text('[apps.notepad]\ncapture = "primary"\n')
    session = harness.start_session(extra_env=app_env, root=root)
    try:
        check = session.run(sys.executable, "-c", "import trayassist, pystray, gi", check=False)
        assert check.returncode == 0, (
            "the test user cannot import trayassist/pystray/gi from this checkout: "
            f"{check.stderr.decode()[-500:]}")
        # The bindings, exactly as a user installs them (and sway reloads them).
        out = session.run(sys.executable, "-m", "trayassist", "hotkeys", "install", "sway")
        assert b"swaymsg reload: ok" in out.stdout, out.stdout + out.stderr
        harness.wait_for(lambda: sni_watcher_up(session), 10, what="swaybar's tray watcher")
        log = root / "daemon.log"
        proc = session.spawn(sys.executable, "-m", "trayassist", "-v", "daemon", log=log)
        rig = Rig(session, home, proc, log)
        harness.wait_for(lambda: _ready(rig), 60, what="the daemon to be ready")
        yield rig
    finally:
        session.stop()
        access.undo()


def sni_watcher_up(session: harness.Session) -> bool:
    return session.run("busctl", "--user", "get-property", *WATCHER,
                       "RegisteredStatusNotifierItems", check=False).returncode == 0


@pytest.fixture
def user_clipboard(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataControl]:
    """The user's clipboard before the hotkey: two MIME types, owned by another client."""
    for key, value in rig.session.root_env().items():
        monkeypatch.setenv(key, value)
    dc = DataControl()
    dc.own({"text/plain;charset=utf-8": b"the user's clipboard",
            "text/html": b"<b>the user's clipboard</b>"})
    try:
        yield dc
    finally:
        dc.close()


def wl_paste(session: harness.Session, *args: str) -> bytes:
    return subprocess.run(["wl-paste", "-n", *args], env=session.root_env(),
                          capture_output=True, timeout=5, check=True).stdout


def select_all(session: harness.Session, watch: DataControl) -> None:
    """Ctrl+A, as the user selects before pressing the hotkey: wait until the editor has
    published the selection (a loaded machine may lag behind two quick wtype calls)."""
    primary = watch.primary_serial
    session.wtype("-M", "ctrl", "-k", "a", "-m", "ctrl", "-k", "VoidSymbol")
    harness.wait_for(lambda: watch.roundtrip() and watch.primary_serial > primary
                     and watch.primary is not None, 5, what="the selection made")


def saved(session: harness.Session, doc: Path, expected: str) -> bool:
    session.wtype("-M", "ctrl", "-k", "s", "-m", "ctrl", "-k", "VoidSymbol")
    return doc.read_text() == expected


def test_hotkey_rewrites_the_selection_and_gives_the_clipboard_back(
        rig: Rig, user_clipboard: DataControl) -> None:
    session = rig.session
    doc = harness.start_mousepad(session, "the quick brown fox")
    before = rig.status()["jobs_done"]
    select_all(session, user_clipboard)
    changes = user_clipboard.selection_serial
    session.wtype(*REWRITE)  # the sway binding runs `trayassist trigger rewrite`
    status = rig.wait_jobs(before + 1)
    assert status["jobs"]["succeeded"] >= 1, status
    harness.wait_for(lambda: saved(session, doc, "THE QUICK BROWN FOX"), 10,
                     what="the editor's text to change")
    assert wl_paste(session, "-t", "text/html") == b"<b>the user's clipboard</b>"
    assert wl_paste(session, "-t", "text/plain;charset=utf-8") == b"the user's clipboard"
    # Copy keys: cleared, the editor's copy, our result, the user's clipboard back.
    assert user_clipboard.roundtrip()  # every selection event so far has arrived
    assert user_clipboard.selection_serial - changes == 4


def test_keyless_capture_from_the_primary_selection(
        rig: Rig, user_clipboard: DataControl) -> None:
    """An app opted in to `capture = "primary"`: the selection is read without any key,
    so the clipboard changes only for the paste (our result, then the user's back)."""
    session = rig.session
    doc = harness.start_mousepad(session, "jumps over the lazy dog", app_id="notepad")
    before = rig.status()["jobs_done"]
    select_all(session, user_clipboard)
    changes = user_clipboard.selection_serial
    session.wtype(*REWRITE)
    rig.wait_jobs(before + 1)
    harness.wait_for(lambda: saved(session, doc, "JUMPS OVER THE LAZY DOG"), 10,
                     what="the editor's text to change")
    assert user_clipboard.roundtrip()  # every selection event so far has arrived
    assert user_clipboard.selection_serial - changes == 2  # no clear, no Ctrl+C copy
    assert wl_paste(session, "-t", "text/html") == b"<b>the user's clipboard</b>"


def test_nothing_selected_changes_nothing(rig: Rig, user_clipboard: DataControl) -> None:
    session = rig.session
    doc = harness.start_mousepad(session, "left alone")
    before = rig.status()["jobs_done"]
    session.wtype("-k", "End", "-k", "VoidSymbol")  # caret, no selection
    session.wtype(*REWRITE)
    status = rig.wait_jobs(before + 1)
    assert "Nothing selected" in status["last_message"]
    session.wtype("-k", "x", "-k", "BackSpace", "-k", "VoidSymbol")  # dirty: Ctrl+S writes
    try:
        harness.wait_for(lambda: saved(session, doc, "left alone"), 10, what="the file saved")
    except TimeoutError:
        session.screenshot("debug-nothing.png")
        raise AssertionError(repr(doc.read_text())) from None
    assert wl_paste(session, "-t", "text/html") == b"<b>the user's clipboard</b>"


def test_tray_item_registered_with_swaybar_showing_the_real_icon(rig: Rig) -> None:
    session = rig.session
    items = harness.wait_for(lambda: sni_items(session), 10, what="a registered tray item")
    service, _, path = items[0].partition("/")
    path = "/" + path if path else "/StatusNotifierItem"
    icon = session.run("busctl", "--user", "--json=short", "get-property", service, path,
                       "org.kde.StatusNotifierItem", "IconName").stdout
    theme = session.run("busctl", "--user", "--json=short", "get-property", service, path,
                        "org.kde.StatusNotifierItem", "IconThemePath").stdout
    name, folder = json.loads(icon)["data"], json.loads(theme)["data"]
    assert name == "trayassist-ready"
    assert (Path(folder) / f"{name}.png").is_file()

    def blue_in_bar() -> Path | None:
        from PIL import Image

        shot = session.screenshot("wayland-sway-tray.png")
        with Image.open(shot) as img:
            bar = img.convert("RGB").crop((img.width - 200, 0, img.width, 28))
            raw = bar.tobytes()
            hits = sum(1 for i in range(0, len(raw), 3) if all(
                abs(a - b) < 30 for a, b in zip(raw[i:i + 3], READY_BLUE, strict=True)))
        return shot if hits > 20 else None

    harness.wait_for(blue_in_bar, 10, step=0.5, what="the ready icon drawn in swaybar")


def test_terminal_gets_no_bare_ctrl_c(rig: Rig) -> None:
    """foot's profile (issue 9) never sends Ctrl+C, which a terminal turns into SIGINT.
    The control press at the end proves the trap would have seen one."""
    session = rig.session
    marker = session.home / "sigint"
    script = f"trap 'echo INT >> {marker}' INT; while :; do sleep 0.05; done"
    existing = session.window_ids()
    session.spawn("foot", "/bin/sh", "-c", script, log=session.root / "foot.log")
    harness.wait_for(lambda: (n := session.focused_node()) is not None
                     and n.get("app_id") == "foot" and n["id"] not in existing, 15,
                     what="a new foot window focused")
    before = rig.status()["jobs_done"]
    session.wtype(*REWRITE)
    status = rig.wait_jobs(before + 1)
    assert "Nothing" in status["last_message"], status
    assert not marker.exists(), "trayassist sent Ctrl+C to the terminal"
    session.wtype("-M", "ctrl", "-k", "c", "-m", "ctrl", "-k", "VoidSymbol")
    harness.wait_for(marker.exists, 5, what="the control Ctrl+C to reach the trap")


def _menu_ids(layout: Any, found: dict[str, int]) -> dict[str, int]:
    """dbusmenu's GetLayout tree (id, props, children) -> label: id."""
    item_id, props, children = layout
    label = props.get("label", {}).get("data") if isinstance(props, dict) else None
    if label:
        found[label.replace("_", "")] = item_id
    for child in children:
        _menu_ids(child.get("data", child) if isinstance(child, dict) else child, found)
    return found


def test_tray_menu_works_over_dbusmenu(rig: Rig) -> None:
    session = rig.session
    service, _, path = harness.wait_for(lambda: sni_items(session), 10,
                                        what="a tray item")[0].partition("/")
    path = "/" + path if path else "/StatusNotifierItem"
    menu = json.loads(session.run("busctl", "--user", "--json=short", "get-property", service,
                                  path, "org.kde.StatusNotifierItem", "Menu").stdout)["data"]

    def ids() -> dict[str, int]:
        # The menu is rebuilt on state changes (new item ids): read it right before a click.
        reply = session.run("busctl", "--user", "--json=short", "call", service, menu,
                            "com.canonical.dbusmenu", "GetLayout", "iias", "0", "10", "0")
        return _menu_ids(json.loads(reply.stdout)["data"][1], {})

    assert {"Pause hotkeys", "Quit"} <= set(ids()), ids()

    def click(label: str) -> None:
        def clicked() -> bool:
            return session.run("busctl", "--user", "call", service, menu,
                               "com.canonical.dbusmenu", "Event", "isvu", str(ids()[label]),
                               "clicked", "s", "", "0", check=False).returncode == 0

        harness.wait_for(clicked, 5, what=f"a click on {label!r}")

    click("Pause hotkeys")
    harness.wait_for(lambda: rig.status()["state"] == "paused", 5, what="paused from the menu")
    click("Pause hotkeys")
    harness.wait_for(lambda: rig.status()["state"] == "ready", 5, what="resumed from the menu")
