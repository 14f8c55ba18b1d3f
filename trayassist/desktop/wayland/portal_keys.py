"""Key injection where the compositor has no virtual-keyboard protocol (GNOME, KDE):
the RemoteDesktop portal (the desktop asks the user once), else no injection at all and
the result is left on the clipboard with a "paste with Ctrl+V" notice.

"Once" holds across restarts where the portal can persist a grant (RemoteDesktop v2):
the session asks for persist_mode 2 (until the user revokes it) and keeps the restore
token the portal returns in a 0600 file in the state folder; the next start hands it back,
so the desktop does not ask again at every login. The token grants input, never text."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from trayassist.desktop.wayland.clipboard import PasteMark
from trayassist.desktop.wayland.keys import wtype_args
from trayassist.desktop.wayland.portal import Portal, token

log = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.RemoteDesktop"
KEYBOARD = 1  # device type bit
PERSIST_UNTIL_REVOKED = 2  # persist_mode (RemoteDesktop version 2 and later)
TOKEN_FILE = "remote-desktop.token"
# X keysyms for the names wtype_args produces.
_KEYSYMS = {"ctrl": 0xFFE3, "alt": 0xFFE9, "shift": 0xFFE1, "logo": 0xFFEB, "altgr": 0xFE03,
            "Return": 0xFF0D, "Tab": 0xFF09, "Escape": 0xFF1B, "BackSpace": 0xFF08,
            "Insert": 0xFF63, "Delete": 0xFFFF, "Home": 0xFF50, "End": 0xFF57,
            "Prior": 0xFF55, "Next": 0xFF56, "Up": 0xFF52, "Down": 0xFF54, "Left": 0xFF51,
            "Right": 0xFF53, "space": 0x20, **{f"F{n}": 0xFFBE + n - 1 for n in range(1, 21)}}


def chord_keysyms(chord: str) -> tuple[list[int], int]:
    args = wtype_args(chord)
    mods = [_KEYSYMS[args[i + 1]] for i, a in enumerate(args) if a == "-M"]
    key = args[args.index("-k") + 1]
    sym = _KEYSYMS.get(key, ord(key) if len(key) == 1 else 0)
    if not sym:
        raise ValueError(f"no keysym for {key!r}")
    return mods, sym


class PortalKeys:
    """The Keys port over the RemoteDesktop portal. Worker thread."""

    can_inject = True

    def __init__(self, mark: PasteMark | None = None, token_file: Path | None = None) -> None:
        from trayassist import paths

        self.mark = mark or PasteMark()
        self._lock = threading.Lock()
        self._token_file = token_file or paths.state_dir() / TOKEN_FILE
        self._portal = Portal(INTERFACE)
        try:
            results = self._portal.request("CreateSession", "a{sv}", {
                "handle_token": ("s", token()), "session_handle_token": ("s", token())})
            self.session = str(results["session_handle"])
            options = {"handle_token": ("s", token()), "types": ("u", KEYBOARD)}
            if self._portal.version >= 2:
                options["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
                saved = read_token(self._token_file)
                if saved:
                    options["restore_token"] = ("s", saved)
            self._portal.request("SelectDevices", "oa{sv}", self.session, options)
            started = self._portal.request("Start", "osa{sv}", self.session, "",
                                           {"handle_token": ("s", token())})
        except BaseException:
            self._portal.close()
            raise
        # A token is used once: the portal returns the one for the next start.
        if started.get("restore_token"):
            write_token(self._token_file, str(started["restore_token"]))

    def wait_modifiers_released(self, timeout: float) -> bool:
        return True  # no client can read the keyboard state on Wayland

    def send_copy(self) -> None:
        self.send_chord("<ctrl>+c")

    def send_paste(self) -> None:
        self.send_chord("<ctrl>+v")

    def send_chord(self, chord: str) -> None:
        self.mark.mark()  # any chord may be an app's paste chord (see PasteMark)
        mods, key = chord_keysyms(chord)
        with self._lock:
            for sym, state in ([(m, 1) for m in mods] + [(key, 1), (key, 0)]
                               + [(m, 0) for m in reversed(mods)]):
                self._portal.call("NotifyKeyboardKeysym", "oa{sv}iu", self.session, {},
                                  sym, state)


class ClipboardOnlyKeys:
    """No way to inject keys: capture cannot send Ctrl+C and delivery leaves the result on
    the clipboard (the daemon switches to clipboard delivery and says so)."""

    can_inject = False

    def wait_modifiers_released(self, timeout: float) -> bool:
        return True

    def send_copy(self) -> None:
        log.info("no key injection here: the copy keystroke is not sent")

    def send_paste(self) -> None:
        log.info("no key injection here: the paste keystroke is not sent")

    def send_chord(self, chord: str) -> None:
        log.info("no key injection here: %s is not sent", chord)


def read_token(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def write_token(path: Path, value: str) -> None:
    """Owner-only (control.write_private); a failure only means the desktop asks again at
    the next start."""
    from trayassist.control import write_private

    try:
        write_private(path, value.encode())
    except OSError as exc:
        log.warning("cannot keep the RemoteDesktop grant (%s): the desktop will ask again "
                    "at the next start", exc)
