"""Hotkeys on Wayland, where no program may grab keys.

- `PortalHotkeys`: the GlobalShortcuts portal (KDE, GNOME 48+): the desktop asks the user
  to confirm the chords once, then sends `Activated(session, id, ...)` signals; the
  listener thread only enqueues.
- `DesktopBindings`: elsewhere (sway, Hyprland, GNOME < 48) the desktop's own bindings run
  `trayassist trigger ACTION`; `trayassist hotkeys install` writes them. Nothing to listen to.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from trayassist.desktop.base import guarded
from trayassist.desktop.wayland.portal import Portal, PortalError, token
from trayassist.hotkey_syntax import parse_hotkey

log = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
_TRIGGER_NAMES = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "cmd": "LOGO",
                  "alt_gr": "ALTGR"}
_KEYS = {"<space>": "space", "<enter>": "Return", "<tab>": "Tab", "<esc>": "Escape",
         "<backspace>": "BackSpace", "<insert>": "Insert", "<delete>": "Delete",
         "<home>": "Home", "<end>": "End", "<page_up>": "Page_Up", "<page_down>": "Page_Down",
         "<up>": "Up", "<down>": "Down", "<left>": "Left", "<right>": "Right",
         **{f"<f{n}>": f"F{n}" for n in range(1, 21)}}


def preferred_trigger(spec: str) -> str:
    """pynput syntax -> the XDG shortcuts spec: `<ctrl>+<alt>+e` -> `CTRL+ALT+e`."""
    hotkey = parse_hotkey(spec)
    mods = [_TRIGGER_NAMES[m] for m in ("ctrl", "alt", "alt_gr", "shift", "cmd")
            if m in hotkey.modifiers]
    return "+".join([*mods, _KEYS.get(hotkey.key, hotkey.key)])


def shortcut_id(spec: str, names: Mapping[str, str] | None) -> str:
    return (names or {}).get(spec) or parse_hotkey(spec).canonical


class PortalHotkeys:
    """The HotkeySource port over the GlobalShortcuts portal. `start` from the daemon's
    setup: it only checks that the portal is there (one D-Bus call, bounded) and leaves
    the negotiation, which may wait for the user's consent dialog, to the listener
    thread, so the tray never waits on it. Callbacks run on the listener thread and only
    enqueue; `stop` any thread."""

    def __init__(self) -> None:
        self._portal: Portal | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.ready = threading.Event()  # set once the shortcuts are bound (or it failed)
        self.error: str | None = None
        self.session: str | None = None
        self.bound: dict[str, str] = {}  # shortcut id -> trigger the desktop reports

    def start(self, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None = None) -> None:
        """Raises PortalError when the desktop has no GlobalShortcuts portal."""
        portal = Portal(INTERFACE)
        self._portal = portal
        self._thread = threading.Thread(target=self._run, args=(portal, bindings, names),
                                        name="trayassist-portal-hotkeys", daemon=True)
        self._thread.start()

    def _run(self, portal: Portal, bindings: dict[str, Callable[[], None]],
             names: Mapping[str, str] | None) -> None:
        callbacks = {shortcut_id(spec, names): guarded(spec, cb) for spec, cb in bindings.items()}
        try:
            self._bind(portal, bindings, names)
        except (PortalError, OSError) as exc:
            self.error = str(exc)
            log.warning("GlobalShortcuts portal: %s; bind `trayassist trigger ACTION` in the "
                        "desktop's settings instead (`trayassist hotkeys`)", exc)
            self.ready.set()
            return
        try:
            self._listen(portal, callbacks)
        finally:
            self.ready.set()

    def _bind(self, portal: Portal, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None) -> None:
        results = portal.request("CreateSession", "a{sv}", {
            "handle_token": ("s", token()), "session_handle_token": ("s", token())})
        self.session = str(results["session_handle"])
        shortcuts = [(shortcut_id(spec, names), {
            "description": ("s", f"trayassist: {shortcut_id(spec, names)} the selection"),
            "preferred_trigger": ("s", preferred_trigger(spec))}) for spec in bindings]
        bound = portal.request("BindShortcuts", "oa(sa{sv})sa{sv}", self.session, shortcuts,
                               "", {"handle_token": ("s", token())})
        for sid, props in bound.get("shortcuts", []):
            self.bound[sid] = str(props.get("trigger_description", ("s", ""))[1])
        log.info("GlobalShortcuts portal bound %d shortcut(s)", len(self.bound))

    def _listen(self, portal: Portal, callbacks: dict[str, Callable[[], None]]) -> None:
        from jeepney import MatchRule, message_bus

        rule = MatchRule(type="signal", interface=INTERFACE, member="Activated")
        with portal.conn.filter(rule, bufsize=16) as queue:
            portal.conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5.0)
            self.ready.set()  # bound and listening
            while not self._stopping.is_set():
                try:
                    msg = portal.conn.recv_until_filtered(queue, timeout=0.5)
                except TimeoutError:
                    continue
                except (OSError, ValueError):
                    if not self._stopping.is_set():
                        log.warning("lost the GlobalShortcuts portal connection")
                    return
                session, sid = msg.body[0], msg.body[1]
                if session == self.session and sid in callbacks:
                    callbacks[sid]()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(1.0)
        if self._portal is not None:
            self._portal.close()
            self._portal = None


class DesktopBindings:
    """The HotkeySource port where the desktop binds the keys itself: nothing to grab."""

    def start(self, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None = None) -> None:
        log.info("Wayland: hotkeys come from the desktop's own bindings running `trayassist "
                 "trigger ACTION`; `trayassist hotkeys` shows them, `trayassist hotkeys "
                 "install DESKTOP` writes them")

    def stop(self) -> None:
        pass


class AutoHotkeys:
    """The portal where it answers, else the desktop's bindings (decided at start)."""

    def __init__(self) -> None:
        self.active: PortalHotkeys | DesktopBindings | None = None

    def start(self, bindings: dict[str, Callable[[], None]],
              names: Mapping[str, str] | None = None) -> None:
        portal = PortalHotkeys()
        try:
            portal.start(bindings, names)
        except PortalError as exc:
            log.info("GlobalShortcuts portal unavailable (%s)", exc)
            portal.stop()
            self.active = DesktopBindings()
            self.active.start(bindings, names)
        else:
            self.active = portal

    def stop(self) -> None:
        if self.active is not None:
            self.active.stop()


def make_hotkeys() -> AutoHotkeys:
    return AutoHotkeys()
