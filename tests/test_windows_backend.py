"""The Windows desktop backend against the real Win32 clipboard and hotkeys.

Runs on Windows only: in CI under Wine, where the `windows` stage runs this suite with
the Windows python.exe (tests/windows/test_wine_suite.py). The other program is
tests/windows/winhelper.py in its own process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

if sys.platform != "win32":
    pytest.skip("Windows backend: runs on Windows (CI: under Wine, tests/windows)",
                allow_module_level=True)

from trayassist.clipboard_guard import RestoreGuard
from trayassist.desktop import HotkeyTaken, choose
from trayassist.desktop.windows.clipboard import ClipboardBusy, WindowsClipboard
from trayassist.desktop.windows.hotkeys import WindowsHotkeys, hotkey_code
from trayassist.desktop.windows.keys import chord_vks
from trayassist.hotkey_syntax import parse_hotkey

HELPER = str(Path(__file__).parent / "windows" / "winhelper.py")
PRIVATE = "trayassist.test.private"


def helper(*args: str, timeout: float = 30) -> str:
    proc = subprocess.run([sys.executable, HELPER, *args], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def dump() -> dict[str, bytes]:
    return {k: bytes.fromhex(v) for k, v in json.loads(helper("clip-dump")).items()}


@pytest.fixture
def clip() -> Iterator[WindowsClipboard]:
    c = WindowsClipboard()
    yield c
    c.close()


def test_windows_is_the_default_backend() -> None:
    assert choose() == "windows"


def test_snapshot_keeps_every_format_and_restore_gives_them_back(
        clip: WindowsClipboard) -> None:
    helper("clip-set", "Grüße ✓", "--html", "<b>Grüße</b>", "--private", f"{PRIVATE}=00ff10")
    before = dump()
    snap = clip.snapshot()
    assert {"CF_UNICODETEXT", "HTML Format", PRIVATE} <= set(snap.formats)
    clip.write_text("something else")
    assert json.loads(helper("clip-read")) == "something else"
    clip.restore(snap)
    after = dump()
    for name in ("CF_UNICODETEXT", "HTML Format", PRIVATE):
        assert after[name] == before[name], name
    assert after[PRIVATE].startswith(bytes.fromhex("00ff10"))


def test_empty_clipboard_restores_to_empty(clip: WindowsClipboard) -> None:
    clip.clear()
    snap = clip.snapshot()
    assert not snap.owned
    clip.write_text("x")
    clip.restore(snap)
    assert dump() == {}


def test_written_text_is_marked_and_read_is_seen(clip: WindowsClipboard) -> None:
    clip.write_text("pasted ✓")
    assert not clip.is_secret()  # our own markers do not make our text a secret
    assert not clip.wait_read(0.3)  # nobody asked yet: delayed rendering not triggered
    formats = dump()  # another program reads every format: the text gets rendered
    assert clip.wait_read(5)
    assert formats["CF_UNICODETEXT"].decode("utf-16-le").rstrip("\0") == "pasted ✓"
    assert formats["CanIncludeInClipboardHistory"][:4] == b"\0\0\0\0"
    assert formats["CanUploadToCloudClipboard"][:4] == b"\0\0\0\0"
    assert "ExcludeClipboardContentFromMonitorProcessing" in formats


def test_paste_target_read_releases_wait_read(clip: WindowsClipboard) -> None:
    clip.write_text("for the target")
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(helper("clip-read")))
    started = time.monotonic()
    reader.start()
    assert clip.wait_read(20)
    reader.join(30)
    assert json.loads(got[0]) == "for the target"
    assert time.monotonic() - started < 20


def test_our_text_outlives_trayassist() -> None:
    clip = WindowsClipboard()
    clip.write_text("still here after exit")
    assert clip.hand_off()  # what the daemon does at exit
    assert json.loads(helper("clip-read")) == "still here after exit"


def test_secret_marked_content_is_seen_as_secret(clip: WindowsClipboard) -> None:
    helper("clip-set", "hunter2", "--secret")
    assert clip.is_secret()
    helper("clip-set", "plain words")
    assert not clip.is_secret()
    assert clip.read_text() == "plain words"


def test_restore_is_skipped_when_the_user_copied_meanwhile(clip: WindowsClipboard) -> None:
    helper("clip-set", "the user's clipboard")
    guard = RestoreGuard(clip, clip.snapshot())
    clip.write_text("our result")
    guard.expect("our result")
    helper("clip-read")  # the paste target reads ours: not a change
    helper("clip-set", "our result")  # the user copies identical text: a change
    guard.restore()
    assert json.loads(helper("clip-read")) == "our result"
    assert "ExcludeClipboardContentFromMonitorProcessing" not in dump()  # the user's copy


def test_restore_happens_when_only_the_target_read(clip: WindowsClipboard) -> None:
    helper("clip-set", "the user's clipboard")
    guard = RestoreGuard(clip, clip.snapshot())
    clip.write_text("our result")
    guard.expect("our result")
    helper("clip-read")
    guard.restore()
    assert json.loads(helper("clip-read")) == "the user's clipboard"


def test_clipboard_held_by_another_program_fails_naming_it(clip: WindowsClipboard) -> None:
    holder = subprocess.Popen([sys.executable, HELPER, "clip-hold", "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(ClipboardBusy, match="held by python.exe"):
            clip.snapshot()
        assert time.monotonic() - started < 20  # its bounded retry, not the 60 s hold
    finally:
        holder.kill()
        holder.wait(10)


def test_hotkey_held_by_another_program_is_named() -> None:
    spec = "<ctrl>+<alt>+<shift>+j"
    mods, vk = hotkey_code(parse_hotkey(spec))
    holder = subprocess.Popen([sys.executable, HELPER, "hotkey-hold", str(mods), str(vk), "20"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    hotkeys = WindowsHotkeys()
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(HotkeyTaken, match=r"<ctrl>\+<alt>\+<shift>\+j for rewrite"):
            hotkeys.start({spec: lambda: None, "<ctrl>+<alt>+<shift>+k": lambda: None},
                          {spec: "rewrite"})
    finally:
        hotkeys.stop()
        holder.kill()
        holder.wait(10)


def test_chords_map_to_virtual_keys() -> None:
    assert chord_vks("<ctrl>+c") == [0x11, ord("C")]
    assert chord_vks("<ctrl>+<shift>+v") == [0x11, 0x10, ord("V")]
    assert chord_vks("<shift>+<insert>") == [0x10, 0x2D]
    with pytest.raises(ValueError):
        chord_vks("<ctrl>+<nope>")
