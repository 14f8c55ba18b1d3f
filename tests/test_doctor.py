"""`trayassist doctor` names the platform, the desktop backend, the engine, the model and
the control endpoint, with a fix for each missing piece. The Windows decisions are checked
here with sys.platform set to win32 (they are pure decisions); the real run on Windows
is the windows stage's job."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from trayassist import control, desktop, doctor


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


@pytest.fixture
def short_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="ta-"))  # AF_UNIX paths must stay short
    monkeypatch.setenv("TRAYASSIST_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_doctor_cli_reports_every_piece_and_the_fix(short_home: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "trayassist", "doctor"], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "DISPLAY": ""})
    lines = proc.stdout.splitlines()
    names = [ln[4:].split()[0] for ln in lines if ln[:3] in ("ok ", "-- ")]
    assert names[:6] == ["platform", "desktop", "display", "engine", "model", "control"]
    control_line = next(i for i, ln in enumerate(lines) if ln[4:].startswith("control"))
    where = (f"named pipe {control.pipe_name(short_home / 'run')}" if sys.platform == "win32"
             else f"socket {short_home / 'run' / 'control.sock'}")
    assert f"{where}: no daemon running" in lines[control_line]
    assert lines[control_line + 1].strip() == "fix: start it with `trayassist`"
    assert proc.returncode == 0  # no daemon is not a broken install


def test_control_check_finds_a_running_daemon(short_home: Path) -> None:
    server = control.ControlServer(lambda _req: {"ok": True, "state": "ready",
                                                 "pid": os.getpid()})
    server.start()
    try:
        check = doctor._control()
    finally:
        server.stop()
    assert check.ok and f"daemon ready (pid {os.getpid()})" in check.detail


@pytest.mark.skipif(sys.platform == "win32", reason="a named pipe has no path to outgrow")
def test_control_check_says_when_the_socket_path_is_too_long(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRAYASSIST_HOME", str(tmp_path / ("x" * 120)))
    check = doctor._control()
    assert not check.ok and check.required and "too long" in check.detail
    assert "TRAYASSIST_HOME" in check.fix


def test_unknown_backend_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAYASSIST_DESKTOP", "bogus")
    check = doctor._desktop()
    assert not check.ok and "bogus" in check.detail
    assert check.fix.startswith("set TRAYASSIST_DESKTOP to one of x11")


def test_on_windows_doctor_reports_the_chosen_backend_and_the_pipe(
        monkeypatch: pytest.MonkeyPatch, short_home: Path) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.delenv("TRAYASSIST_DESKTOP", raising=False)
    checks = by_name([doctor._desktop(), doctor._display(), doctor._clipboard_tool(),
                      doctor._tray_host()])
    chosen = desktop.choose()
    assert chosen != "x11"
    assert checks["desktop"].detail.startswith(f"{chosen} (platform default)")
    assert all(checks[n].ok and checks[n].detail == "native"
               for n in ("display", "clipboard", "tray host"))

    # The endpoint decision is the pipe; the probe itself cannot run on Linux.
    def no_daemon(*_a: object, **_k: object) -> dict[str, object]:
        raise control.NoDaemon(control.NOT_RUNNING)

    monkeypatch.setattr(control, "request", no_daemon)
    check = doctor._control()
    pipe = control.pipe_name(short_home / "run")
    assert check.detail == f"named pipe {pipe}: no daemon running"
    assert check.fix == "start it with `trayassist`"


def test_on_windows_a_missing_module_says_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.delenv("TRAYASSIST_DESKTOP", raising=False)
    needs = doctor.BACKEND_NEEDS[desktop.choose()]
    gone = next(iter(needs))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == gone else real(name, *a))
    check = doctor._desktop()
    assert not check.ok and needs[gone] in check.detail
    assert check.fix == doctor.WINDOWS_INSTALL


def test_every_backend_has_its_needs_listed() -> None:
    assert set(desktop.BACKENDS) <= set(doctor.BACKEND_NEEDS)


def test_bench_load_average_is_na_where_the_os_has_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp", reason="the bench measures the llama-cpp engine")
    from trayassist import bench

    if hasattr(os, "getloadavg"):
        assert isinstance(bench.load_avg(), float)
    monkeypatch.delattr(os, "getloadavg")  # as on Windows
    assert bench.load_avg() == "n/a"
