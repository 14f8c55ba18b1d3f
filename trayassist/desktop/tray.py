"""The tray icon (pystray): one image per state, a tooltip, and the menu.

pystray's run loop must own the main thread (macOS requires it); everything else
starts in its `setup` callback. Backends differ: the plain X11 backend ("xorg",
used under trayer and minimal window managers) has no menu and no notifications,
only a click action; GNOME/KDE (appindicator/gtk), Windows and macOS show the menu.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STATES = ("loading", "ready", "busy", "paused", "error")
_COLORS = {"loading": (120, 144, 156), "ready": (33, 150, 243), "busy": (255, 160, 0),
           "paused": (158, 158, 158), "error": (229, 57, 53)}


def icons_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "icons"


def load_icon(state: str) -> object:
    from PIL import Image, ImageDraw

    path = icons_dir() / f"{state}.png"
    if path.is_file():
        return Image.open(path)
    # A wheel install has no icons/ folder: a plain disc in the state's colour.
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse((4, 4, 60, 60), fill=_COLORS[state] + (255,))
    return img


@dataclass(frozen=True)
class MenuItem:
    label: str
    action: Callable[[], None]
    checked: Callable[[], bool] | None = None
    default: bool = False  # the click action where a backend has no menu


class Tray:
    def __init__(self, name: str, items: list[MenuItem]) -> None:
        import pystray

        self._pystray = pystray
        menu = pystray.Menu(*(
            pystray.MenuItem(
                item.label,
                self._call(item.action),
                checked=(lambda _i, fn=item.checked: fn()) if item.checked else None,
                default=item.default,
            )
            for item in items
        ))
        self._images = {state: load_icon(state) for state in STATES}
        self._icon = pystray.Icon(name, self._images["loading"], "trayassist: loading", menu)

    @staticmethod
    def _call(action: Callable[[], None]) -> Callable[[object, object], None]:
        def handler(_icon: object, _item: object) -> None:
            try:
                action()
            except Exception:  # noqa: BLE001 - a menu click must not kill the tray loop
                log.exception("menu action failed")

        return handler

    @property
    def has_notifications(self) -> bool:
        return bool(getattr(self._icon, "HAS_NOTIFICATION", False))

    def show(self, state: str, tooltip: str) -> None:
        """Any thread: pystray marshals updates onto its own loop."""
        self._icon.icon = self._images[state]
        self._icon.title = tooltip[:127]  # some backends cap tooltips at 128 chars
        with contextlib.suppress(Exception):  # backends without a menu may refuse
            self._icon.update_menu()

    def notify(self, title: str, message: str) -> None:
        if self.has_notifications:
            self._icon.notify(message, title)

    def run(self, setup: Callable[[], None]) -> None:
        """Main thread; returns after stop()."""

        def _setup(icon: object) -> None:
            self._icon.visible = True
            setup()

        self._icon.run(setup=_setup)

    def stop(self) -> None:
        self._icon.stop()
