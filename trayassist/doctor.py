"""`trayassist doctor`: what works here, what is missing, and the fix for each.

Every check reads `sys.platform` when it runs, so the same decisions (which desktop
backend, which engine, which control endpoint, which fix to print) are made here as in
the daemon, on Linux, macOS and Windows alike. Checks that only mean something on one
platform say "native" or "n/a" elsewhere instead of failing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass

INSTALL = "bash installers/install.sh"
WINDOWS_INSTALL = "reinstall trayassist with its Windows installer"

# Python modules each desktop backend needs (import name -> pip name). A backend added
# under trayassist/desktop/ adds its line here.
BACKEND_NEEDS: dict[str, dict[str, str]] = {
    "x11": {"Xlib": "python-xlib", "pystray": "pystray", "PIL": "Pillow"},
    "basic": {"pynput": "pynput", "pyperclip": "pyperclip", "pystray": "pystray",
              "PIL": "Pillow"},
    "windows": {"pystray": "pystray", "PIL": "Pillow"},
    "wayland": {"jeepney": "jeepney", "pystray": "pystray", "PIL": "Pillow"},
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # False: only the tray needs it; `run` works without


def install_fix(*pip_names: str) -> str:
    """How to get missing Python pieces on this platform."""
    if sys.platform == "win32":
        return WINDOWS_INSTALL
    if pip_names:
        return f"run {INSTALL} (or: pip install {' '.join(pip_names)})"
    return f"run {INSTALL}"


def _platform() -> Check:
    import platform

    return Check("platform", True, f"{sys.platform} ({platform.platform(terse=True)}), "
                 f"Python {platform.python_version()}")


def _desktop() -> Check:
    from trayassist.desktop import BACKENDS, ENV_VAR, DesktopUnavailable, choose

    try:
        name = choose()
    except DesktopUnavailable as exc:
        return Check("desktop", False, str(exc),
                     f"set {ENV_VAR} to one of {', '.join(BACKENDS)}, or unset it")
    source = f"from {ENV_VAR}" if os.environ.get(ENV_VAR) else "platform default"
    if importlib.util.find_spec(f"trayassist.desktop.{name}") is None:
        return Check("desktop", False, f"{name} ({source}): not part of this install",
                     install_fix())
    missing = [pip for mod, pip in BACKEND_NEEDS.get(name, {}).items()
               if importlib.util.find_spec(mod) is None]
    if missing:
        return Check("desktop", False, f"{name} ({source}): missing {', '.join(missing)}",
                     install_fix(*missing))
    return Check("desktop", True, f"{name} ({source})")


def _server() -> Check | None:
    """engine = "openai": where the text goes; None for the in-process engines."""
    from trayassist.config import ConfigError, load_config
    from trayassist.engines import EngineError, choose

    try:
        cfg = load_config()
        if choose(cfg.engine) != "openai":
            return None
        from trayassist.engines.openai_engine import remote_host_of

        remote = remote_host_of(cfg.base_url, cfg.allow_remote)
    except (ConfigError, EngineError) as exc:
        return Check("engine", False, str(exc), "see the message above")
    where = (f"your text is sent to {remote}, off this machine" if remote
             else "a server on this machine")
    return Check("engine", True, f"openai: {cfg.base_url}, model {cfg.model!r}: {where}")


def _engines() -> Check:
    server = _server()
    if server is not None:
        return server
    from trayassist.config import ConfigError, load_config
    from trayassist.engines import EngineError, choose

    found = [n for n, mod in (("llama-cpp", "llama_cpp"), ("gpt4all", "gpt4all"))
             if importlib.util.find_spec(mod) is not None]
    installed = f"installed: {', '.join(found) or 'none'}"
    try:
        requested = load_config().engine
        name = choose(requested)
    except ConfigError as exc:
        return Check("engine", False, str(exc).splitlines()[0], "see the message above")
    except EngineError as exc:
        return Check("engine", False, f"{exc} ({installed})", install_fix())
    module = {"llama-cpp": "llama_cpp", "gpt4all": "gpt4all"}.get(name)
    if module is not None and importlib.util.find_spec(module) is None:
        pip = {"llama-cpp": "llama-cpp-python", "gpt4all": "gpt4all"}[name]
        return Check("engine", False, f"{name} (configured) is not installed ({installed})",
                     install_fix(pip) if sys.platform == "win32" else
                     f"set engine = \"auto\" in the config, or: {install_fix(pip)}")
    return Check("engine", True, f"{name} (configured {requested}; {installed})")


def _model() -> Check:
    from trayassist import models
    from trayassist.config import ConfigError, load_config

    try:
        cfg = load_config()
        if _server() is not None:
            return Check("model", True, f"{cfg.model} (on the server; "
                         "`trayassist server check` connects to it)")
        resolved = models.resolve(cfg.model)
    except (ConfigError, models.ModelError) as exc:
        return Check("model", False, str(exc).splitlines()[0], "see the message above")
    size = resolved.path.stat().st_size / 1e6
    how = "verified" if resolved.catalog else "GGUF, not pinned"
    return Check("model", True, f"{resolved.name} ({size:.0f} MB, {how})")


AF_UNIX_MAX = 104  # sun_path is 108 bytes on Linux, 104 on macOS and the BSDs


def _control() -> Check:
    """Where `status`/`trigger`/`quit` reach the daemon, and whether one answers."""
    from trayassist import control

    ep = control.endpoint()
    if ep.family == "AF_PIPE":
        where = f"named pipe {ep.address}"
    else:
        where = f"socket {ep.address}"
        if len(os.fsencode(ep.address)) >= AF_UNIX_MAX:
            return Check("control", False, f"{where}: path too long for a Unix socket",
                         "set TRAYASSIST_HOME (or XDG_RUNTIME_DIR) to a shorter folder")
    try:
        reply = control.request({"cmd": "status"}, timeout=3.0)
    except control.NoDaemon:
        return Check("control", False, f"{where}: no daemon running",
                     "start it with `trayassist`", required=False)
    except control.ControlError as exc:
        return Check("control", False, f"{where}: {exc}",
                     "quit trayassist from its tray menu, then start it again",
                     required=False)
    return Check("control", True, f"{where}: daemon {reply.get('state')} "
                 f"(pid {reply.get('pid')})")


def _display() -> Check:
    if sys.platform != "linux":
        return Check("display", True, "native")
    wayland = os.environ.get("WAYLAND_DISPLAY")
    if wayland and (os.environ.get("XDG_SESSION_TYPE") == "wayland"
                    or not os.environ.get("DISPLAY")):
        return Check("display", True, f"Wayland {wayland}")
    if os.environ.get("DISPLAY"):
        return Check("display", True, f"X11 {os.environ['DISPLAY']}")
    return Check("display", False, "no display", "run under a desktop session (DISPLAY)",
                 required=False)


def _clipboard_tool() -> Check:
    if sys.platform != "linux":
        return Check("clipboard", True, "native")
    tools = [t for t in ("xclip", "xsel", "wl-copy") if shutil.which(t)]
    if tools:
        return Check("clipboard", True, ", ".join(tools))
    return Check("clipboard", False, "no xclip/xsel/wl-copy",
                 "apt-get install xclip", required=False)


def _tray_host() -> Check:
    if sys.platform != "linux":
        return Check("tray host", True, "native", required=False)
    if not os.environ.get("DISPLAY"):
        return Check("tray host", False, "n/a without X11", required=False)
    try:
        from Xlib import display as xdisplay

        disp = xdisplay.Display()
        try:
            atom = disp.intern_atom(f"_NET_SYSTEM_TRAY_S{disp.get_default_screen()}")
            owner = disp.get_selection_owner(atom)
        finally:
            disp.close()
    except Exception as exc:  # noqa: BLE001 - any X failure means "cannot tell"
        return Check("tray host", False, f"X11 error: {exc}", required=False)
    if owner:
        return Check("tray host", True, "system tray present")
    return Check("tray host", False, "no system tray on this desktop",
                 "enable a tray (e.g. GNOME: AppIndicator extension; or run trayer)",
                 required=False)


def _keyring() -> Check:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - keyring raises many kinds
        return Check("keyring", False, str(exc), install_fix("keyring"), required=False)
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name or "null" in name.lower():
        store = ("Windows Credential Manager" if sys.platform == "win32"
                 else "gnome-keyring or KWallet")
        return Check("keyring", False, f"no usable backend ({name})",
                     f"install {store} (only for `models token set` and `server token set`; "
                     "HF_TOKEN and TRAYASSIST_SERVER_TOKEN work without it)", required=False)
    return Check("keyring", True, name)


CHECKS: tuple[Callable[[], Check], ...] = (
    _platform, _desktop, _display, _engines, _model, _control, _clipboard_tool, _tray_host,
    _keyring,
)


def _wayland() -> list[Check]:
    """On the Wayland backend: the path each step takes here (wayland/doctor.py)."""
    from trayassist.desktop import DesktopUnavailable, choose

    try:
        if sys.platform != "linux" or choose() != "wayland":
            return []
    except DesktopUnavailable:
        return []
    from trayassist.desktop.wayland.doctor import checks

    return list(checks(Check))


def run_checks() -> list[Check]:
    return [check() for check in CHECKS] + _wayland()
