"""`trayassist autostart` on Windows: the HKCU Run value (real registry; CI: under Wine)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from trayassist.autostart import windows


def test_run_command_uses_pythonw_and_carries_the_home(tmp_path: object) -> None:
    folder = os.path.join(str(tmp_path), "py")
    os.makedirs(folder)
    for name in ("python.exe", "pythonw.exe"):
        open(os.path.join(folder, name), "wb").close()
    line = windows.run_command([os.path.join(folder, "python.exe"), "-m", "trayassist",
                                "daemon"], {"TRAYASSIST_HOME": "C:\\Users\\a b\\ta"})
    assert line.startswith(subprocess.list2cmdline([os.path.join(folder, "pythonw.exe")]))
    assert "TRAYASSIST_HOME" in line and "daemon" in line


@pytest.fixture
def run_value() -> Iterator[None]:
    if sys.platform != "win32":
        pytest.skip("the Run key exists on Windows only (CI: under Wine, tests/windows)")
    before = windows.current()
    yield
    windows.disable()
    if before is not None:
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, windows.RUN_KEY) as key:
            winreg.SetValueEx(key, windows.VALUE, 0, winreg.REG_SZ, before)


def test_enable_status_disable_the_run_value(run_value: None) -> None:
    windows.disable()
    assert windows.status().startswith("off")
    done = windows.enable([sys.executable, "-m", "trayassist", "daemon"], {})
    assert done and windows.current() is not None
    assert "trayassist daemon" in (windows.current() or "")
    query = subprocess.run(["reg", "query", "HKCU\\" + windows.RUN_KEY, "/v", windows.VALUE],
                           capture_output=True, text=True)
    assert query.returncode == 0 and "trayassist" in query.stdout
    assert windows.status().startswith("on: ")
    assert windows.disable() and windows.current() is None
    assert windows.disable() == []  # nothing of ours left: nothing to do
