"""installers/install.sh --uninstall removes what the installer put in place (venv,
launcher, icon, autostart, wheel cache) and never the user's config or models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

if sys.platform == "win32":
    pytest.skip("install.sh installs on Linux and macOS; Windows has its own installer "
                "(installers/windows, tested in tests/windows)", allow_module_level=True)

INSTALL = Path(__file__).resolve().parents[1] / "installers" / "install.sh"


def test_uninstall_removes_its_files_and_keeps_the_users(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")  # a venv, as far as rm cares
    launcher = data / "applications" / "trayassist.desktop"
    icon = data / "icons" / "hicolor" / "64x64" / "apps" / "trayassist.png"
    wheels = home / ".cache" / "trayassist" / "wheels" / "key"
    config = tmp_path / "ta-home" / "config.toml"
    model = tmp_path / "ta-home" / "data" / "models" / "mine.gguf"
    for path in (launcher, icon, wheels / "x.whl", config, model):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(data),
           "TRAYASSIST_VENV": str(venv), "TRAYASSIST_HOME": str(config.parent)}
    proc = subprocess.run(["bash", str(INSTALL), "--uninstall"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for gone in (venv, launcher, icon, wheels.parent):
        assert not gone.exists(), gone
    assert config.read_text() == "x" and model.read_text() == "x"
    assert "kept your config and models" in proc.stderr


def test_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", str(INSTALL), "--engine", "tensorflow"],
                          capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    assert proc.returncode == 2 and "--engine must be both, llama-cpp or gpt4all" in proc.stderr
