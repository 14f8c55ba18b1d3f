"""The tray icon (pystray): one image per state, a tooltip, and the menu.

pystray's run loop must own the main thread (macOS requires it); everything else
starts in its `setup` callback. Backends differ: the plain X11 backend ("xorg",
used under trayer and minimal window managers) has no menu and no notifications,
only a click action; GNOME/KDE (appindicator/gtk), Windows and macOS show the menu.

On Linux the backend follows the host: a StatusNotifierItem (pystray's "appindicator")
when a StatusNotifierWatcher is on the session bus (KDE, GNOME's AppIndicator extension,
swaybar, waybar) or on Wayland; the XEmbed tray ("xorg") otherwise. PYSTRAY_BACKEND
still overrides. pystray's appindicator backend passes its temp file's path (no
extension) as the icon *name*, which swaybar and waybar cannot resolve; `_NamedIcons`
puts one PNG per state into a theme folder and sets the icon by name instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayassist.desktop.tray_loop import LoopCalls

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


def backend_has_menu(wayland: bool = False) -> bool:
    """False for pystray's plain X11 backend ("xorg", under trayer and minimal window
    managers): a click there runs the default item, so the daemon makes that item open
    its own launcher window."""
    return bool(getattr(import_pystray(wayland).Icon, "HAS_MENU", True))


@dataclass(frozen=True)
class MenuItem:
    label: str
    action: Callable[[], None]
    checked: Callable[[], bool] | None = None
    default: bool = False  # the click action where a backend has no menu


WATCHER = "org.kde.StatusNotifierWatcher"


def has_sni_watcher(timeout: float = 1.0) -> bool:
    """Whether a StatusNotifierItem host runs (its watcher owns the well-known name)."""
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                          interface="org.freedesktop.DBus")
        with open_dbus_connection(bus="SESSION") as conn:
            reply = conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s",
                                                            (WATCHER,)), timeout=timeout)
        return bool(reply.body and reply.body[0])
    except Exception:  # noqa: BLE001 - no bus, no jeepney, a timeout: no watcher
        return False


def choose_backend(wayland: bool) -> str | None:
    """The pystray backend for this session (None: pystray's own choice)."""
    if os.environ.get("PYSTRAY_BACKEND") or sys.platform != "linux":
        return None
    if wayland or has_sni_watcher():
        return "appindicator"
    return "xorg"


def import_pystray(wayland: bool) -> Any:
    """pystray, with its backend chosen for this session first: pystray reads
    PYSTRAY_BACKEND once, at its first import, so every caller goes through here."""
    backend = choose_backend(wayland)
    if backend is not None:
        os.environ["PYSTRAY_BACKEND"] = backend
    try:
        import pystray
    except ImportError as exc:
        if backend != "appindicator":
            raise
        log.warning("no StatusNotifierItem tray (%s): install python3-gi and "
                    "gir1.2-ayatanaappindicator3-0.1 (bash installers/install.sh)", exc)
        del os.environ["PYSTRAY_BACKEND"]
        import pystray
    return pystray


class _NamedIcons:
    """The named-icon fix for pystray's appindicator backend (see the module docstring)."""

    def __init__(self, icon: object, images: dict[str, object], folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        for state, image in images.items():
            image.save(folder / f"trayassist-{state}.png")  # type: ignore[attr-defined]
        self._icon = icon
        self._folder = folder

    def apply(self, state: str) -> None:
        """Any thread: queued on the GLib loop after pystray's own icon update."""
        from gi.repository import GLib

        def set_named() -> bool:
            indicator = getattr(self._icon, "_appindicator", None)
            if indicator is not None:
                indicator.set_icon_theme_path(str(self._folder))
                indicator.set_icon_full(f"trayassist-{state}", f"trayassist {state}")
            return False

        GLib.idle_add(set_named)


def _xorg_icon_class(base: Any) -> Any:
    """pystray 0.19.5's plain X11 icon asks the tray to dock it on every image change,
    and twice when it is first shown. trayer (a GtkSocket) re-embeds the window each
    time and often leaves it 1 pixel wide, or not embedded at all: the icon vanished
    after a state change, and clicks missed it. One dock request per tray host: a new
    image only needs a redraw. pystray clears its manager when the host is destroyed,
    so a new host still gets a request."""

    class Icon(base):
        def _show(self) -> None:
            if getattr(self, "_systray_manager", None) is None:
                super()._show()

        def _update_icon(self) -> None:
            if getattr(self, "_systray_manager", None) is None:
                super()._update_icon()
                return
            self._icon_data = None  # rebuilt from the new image at the window's size
            self._draw()
            self._icon_valid = True

    Icon.__module__ = base.__module__  # Tray.backend reads the backend from it
    return Icon


class Tray:
    def __init__(self, name: str, items: list[MenuItem], *, wayland: bool = False,
                 icon_folder: Path | None = None) -> None:
        pystray = import_pystray(wayland)
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
        xorg = pystray.Icon.__module__.endswith("_xorg")  # pystray's plain X11 backend
        icon_class = _xorg_icon_class(pystray.Icon) if xorg else pystray.Icon
        self._icon = icon_class(name, self._images["loading"], "trayassist: loading", menu)
        self._state = "loading"
        self._stopped = False
        self._named: _NamedIcons | None = None
        if type(self._icon).__module__.endswith("_appindicator"):
            from trayassist import paths

            self._named = _NamedIcons(self._icon, self._images,
                                      icon_folder or paths.runtime_dir() / "icons")
        # The xorg backend: only its loop thread may touch its X connection (tray_loop).
        self._loop: LoopCalls | None = LoopCalls(self._icon) if xorg else None

    @property
    def backend(self) -> str:
        return type(self._icon).__module__.rsplit("_", 1)[-1]

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
        """Any thread; never waits for the tray's loop on X11 (xorg backend)."""
        self._state = state

        def apply() -> None:
            self._icon.icon = self._images[state]
            if self._named is not None:
                self._named.apply(state)
            self._icon.title = tooltip[:127]  # some backends cap tooltips at 128 chars
            with contextlib.suppress(Exception):  # backends without a menu may refuse
                self._icon.update_menu()

        self._on_loop(apply)

    def _on_loop(self, fn: Callable[[], None]) -> None:
        # Other backends marshal thread-safely themselves (GLib idle, Win32 messages).
        if self._loop is not None:
            self._loop.call(fn)
        else:
            fn()

    def notify(self, title: str, message: str) -> None:
        if self.has_notifications:
            self._icon.notify(message, title)

    def run(self, setup: Callable[[], None]) -> None:
        """Main thread; returns after stop()."""

        def _show_icon() -> None:
            self._icon.visible = True
            if self._named is not None:
                self._named.apply(self._state)
            self._listen_for_clicks()

        def _setup(icon: object) -> None:
            self._on_loop(_show_icon)
            setup()

        if self._loop is not None:
            self._loop.loop_thread = threading.current_thread()  # pystray's loop runs here
        try:
            self._icon.run(setup=_setup)
        except Exception as exc:  # noqa: BLE001 - see below
            if not self._stopped:
                raise
            # pystray's appindicator backend hides its last notification on the way out
            # and raises when no notification daemon runs (GDBus ServiceUnknown).
            log.info("tray shut down with: %s", exc)
        finally:
            if self._loop is not None:
                self._loop.close()

    def _listen_for_clicks(self) -> None:
        """pystray 0.19.5's plain X11 backend handles ButtonPress on its icon window but
        never selects ButtonPressMask there, so under trayer a click reached nobody. Add
        the mask (keeping pystray's own) so the click runs the default item."""
        window = getattr(self._icon, "_window", None)
        display = getattr(self._icon, "_display", None)
        if getattr(type(self._icon), "HAS_MENU", True) or window is None or display is None:
            return
        try:
            from Xlib import X

            window.change_attributes(event_mask=X.ExposureMask | X.StructureNotifyMask
                                     | X.ButtonPressMask)
            display.flush()
        except Exception:  # noqa: BLE001 - without clicks the hotkeys still work
            log.exception("could not listen for tray clicks")

    def stop(self) -> None:
        """Any thread; on X11 (xorg backend) the loop ends soon after, not before return."""
        self._stopped = True
        self._on_loop(self._icon.stop)
