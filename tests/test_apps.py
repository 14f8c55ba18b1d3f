"""Per-app profiles: resolution, config overrides, and what a job sends to each app."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from trayassist.actions import BUILTIN_ACTIONS
from trayassist.apps import BUILTIN_PROFILES, TERMINAL, AppOverride, PlatformKeys, resolve
from trayassist.config import ConfigError, load_config
from trayassist.hotkey_syntax import ChordError, chord_label, parse_chord
from trayassist.pipeline import Status, run_job
from trayassist.ports import AppInfo
from trayassist.testing import FakeApp, FakeClipboard, FakeKeys, FakePrimary, ScriptedEngine

X11 = PlatformKeys(has_primary=True)
WINDOWS = PlatformKeys(has_primary=False)
OLD = {"text/plain;charset=utf-8": b"the user's clipboard"}
REWRITE = BUILTIN_ACTIONS["rewrite"]


def app(app_id: str) -> AppInfo:
    return AppInfo(app_id=app_id, window_class=app_id, process=app_id, pid=42)


# ---- chords --------------------------------------------------------------------------------

def test_chords_allow_what_hotkeys_forbid_and_reject_nonsense() -> None:
    assert parse_chord("<Shift>+<Insert>").canonical == "<shift>+<insert>"
    assert parse_chord("<shift>+<ctrl>+C").canonical == "<ctrl>+<shift>+c"
    assert chord_label("<ctrl>+<shift>+v") == "Ctrl+Shift+V"
    assert chord_label("<shift>+<insert>") == "Shift+Insert"
    for bad in ("", "<shift>", "a+b", "<nokey>", "shift+insert"):
        with pytest.raises(ChordError, match="is not a key chord"):
            parse_chord(bad)


# ---- resolution ----------------------------------------------------------------------------

def test_every_builtin_terminal_avoids_ctrl_c_and_delivers_to_the_clipboard() -> None:
    terminals = [name for name, p in BUILTIN_PROFILES.items() if p.kind == TERMINAL]
    assert {"xterm", "urxvt", "gnome-terminal-server", "org.gnome.terminal", "konsole",
            "org.kde.konsole", "xfce4-terminal", "alacritty", "kitty", "foot",
            "org.wezfurlong.wezterm", "tilix", "com.gexperts.tilix", "terminator",
            "windowsterminal", "conhost", "openconsole", "cmd", "powershell"} <= set(terminals)
    for name in terminals:
        for platform in (X11, WINDOWS):
            plan = resolve(app(name), {}, platform, "paste")
            assert plan.copy not in (None, "<ctrl>+c"), name  # None = the platform's Ctrl+C
            assert plan.delivery == "clipboard", name
            assert plan.use_primary is platform.has_primary, name


def test_an_app_without_a_profile_gets_the_platform_defaults() -> None:
    plan = resolve(app("mousepad"), {}, X11, "paste")
    assert (plan.profile, plan.copy, plan.paste, plan.delivery) == (
        "default", None, None, "paste")
    assert plan.enabled and plan.paste_hint == "Ctrl+V"
    assert resolve(app("mousepad"), {}, X11, "clipboard").delivery == "clipboard"


def test_when_the_focused_app_is_unknown_the_copy_key_can_never_interrupt() -> None:
    """GNOME and KDE on Wayland do not say which app is focused: it may be a terminal."""
    plan = resolve(None, {}, WINDOWS, "paste")
    assert (plan.profile, plan.copy, plan.paste, plan.delivery) == (
        "default", "<ctrl>+<insert>", None, "paste")
    # macOS's Cmd+C interrupts nothing; a copy key the user chose for every app is kept.
    assert resolve(None, {}, PlatformKeys(copy="<cmd>+c"), "paste").copy is None
    config = {"default": AppOverride(copy="<ctrl>+c")}
    assert resolve(None, config, WINDOWS, "paste").copy == "<ctrl>+c"


def test_a_terminal_the_desktop_cannot_name_keeps_its_running_command() -> None:
    target, clipboard, keys = setup("make: *** [all] Error 2", interruptible=True)
    result = job(clipboard, keys, None)  # GNOME/KDE on Wayland: focus unknown
    assert not target.interrupted and keys.sent[0] == "<ctrl>+<insert>"
    assert result.status is Status.DONE  # this terminal copies on Ctrl+Insert, as VTE does


@pytest.mark.parametrize("process", ["ptyxis", "ghostty", "konsole"])
def test_a_terminal_under_a_window_class_we_do_not_know_is_known_by_its_program(
        process: str) -> None:
    info = AppInfo(app_id="some-new-class", window_class="x", process=process, pid=42)
    plan = resolve(info, {}, X11, "paste")
    assert plan.terminal and plan.copy != "<ctrl>+c" and plan.delivery == "clipboard"


def test_config_override_merges_over_the_builtin_profile() -> None:
    overrides = {"xterm": AppOverride(delivery="paste", paste="<shift>+<insert>")}
    plan = resolve(app("xterm"), overrides, X11, "paste")
    assert plan.origin == "built-in + config"
    assert (plan.delivery, plan.paste, plan.copy) == ("paste", "<shift>+<insert>", "")
    # A terminal with no paste key falls back to the clipboard even if paste is asked for.
    plan = resolve(app("xterm"), {"xterm": AppOverride(delivery="paste")}, X11, "paste")
    assert plan.delivery == "clipboard"
    plan = resolve(app("myapp"), {"myapp": AppOverride(enabled=False)}, X11, "paste")
    assert plan.origin == "config" and not plan.enabled


# ---- config --------------------------------------------------------------------------------

def test_config_apps_tables_are_parsed_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[apps."XTerm"]\ncapture = "copy-keys"\ncopy = "<Ctrl>+<Shift>+C"\n'
                    'paste = "<shift>+<insert>"\ndelivery = "paste"\n\n'
                    '[apps.mousepad]\nenabled = false\n')
    cfg = load_config(path)
    assert cfg.apps["xterm"] == AppOverride(capture="copy-keys", copy="<ctrl>+<shift>+c",
                                            paste="<shift>+<insert>", delivery="paste")
    assert cfg.apps["mousepad"] == AppOverride(enabled=False)


@pytest.mark.parametrize(("text", "line", "says"), [
    ('[apps.xterm]\n\ncapture = "clipboard"\n', 3,
     'apps.xterm.capture: expected one of "primary", "copy-keys", got "clipboard"'),
    ('[apps.konsole]\ncopy = "<ctrl>+c"\n', 2, "interrupt (SIGINT)"),
    ('[apps.foo]\npaste = "<shift>+<insert>+x"\n', 2, "apps.foo.paste: "),
    ('[apps.foo]\nenable = false\n', 2, 'unknown key "enable" (did you mean "enabled"?'),
    ("[apps]\nfoo = 1\n", 2, "expected a table"),
])
def test_config_app_errors_name_file_and_line(tmp_path: Path, text: str, line: int,
                                              says: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:{line}: ") and says in str(err.value)


# ---- jobs ----------------------------------------------------------------------------------

def setup(text: str, **app_kw) -> tuple[FakeApp, FakeClipboard, FakeKeys]:  # type: ignore[no-untyped-def]
    target = FakeApp(text=text, **app_kw)
    target.select_all()
    clipboard = FakeClipboard(OLD)
    return target, clipboard, FakeKeys(target, clipboard)


def job(clipboard, keys, info, plan_platform=X11, overrides=None, primary=None,  # type: ignore[no-untyped-def]
        delivery="paste"):
    plan = resolve(info, overrides or {}, plan_platform, delivery)
    return run_job(REWRITE, clipboard, keys, ScriptedEngine(), threading.Event(),
                   language="English", delivery=delivery, plan=plan, primary=primary, app=info)


def test_terminal_selection_is_read_from_primary_and_result_copied_with_a_hint() -> None:
    term = app("xfce4-terminal")
    target, clipboard, keys = setup("make -j2 output line", interruptible=True)
    primary = FakePrimary("make -j2 output line", owner=term)
    result = job(clipboard, keys, term, primary=primary)
    assert result.status is Status.COPIED
    assert "paste it with Ctrl+Shift+V" in result.message
    assert keys.sent == [] and not target.interrupted
    assert clipboard.read_text() == "MAKE -J2 OUTPUT LINE"
    assert target.text == "make -j2 output line"  # terminal output is not replaced
    assert clipboard.history == []  # the result is marked: no clipboard history entry


def test_xterm_without_its_primary_gets_no_key_and_says_so() -> None:
    xterm = app("xterm")
    target, clipboard, keys = setup("some output", interruptible=True)
    result = job(clipboard, keys, xterm, primary=FakePrimary(None, owner=xterm))
    assert result.status is Status.NOTHING_SELECTED
    assert "select the text with the mouse" in result.message and "xterm" in result.message
    assert keys.sent == [] and not target.interrupted
    assert clipboard.formats == OLD


def test_vte_terminal_falls_back_to_ctrl_shift_c_never_ctrl_c() -> None:
    term = app("gnome-terminal-server")
    target, clipboard, keys = setup("line", interruptible=True,
                                    copy_chords=("<ctrl>+<shift>+c",))
    result = job(clipboard, keys, term, primary=FakePrimary(None))
    assert result.status is Status.COPIED
    assert keys.sent == ["<ctrl>+<shift>+c"] and not target.interrupted
    assert clipboard.read_text() == "LINE"


def test_windows_terminal_without_primary_uses_its_copy_chord() -> None:
    target, clipboard, keys = setup("dir output", interruptible=True,
                                    copy_chords=("<ctrl>+<shift>+c",))
    result = job(clipboard, keys, app("windowsterminal"), plan_platform=WINDOWS)
    assert result.status is Status.COPIED and keys.sent == ["<ctrl>+<shift>+c"]


def test_user_profile_can_paste_into_a_terminal_with_its_chord() -> None:
    term = app("xterm")
    target, clipboard, keys = setup("echo hi", interruptible=True,
                                    paste_chords=("<shift>+<insert>",))
    overrides = {"xterm": AppOverride(delivery="paste", paste="<shift>+<insert>")}
    result = job(clipboard, keys, term, overrides=overrides,
                 primary=FakePrimary("echo hi", owner=term))
    assert result.status is Status.DONE
    assert keys.sent == ["<shift>+<insert>"] and target.text == "ECHO HI"
    assert clipboard.formats == OLD  # restored after the paste


def test_disabled_app_gets_nothing_at_all() -> None:
    info = app("mousepad")
    target, clipboard, keys = setup("leave me alone")
    primary = FakePrimary("leave me alone", owner=info)
    result = job(clipboard, keys, info, overrides={"mousepad": AppOverride(enabled=False)},
                 primary=primary)
    assert result.status is Status.DISABLED
    assert keys.sent == [] and primary.reads == 0
    assert target.text == "leave me alone" and clipboard.formats == OLD
    assert clipboard.restores == 0


def test_key_forwarding_viewer_is_off_by_default() -> None:
    target, clipboard, keys = setup("remote text")
    result = job(clipboard, keys, app("remote-viewer"))
    assert result.status is Status.DISABLED and keys.sent == []
    assert "another machine" in result.message


def test_app_opted_into_primary_is_captured_without_a_key_then_pasted() -> None:
    info = app("mousepad")
    target, clipboard, keys = setup("teh text")
    for overrides in ({"mousepad": AppOverride(capture="primary")},
                      {"default": AppOverride(capture="primary")}):
        target.text, clipboard.formats, keys.sent = "teh text", dict(OLD), []
        target.select_all()
        result = job(clipboard, keys, info, overrides=overrides,
                     primary=FakePrimary("teh text", owner=info))
        assert result.status is Status.DONE
        assert keys.sent == ["paste"]  # no copy keystroke
        assert target.text == "TEH TEXT" and clipboard.formats == OLD


def test_other_apps_default_to_the_copy_keys_even_when_they_own_primary() -> None:
    # An app keeps PRIMARY for a selection in a tab the user left: not proof enough.
    info = app("mousepad")
    target, clipboard, keys = setup("")
    result = job(clipboard, keys, info, primary=FakePrimary("other tab's text", owner=info))
    assert result.status is Status.NOTHING_SELECTED and keys.sent == ["copy"]
    assert target.text == ""


def test_primary_owned_by_another_app_falls_back_to_the_copy_keys() -> None:
    target, clipboard, keys = setup("the real selection")
    stale = FakePrimary("old selection elsewhere", owner=app("firefox"))
    result = job(clipboard, keys, app("mousepad"), primary=stale,
                 overrides={"mousepad": AppOverride(capture="primary")})
    assert result.status is Status.DONE and keys.sent == ["copy", "paste"]
    assert target.text == "THE REAL SELECTION"


def test_ordinary_copies_are_recorded_but_results_are_not() -> None:
    target, clipboard, keys = setup("copied by the user")
    result = job(clipboard, keys, None, delivery="clipboard")
    assert result.status is Status.COPIED
    assert clipboard.history == ["copied by the user"]  # the app's own copy: recorded
    assert clipboard.read_text() == "COPIED BY THE USER" and not clipboard.is_secret()


# ---- trayassist apps -----------------------------------------------------------------------

def test_apps_command_lists_builtin_and_configured_profiles(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from trayassist import cli, paths

    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text('[apps."my-term"]\ncapture = "copy-keys"\n'
                                   'copy = "<ctrl>+<shift>+c"\n')
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("TRAYASSIST_DESKTOP", "x11")
    assert cli.main(["apps", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["app"]: r for r in out["profiles"]}
    assert rows["xterm"]["copy"] == "(none)" and rows["xterm"]["delivery"] == "clipboard"
    assert rows["my-term"]["origin"] == "config"
    assert rows["my-term"]["copy"] == "<ctrl>+<shift>+c"
    assert out["focused"]["app"] is None and "DISPLAY" in out["focused"]["why_unknown"]
    assert cli.main(["apps"]) == 0
    text = capsys.readouterr().out
    assert "focused app: unknown" in text and "remote-viewer" in text
