"""The tray icon on a real X server under trayer (pystray's plain X11 backend, "xorg")."""

from __future__ import annotations

import threading
from typing import Any

import pytest

pytest.importorskip("Xlib", reason="python-xlib is installed on Linux only")

from Xlib.display import Display  # noqa: E402

try:
    from . import xapp
except ImportError:
    import xapp  # type: ignore[no-redef]

pytestmark = pytest.mark.desktop


def test_updates_from_other_threads_reach_the_icon_and_leave_its_connection_alone(
        xserver, tray_host, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # pystray's own cross-thread path flushes the loop's python-xlib connection from the
    # caller's thread and waits for the loop; python-xlib can lose the loop's wake-up then
    # (a job that never ends, or the X server left grabbed: every paste hangs).
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    from trayassist.desktop.tray import Tray

    tray = Tray("trayassist-test", [])
    icon: Any = tray._icon
    assert type(icon).__module__.endswith("_xorg")
    proto = icon._display.display  # python-xlib's connection object
    users: set[str] = set()
    io = proto.send_and_recv

    def recording(*args: Any, **kw: Any) -> Any:
        users.add(threading.current_thread().name)
        return io(*args, **kw)

    proto.send_and_recv = recording
    ready = threading.Event()
    loop = threading.Thread(target=tray.run, args=(ready.set,), name="tray-loop")
    loop.start()
    d = Display(xserver.display)
    try:
        assert ready.wait(10.0)

        def work() -> None:
            for i in range(40):
                tray.show(("busy", "ready")[i % 2], f"trayassist: step {i}")

        worker = threading.Thread(target=work, name="worker")
        worker.start()
        worker.join(30.0)
        assert not worker.is_alive(), "a tray update blocked its caller"
        window = d.create_resource_object("window", icon._window.id)
        xapp.wait_for(lambda: window.get_wm_name() == "trayassist: step 39", timeout=10.0,
                      what="the last tooltip on the icon window")
        assert users == {"tray-loop"}, users  # only the loop touched pystray's connection
    finally:
        tray.stop()
        loop.join(10.0)
        d.close()
    assert not loop.is_alive()
