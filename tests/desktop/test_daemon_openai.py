"""The tray daemon with engine = "openai": a real llama_cpp.server process on 127.0.0.1
serves the model, the hotkey on a real X server replaces the selection, and the
tooltip/status say the text went to a local server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import DaemonProc
from xapp import XAppClient, wait_for, xclip_get, xclip_set, xdotool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openai_server import ALIAS, API_KEY, Server, llama_server  # noqa: E402

pytestmark = [pytest.mark.desktop, pytest.mark.engine]

PROOFREAD = "ctrl+alt+shift+p"
BEFORE = "what the user had on the clipboard"
TYPO = "teh cat sat on teh mat."


@pytest.fixture(scope="module")
def served(model_path: Path) -> Iterator[Server]:
    with llama_server(model_path) as server:
        yield server


@pytest.fixture
def daemon(xserver, tray_host, served: Server) -> Iterator[DaemonProc]:  # type: ignore[no-untyped-def]
    config = f'engine = "openai"\nbase_url = "{served.base_url}"\nmodel = "{ALIAS}"\n'
    proc = DaemonProc({**xserver.env, "TRAYASSIST_SERVER_TOKEN": API_KEY}, config=config)
    try:
        yield proc.start()
    finally:
        proc.stop()


def test_hotkey_goes_through_the_local_server(
        xserver, daemon: DaemonProc, served: Server,  # type: ignore[no-untyped-def]
        target_window: XAppClient) -> None:
    status = daemon.status()
    assert status["engine"] == "openai" and status["endpoint"] == served.base_url
    assert status["remote_host"] is None
    xclip_set(xserver.env, BEFORE)
    target_window.set_text(TYPO)
    target_window.select_all()
    xdotool(xserver.env, "key", PROOFREAD)
    status = daemon.wait_jobs(1)
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    result = target_window.text()
    assert result != TYPO and result.strip() and "\ue010" not in result
    wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
             what="the clipboard to be restored")
    assert TYPO not in daemon.output()


def test_server_gone_mid_session_fails_the_job_and_leaves_the_text(
        xserver, tray_host, model_path: Path,  # type: ignore[no-untyped-def]
        target_window: XAppClient) -> None:
    with llama_server(model_path, api_key=None) as server:
        config = f'engine = "openai"\nbase_url = "{server.base_url}"\nmodel = "{ALIAS}"\n'
        proc = DaemonProc(xserver.env, config=config)
        try:
            proc.start()
            server.kill()
            xclip_set(xserver.env, BEFORE)
            target_window.set_text(TYPO)
            target_window.select_all()
            xdotool(xserver.env, "key", PROOFREAD)
            status = proc.wait_jobs(1)
            assert status["jobs"]["failed"] == 1, proc.output()
            assert "no server answers" in status["last_message"]
            assert target_window.text() == TYPO
            wait_for(lambda: xclip_get(xserver.env) == BEFORE.encode(), timeout=3.0,
                     what="the clipboard to be restored")
        finally:
            proc.stop()
