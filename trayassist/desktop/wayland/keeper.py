"""The Wayland clipboard keeper: the clipboard outlives trayassist.

As on X11, the clipboard's content lives in the owning client. `keep_after_exit` starts
`python -m trayassist.desktop.wayland.keeper`, a detached process of ours that owns the
clipboard with the same MIME types until another client takes it (our source is cancelled),
then exits. The start and the pipe are desktop.keeper's.
"""

from __future__ import annotations

import sys

from trayassist.desktop.keeper import confirm_owned, read_items, start_keeper

KEEPER_TIMEOUT = 3.0
KEEPER_MODULE = "trayassist.desktop.wayland.keeper"


def keep_after_exit(formats: dict[str, bytes], timeout: float = KEEPER_TIMEOUT) -> bool:
    """True once the keeper owns the clipboard."""
    return start_keeper(KEEPER_MODULE, [([mime], data) for mime, data in formats.items()],
                        timeout)


def _serve() -> int:
    from trayassist.desktop.wayland.datacontrol import DataControl

    formats = {mime: data for (mime,), data in read_items()}
    dc = DataControl()
    source = dc.own(formats)
    del formats  # the source's copy is the only one
    confirm_owned()
    with dc.changed:
        while source is not None and not source.cancelled and dc.is_alive():
            dc.changed.wait(60)
    dc.close()
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
