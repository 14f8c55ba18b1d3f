"""Per-app profiles: which keys an app gets, how its selection is captured, how the
result is delivered. Pure data and resolution; no OS calls, platform-neutral.

The platform supplies the defaults (copy Ctrl+C, paste Ctrl+V; Cmd on macOS; whether a
primary selection exists) and a profile overrides only what differs. Profiles are keyed
by `AppInfo.app_id`: the X11 WM_CLASS class, the Wayland app_id or the Windows exe name,
lower-case. A terminal turns Ctrl+C into SIGINT, so a terminal profile never sends it.

Why other apps default to the copy keys, not the keyless primary read: an app keeps
owning PRIMARY for a selection in a tab the user has left (measured: mousepad keeps
serving tab 1's selection after Ctrl+N opens tab 2; browsers do the same), so "the
focused app owns PRIMARY" does not prove it is the selection under the cursor, and
pasting over it would put text where nothing was selected. Terminals (result goes to
the clipboard, nothing is replaced) and editors with their own profile read PRIMARY;
any app can opt in with `capture = "primary"`, and `[apps.default]` changes the default.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from trayassist.hotkey_syntax import canonical_chord, chord_label
from trayassist.ports import AppInfo

if TYPE_CHECKING:
    from trayassist.config import Config

log = logging.getLogger(__name__)

CAPTURES = ("primary", "copy-keys")
DELIVERIES = ("paste", "clipboard")
INTERRUPT = "<ctrl>+c"  # in a terminal: SIGINT to the running command
# The copy chord when the desktop cannot tell which app is focused (GNOME and KDE on
# Wayland): that app may be a terminal, where Ctrl+C interrupts the running command.
# Ctrl+Insert copies in GTK, Qt, Tk, Firefox, Chromium/Electron and LibreOffice (CUA
# keys), and a terminal that does not copy on it gets an escape sequence, never SIGINT.
UNKNOWN_APP_COPY = "<ctrl>+<insert>"

TERMINAL, FORWARDER, EDITOR, PASSWORDS = "terminal", "forwards keys", "editor", "passwords"
DEFAULT = "default"  # the profile of every app without one; [apps.default] overrides it


@dataclass(frozen=True)
class AppProfile:
    """What one app gets. None means "the platform's default" (or, for delivery, the
    config's); an empty chord means "send no key" (the app has none that is safe)."""

    kind: str = "app"
    capture: str | None = None  # "primary": keyless read first; None/"copy-keys": copy keys
    copy: str | None = None  # chord; "" = never send a copy key
    paste: str | None = None  # chord; "" = no paste key (deliver to the clipboard)
    delivery: str | None = None  # "paste" | "clipboard"
    enabled: bool = True
    note: str = ""  # why, shown by `trayassist apps`


@dataclass(frozen=True)
class AppOverride:
    """A `[apps."NAME"]` table from the config: only the keys the user set."""

    capture: str | None = None
    copy: str | None = None
    paste: str | None = None
    delivery: str | None = None
    enabled: bool | None = None

    def apply(self, base: AppProfile) -> AppProfile:
        changes = {k: v for k, v in vars(self).items() if v is not None}
        return replace(base, **changes)


@dataclass(frozen=True)
class PlatformKeys:
    """What the desktop backend gives every app that has no profile."""

    copy: str = "<ctrl>+c"
    paste: str = "<ctrl>+v"
    has_primary: bool = False  # X11 PRIMARY / Wayland primary selection readable


def _terminal(copy: str = "<ctrl>+<shift>+c", paste: str = "<ctrl>+<shift>+v",
              note: str = "") -> AppProfile:
    return AppProfile(kind=TERMINAL, capture="primary", copy=copy, paste=paste,
                      delivery="clipboard",
                      note=note or "Ctrl+C would interrupt the running command")


_VTE = _terminal()
# A key-forwarding app (VM or remote-desktop viewer) sends every key to another machine,
# where Ctrl+C may interrupt a command and Ctrl+V paste the wrong thing: off by default.
_FORWARDER = AppProfile(kind=FORWARDER, enabled=False,
                        note="sends every key to another machine; enable it with "
                             '[apps."NAME"] enabled = true')

BUILTIN_PROFILES: Mapping[str, AppProfile] = {
    # X11 WM_CLASS classes (lower-cased), Wayland app_ids, Windows exe names.
    "xterm": _terminal(copy="", paste="",
                       note="no copy/paste keys by default: PRIMARY only, result to the "
                            "clipboard"),
    "uxterm": _terminal(copy="", paste=""),
    "urxvt": _terminal(copy="<ctrl>+<alt>+c", paste="<ctrl>+<alt>+v",
                       note="rxvt-unicode copies with Ctrl+Alt+C"),
    "rxvt": _terminal(copy="", paste=""),
    "gnome-terminal": _VTE, "gnome-terminal-server": _VTE, "org.gnome.terminal": _VTE,
    "org.gnome.console": _VTE, "kgx": _VTE,
    "konsole": _VTE, "org.kde.konsole": _VTE,
    "xfce4-terminal": _VTE, "org.xfce.terminal": _VTE,
    "alacritty": _VTE, "kitty": _VTE, "foot": _VTE, "footclient": _VTE,
    "org.wezfurlong.wezterm": _VTE, "wezterm": _VTE, "wezterm-gui": _VTE,
    "tilix": _VTE, "com.gexperts.tilix": _VTE,
    "terminator": _VTE, "mate-terminal": _VTE, "lxterminal": _VTE, "qterminal": _VTE,
    "terminology": _VTE, "st": _terminal(copy="", paste="<ctrl>+<shift>+v"),
    "st-256color": _terminal(copy="", paste="<ctrl>+<shift>+v"),
    "ptyxis": _VTE, "org.gnome.ptyxis": _VTE, "ghostty": _VTE, "com.mitchellh.ghostty": _VTE,
    "blackbox": _VTE, "com.raggesilver.blackbox": _VTE, "guake": _VTE, "tilda": _VTE,
    "yakuake": _VTE, "org.kde.yakuake": _VTE, "sakura": _VTE, "cool-retro-term": _VTE,
    "deepin-terminal": _VTE, "io.elementary.terminal": _VTE, "contour": _VTE,
    "org.contourterminal.contour": _VTE, "rio": _VTE, "tabby": _VTE, "hyper": _VTE,
    "dev.warp.warp": _VTE, "warp": _VTE, "termite": _VTE, "zutty": _terminal(copy="", paste=""),
    "eterm": _terminal(copy="", paste=""), "mlterm": _terminal(copy="", paste=""),
    # Windows: Windows Terminal, the console host (classic and OpenConsole), shells.
    "windowsterminal": _VTE,
    "conhost": _terminal(paste="<ctrl>+v"), "openconsole": _terminal(paste="<ctrl>+v"),
    "cmd": _terminal(paste="<ctrl>+v"), "powershell": _terminal(paste="<ctrl>+v"),
    "pwsh": _terminal(paste="<ctrl>+v"), "mintty": _terminal(copy="<ctrl>+<insert>",
                                                            paste="<shift>+<insert>"),
    # Editors whose Ctrl+C is not copy.
    # Emacs: Ctrl+C is a prefix key, and M-w copies mark..point even with no active
    # region, so only the active region (which Emacs puts on PRIMARY) is taken.
    "emacs": AppProfile(kind=EDITOR, capture="primary", copy="", paste="",
                        delivery="clipboard", note="Ctrl+C is a prefix key in Emacs"),
    "gvim": AppProfile(kind=EDITOR, capture="primary", copy="", paste="",
                       delivery="clipboard", note="Ctrl+C/Ctrl+V are not copy/paste in vim"),
    # Password managers: the copy keys, so their "secret" marker is honoured.
    "keepassxc": AppProfile(kind=PASSWORDS, capture="copy-keys",
                            note="copy keys, so the password marker is honoured"),
    "org.keepassxc.keepassxc": AppProfile(kind=PASSWORDS, capture="copy-keys"),
    # Viewers that forward keys to another machine.
    "remote-viewer": _FORWARDER, "virt-viewer": _FORWARDER, "remmina": _FORWARDER,
    "org.remmina.remmina": _FORWARDER, "xfreerdp": _FORWARDER, "wlfreerdp": _FORWARDER,
    "sdl-freerdp": _FORWARDER, "vncviewer": _FORWARDER, "tigervnc": _FORWARDER,
    "virtualbox machine": _FORWARDER, "virtualboxvm": _FORWARDER, "vmware": _FORWARDER,
    "vmplayer": _FORWARDER, "qemu": _FORWARDER, "qemu-system-x86_64": _FORWARDER,
    "spicy": _FORWARDER, "mstsc": _FORWARDER, "vmconnect": _FORWARDER,
}


@dataclass(frozen=True)
class Plan:
    """The resolved, concrete decision for one job in one app."""

    app_id: str | None  # None: the focused app is unknown
    profile: str  # the profile's name, or "default"
    origin: str  # "built-in", "config", "built-in + config", "default"
    kind: str
    enabled: bool
    use_primary: bool  # try the keyless read first
    copy: str | None  # chord to send; None: the platform's send_copy(); "": send none
    paste: str | None  # chord to send; None: the platform's send_paste(); "": none
    delivery: str  # "auto" | "review" | "paste" | "clipboard"
    paste_hint: str  # "Ctrl+Shift+V" etc. for "result copied" messages; "" if none
    note: str = field(default="", compare=False)

    @property
    def terminal(self) -> bool:
        return self.kind == TERMINAL


def lookup(app_id: str | None, overrides: Mapping[str, AppOverride] | None = None
           ) -> tuple[str, str, AppProfile]:
    """(profile name, origin, profile) for an app_id; unknown apps get the default."""
    overrides = overrides or {}
    key = (app_id or "").lower()
    base = BUILTIN_PROFILES.get(key) if key else None
    override = overrides.get(key) if key else None
    if base is None and override is None:
        default = overrides.get(DEFAULT)
        profile = default.apply(AppProfile()) if default else AppProfile()
        return DEFAULT, "config" if default else DEFAULT, profile
    origin = "built-in + config" if base and override else "built-in" if base else "config"
    profile = base or AppProfile(kind="app")
    return key, origin, override.apply(profile) if override else profile


def resolve(app: AppInfo | None, overrides: Mapping[str, AppOverride] | None,
            platform: PlatformKeys, delivery: str) -> Plan:
    """The plan for a job: the profile merged over the platform's defaults and the
    config's delivery. A terminal's copy chord is never a bare Ctrl+C."""
    name, origin, p = lookup(app.app_id if app else None, overrides)
    if name == DEFAULT and app is not None and app.process:
        # A window class we do not know, from a program we do (a terminal started under
        # another class, a renamed build): the program's profile.
        by_process = lookup(app.process, overrides)
        if by_process[0] != DEFAULT:
            name, origin, p = by_process
    capture = p.capture or "copy-keys"
    copy = p.copy
    if app is None and copy is None and _same(platform.copy, INTERRUPT):
        copy = UNKNOWN_APP_COPY
    if p.kind == TERMINAL and _same(copy if copy is not None else platform.copy, INTERRUPT):
        copy = ""  # refuse to interrupt; the config loader already rejects this
    paste = p.paste
    delivery_ = p.delivery or delivery
    paste_chord = platform.paste if paste is None else paste
    if delivery_ != "clipboard" and paste == "":  # paste, or auto/review's paste
        delivery_ = "clipboard"  # no paste key this app understands
    return Plan(
        app_id=app.app_id if app else None, profile=name, origin=origin, kind=p.kind,
        enabled=p.enabled, use_primary=capture == "primary" and platform.has_primary,
        copy=copy, paste=paste, delivery=delivery_,
        paste_hint=chord_label(paste_chord) if paste_chord else "", note=p.note)


def _same(a: str, b: str) -> bool:
    try:
        return canonical_chord(a) == canonical_chord(b)
    except ValueError:
        return False


def describe(p: AppProfile, platform: PlatformKeys) -> dict[str, str]:
    """The columns `trayassist apps` shows for one profile."""
    def chord(value: str | None, default: str) -> str:
        return "(none)" if value == "" else value or f"{default} (default)"
    capture = p.capture or "copy-keys"
    if capture == "primary" and not platform.has_primary:
        capture = "copy-keys (no primary selection here)"
    return {"capture": capture, "copy": chord(p.copy, platform.copy),
            "paste": chord(p.paste, platform.paste), "delivery": p.delivery or "(config)",
            "enabled": "yes" if p.enabled else "no"}


# ---- the focused app, from a desktop ----------------------------------------------------

def platform_keys(desktop: Any) -> PlatformKeys:
    """What every app without a profile gets on this desktop."""
    mod = "<cmd>" if sys.platform == "darwin" else "<ctrl>"
    return PlatformKeys(copy=f"{mod}+c", paste=f"{mod}+v",
                        has_primary=desktop.primary is not None)


def focused_plan(desktop: Any, cfg: Config) -> tuple[AppInfo | None, Plan]:
    """Ask the desktop which app is focused (None if it cannot tell) and resolve its
    profile. A failing lookup means the default profile, never a failed job."""
    try:
        app = desktop.focus.focused_app()
    except Exception:
        log.exception("focused app lookup failed; using the default profile")
        app = None
    return app, resolve(app, cfg.apps, platform_keys(desktop), cfg.delivery)
