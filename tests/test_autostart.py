"""`trayassist autostart`: the files the OS reads at login, written and removed in a
temporary HOME, and validated by the tools that check them (desktop-file-validate,
plistlib)."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trayassist.autostart import linux, macos
from trayassist.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home dir"  # a space, so quoting is exercised
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))  # what Path.home() reads on Windows
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


def validate_desktop_file(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("desktop-file-validate missing: run bash installers/install.sh --dev")
        pytest.skip("desktop-file-validate not installed: apt-get install desktop-file-utils")
    proc = subprocess.run([tool, str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def exec_argv(entry: Path) -> list[str]:
    """The Exec line as a launcher runs it (XDG quoting, then the shell's)."""
    line = next(ln for ln in entry.read_text().splitlines() if ln.startswith("Exec="))
    value = line[5:].replace("\\\\", "\\")  # string unescaping, then quoting rules
    argv: list[str] = []
    word, quoted, i = None, False, 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and value[i + 1] in '"`$\\':
            word, i = (word or "") + value[i + 1], i + 2
            continue
        if c == '"':
            quoted, word = not quoted, word or ""
        elif c == " " and not quoted:
            if word is not None:
                argv.append(word)
            word = None
        else:
            word = (word or "") + c
        i += 1
    if word is not None:
        argv.append(word)
    return argv


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG entry is Linux's")
def test_on_writes_a_valid_xdg_entry_that_starts_the_daemon(
        home: Path, trayassist_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["autostart", "status"]) == 0
    assert capsys.readouterr().out.strip() == "off"
    assert main(["autostart", "on"]) == 0
    entry = home / ".config" / "autostart" / "trayassist.desktop"
    assert str(entry) in capsys.readouterr().out
    validate_desktop_file(entry)
    argv = exec_argv(entry)
    assert argv[argv.index("-m") - 1] == os.path.abspath(sys.executable)
    assert argv[-3:] == ["-m", "trayassist", "daemon"]
    assert f"TRAYASSIST_HOME={trayassist_home}" in argv  # a portable home is kept
    assert main(["autostart", "status"]) == 0
    assert "on: XDG autostart entry" in capsys.readouterr().out
    assert main(["autostart", "off"]) == 0
    assert not entry.exists()
    assert main(["autostart", "status"]) == 0
    assert capsys.readouterr().out.strip().endswith("off")


@pytest.mark.skipif(sys.platform == "win32", reason="desktop-file-validate is a Linux tool")
def test_exec_quoting_survives_awkward_paths(home: Path) -> None:
    command = ["/opt/my apps/py$thon", "-m", "trayassist", "50%", 'a"b\\c']
    text = linux.desktop_entry(command, {})
    entry = home / "x.desktop"
    entry.write_text(text)
    argv = exec_argv(entry)
    assert [a.replace("%%", "%") for a in argv] == command
    validate_desktop_file(entry)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd units are Linux's")
def test_systemd_unit_replaces_the_xdg_entry_and_off_removes_both(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["autostart", "on"]) == 0
    assert main(["autostart", "on", "--systemd"]) == 0
    unit = home / ".config" / "systemd" / "user" / "trayassist.service"
    wants = unit.parent / "graphical-session.target.wants" / "trayassist.service"
    assert unit.is_file() and wants.resolve() == unit.resolve()
    assert not (home / ".config" / "autostart" / "trayassist.desktop").exists()
    text = unit.read_text()
    assert "WantedBy=graphical-session.target" in text
    python = linux.systemd_quote(os.path.abspath(sys.executable))
    assert f"ExecStart={python} -m trayassist daemon\n" in text
    assert main(["autostart", "status"]) == 0
    assert "systemd user unit" in capsys.readouterr().out
    assert main(["autostart", "off"]) == 0
    assert not unit.exists() and not wants.is_symlink()
    assert main(["autostart", "off"]) == 0
    assert "already off" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "win32", reason="the LaunchAgent names launchctl's "
                    "gui/<uid> domain: a Unix user id")
def test_macos_launch_agent_is_a_valid_plist(home: Path) -> None:
    command = ["/Users/me/trayassist/.venv/bin/python", "-m", "trayassist", "daemon"]
    lines = macos.enable(command, {"TRAYASSIST_HOME": "/Users/me/ta"})
    path = home / "Library" / "LaunchAgents" / "io.github.trayassist.plist"
    assert lines == [f"wrote {path} (starts at login)"]
    with path.open("rb") as fh:
        agent = plistlib.load(fh)
    assert agent["Label"] == "io.github.trayassist"
    assert agent["ProgramArguments"] == command
    assert agent["RunAtLoad"] is True
    assert agent["EnvironmentVariables"] == {"TRAYASSIST_HOME": "/Users/me/ta"}
    assert macos.status().startswith("on:")
    assert macos.disable() == [f"removed {path}"]
    assert not path.exists() and macos.status() == "off"
