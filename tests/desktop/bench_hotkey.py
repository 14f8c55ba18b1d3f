"""Benchmark, not a test (pytest does not collect bench_*.py by default):
hotkey-to-paste time for a 30-word rewrite on the embedded model, under Xvfb, and
first_visible_ms (hotkey to the first piece of the result on screen).

    .venv/bin/python -m pytest tests/desktop/bench_hotkey.py -s -q

Reports the median of 10 and, as the baseline measured in the same run, the median of
the same rewrite through the engine alone (in-process, warm), so the ratio shows what
capture, paste, clipboard restore and the daemon add on top of the model.

    .venv/bin/python -m pytest tests/desktop/bench_hotkey.py -s -q -k capture

measures capture alone on both paths: the keyless PRIMARY read and the Ctrl+C keystroke
(median of 10 each; no model needed). Results: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import pytest
import review_log
from daemon_harness import DaemonProc
from xapp import XAppClient, wait_for, xdotool

from trayassist import models
from trayassist.actions import BUILTIN_ACTIONS
from trayassist.engines.llama_cpp_engine import LlamaCppEngine
from trayassist.prompting import build_prompt
from trayassist.transform import transform

TEXT_30_WORDS = (
    "our team have finished the first version of the report, but we still needs to check "
    "the numbers for march and add a summary before sending it to the managers."
)
RUNS = 10


@pytest.mark.desktop
@pytest.mark.engine
def test_hotkey_to_paste_latency(xserver, tray_host, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    assert len(TEXT_30_WORDS.split()) == 30
    daemon = DaemonProc(xserver.env).start()
    try:
        hotkey: list[float] = []
        for i in range(RUNS):
            target_window.set_text(TEXT_30_WORDS)
            target_window.select_all()
            started = time.perf_counter()
            xdotool(xserver.env, "key", "ctrl+alt+shift+e")
            wait_for(lambda done=i: target_window.text() != TEXT_30_WORDS
                     or daemon.status()["jobs_done"] > done, timeout=60, step=0.01,
                     what="the rewrite to be pasted")
            hotkey.append(time.perf_counter() - started)
            status = daemon.wait_jobs(i + 1)
            assert target_window.text() != TEXT_30_WORDS, status["last_message"]
        status = daemon.status()
    finally:
        daemon.stop()
    assert status["jobs"]["succeeded"] == RUNS

    action = BUILTIN_ACTIONS["rewrite"]
    model = models.resolve(models.EMBEDDED)
    engine = LlamaCppEngine(model.path, model.chat_format)
    engine.warm(build_prompt(model.chat_format, action.instruction_for("English"), "",
                             action.example))
    engine_only = []
    for _ in range(RUNS):
        started = time.perf_counter()
        transform(action, TEXT_30_WORDS, engine, language="English", cancel=threading.Event())
        engine_only.append(time.perf_counter() - started)
    engine.close()

    h, e = statistics.median(hotkey), statistics.median(engine_only)
    print(f"\nhotkey-to-paste, 30-word rewrite, median of {RUNS}: {h * 1000:.0f} ms "
          f"(min {min(hotkey) * 1000:.0f}, max {max(hotkey) * 1000:.0f})")
    print(f"engine alone (warm, in-process), median of {RUNS}: {e * 1000:.0f} ms")
    print(f"ratio hotkey-to-paste / engine alone: {h / e:.2f}")


@pytest.mark.desktop
def test_capture_time_keyless_primary_vs_copy_keystroke(xserver, target_window: XAppClient
                                                        ) -> None:  # type: ignore[no-untyped-def]
    """Capture alone (`capture.capture`, the real X11 adapters, the Tk target): the
    keyless PRIMARY read against the Ctrl+C keystroke + clipboard poll, alternating,
    median of 10 each. Run: pytest tests/desktop/bench_hotkey.py -s -q -k capture"""
    from trayassist.apps import AppOverride, PlatformKeys, resolve
    from trayassist.capture import capture
    from trayassist.clipboard_guard import RestoreGuard
    from trayassist.desktop.x11.clipboard import X11Clipboard
    from trayassist.desktop.x11.focus import X11Focus, X11Primary
    from trayassist.desktop.x11.keys import X11Keys
    from trayassist.job import DEFAULT_TIMING

    clipboard, keys = X11Clipboard(xserver.display), X11Keys(xserver.display)
    focus, primary = X11Focus(xserver.display), X11Primary(xserver.display)
    platform = PlatformKeys(has_primary=True)
    try:
        app = focus.focused_app()
        plans = {"primary": resolve(app, {"tk": AppOverride(capture="primary")}, platform,
                                    "paste"),
                 "copy-keys": resolve(app, {}, platform, "paste")}
        assert plans["primary"].use_primary and not plans["copy-keys"].use_primary
        times: dict[str, list[float]] = {name: [] for name in plans}
        target_window.set_text(TEXT_30_WORDS)
        for i in range(RUNS * 2):
            name = ("primary", "copy-keys")[i % 2]
            target_window.select_all()
            target_window.clear_keys()
            guard = RestoreGuard(clipboard, clipboard.snapshot())
            started = time.perf_counter()
            text = capture(clipboard, keys, guard, DEFAULT_TIMING, plans[name], primary, app)
            times[name].append(time.perf_counter() - started)
            guard.restore()
            assert text == TEXT_30_WORDS, text
            events = target_window.keys()  # every key event the window received
            sent = [k for k in events if k["type"] == "press" and k["keysym"].lower() == "c"]
            assert len(sent) == (name == "copy-keys")
    finally:
        for port in (focus, primary, keys, clipboard):
            port.close()
    p, c = statistics.median(times["primary"]), statistics.median(times["copy-keys"])
    print(f"\ncapture, 30 words in the Tk target, median of {RUNS}:")
    for label, name, median in (("keyless PRIMARY read:   ", "primary", p),
                                ("Ctrl+C + clipboard poll:", "copy-keys", c)):
        spread = f"min {min(times[name]) * 1000:.1f}, max {max(times[name]) * 1000:.1f}"
        print(f"  {label} {median * 1000:6.1f} ms ({spread})")
    print(f"  ratio copy-keys / primary: {c / p:.1f}")


def _first_piece_times(log_path: Path) -> list[float]:
    """Wall-clock times of the review window's "first_piece" events (its own log)."""
    return [e["t"] for e in review_log.events(log_path) if e["event"] == "first_piece"]


@pytest.mark.desktop
@pytest.mark.engine
def test_first_visible_ms(xserver, tray_host, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    """first_visible_ms: hotkey to the first piece of the result on screen, median of 10.

    delivery = "review": the review window's first streamed piece, from the window's own
    event log (time.time() in both processes on one machine). delivery = "auto" with a
    clean result: the paste itself, i.e. hotkey-to-paste."""
    assert len(TEXT_30_WORDS.split()) == 30
    daemon = DaemonProc(xserver.env, config='delivery = "review"\n').start()
    log_path = daemon.home / "run" / review_log.NAME
    review: list[float] = []
    try:
        for i in range(RUNS):
            target_window.set_text(TEXT_30_WORDS)
            target_window.select_all()
            started = time.time()
            xdotool(xserver.env, "key", "ctrl+alt+shift+e")
            try:
                wait_for(lambda n=i: len(_first_piece_times(log_path)) > n, timeout=60,
                         step=0.005, what="the first piece in the review window")
            except TimeoutError:
                print(daemon.output(), log_path.read_text() if log_path.exists() else "")
                raise
            review.append(_first_piece_times(log_path)[i] - started)
            xdotool(xserver.env, "key", "Escape")
            daemon.wait_jobs(i + 1)
            assert target_window.text() == TEXT_30_WORDS  # Esc left the text alone
    finally:
        daemon.stop()

    daemon = DaemonProc(xserver.env).start()  # delivery = "auto", the default
    paste: list[float] = []
    try:
        for i in range(RUNS):
            target_window.set_text(TEXT_30_WORDS)
            target_window.select_all()
            started = time.time()
            xdotool(xserver.env, "key", "ctrl+alt+shift+e")
            wait_for(lambda done=i: target_window.text() != TEXT_30_WORDS
                     or daemon.status()["jobs_done"] > done, timeout=60, step=0.005,
                     what="the rewrite to be pasted")
            paste.append(time.time() - started)
            daemon.wait_jobs(i + 1)
            assert target_window.text() != TEXT_30_WORDS
    finally:
        daemon.stop()
    r, p = statistics.median(review), statistics.median(paste)
    print(f"\nfirst_visible_ms, 30-word rewrite, median of {RUNS}:")
    print(f"  review window, first streamed piece: {r * 1000:.0f} ms "
          f"(min {min(review) * 1000:.0f}, max {max(review) * 1000:.0f})")
    print(f"  auto, clean result pasted directly:  {p * 1000:.0f} ms "
          f"(min {min(paste) * 1000:.0f}, max {max(paste) * 1000:.0f})")
    print(f"  ratio first piece / paste: {r / p:.2f}")
