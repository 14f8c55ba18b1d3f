"""The CLI contract, in a subprocess as users and the tray run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from platform_marks import ENGINES

TEXT = "Meet me at 3pm on May 4, 2025 at https://example.org/plan. It costs $1,200."


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "trayassist", *args], input=stdin,
                          capture_output=True, text=True, env=full_env, timeout=timeout)


SCRIPTED = {"TRAYASSIST_ENGINE": "scripted"}


def scripted(reply: str) -> dict[str, str]:
    return {**SCRIPTED, "TRAYASSIST_SCRIPTED": json.dumps({"reply": reply})}


def test_run_streams_the_result_from_stdin() -> None:
    proc = cli("run", "rewrite", stdin="shout this", env=scripted("upper"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "SHOUT THIS"


def test_unknown_action_is_a_usage_error() -> None:
    proc = cli("run", "frobnicate", "--text", "x")
    assert proc.returncode == 2
    assert "unknown action 'frobnicate'" in proc.stderr and "rewrite" in proc.stderr


def test_bad_option_is_a_usage_error() -> None:
    assert cli("run", "rewrite", "--bogus").returncode == 2


def test_empty_input_has_its_own_code_and_reason() -> None:
    proc = cli("run", "rewrite", stdin="  \n")
    assert proc.returncode == 4
    assert proc.stderr.strip().count("\n") == 0 and "empty input" in proc.stderr


def test_missing_model_file(tmp_path: Path) -> None:
    proc = cli("run", "rewrite", "--text", "x", "--model", str(tmp_path / "nope.gguf"))
    assert proc.returncode == 5 and "not found" in proc.stderr


def test_corrupt_model_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"this is not a model" * 100)
    proc = cli("run", "rewrite", "--text", "x", "--model", str(bad))
    assert proc.returncode == 5 and "not a GGUF" in proc.stderr


def test_catalog_model_not_pulled() -> None:
    proc = cli("run", "rewrite", "--text", "x", "--model", "qwen2.5-0.5b-instruct")
    assert proc.returncode == 5
    assert "trayassist models pull qwen2.5-0.5b-instruct" in proc.stderr


def test_guard_flag_prints_on_stderr_and_strict_exits_3() -> None:
    env = scripted("Meet me at 10am on May 4, 2025 at https://example.org/plan. "
                   "It costs $1,200.")
    loose = cli("run", "rewrite", "--text", TEXT, env=env)
    assert loose.returncode == 0
    assert "guard: 3pm -> 10am" in loose.stderr and "10am" in loose.stdout
    strict = cli("run", "rewrite", "--text", TEXT, "--strict", env=env)
    assert strict.returncode == 3
    assert strict.stdout == "" and "3pm -> 10am" in strict.stderr


def test_config_error_names_file_line_and_key(trayassist_home: Path) -> None:
    trayassist_home.mkdir(parents=True)
    (trayassist_home / "config.toml").write_text('engine = "auto"\nmodle = "x"\n')
    proc = cli("actions")
    assert proc.returncode == 2
    assert f"{trayassist_home / 'config.toml'}:2" in proc.stderr and "modle" in proc.stderr


def test_actions_lists_builtins_with_hotkeys() -> None:
    proc = cli("actions")
    assert proc.returncode == 0
    for name in ("rewrite", "proofread", "summarize", "translate"):
        assert name in proc.stdout
    assert "<ctrl>+<alt>+<shift>+e" in proc.stdout


def test_config_path_and_init_refuses_to_overwrite(trayassist_home: Path) -> None:
    assert cli("config", "path").stdout.strip() == str(trayassist_home / "config.toml")
    assert cli("config", "init").returncode == 0
    assert (trayassist_home / "config.toml").is_file()
    again = cli("config", "init")
    assert again.returncode == 2 and "already there" in again.stderr


def test_models_list_marks_the_embedded_model(model_path: Path) -> None:
    proc = cli("models", "list")
    assert proc.returncode == 0
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("smollm2-135m"))
    assert " yes " in line and "*" in line


def test_models_use_a_gguf_path_then_run_uses_it(model_path: Path, trayassist_home: Path,
                                                  tmp_path: Path) -> None:
    own = tmp_path / "my-model.gguf"
    if sys.platform == "win32":  # symlinks need a privilege on Windows; a hard link will do
        os.link(model_path, own)
    else:
        own.symlink_to(model_path)
    trayassist_home.mkdir(parents=True)
    (trayassist_home / "config.toml").write_text("# mine\nengine = \"auto\"\n")
    proc = cli("models", "use", str(own))
    assert proc.returncode == 0, proc.stderr
    text = (trayassist_home / "config.toml").read_text()
    assert tomllib.loads(text)["model"] == str(own) and "# mine" in text
    assert "my-model.gguf (file, not in the catalog)" in cli("models", "list").stdout


def test_models_use_rejects_unknown_names() -> None:
    proc = cli("models", "use", "gpt-17")
    assert proc.returncode == 5 and "unknown model" in proc.stderr


def test_status_trigger_and_quit_without_daemon_fail_clearly() -> None:
    for args in (("status", "--json"), ("trigger", "rewrite"), ("quit",)):
        proc = cli(*args)
        assert proc.returncode == 1 and "not running" in proc.stderr


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("action", ["rewrite", "proofread", "summarize", "translate"])
def test_every_action_runs_on_the_embedded_model(engine: str, action: str,
                                                 model_path: Path) -> None:
    proc = cli("run", action, "--engine", engine, "--to", "French", "--text",
               "the meeting is tomorow at noon, please be their on time.")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert "<|im_" not in proc.stdout


def test_status_and_trigger_start_light() -> None:
    """`trayassist trigger` runs from compositor key bindings (sway, GNOME shortcuts) on
    every press: it must not load config, models, engines or desktop libraries."""
    probe = ("import sys; from trayassist.cli import main; rc = main(sys.argv[1:]); "
             "print(' '.join(sorted(sys.modules)))")
    heavy = {"trayassist.config", "trayassist.models", "trayassist.engines", "trayassist.apps",
             "trayassist.daemon", "trayassist.bench", "llama_cpp", "gpt4all", "pynput",
             "Xlib", "pystray", "PIL"}
    for args in (("status",), ("trigger", "rewrite"), ("quit",)):
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                              text=True, timeout=60)
        assert "not running" in proc.stderr
        loaded = set(proc.stdout.split())
        assert "trayassist.control" in loaded and not loaded & heavy, loaded & heavy


@pytest.mark.parametrize("args", [("ledger", "--json"), ("actions",)])
def test_a_reader_that_stops_early_gets_no_traceback(args: tuple[str, ...]) -> None:
    """Found by hand: `trayassist ledger --json | head -c 100` ended in a
    BrokenPipeError traceback. A closed pipe is a normal end for a CLI."""
    read_fd, write_fd = os.pipe()
    os.close(read_fd)  # the reader is gone before the first byte is written
    try:
        proc = subprocess.run([sys.executable, "-m", "trayassist", *args], stdout=write_fd,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_fd)
    assert "Traceback" not in proc.stderr, proc.stderr


def test_the_tooltip_names_the_model_as_the_user_named_it() -> None:
    from trayassist.testing import ScriptedEngine
    from trayassist.tray_text import tooltip
    from trayassist.worker import State

    engine = ScriptedEngine()
    assert tooltip(State.READY, engine, "smollm2-135m-instruct", "") == \
        "trayassist (ready) - smollm2-135m-instruct"
    assert tooltip(State.READY, engine, "/home/me/models/My-Model.Q4_K_M.gguf", "") == \
        "trayassist (ready) - My-Model.Q4_K_M.gguf"
    assert tooltip(State.READY, engine, r"C:\Users\me\models\m.gguf", "") == \
        "trayassist (ready) - m.gguf"
    assert tooltip(State.ERROR, None, "qwen3-4b", "not installed") == \
        "trayassist (error: not installed) - qwen3-4b"
