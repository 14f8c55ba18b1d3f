"""`trayassist doctor`: what works here, what is missing, and the fix for each."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass

from trayassist import models

INSTALL = "bash installers/install.sh"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # False: only the tray needs it; `run` works without


def _engines() -> Check:
    found = [n for n, mod in (("llama-cpp", "llama_cpp"), ("gpt4all", "gpt4all"))
             if importlib.util.find_spec(mod) is not None]
    if found:
        return Check("engine", True, ", ".join(found))
    return Check("engine", False, "no model runtime", f"run {INSTALL}")


def _model() -> Check:
    from trayassist.config import ConfigError, load_config

    try:
        spec = load_config().model
        resolved = models.resolve(spec)
    except (ConfigError, models.ModelError) as exc:
        return Check("model", False, str(exc).splitlines()[0], "see the message above")
    size = resolved.path.stat().st_size / 1e6
    return Check("model", True, f"{resolved.name} ({size:.0f} MB, verified)")


def _display() -> Check:
    if sys.platform != "linux":
        return Check("display", True, sys.platform)
    if os.environ.get("DISPLAY"):
        return Check("display", True, f"X11 {os.environ['DISPLAY']}")
    if os.environ.get("WAYLAND_DISPLAY"):
        return Check("display", False, "Wayland without X: no global hotkeys",
                     "bind desktop shortcuts to `trayassist trigger ACTION`", required=False)
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
    if sys.platform != "linux" or not os.environ.get("DISPLAY"):
        return Check("tray host", sys.platform != "linux", "n/a without X11"
                     if sys.platform == "linux" else "native", required=False)
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
        return Check("keyring", False, str(exc), "pip install keyring", required=False)
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name or "null" in name.lower():
        return Check("keyring", False, f"no usable backend ({name})",
                     "install gnome-keyring or KWallet (only for `models token set`; "
                     "HF_TOKEN works without it)", required=False)
    return Check("keyring", True, name)


CHECKS: tuple[Callable[[], Check], ...] = (
    _engines, _model, _display, _clipboard_tool, _tray_host, _keyring,
)


def run_checks() -> list[Check]:
    return [check() for check in CHECKS]
