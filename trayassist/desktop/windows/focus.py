"""The Focus port on Windows: the foreground window's process and class, never its title."""

from __future__ import annotations

from trayassist.desktop.windows._win32 import user32, window_class, window_process
from trayassist.ports import AppInfo


class WindowsFocus:
    """GetForegroundWindow -> its process' executable name and its window class. Worker
    thread; a few local calls."""

    def focused_app(self) -> AppInfo | None:
        hwnd = user32.GetForegroundWindow()
        if not hwnd:
            return None
        pid, exe = window_process(hwnd)
        cls = window_class(hwnd)
        if exe is None and cls is None:
            return None
        app_id = (exe or cls or "").lower()
        if app_id.endswith(".exe"):
            app_id = app_id[:-4]
        return AppInfo(app_id=app_id, window_class=cls, process=exe, pid=pid)
