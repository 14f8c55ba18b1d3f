"""Keep what trayassist serves on the Wayland clipboard after the daemon exits.

On Wayland, as on X11, the clipboard's content lives in the owning client: when the daemon
quits, a clipboard it restored (the user's own, every MIME type) would vanish with it.
`keep_after_exit` starts a small detached process of ours that owns the clipboard with the
same types until another client takes it (our source is cancelled), then exits. The
content travels through a pipe, never a file or the command line.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

KEEPER_TIMEOUT = 3.0


def keep_after_exit(formats: dict[str, bytes], timeout: float = KEEPER_TIMEOUT) -> bool:
    """True once the keeper owns the clipboard."""
    header = json.dumps([[mime, len(data)] for mime, data in formats.items()])
    payload = b"".join([header.encode() + b"\n", *formats.values()])
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/",
                                env=env, start_new_session=True)
    except OSError as exc:
        log.warning("cannot start the Wayland clipboard keeper: %s", exc)
        return False
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        try:
            stdin.write(payload)
            stdin.close()
        except OSError:
            pass

    threading.Thread(target=feed, daemon=True).start()
    ready = select.select([proc.stdout], [], [], timeout)[0]
    ok = bool(ready) and os.read(proc.stdout.fileno(), 1) == b"1"
    proc.stdout.close()
    if not ok:
        log.warning("the Wayland clipboard keeper did not take over in time")
    return ok


def _serve() -> int:
    from trayassist.desktop.wayland.datacontrol import DataControl

    data = sys.stdin.buffer.read()
    header, _, body = data.partition(b"\n")
    formats: dict[str, bytes] = {}
    offset = 0
    for mime, size in json.loads(header):
        formats[mime] = body[offset:offset + size]
        offset += size
    dc = DataControl()
    source = dc.own(formats)
    os.write(sys.stdout.fileno(), b"1")
    os.close(sys.stdout.fileno())
    with dc.changed:
        while source is not None and not source.cancelled and dc.is_alive():
            dc.changed.wait(60)
    dc.close()
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
