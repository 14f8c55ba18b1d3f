"""Hotkey-to-paste on headless sway with the real embedded model, as a user runs it.

    sudo PYTHONPATH=. .venv/bin/python tests/wayland/bench_wayland.py [--runs 10] [--scripted]

Per run: a fresh mousepad holding a 30-word text, select all, press the sway binding
with wtype (it runs `trayassist trigger rewrite`). t0 = sway reports the binding fired
(an IPC `binding` event: the moment the key went up, without wtype's own start-up),
t1 = mousepad marks the document modified (its title gains "*": the paste landed).
Prints every run and the median. Not a test: timings belong in the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]  # + tests/waiting

import harness  # noqa: E402
from test_wayland_daemon import REWRITE, Rig, _ready  # noqa: E402

TEXT = ("our team met on monday to talk about the new office plan and we agreed that the "
        "kitchen needs more chairs, a bigger fridge and better lights before winter starts")


class BindingWatch(threading.Thread):
    """sway IPC subscription: the monotonic time of each binding event."""

    def __init__(self, swaysock: str) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(swaysock)
        payload = b'["binding"]'
        self.sock.sendall(b"i3-ipc" + struct.pack("=II", len(payload), 2) + payload)
        self._read()  # {"success": true}
        self.times: list[float] = []
        self.start()

    def _read(self) -> bytes:
        def exactly(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = self.sock.recv(n - len(data))
                if not chunk:
                    raise OSError("sway closed the IPC socket")
                data += chunk
            return data

        length, _kind = struct.unpack("=II", exactly(14)[6:])
        return exactly(length)

    def run(self) -> None:
        try:
            while True:
                event = json.loads(self._read())
                if "trigger" in event.get("binding", {}).get("command", ""):
                    self.times.append(time.perf_counter())
        except OSError:
            return


def focused_title(session: harness.Session) -> str:
    node = session.focused_node()
    return str(node.get("name") or "") if node else ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scripted", action="store_true",
                        help="engine 'scripted' (upper-cases at once): the desktop's share")
    args = parser.parse_args()
    assert len(TEXT.split()) == 30
    root = Path(tempfile.mkdtemp(prefix="ta-wl-"))
    home = root / "ta"
    home.mkdir()
    pythonpath = os.pathsep.join([str(harness.REPO), *filter(None, os.environ.get(
        "PYTHONPATH", "").split(os.pathsep))])
    env = {"TRAYASSIST_HOME": str(home), "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}
    if args.scripted:
        env |= {"TRAYASSIST_ENGINE": "scripted", "TRAYASSIST_SCRIPTED": '{"reply": "upper"}'}
    access = harness.Access()
    access.grant(harness.REPO, Path(sys.prefix), Path(os.path.realpath(sys.executable)))
    session = harness.start_session(extra_env=env, root=root)
    times: list[float] = []
    try:
        session.run(sys.executable, "-m", "trayassist", "hotkeys", "install", "sway")
        log = root / "daemon.log"
        proc = session.spawn(sys.executable, "-m", "trayassist", "-v", "daemon", log=log)
        rig = Rig(session, home, proc, log)
        harness.wait_for(lambda: _ready(rig), 120, what="the daemon with the model loaded")
        watch = BindingWatch(session.env["SWAYSOCK"])
        run = 0
        while len(times) < args.runs and run < 2 * args.runs:
            run += 1
            harness.start_mousepad(session, TEXT)
            session.wtype("-M", "ctrl", "-k", "a", "-m", "ctrl", "-k", "VoidSymbol")
            before = rig.status()["jobs_done"]
            t0 = time.perf_counter()
            session.wtype(*REWRITE)
            def landed(before: int = before) -> bool | str:
                return focused_title(session).startswith("*") or (
                    rig.status()["jobs_done"] > before and "nothing")

            pasted = harness.wait_for(landed, 60, step=0.005, what="the paste or the job's end")
            t1 = time.perf_counter()
            fired = [t for t in watch.times if t >= t0]
            elapsed = t1 - (fired[0] if fired else t0)
            status = rig.wait_jobs(before + 1, 60)
            if pasted is True:
                times.append(elapsed)
            print(f"run {run}: {elapsed * 1000:.0f} ms ({status['last_message']}"
                  f"{'' if pasted is True else '; nothing pasted, not counted'})", flush=True)
            harness.stop_proc(session.procs.pop())  # this mousepad (unsaved: discarded)
        print(f"hotkey-to-paste, 30-word rewrite, median of {len(times)}: "
              f"{statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f}, "
              f"max {max(times) * 1000:.0f})")
    finally:
        session.stop()
        access.undo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
