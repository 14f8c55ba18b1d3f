"""Where trayassist keeps its files.

`TRAYASSIST_HOME` overrides every location (tests and portable installs rely on it);
otherwise the platform's user folders from platformdirs. Nothing here creates folders:
callers that write create what they need, so reading config never touches the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "trayassist"


def _home() -> Path | None:
    value = os.environ.get("TRAYASSIST_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    home = _home()
    return home if home else Path(platformdirs.user_config_dir(APP, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP, appauthor=False))


def models_dir() -> Path:
    return data_dir() / "models"


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP, appauthor=False))


def state_dir() -> Path:
    """Small mutable state: the active model choice."""
    home = _home()
    return home / "state" if home else Path(platformdirs.user_state_dir(APP, appauthor=False))


def runtime_dir() -> Path:
    """Lock file, control socket and control key: private to the user. On Unix the folder
    is made 0700 (XDG_RUNTIME_DIR when set); kept short, as AF_UNIX paths are limited to
    ~100 bytes. On Windows it is inside %LOCALAPPDATA% (platformdirs' state folder), which
    the profile's ACL keeps to the user; the control pipe's name is derived from it."""
    home = _home()
    if home:
        return home / "run"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / APP
    return state_dir() / "run"
