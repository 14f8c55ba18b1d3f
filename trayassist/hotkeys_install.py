"""Desktop bindings that run `trayassist trigger ACTION`, for Wayland desktops where no
program may grab keys: what `trayassist hotkeys install sway|hyprland|gnome|kde` writes.

Pure functions build the text; `install` writes files (never clobbering the user's own
lines: our bindings live in a file of their own, included once). No user text involved.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trayassist.hotkey_syntax import parse_hotkey

DESKTOPS = ("sway", "hyprland", "gnome", "kde")
MARK = "# trayassist bindings: written by `trayassist hotkeys install`; edit the hotkeys in "\
       "trayassist's config and run it again"
_SWAY_MODS = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "cmd": "Mod4", "alt_gr": "Mod5"}
_HYPR_MODS = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "cmd": "SUPER", "alt_gr": "MOD5"}
_GNOME_MODS = {"ctrl": "<Control>", "alt": "<Alt>", "shift": "<Shift>", "cmd": "<Super>",
               "alt_gr": "<Mod5>"}
_KDE_MODS = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "cmd": "Meta", "alt_gr": "AltGr"}
_XKB = {"<space>": "space", "<enter>": "Return", "<tab>": "Tab", "<esc>": "Escape",
        "<backspace>": "BackSpace", "<insert>": "Insert", "<delete>": "Delete",
        "<home>": "Home", "<end>": "End", "<page_up>": "Prior", "<page_down>": "Next",
        "<up>": "Up", "<down>": "Down", "<left>": "Left", "<right>": "Right",
        "<pause>": "Pause", "<print_screen>": "Print", "<menu>": "Menu",
        **{f"<f{n}>": f"F{n}" for n in range(1, 21)}}
GNOME_SCHEMA = "org.gnome.settings-daemon.plugins.media-keys"
GNOME_PATH = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings"


@dataclass(frozen=True)
class Binding:
    action: str
    hotkey: str  # pynput syntax


def trigger_command(action: str) -> str:
    """The command a binding runs: this installation's trayassist, by absolute path."""
    exe = shutil.which("trayassist")
    here = Path(sys.executable).with_name("trayassist")
    if here.is_file():
        exe = str(here)
    if exe:
        return f"{shlex.quote(exe)} trigger {shlex.quote(action)}"
    return f"{shlex.quote(sys.executable)} -m trayassist trigger {shlex.quote(action)}"


def _chord(spec: str, mods: Mapping[str, str], sep: str, upper_key: bool = False) -> str:
    hotkey = parse_hotkey(spec)
    key = _XKB.get(hotkey.key, hotkey.key)
    if upper_key and len(key) == 1:
        key = key.upper()
    names = [mods[m] for m in ("ctrl", "alt", "alt_gr", "shift", "cmd") if m in hotkey.modifiers]
    return sep.join([*names, key])


def sway_text(bindings: list[Binding]) -> str:
    # --release: sway runs the command when the key goes up, so the user's fingers are off
    # the keys before anything is pasted.
    lines = [MARK]
    lines += [f"bindsym --release {_chord(b.hotkey, _SWAY_MODS, '+')} exec "
              f"{trigger_command(b.action)}" for b in bindings]
    return "\n".join(lines) + "\n"


def hyprland_text(bindings: list[Binding]) -> str:
    lines = [MARK]
    for b in bindings:
        hotkey = parse_hotkey(b.hotkey)
        mods = " ".join(_HYPR_MODS[m] for m in ("ctrl", "alt", "alt_gr", "shift", "cmd")
                        if m in hotkey.modifiers)
        key = _XKB.get(hotkey.key, hotkey.key.upper())
        # bindr: on release, for the same reason as sway's --release.
        lines.append(f"bindr = {mods}, {key}, exec, {trigger_command(b.action)}")
    return "\n".join(lines) + "\n"


def gnome_commands(bindings: list[Binding]) -> list[list[str]]:
    paths = [f"{GNOME_PATH}/trayassist-{b.action}/" for b in bindings]
    commands: list[list[str]] = []
    for b, path in zip(bindings, paths, strict=True):
        schema = f"{GNOME_SCHEMA}.custom-keybinding:{path}"
        commands += [
            ["gsettings", "set", schema, "name", f"trayassist {b.action}"],
            ["gsettings", "set", schema, "command", trigger_command(b.action)],
            ["gsettings", "set", schema, "binding", _chord(b.hotkey, _GNOME_MODS, "")],
        ]
    return commands


def gnome_list_value(existing: list[str], bindings: list[Binding]) -> str:
    ours = [f"{GNOME_PATH}/trayassist-{b.action}/" for b in bindings]
    kept = [p for p in existing if "/trayassist-" not in p]
    return "[" + ", ".join(f"'{p}'" for p in [*kept, *ours]) + "]"


def kde_files(bindings: list[Binding]) -> dict[str, str]:
    """One .desktop file per action, with the shortcut KDE's kglobalaccel reads."""
    files = {}
    for b in bindings:
        files[f"trayassist-{b.action}.desktop"] = "\n".join([
            "[Desktop Entry]", "Type=Application", f"Name=trayassist {b.action}",
            f"Exec={trigger_command(b.action)}", "NoDisplay=true",
            f"X-KDE-Shortcuts={_chord(b.hotkey, _KDE_MODS, '+', upper_key=True)}", ""])
    return files


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def target_file(desktop: str) -> Path:
    return {"sway": config_home() / "sway" / "trayassist.conf",
            "hyprland": config_home() / "hypr" / "trayassist.conf",
            "kde": data_home() / "applications",
            "gnome": Path(GNOME_PATH)}[desktop]


def render(desktop: str, bindings: list[Binding]) -> str:
    """What `--print` shows: the exact text or commands for that desktop."""
    if desktop == "sway":
        return (f"# {target_file('sway')}, included from your sway config with:\n"
                f"#   include {target_file('sway')}\n" + sway_text(bindings))
    if desktop == "hyprland":
        return (f"# {target_file('hyprland')}, sourced from hyprland.conf with:\n"
                f"#   source = {target_file('hyprland')}\n" + hyprland_text(bindings))
    if desktop == "gnome":
        cmds = gnome_commands(bindings)
        listing = gnome_list_value([], bindings)
        return "\n".join([" ".join(shlex.quote(a) for a in c) for c in cmds] + [
            f"gsettings set {GNOME_SCHEMA} custom-keybindings {shlex.quote(listing)}"]) + "\n"
    out = []
    for name, text in kde_files(bindings).items():
        out.append(f"# {target_file('kde') / name}\n{text}")
    return "\n".join(out)


def _include(config: Path, line: str) -> bool:
    """Append `line` to the user's config once. False when there is no config file."""
    if not config.is_file():
        return False
    text = config.read_text()
    if line not in text.splitlines():
        config.write_text(text + ("" if text.endswith("\n") else "\n") + line + "\n")
    return True


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)


def install(desktop: str, bindings: list[Binding]) -> list[str]:
    """Write the bindings; returns what was done, one line each (for the CLI)."""
    done: list[str] = []
    if desktop in ("sway", "hyprland"):
        target = target_file(desktop)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sway_text(bindings) if desktop == "sway" else hyprland_text(bindings))
        done.append(f"wrote {target}")
        main = target.parent / ("config" if desktop == "sway" else "hyprland.conf")
        line = f"include {target}" if desktop == "sway" else f"source = {target}"
        if _include(main, line):
            done.append(f"included it from {main}")
        else:
            done.append(f"no {main} yet: copy your desktop's default config there "
                        f"(sway: /etc/sway/config) and add: {line}")
        reload = ["swaymsg", "reload"] if desktop == "sway" else ["hyprctl", "reload"]
        if shutil.which(reload[0]) and (os.environ.get("SWAYSOCK") if desktop == "sway"
                                        else os.environ.get("HYPRLAND_INSTANCE_SIGNATURE")):
            proc = _run(reload)
            done.append(f"{' '.join(reload)}: {'ok' if proc.returncode == 0 else proc.stderr}")
    elif desktop == "gnome":
        if not shutil.which("gsettings"):
            raise OSError("gsettings is missing: sudo apt install libglib2.0-bin")
        current = _run(["gsettings", "get", GNOME_SCHEMA, "custom-keybindings"]).stdout
        existing = [p.strip(" '") for p in current.strip().strip("@as").strip(" []").split(",")
                    if p.strip(" '")]
        for cmd in gnome_commands(bindings):
            proc = _run(cmd)
            if proc.returncode:
                raise OSError(f"{' '.join(cmd[:3])} failed: {proc.stderr.strip()}")
        _run(["gsettings", "set", GNOME_SCHEMA, "custom-keybindings",
              gnome_list_value(existing, bindings)])
        done.append(f"set {len(bindings)} GNOME custom shortcut(s)")
    else:
        folder = target_file("kde")
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in kde_files(bindings).items():
            (folder / name).write_text(text)
            done.append(f"wrote {folder / name}")
        done.append("log out and in (or run `kbuildsycoca6`) for KDE to pick them up")
    return done


def installed(desktop: str) -> dict[str, str]:
    """action -> where it is bound, read back from what `install` wrote."""
    found: dict[str, str] = {}
    if desktop in ("sway", "hyprland"):
        target = target_file(desktop)
        if target.is_file():
            for line in target.read_text().splitlines():
                if " trigger " in line and not line.startswith("#"):
                    found[shlex.split(line.split(" trigger ", 1)[1])[0]] = \
                        f"{target}: {line.split(' exec', 1)[0].strip()}"
    elif desktop == "kde":
        for path in sorted(target_file("kde").glob("trayassist-*.desktop")):
            action = path.stem.removeprefix("trayassist-")
            shortcut = next((ln.split("=", 1)[1] for ln in path.read_text().splitlines()
                             if ln.startswith("X-KDE-Shortcuts=")), "?")
            found[action] = f"{path}: {shortcut}"
    elif desktop == "gnome" and shutil.which("gsettings"):
        listing = _run(["gsettings", "get", GNOME_SCHEMA, "custom-keybindings"]).stdout
        for entry in listing.split("'"):
            if "/trayassist-" in entry:
                action = entry.rstrip("/").rsplit("/trayassist-", 1)[1]
                schema = f"{GNOME_SCHEMA}.custom-keybinding:{entry}"
                found[action] = "GNOME: " + _run(["gsettings", "get", schema,
                                                  "binding"]).stdout.strip()
    return found
