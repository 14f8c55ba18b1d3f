"""The real-X-server harness: Xvfb, a tray host (trayer) and a real Tk target window.

Every wait polls a condition with a deadline; nothing sleeps and hopes. Tests here are
skipped only when the X tools are not installed, and the skip says how to install them.

The session's X server is also exported to this process (DISPLAY set, WAYLAND_DISPLAY
removed) because pynput reads DISPLAY when it is imported and when a listener starts.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

try:  # tests/ may or may not be a package; either way xapp sits next to this file
    from . import xapp
    from .daemon_harness import Daemons
except ImportError:
    import xapp  # type: ignore[no-redef]
    from daemon_harness import Daemons  # type: ignore[no-redef]

XAppClient, run_x, wait_for, xdotool = xapp.XAppClient, xapp.run_x, xapp.wait_for, xapp.xdotool

INSTALL_HINT = "run bash installers/install.sh --dev"
XAPP = Path(__file__).with_name("xapp.py")

__all__ = ["XAppClient", "XServer", "run_x", "wait_for", "xapp", "xdotool"]


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: {INSTALL_HINT}")


@dataclass(frozen=True)
class XServer:
    display: str  # ":N"
    env: dict[str, str]  # os.environ with DISPLAY=:N and no WAYLAND_DISPLAY
    proc: subprocess.Popen[bytes]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5.0)  # Xvfb and trayer exit in well under a second
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _x_answers(display: str) -> bool:
    from Xlib.display import Display

    try:
        Display(display).close()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def xserver() -> Iterator[XServer]:
    _require("Xvfb", "xdotool", "xclip")
    read_fd, write_fd = os.pipe()
    # -displayfd: Xvfb picks a free display number and writes it once it accepts clients.
    # -noreset: without it Xvfb resets (atoms, selections) whenever its last client leaves.
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x768x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    os.close(write_fd)
    try:
        number = b""
        while not number.endswith(b"\n"):
            # Xvfb starts in ~0.3 s; 10 s covers a loaded CI machine.
            if not select.select([read_fd], [], [], 10.0)[0]:
                raise TimeoutError("Xvfb did not report a display number within 10 s")
            chunk = os.read(read_fd, 16)
            if not chunk:
                raise RuntimeError(f"Xvfb exited early (code {proc.wait()})")
            number += chunk
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        os.close(read_fd)
    display = f":{number.decode().strip()}"
    wait_for(lambda: _x_answers(display), timeout=10.0, what=f"Xvfb on {display}")
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env["DISPLAY"] = display
    patch = pytest.MonkeyPatch()
    patch.setenv("DISPLAY", display)
    patch.delenv("WAYLAND_DISPLAY", raising=False)
    try:
        yield XServer(display, env, proc)
    finally:
        patch.undo()
        _stop(proc)


def _tray_owner(display: str) -> int:
    from Xlib.display import Display

    d = Display(display)
    try:
        owner = d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0"))
        return int(getattr(owner, "id", owner))  # python-xlib: 0, or a Window object
    finally:
        d.close()


@pytest.fixture(scope="session")
def tray_host(xserver: XServer) -> Iterator[subprocess.Popen[bytes]]:
    """trayer, a freedesktop system tray host; ready once it owns _NET_SYSTEM_TRAY_S0."""
    _require("trayer")
    proc = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
         "--height", "32", "--transparent", "false"],
        env=xserver.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: proc.poll() is not None or _tray_owner(xserver.display),
                 timeout=10.0, what="trayer to own _NET_SYSTEM_TRAY_S0")
        if proc.poll() is not None:
            raise RuntimeError(f"trayer exited with {proc.returncode}")
        yield proc
    finally:
        _stop(proc)


def start_xapp(xserver: XServer, directory: Path) -> XAppClient:
    """Start an xapp window with a unique title, mapped and holding the keyboard focus."""
    title = f"xapp-{uuid.uuid4().hex[:10]}"
    sock = directory / f"{title}.sock"
    # As a script, xapp.py finds tests/waiting.py through PYTHONPATH.
    env = {**xserver.env, "PYTHONPATH": os.pathsep.join(
        p for p in (str(XAPP.parents[1]), xserver.env.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen([sys.executable, str(XAPP), "--title", title, "--socket", str(sock)],
                            env=env)
    client = XAppClient(proc, sock, title)
    try:
        # Tk needs ~0.2-0.5 s to map; a loaded machine gets 10 s.
        found = wait_for(lambda: run_x(xserver.env, "xdotool", "search", "--onlyvisible",
                                       "--name", f"^{title}$", check=False).stdout.split(),
                         timeout=10.0, what=f"window {title} to map")
        client.window_id = found[0].decode()
        # No window manager runs, so windowactivate (_NET_ACTIVE_WINDOW) cannot work;
        # windowfocus sets the input focus directly and --sync waits until it has it.
        xdotool(xserver.env, "windowfocus", "--sync", client.window_id)
        wait_for(client.focus, what=f"{title} to take the keyboard focus")
    except BaseException:
        client.close()
        raise
    return client


@pytest.fixture
def xapp_starter(xserver: XServer) -> Callable[[Path], XAppClient]:
    """start_xapp for tests, as a fixture: `from conftest import ...` would reach whichever
    conftest module pytest imported first (tests/windows and tests/wayland have their own)."""
    return lambda directory: start_xapp(xserver, directory)


@pytest.fixture
def target_window(xserver: XServer) -> Iterator[XAppClient]:
    # A short directory: AF_UNIX socket paths are limited to ~100 bytes.
    with tempfile.TemporaryDirectory(prefix="xapp-") as tmp:
        client = start_xapp(xserver, Path(tmp))
        try:
            yield client
        finally:
            client.close()


@pytest.fixture
def daemons(xserver: XServer, tray_host: subprocess.Popen[bytes]) -> Iterator[Daemons]:
    started = Daemons()
    yield started
    for daemon in started:
        daemon.stop()
