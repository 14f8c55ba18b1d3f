"""A real headless sway session as an unprivileged test user (sway refuses root).

Layout of one session (all under one private temp folder, owned by the test user):
  run/   XDG_RUNTIME_DIR (0700): the Wayland socket, sway's IPC socket, the D-Bus socket
  home/  HOME and XDG_* folders for the apps (mousepad keeps state there)
The pytest process (root) talks to the same sockets directly: root may connect to them.

Nothing sleeps and hopes: every wait polls a condition with a deadline. In CI (CI=true) a
missing tool fails the stage instead of skipping it.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_for  # also re-exported: the Wayland tests take it from here

USER = "trayassist-test"
INSTALL_HINT = "run bash installers/install.sh --dev"
TOOLS = ("sway", "swaymsg", "swaybar", "wtype", "wl-paste", "wl-copy", "grim", "foot",
         "mousepad", "dbus-daemon", "busctl", "runuser", "useradd")
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TRAYASSIST_ARTIFACTS") or REPO / "artifacts")


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"{', '.join(missing)} not installed: {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)  # a desktop stage that skips proves nothing
        pytest.skip(message)


def ensure_user() -> pwd.struct_passwd:
    """The unprivileged test user (idempotent; a parallel run may create it first)."""
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(USER)
    if os.geteuid() != 0:
        message = f"sway refuses root, and creating the test user {USER} needs root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run(["useradd", "-M", "-r", "-s", "/usr/sbin/nologin", USER],
                          capture_output=True, text=True, timeout=30)
    if proc.returncode not in (0, 9):  # 9: already exists
        raise RuntimeError(f"useradd failed: {proc.stderr.strip()}")
    return pwd.getpwnam(USER)


class Access:
    """Lets the test user reach the checkout and the venv: adds o+x (traverse, not list)
    to the folders on the way that lack it, and puts every mode back at the end. CI runs
    in a fresh clone anywhere (often under /root, which is 0700).

    Several test runs may do this at once (parallel sessions on one machine): a shared
    record, under a file lock, lists which live processes need each folder, and a
    folder's mode goes back only when the last of them is done (or dead)."""

    STATE = Path(tempfile.gettempdir()) / "trayassist-test-access.json"

    def __init__(self) -> None:
        self._folders: list[str] = []

    @contextlib.contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        import fcntl

        with open(self.STATE.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self.STATE.read_text()) if self.STATE.exists() else {}
            except ValueError:
                state = {}
            yield state
            self.STATE.write_text(json.dumps(state))

    def grant(self, *targets: Path) -> None:
        me = os.getpid()
        with self._state() as state:
            for target in targets:
                for folder in [*reversed(target.parents), target]:
                    key = str(folder)
                    mode = folder.stat().st_mode
                    entry = state.get(key)
                    if entry is None and stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                        os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
                        entry = state[key] = {"mode": stat.S_IMODE(mode), "pids": []}
                    if entry is not None and me not in entry["pids"]:
                        entry["pids"].append(me)
                        self._folders.append(key)

    def undo(self) -> None:
        me = os.getpid()
        with self._state() as state:
            for key in list(state):
                entry = state[key]
                entry["pids"] = [p for p in entry["pids"] if p != me and _alive(p)]
                if not entry["pids"]:
                    with contextlib.suppress(OSError):
                        os.chmod(key, entry["mode"])
                    del state[key]
        self._folders.clear()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Session:
    root: Path
    user: pwd.struct_passwd
    env: dict[str, str]  # for processes run as the test user
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def runtime(self) -> Path:
        return self.root / "run"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def root_env(self) -> dict[str, str]:
        """For this (root) process's children: the same session sockets."""
        keys = ("XDG_RUNTIME_DIR", "WAYLAND_DISPLAY", "SWAYSOCK", "DBUS_SESSION_BUS_ADDRESS")
        return {**os.environ, **{k: self.env[k] for k in keys}, "XDG_SESSION_TYPE": "wayland"}

    def as_user(self, args: list[str], env: dict[str, str] | None = None) -> list[str]:
        merged = {**self.env, **(env or {})}
        return ["runuser", "-u", USER, "--", "env", "-i",
                *(f"{k}={v}" for k, v in merged.items()), *args]

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 10.0,
            check: bool = True, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        # cwd: the user's own folder; the checkout may be one it cannot enter (/root/...).
        return subprocess.run(self.as_user(list(args), env), input=data, capture_output=True,
                              timeout=timeout, check=check, cwd=self.home)

    def spawn(self, *args: str, env: dict[str, str] | None = None,
              log: Path | None = None) -> subprocess.Popen[bytes]:
        out = log.open("ab") if log else subprocess.DEVNULL
        proc = subprocess.Popen(self.as_user(list(args), env), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT if log else out,
                                start_new_session=True, cwd=self.home)
        if log:
            out.close()  # type: ignore[union-attr]
        self.procs.append(proc)
        return proc

    def swaymsg(self, *args: str) -> Any:
        proc = subprocess.run(["swaymsg", "-r", *args], env=self.root_env(),
                              capture_output=True, timeout=5, check=True)
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def tree_nodes(self) -> Iterator[dict[str, Any]]:
        stack = [self.swaymsg("-t", "get_tree")]
        while stack:
            node = stack.pop()
            yield node
            stack += node.get("nodes", []) + node.get("floating_nodes", [])

    def focused_app_id(self) -> str | None:
        focused = self.focused_node()
        return focused.get("app_id") if focused else None

    def focused_node(self) -> dict[str, Any] | None:
        return next((n for n in self.tree_nodes() if n.get("focused")), None)

    def window_ids(self) -> set[int]:
        return {n["id"] for n in self.tree_nodes() if n.get("pid")}

    def wtype(self, *args: str) -> None:
        # The recipe: without a lead-in sleep the first key of each call is lost.
        self.run("wtype", "-s", "50", *args, timeout=10)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        png = self.run("grim", "-", timeout=20).stdout
        path = ARTIFACTS / name
        path.write_bytes(png)
        print(f"\nscreenshot kept: {path}", file=sys.stderr)
        return path

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_proc(proc)
        self.procs.clear()


def stop_proc(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # runuser forwards SIGTERM to its child; the group kill catches the rest.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait()


SWAY_CONFIG = """\
xwayland disable
output * resolution 1024x768 bg #30404f solid_color
default_border pixel 2
bar {{
    position top
    height 28
    tray_output *
    tray_padding 2
    status_command while echo trayassist-ci; do sleep 3600; done
}}
include {bindings}
"""


def start_session(bindings: str = "", extra_env: dict[str, str] | None = None,
                  root: Path | None = None) -> Session:
    require(*TOOLS)
    user = ensure_user()
    root = root or Path(tempfile.mkdtemp(prefix="ta-wl-"))
    os.chmod(root, 0o755)
    runtime, home = root / "run", root / "home"
    for folder in (runtime, home, home / ".config" / "sway"):
        folder.mkdir(parents=True, exist_ok=True)
    (home / ".config" / "sway" / "bindings").write_text(bindings)
    (home / ".config" / "sway" / "config").write_text(
        SWAY_CONFIG.format(bindings=home / ".config" / "sway" / "bindings"))
    for path in [runtime, *home.rglob("*"), home, *root.glob("ta*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(runtime, 0o700)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
        "USER": USER, "LOGNAME": USER, "LANG": "C.UTF-8",
        "XDG_RUNTIME_DIR": str(runtime), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"), "XDG_SESSION_TYPE": "wayland",
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime}/bus",
        "NO_AT_BRIDGE": "1", "GDK_BACKEND": "wayland", **(extra_env or {}),
    }
    session = Session(root, user, env)
    try:
        session.spawn("dbus-daemon", "--session", "--nofork", "--nopidfile",
                      f"--address={env['DBUS_SESSION_BUS_ADDRESS']}", log=root / "dbus.log")
        wait_for(lambda: (runtime / "bus").exists(), 10, what="the session D-Bus")
        sway_env = {"WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1",
                    "WLR_RENDERER": "pixman", "SWAYSOCK": str(runtime / "sway-ipc.sock")}
        session.env["SWAYSOCK"] = sway_env["SWAYSOCK"]
        sway = session.spawn("sway", "-c", str(home / ".config" / "sway" / "config"),
                             env=sway_env, log=root / "sway.log")

        def wayland_socket() -> str | None:
            if sway.poll() is not None:
                raise RuntimeError(f"sway exited: {(root / 'sway.log').read_text()[-2000:]}")
            found = sorted(p.name for p in runtime.glob("wayland-*") if not p.name.endswith(
                ".lock"))
            return found[0] if found and (runtime / "sway-ipc.sock").exists() else None

        session.env["WAYLAND_DISPLAY"] = wait_for(wayland_socket, 15, what="sway to start")
        wait_for(lambda: session.swaymsg("-t", "get_outputs"), 10, what="sway's output")
    except BaseException:
        session.stop()
        raise
    return session


def start_mousepad(session: Session, text: str, app_id: str = "mousepad") -> Path:
    """mousepad (GTK3, Wayland-native) editing a file holding `text`, focused. Another
    `app_id` (GTK's --name) gives it another per-app profile."""
    path = session.home / f"doc-{time.monotonic_ns()}.txt"
    path.write_text(text)
    os.chown(path, session.user.pw_uid, session.user.pw_gid)
    existing = session.window_ids()
    # Its own config/state folders and in-memory settings: a mousepad that was killed
    # leaves session data behind, and the next one would open a "restore?" dialog.
    own = session.home / f"mousepad-{path.stem}"
    env = {"GSETTINGS_BACKEND": "memory", "XDG_CONFIG_HOME": str(own / "config"),
           "XDG_DATA_HOME": str(own / "data"), "XDG_CACHE_HOME": str(own / "cache")}
    session.spawn("mousepad", "--disable-server", f"--name={app_id}", str(path), env=env,
                  log=session.root / "mousepad.log")

    def new_mousepad_focused() -> bool:
        node = session.focused_node()
        return bool(node and node.get("app_id") == app_id and node["id"] not in existing)

    wait_for(new_mousepad_focused, 20, what="a new mousepad window to map and take focus")
    return path
