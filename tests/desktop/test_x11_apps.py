"""Per-app behaviour on a real X server with real apps: terminals (xterm, and the VTE-based
xfce4-terminal) running a long command, a GTK editor (mousepad), the Tk target, and a
clipboard manager (CopyQ) keeping history. The daemon runs with the scripted engine
(upper-cases the text), so every check is about capture and delivery, not the model."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from daemon_harness import DaemonProc, Daemons
from xapp import XAppClient, run_x, wait_for, xclip_get, xclip_set, xdotool

pytest.importorskip("Xlib", reason="python-xlib is installed on Linux only")

from Xlib import XK  # noqa: E402
from Xlib.display import Display  # noqa: E402

from trayassist.apps import UNKNOWN_APP_COPY  # noqa: E402
from trayassist.desktop.x11.focus import X11Focus, X11Primary  # noqa: E402
from trayassist.desktop.x11.keys import X11Keys  # noqa: E402

pytestmark = pytest.mark.desktop

REWRITE = "ctrl+alt+shift+e"
BEFORE = "what the user had on the clipboard"
LINE = "selectable output line"
INSTALL_HINT = "run bash installers/install.sh --dev"


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} missing in CI: {INSTALL_HINT}")
        pytest.skip(f"{', '.join(missing)} not installed: {INSTALL_HINT}")


# ---- helpers ---------------------------------------------------------------------------------

KEYSYM_NAMES = {getattr(XK, n): n[3:] for n in dir(XK) if n.startswith("XK_")}


class KeySpy:
    """Every key press on the display, whichever window or client gets it: XInput2 raw
    events on the root window (they bypass focus, propagation and grabs, and GTK apps
    take their keys through XInput2, so a core-event listener would miss them). The
    keys xdotool presses are in there too: tests look for the keys trayassist sends."""

    def __init__(self, display: str) -> None:
        from Xlib.ext import xinput
        from Xlib.protocol import rq

        self.d = Display(display)
        info = self.d.query_extension("XInputExtension")
        self.d.xinput_query_version()  # announces XI 2.0+ support, needed for raw events
        raw = rq.Struct(rq.Card16("deviceid"), rq.Card32("time"), rq.Card32("detail"),
                        rq.Card16("sourceid"), rq.Card16("valuators_len"),
                        rq.Card32("flags"), rq.Pad(4))
        self.d.ge_add_event_data(info.major_opcode, xinput.RawKeyPress, raw)
        self.raw_press = xinput.RawKeyPress
        self.d.screen().root.xinput_select_events(
            [(xinput.AllMasterDevices, xinput.RawKeyPressMask)])
        self.d.sync()

    def presses(self) -> list[str]:
        self.d.sync()  # every event generated before this round trip is now queued
        names = []
        while self.d.pending_events():
            ev = self.d.next_event()
            if getattr(ev, "evtype", None) == self.raw_press and hasattr(ev, "data"):
                sym = self.d.keycode_to_keysym(ev.data["detail"], 0)
                names.append(XK.keysym_to_string(sym) or KEYSYM_NAMES.get(sym, hex(sym)))
        return names

    def close(self) -> None:
        self.d.close()


def gui_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """A private HOME/XDG set for GTK/Qt apps, so nothing of the user's session leaks in."""
    for sub in ("cfg", "data", "cache", "run"):
        (home / sub).mkdir(mode=0o700, exist_ok=True)
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"),
            "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_RUNTIME_DIR": str(home / "run"), "GDK_BACKEND": "x11",
            "QT_QPA_PLATFORM": "xcb", "NO_AT_BRIDGE": "1"}


def visible_window(env: dict[str, str], cls: str, timeout: float = 20.0) -> str:
    found = wait_for(lambda: run_x(env, "xdotool", "search", "--onlyvisible", "--class",
                                   f"^{cls}$", check=False).stdout.split(),
                     timeout=timeout, what=f"a {cls} window")
    return found[-1].decode()


def focus(env: dict[str, str], window: str) -> None:
    # No window manager: windowfocus sets the input focus itself; --sync waits for it.
    xdotool(env, "windowfocus", "--sync", window)


def primary_text(env: dict[str, str]) -> str:
    proc = run_x(env, "xclip", "-selection", "primary", "-o", check=False)
    return proc.stdout.decode(errors="replace") if proc.returncode == 0 else ""


def stop_group(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def notify_recorder(home: Path) -> tuple[dict[str, str], Path]:
    """A notify-send on PATH that records what the daemon shows (the real command's
    interface: --app-name=..., --, title, message)."""
    bin_dir, log = home / "bin", home / "notifications.log"
    bin_dir.mkdir()
    script = bin_dir / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n')
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


@pytest.fixture
def home() -> Iterator[Path]:
    # ignore_cleanup_errors: an exiting CopyQ may still be writing its config there.
    with tempfile.TemporaryDirectory(prefix="ta9-", ignore_cleanup_errors=True) as tmp:
        yield Path(tmp)



def start_daemon(daemons: Daemons, env: dict[str, str], config: str = ""
                 ) -> DaemonProc:
    return daemons.start(env, scripted={"reply": "upper"}, config=config)


# ---- the focused app and PRIMARY, adapters only ------------------------------------------------

def test_focused_app_is_named_by_wm_class_and_process_never_the_title(
        xserver, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    app = X11Focus(xserver.display).focused_app()
    assert app is not None
    assert app.app_id == "tk" and app.pid == target_window.proc.pid
    assert app.process is not None and app.process.startswith("python")
    assert target_window.title not in repr(app)


def test_primary_read_in_tk_sends_no_key_and_leaves_the_clipboard(
        xserver, target_window: XAppClient, home: Path,  # type: ignore[no-untyped-def]
        xapp_starter) -> None:
    xclip_set(xserver.env, BEFORE)
    d = Display(xserver.display)
    clip = d.intern_atom("CLIPBOARD")
    owner_before = d.get_selection_owner(clip)
    focus_port, primary = X11Focus(xserver.display), X11Primary(xserver.display)
    target_window.set_text("read me without a key")
    target_window.select(0, 7)
    target_window.clear_keys()
    app = focus_port.focused_app()
    assert primary.read_primary(app) == "read me"
    assert target_window.keys() == []  # not a single key event reached the app
    assert d.get_selection_owner(clip) == owner_before  # the clipboard was not touched
    assert xclip_get(xserver.env) == BEFORE.encode()
    # Tk keeps owning PRIMARY after its selection is cleared, but then serves nothing.
    target_window.call("deselect")
    assert primary.read_primary(app) is None
    # A selection in another app is not the focused app's: never read.
    target_window.select(0, 4)
    other = xapp_starter(home)
    try:
        assert primary.read_primary(focus_port.focused_app()) is None
    finally:
        other.close()
        d.close()


# ---- the daemon: profiles at work ------------------------------------------------------------

def test_primary_capture_in_tk_sends_no_copy_key(
        xserver, tray_host, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    daemon = start_daemon(daemons, xserver.env, '[apps.tk]\ncapture = "primary"\n')
    xclip_set(xserver.env, BEFORE)
    target_window.set_text("keyless capture")
    target_window.select_all()
    target_window.clear_keys()
    xdotool(xserver.env, "key", REWRITE)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    assert target_window.text() == "KEYLESS CAPTURE"
    events = target_window.keys()  # every key event the window received
    injected = [k["keysym"].lower() for k in events
                if k["type"] == "press" and k["keysym"].lower() in ("c", "v")]
    assert injected == ["v"]  # the paste only: no Ctrl+C
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")


def test_disabled_app_gets_nothing_at_all(
        xserver, tray_host, daemons, target_window: XAppClient, home: Path) -> None:  # type: ignore[no-untyped-def]
    env, notes = notify_recorder(home)
    daemon = start_daemon(daemons, {**xserver.env, **env}, "[apps.tk]\nenabled = false\n")
    xclip_set(xserver.env, BEFORE)
    target_window.set_text("not in this app")
    target_window.select_all()
    target_window.clear_keys()
    xdotool(xserver.env, "key", REWRITE)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["refused"] == 1
    assert target_window.text() == "not in this app"
    events = target_window.keys()  # every key event the window received
    assert [k for k in events if k["keysym"].lower() in ("c", "v")] == []
    assert xclip_get(xserver.env) == BEFORE.encode()
    assert not notes.exists()  # the user turned it off here: no popup either


TERMINALS = {
    # name: (command prefix, WM_CLASS class, the hint the notification gives)
    "xterm": (["xterm", "-geometry", "80x12+0+0", "-e"], "XTerm",
              "result copied to the clipboard"),
    "xfce4-terminal": (["dbus-run-session", "--", "xfce4-terminal", "--disable-server",
                        "--geometry", "80x12+0+0", "-x"], "Xfce4-terminal",
                       "paste it with Ctrl+Shift+V"),
}


@dataclass
class Terminal:
    env: dict[str, str]
    window: str
    pid: int  # the long command running in it


@contextlib.contextmanager
def terminal_running_a_command(xserver, home: Path, terminal: str  # type: ignore[no-untyped-def]
                               ) -> Iterator[Terminal]:
    """`terminal` running a long command under 40 lines of output, one line selected with
    a triple click (PRIMARY), the window focused."""
    prefix, cls, _hint = TERMINALS[terminal]
    _require(prefix[0], terminal)
    env = gui_env(xserver.env, home)
    pidfile = home / "command.pid"
    script = (f'echo $$ > "{pidfile}"; i=0; while [ $i -lt 40 ]; do echo "{LINE}"; '
              "i=$((i+1)); done; exec sleep 300")
    term = subprocess.Popen([*prefix, "sh", "-c", script], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        window = visible_window(env, cls)
        pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(),
                           timeout=20.0, what="the long command to start"))
        focus(env, window)
        select_a_line(env, window, terminal)
        yield Terminal(env, window, pid)
    finally:
        stop_group(term)


def select_a_line(env: dict[str, str], window: str, terminal: str) -> None:
    geometry = dict(line.split("=") for line in xdotool(
        env, "getwindowgeometry", "--shell", window).splitlines())
    # 40 identical lines fill the screen: a triple click mid-window selects one.
    xdotool(env, "mousemove", "--window", window, "40", str(int(geometry["HEIGHT"]) // 2))
    xdotool(env, "click", "--repeat", "3", "--delay", "80", "1")
    wait_for(lambda: primary_text(env).strip() == LINE, timeout=5.0,
             what=f"{terminal} to own PRIMARY with the selected line")


@pytest.mark.parametrize("terminal", sorted(TERMINALS))
def test_terminal_selection_hotkey_keeps_the_command_running(
        xserver, tray_host, daemons, home: Path, terminal: str) -> None:  # type: ignore[no-untyped-def]
    hint = TERMINALS[terminal][2]
    notify_env, notes = notify_recorder(home)
    daemon = start_daemon(daemons, {**xserver.env, **notify_env})
    with terminal_running_a_command(xserver, home, terminal) as term:
        xclip_set(xserver.env, BEFORE)
        spy = KeySpy(xserver.display)
        try:
            xdotool(term.env, "key", REWRITE)
            status = daemon.wait_jobs(1)
            presses = spy.presses()
        finally:
            spy.close()
        assert status["jobs"]["succeeded"] == 1, daemon.output()
        assert running(term.pid), f"{terminal}'s command died: the app was harmed"
        assert not {"c", "C", "v", "V", "Insert"} & set(presses), presses
        assert xclip_get(xserver.env).decode().strip() == LINE.upper()
        assert hint in status["last_message"]
        wait_for(notes.exists, timeout=5.0, what="the notification")
        assert hint in notes.read_text()
        assert LINE not in daemon.output() and LINE.upper() not in daemon.output()


@pytest.mark.parametrize("terminal", sorted(TERMINALS))
def test_the_copy_key_for_an_unknown_app_never_interrupts_a_terminal(
        xserver, home: Path, terminal: str) -> None:  # type: ignore[no-untyped-def]
    """What a job sends when the desktop cannot name the focused app (GNOME/KDE on
    Wayland), sent by the real key backend to a real terminal running a command."""
    with terminal_running_a_command(xserver, home, terminal) as term:
        keys = X11Keys(xserver.display)
        keys.send_chord(UNKNOWN_APP_COPY)
        # The terminal handles its events in order: once it has answered a later double
        # click (PRIMARY goes from the line to one word), it has handled the chord, and an
        # interrupt would already have ended the command. The pause is the terminals'
        # multi-click time (xterm: 250 ms): without it the clicks extend the triple click.
        time.sleep(0.6)
        xdotool(term.env, "click", "--repeat", "2", "--delay", "80", "1")
        wait_for(lambda: primary_text(term.env).strip() in LINE.split(), timeout=5.0,
                 what=f"{terminal} to select one word")
        assert running(term.pid), f"{terminal}'s command died on {UNKNOWN_APP_COPY}"


# ---- a GTK editor ----------------------------------------------------------------------------

@pytest.fixture
def mousepad(xserver, home: Path) -> Iterator[tuple[dict[str, str], str]]:  # type: ignore[no-untyped-def]
    _require("mousepad", "dbus-run-session")
    env = gui_env(xserver.env, home)
    proc = subprocess.Popen(["dbus-run-session", "--", "mousepad", "--disable-server"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        window = visible_window(env, "Mousepad")
        # Mousepad maps its window before its text view takes input, and under load keys
        # typed too early are lost (CI saw an empty document once). So type until the text
        # shows: each round selects all first, so a partly typed round is replaced, not added to.
        deadline = time.monotonic() + 30.0
        while True:
            focus(env, window)
            xdotool(env, "key", "ctrl+a")
            xdotool(env, "type", "--delay", "10", "teh quick fox")
            xdotool(env, "key", "ctrl+a")
            try:
                wait_for(lambda: primary_text(env) == "teh quick fox", timeout=3.0,
                         what="mousepad to select its text")
                break
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise
        yield env, window
    finally:
        stop_group(proc)


def mousepad_text(env: dict[str, str]) -> str:
    """The document's text, through mousepad's own select-all and copy."""
    xclip_set(env, "sentinel")
    xdotool(env, "key", "ctrl+a", "ctrl+c")
    wait_for(lambda: xclip_get(env) not in (None, b"sentinel"), timeout=3.0,
             what="mousepad's copy")
    return (xclip_get(env) or b"").decode()


def test_primary_capture_in_a_gtk_editor_sends_no_copy_key(
        xserver, tray_host, daemons, mousepad) -> None:  # type: ignore[no-untyped-def]
    env, window = mousepad
    daemon = start_daemon(daemons, xserver.env, '[apps.mousepad]\ncapture = "primary"\n')
    xclip_set(xserver.env, BEFORE)
    app = X11Focus(xserver.display).focused_app()
    assert app is not None and app.app_id == "mousepad" and app.process == "mousepad"
    spy = KeySpy(xserver.display)
    try:
        xdotool(env, "key", REWRITE)
        status = daemon.wait_jobs(1)
        presses = spy.presses()
    finally:
        spy.close()
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    assert "c" not in presses and presses.count("v") == 1, presses
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")
    assert mousepad_text(env) == "TEH QUICK FOX"


def test_the_copy_key_for_an_unknown_app_copies_in_gtk(xserver, mousepad) -> None:  # type: ignore[no-untyped-def]
    env, _window = mousepad  # "teh quick fox" selected, the window focused
    xclip_set(env, "sentinel")
    X11Keys(xserver.display).send_chord(UNKNOWN_APP_COPY)
    wait_for(lambda: xclip_get(env) == b"teh quick fox", timeout=5.0,
             what=f"mousepad to copy on {UNKNOWN_APP_COPY}")


def test_the_copy_key_for_an_unknown_app_copies_in_tk(
        xserver, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    target_window.set_text("a line in a Tk text field")
    target_window.select_all()
    xclip_set(xserver.env, "sentinel")
    X11Keys(xserver.display).send_chord(UNKNOWN_APP_COPY)
    wait_for(lambda: xclip_get(xserver.env) == b"a line in a Tk text field", timeout=5.0,
             what=f"Tk to copy on {UNKNOWN_APP_COPY}")


def test_stale_primary_from_another_tab_is_not_used_by_default(
        xserver, tray_host, daemons, mousepad) -> None:  # type: ignore[no-untyped-def]
    """What was found: mousepad keeps serving tab 1's selection on PRIMARY after Ctrl+N
    opens tab 2, so owning PRIMARY is no proof of a selection under the cursor. The
    default profile therefore copies with the keys, which copy nothing here."""
    env, window = mousepad
    daemon = start_daemon(daemons, xserver.env)
    title = xdotool(env, "getwindowname", window)
    xdotool(env, "key", "ctrl+n")  # a new, empty tab in the same window
    wait_for(lambda: xdotool(env, "getwindowname", window) != title, timeout=5.0,
             what="mousepad to open a new tab")
    focus_port, primary = X11Focus(xserver.display), X11Primary(xserver.display)
    stale = wait_for(lambda: primary.read_primary(focus_port.focused_app()), timeout=5.0,
                     what="PRIMARY to answer")
    assert stale == "teh quick fox"  # the other tab's selection: stale
    xdotool(env, "key", REWRITE)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["refused"] == 1 and "Nothing selected" in status["last_message"]
    xdotool(env, "type", "x")
    assert mousepad_text(env) == "x"  # nothing was pasted into the new tab


# ---- clipboard history -----------------------------------------------------------------------

@pytest.fixture
def copyq(xserver, home: Path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    _require("copyq")
    (home / "copyq").mkdir()
    env = gui_env(xserver.env, home / "copyq")
    # Its own session name and temp dir: the server's socket lives there, so another
    # CopyQ on this machine (another test run, the user's own) is never the one we ask.
    env = {**env, "COPYQ_SESSION_NAME": f"ta{os.getpid()}", "TMPDIR": str(home / "copyq")}
    proc = subprocess.Popen(["copyq", "--start-server"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)

    def cmd(*args: str) -> str:
        return subprocess.run(["copyq", *args], env=env, capture_output=True, text=True,
                              timeout=20, check=True).stdout

    try:
        wait_for(lambda: subprocess.run(["copyq", "monitoring"], env=env, capture_output=True,
                                        text=True, timeout=20).stdout.strip() == "true",
                 timeout=30.0, what="CopyQ to monitor the clipboard")
        # CopyQ >= 8 ignores x-kde-passwordManagerHint=secret by itself; Debian's 6.4 does
        # what its FAQ ("omit storing text copied from ... a password manager") says:
        # an automatic command matching that format removes the item.
        cmd("eval", 'setCommands([{name: "Ignore secrets", automatic: true, '
                    'input: "x-kde-passwordManagerHint", remove: true, cmd: ""}])')
        yield cmd
    finally:
        subprocess.run(["copyq", "exit"], env=env, capture_output=True, timeout=20)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_group(proc)


def history(cmd: Any) -> list[str]:
    return [cmd("read", str(i)) for i in range(int(cmd("count")))]


def test_clipboard_history_records_copies_but_never_a_jobs_result(
        xserver, tray_host, daemons, target_window: XAppClient, copyq) -> None:  # type: ignore[no-untyped-def]
    # CopyQ's monitor process connects a moment after the server says it monitors:
    # copy again until one ordinary copy is recorded (this also proves it records).
    attempt = iter(range(1000))

    def ordinary_copy_recorded() -> bool:
        text = f"an ordinary copy {next(attempt)}"
        xclip_set(xserver.env, text)
        try:
            wait_for(lambda: text in history(copyq), timeout=1.0)
        except TimeoutError:
            return False
        return True

    wait_for(ordinary_copy_recorded, timeout=20.0, what="CopyQ to record an ordinary copy")
    daemon = start_daemon(daemons, xserver.env,
                          'delivery = "clipboard"\n[apps.tk]\ncapture = "primary"\n')
    target_window.set_text("private words")
    target_window.select_all()
    xdotool(xserver.env, "key", REWRITE)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    assert xclip_get(xserver.env) == b"PRIVATE WORDS"  # the result sits on the clipboard
    # A later copy is recorded, so CopyQ has processed every change before it.
    xclip_set(xserver.env, "a later copy")
    wait_for(lambda: "a later copy" in history(copyq), timeout=10.0,
             what="CopyQ to record the later copy")
    recorded = history(copyq)
    assert not [item for item in recorded if "private words" in item.lower()], recorded


# ---- adapters: chords, the history marker, `trayassist apps` ----------------------------------

def test_send_chord_reaches_the_app_as_that_chord(xserver, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    from trayassist.desktop.x11.keys import X11Keys

    keys = X11Keys(xserver.display)
    try:
        target_window.clear_keys()
        keys.send_chord("<shift>+<insert>")
        keys.send_chord("<ctrl>+<shift>+c")
        def chords() -> list[dict[str, Any]]:
            events = target_window.keys()  # every key event the window received
            return [e for e in events if e["type"] == "press"
                    and e["keysym"] in ("Insert", "C", "c")]

        wait_for(lambda: len(chords()) == 2, timeout=3.0, what="both chords in the key log")
        events = chords()
        shift, control = 0x1, 0x4
        assert [(e["keysym"].lower(), e["state"] & (shift | control)) for e in events] == [
            ("insert", shift), ("c", shift | control)]
        assert not any(e["send_event"] for e in events)  # XTest: real key events
        with pytest.raises(ValueError, match="not a key chord"):
            keys.send_chord("<shift>")
    finally:
        keys.close()


def test_our_clipboard_content_carries_the_history_marker_but_is_not_secret(xserver) -> None:  # type: ignore[no-untyped-def]
    from trayassist.desktop.x11.clipboard import X11Clipboard

    clipboard = X11Clipboard(xserver.display)
    try:
        clipboard.write_text("a job's result")
        assert xclip_get(xserver.env, "x-kde-passwordManagerHint") == b"secret"
        assert clipboard.read_text() == "a job's result"
        assert not clipboard.is_secret()  # ours: the restore rule still compares it
        xclip_set(xserver.env, "secret", target="x-kde-passwordManagerHint")
        assert clipboard.is_secret()  # a password manager's: never read
    finally:
        clipboard.close()


def test_apps_command_names_the_focused_app(xserver, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    import json
    import sys

    env = {**xserver.env, "TRAYASSIST_HOME": tempfile.mkdtemp(prefix="ta9-")}
    proc = subprocess.run([sys.executable, "-m", "trayassist", "apps", "--json"], env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    focused = json.loads(proc.stdout)["focused"]
    assert focused["app"] == "tk" and focused["profile"] == "default"
    assert focused["capture"] == "copy-keys" and focused["delivery"] == "auto"
    assert target_window.title not in proc.stdout
