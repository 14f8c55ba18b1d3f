"""`trayassist run` never touches the network, and never writes the user's text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from platform_marks import ENGINES

SECRET_TEXT = "Quarterly numbers for Zyxwv Corp are confidential until 9am Friday."


@pytest.mark.engine
def test_run_works_in_a_namespace_without_network(model_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) not installed")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    proc = subprocess.run(
        [unshare, "-n", sys.executable, "-m", "trayassist", "run", "proofread",
         "--text", "teh cat sat on teh mat."],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


AUDIT = """
import sys
def hook(event, args):
    # socket.gethostname only reads the machine's own name (platform.uname() asks it on
    # Windows, through gpt4all): no socket, no network.
    if (event.startswith("socket.") and event != "socket.gethostname"
            or event == "urllib.Request"):
        sys.stderr.write("NETWORK: " + event + "\\n")
        sys.stderr.flush()
        import os
        os._exit(99)
sys.addaudithook(hook)
from trayassist.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_run_creates_no_socket(engine: str, model_path: Path, tmp_path: Path,
                               trayassist_home: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT, "-v", "run", "rewrite", "--engine", engine,
         "--text", SECRET_TEXT],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "TRAYASSIST_HOME": str(trayassist_home)},
    )
    assert "NETWORK" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    # Nothing the user wrote reaches the logs or the disk.
    assert "Zyxwv" not in proc.stderr
    for path in trayassist_home.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert b"Zyxwv" not in path.read_bytes(), path
