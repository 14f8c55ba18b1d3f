"""Start a detached process that keeps the clipboard after trayassist exits (X11, Wayland).

On X11 and Wayland the clipboard's content lives in the client that owns it: when the daemon
quits, a clipboard it restored (the user's own, every type) would vanish with it. Each
backend's keeper module owns the clipboard with the same content until another program
takes it, then exits. This module is the part they share: the start, the framing and the
handshake.

The content travels through a pipe only, never a file or the command line (other users can
read /proc/*/cmdline). Framing: one JSON line listing each item's metadata and size, then
the items' bytes in that order. The keeper writes one byte, b"1", once it owns the clipboard.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

Item = tuple[list[Any], bytes]  # (metadata, content)

_keepers: list[subprocess.Popen[bytes]] = []  # started by us; never waited for: they outlive us


def start_keeper(module: str, items: Sequence[Item], timeout: float,
                 args: Sequence[str] = (), env: dict[str, str] | None = None) -> bool:
    """Run `python -m module *args` detached, hand it `items`; True once it owns the
    clipboard. A keeper that does not confirm within `timeout` is killed."""
    header = json.dumps([[*meta, len(data)] for meta, data in items])
    payload = b"".join([header.encode() + b"\n", *(data for _, data in items)])
    child_env = dict(os.environ if env is None else env)
    # Import this very trayassist in the child, also when run from a source tree.
    root = str(Path(__file__).resolve().parents[2])
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, child_env.get("PYTHONPATH")) if p)
    try:
        # A session of its own: the terminal's hang-up or Ctrl+C to our group must not end
        # it. stderr to /dev/null: an inherited pipe would keep whoever reads our output
        # (a service manager, a test) waiting for EOF until the keeper exits.
        proc = subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/",
                                env=child_env, start_new_session=True)
    except OSError as exc:
        log.warning("cannot start the clipboard keeper: %s", exc)
        return False
    assert proc.stdin is not None and proc.stdout is not None
    feeder = threading.Thread(target=_feed, args=(proc.stdin, payload), daemon=True)
    feeder.start()  # the pipe holds 64 KiB: write while we wait for the answer
    ready = select.select([proc.stdout], [], [], timeout)[0]
    ok = bool(ready) and os.read(proc.stdout.fileno(), 1) == b"1"
    proc.stdout.close()
    if not ok:
        log.warning("the clipboard keeper did not take the clipboard in %.1f s; "
                    "it empties when trayassist exits", timeout)
        proc.kill()
        proc.wait()
        return False
    _keepers.append(proc)  # a reference: no "still running" warning when Popen is freed
    return True


def _feed(pipe: IO[bytes], payload: bytes) -> None:
    # A keeper that died gives BrokenPipeError here; start_keeper reports the failure.
    with contextlib.suppress(OSError):
        pipe.write(payload)
    with contextlib.suppress(OSError):
        pipe.close()


def read_items() -> list[Item]:
    """In the keeper: the items its parent sent on stdin."""
    raw = sys.stdin.buffer.read()
    header, _, body = raw.partition(b"\n")
    items: list[Item] = []
    offset = 0
    for *meta, size in json.loads(header):
        items.append((meta, body[offset:offset + size]))
        offset += size
    return items


def confirm_owned() -> None:
    """In the keeper: tell the parent it owns the clipboard, and let go of its pipe (the
    parent stops waiting; our stdout becomes /dev/null)."""
    os.write(1, b"1")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
