"""The portal clients (jeepney) against python-dbusmock on a private session bus:
GlobalShortcuts (CreateSession, BindShortcuts, Activated -> the callback enqueues) and
RemoteDesktop (session, then Ctrl+V as keysym presses and releases)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import harness
import pytest

from trayassist.desktop.wayland.hotkeys import (
    INTERFACE,
    AutoHotkeys,
    DesktopBindings,
    PortalHotkeys,
)
from trayassist.desktop.wayland.portal import PATH
from trayassist.desktop.wayland.portal_keys import PortalKeys

TEMPLATE = Path(__file__).with_name("portal_mock.py")
HOTKEY = "<ctrl>+<alt>+<shift>+e"


def _dbusmock_available() -> bool:
    return subprocess.run(["/usr/bin/python3", "-c", "import dbusmock"],
                          capture_output=True, timeout=20).returncode == 0


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    harness.require("dbus-daemon")
    if not _dbusmock_available():
        harness.require("python3-dbusmock (Debian package)")
    folder = Path(tempfile.mkdtemp(prefix="ta-bus-"))
    address = f"unix:path={folder}/bus"
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                             f"--address={address}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        harness.wait_for(lambda: (folder / "bus").exists(), 10, what="dbus-daemon")
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    finally:
        harness.stop_proc(proc)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def portal(bus: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--session", "-t",
                             str(TEMPLATE)], env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        harness.wait_for(lambda: _owned(bus), 20, step=0.1, what="the mocked portal")
        yield proc
    finally:
        harness.stop_proc(proc)


def _owned(bus: str) -> bool:
    out = subprocess.run(["busctl", f"--address={bus}",
                          "list", "--no-pager"], capture_output=True, text=True, timeout=5)
    return "org.freedesktop.portal.Desktop" in out.stdout


def _mock_call(method: str, signature: str, *args: object) -> tuple[object, ...]:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    mock = DBusAddress(PATH, bus_name="org.freedesktop.portal.Desktop",
                       interface="org.freedesktop.DBus.Mock")
    with open_dbus_connection(bus="SESSION") as conn:
        reply = conn.send_and_get_reply(new_method_call(mock, method, signature, args),
                                        timeout=5)
    assert reply.header.message_type.name == "method_return", reply.body
    return tuple(reply.body)


def test_global_shortcuts_bind_and_activate(portal: subprocess.Popen[bytes]) -> None:
    fired = threading.Event()
    hotkeys = PortalHotkeys()
    hotkeys.start({HOTKEY: fired.set}, {HOTKEY: "rewrite"})
    try:
        assert hotkeys.ready.wait(10) and hotkeys.error is None
        assert hotkeys.session and hotkeys.bound == {"rewrite": "mock:CTRL+ALT+SHIFT+e"}
        # Another app's session: not ours, nothing runs.
        _mock_call("EmitSignal", "sssav", INTERFACE, "Activated", "osta{sv}",
                   [("o", "/org/freedesktop/portal/desktop/session/mock/other"),
                    ("s", "rewrite"), ("t", 1), ("a{sv}", {})])
        _mock_call("EmitSignal", "sssav", INTERFACE, "Activated", "osta{sv}",
                   [("o", hotkeys.session), ("s", "rewrite"), ("t", 2), ("a{sv}", {})])
        assert fired.wait(5)
    finally:
        hotkeys.stop()


def test_other_session_signal_does_not_fire(portal: subprocess.Popen[bytes]) -> None:
    fired = threading.Event()
    hotkeys = PortalHotkeys()
    hotkeys.start({HOTKEY: fired.set}, {HOTKEY: "rewrite"})
    try:
        assert hotkeys.ready.wait(10)
        _mock_call("EmitSignal", "sssav", INTERFACE, "Activated", "osta{sv}",
                   [("o", "/org/freedesktop/portal/desktop/session/mock/other"),
                    ("s", "rewrite"), ("t", 1), ("a{sv}", {})])
        assert not fired.wait(0.5)
    finally:
        hotkeys.stop()


def test_without_the_portal_the_desktop_binds_the_keys(bus: str) -> None:
    hotkeys = AutoHotkeys()
    hotkeys.start({HOTKEY: lambda: None}, {HOTKEY: "rewrite"})
    assert isinstance(hotkeys.active, DesktopBindings)
    hotkeys.stop()


def test_remote_desktop_pastes_with_keysyms(portal: subprocess.Popen[bytes]) -> None:
    keys = PortalKeys()
    _mock_call("ClearCalls", "")
    keys.send_paste()
    (calls,) = _mock_call("GetMethodCalls", "s", "NotifyKeyboardKeysym")
    pressed = [(args[2][1], args[3][1]) for _t, args in calls]  # (keysym, state)
    assert pressed == [(0xFFE3, 1), (ord("v"), 1), (ord("v"), 0), (0xFFE3, 0)]
    assert keys.mark.at > 0


def test_the_desktop_is_asked_once_not_at_every_start(
        portal: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """The RemoteDesktop grant persists: the restore token of one start is handed back at
    the next, and the new one kept (owner-only) for the start after."""
    token_file = tmp_path / "state" / "remote-desktop.token"
    _mock_call("ClearCalls", "")
    PortalKeys(token_file=token_file)._portal.close()
    first = token_file.read_text()
    assert first.startswith("grant-") and token_file.stat().st_mode & 0o777 == 0o600
    PortalKeys(token_file=token_file)._portal.close()
    (calls,) = _mock_call("GetMethodCalls", "s", "SelectDevices")
    options = [args[1][1] for _t, args in calls]  # each argument is a variant
    assert options[0]["persist_mode"][1] == 2 and "restore_token" not in options[0]
    assert options[1]["restore_token"][1] == first
    assert token_file.read_text() not in ("", first)  # the next start's token


def test_gnome_kde_injection_falls_back_portal_then_clipboard(bus: str) -> None:
    """No virtual keyboard (GNOME, KDE): the RemoteDesktop portal where it answers, else
    no injection at all (the daemon then delivers to the clipboard)."""
    from trayassist.desktop.notify import CommandNotifier
    from trayassist.desktop.wayland import _keys_fallback
    from trayassist.desktop.wayland.clipboard import PasteMark
    from trayassist.desktop.wayland.portal_keys import ClipboardOnlyKeys
    from trayassist.desktop.wayland.tools import ToolMissing

    keys = _keys_fallback(ToolMissing("wtype"), PasteMark(), CommandNotifier(command=""))
    assert isinstance(keys, ClipboardOnlyKeys) and not keys.can_inject


def test_with_the_remote_desktop_portal_keys_go_through_it(
        portal: subprocess.Popen[bytes]) -> None:
    from trayassist.desktop.notify import CommandNotifier
    from trayassist.desktop.wayland import _keys_fallback
    from trayassist.desktop.wayland.clipboard import PasteMark
    from trayassist.desktop.wayland.tools import ToolMissing

    keys = _keys_fallback(ToolMissing("wtype"), PasteMark(), CommandNotifier(command=""))
    assert isinstance(keys, PortalKeys) and keys.can_inject
