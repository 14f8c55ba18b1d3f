"""The X11 clipboard keeper: the clipboard outlives trayassist.

A selection dies with its owner. When trayassist exits owning CLIPBOARD and no clipboard
manager takes the content, `keep_after_exit` starts `python -m trayassist.desktop.x11.keeper`:
a detached process that serves the same targets until another program takes CLIPBOARD, then
exits (as `xclip -i` does). The start and the pipe are desktop.keeper's.
"""

from __future__ import annotations

import os
import sys

from trayassist.desktop.keeper import confirm_owned, read_items, start_keeper
from trayassist.desktop.x11.selection import Item, SelectionServer

# The keeper confirms it owns the clipboard after a Python start and a few round trips
# (~0.2 s); the bound covers a loaded machine and is how long an exit may wait at worst.
KEEPER_TIMEOUT = 2.0
KEEPER_MODULE = "trayassist.desktop.x11.keeper"


def keep_after_exit(items: dict[str, Item], display: str | None,
                    timeout: float = KEEPER_TIMEOUT) -> bool:
    """Start a detached process serving `items` on CLIPBOARD; True once it owns it.
    Called at exit by the owner of the clipboard."""
    env = dict(os.environ)
    if display:
        env["DISPLAY"] = display
    return start_keeper(KEEPER_MODULE,
                        [([name, it.type, it.format], it.data) for name, it in items.items()],
                        timeout, args=["--display", env.get("DISPLAY", "")], env=env)


def _serve(display: str | None) -> int:
    """The keeper: read the items, own CLIPBOARD, confirm, serve until disowned."""
    items = {name: Item(ptype, fmt, data) for (name, ptype, fmt), data in read_items()}
    server = SelectionServer(display or None)
    server.start()
    if not server.ready.wait(5.0) or server.error is not None:
        return 1
    if not server.own(items, exit_when_disowned=True):
        return 1
    del items  # the server's copy is the only one
    confirm_owned()
    server.join()  # ends when another client owns CLIPBOARD or the X server goes away
    return 0


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Serve CLIPBOARD content read from stdin until "
                                 "another program takes the clipboard (trayassist internal).")
    ap.add_argument("--display", default=None)
    sys.exit(_serve(ap.parse_args().display))
