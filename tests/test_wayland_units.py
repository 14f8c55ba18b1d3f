"""The Wayland pieces that need no compositor: backend choice, chords, bindings text."""

from __future__ import annotations

import sys

import pytest

from trayassist import hotkeys_install as hi
from trayassist.cli import main
from trayassist.desktop import choose, platform_default
from trayassist.desktop.wayland.hotkeys import preferred_trigger
from trayassist.desktop.wayland.keys import wtype_args
from trayassist.desktop.wayland.portal_keys import chord_keysyms


@pytest.mark.parametrize(("env", "expected"), [
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"},
     "wayland"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),  # no XWayland to fall back on
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "x11"),  # session type unknown
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, "x11"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, "x11"),
])
def test_wayland_sessions_get_the_wayland_backend(monkeypatch, env, expected):
    monkeypatch.setattr(sys, "platform", "linux")  # the session logic is Linux's
    for key in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DISPLAY", "TRAYASSIST_DESKTOP"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert platform_default() == expected
    monkeypatch.setenv("TRAYASSIST_DESKTOP", "x11")
    assert choose() == "x11"  # the override still wins


def test_wtype_chords_follow_the_recipe():
    # Lead-in sleep (the first key is lost otherwise) and a trailing key (GTK3 ignores
    # a shortcut that nothing follows).
    assert wtype_args("<ctrl>+v") == ["-s", "50", "-M", "ctrl", "-k", "v", "-m", "ctrl",
                                      "-k", "VoidSymbol"]
    assert wtype_args("<ctrl>+<shift>+c")[2:10] == ["-M", "ctrl", "-M", "shift", "-k", "c",
                                                     "-m", "shift"]
    assert wtype_args("<shift>+<insert>")[4:6] == ["-k", "Insert"]
    with pytest.raises(ValueError):
        wtype_args("<ctrl>+a+b")


def test_portal_chords():
    assert preferred_trigger("<ctrl>+<alt>+<shift>+e") == "CTRL+ALT+SHIFT+e"
    assert preferred_trigger("<cmd>+<f5>") == "LOGO+F5"
    assert chord_keysyms("<ctrl>+v") == ([0xFFE3], ord("v"))
    assert chord_keysyms("<shift>+<insert>") == ([0xFFE1], 0xFF63)


BINDINGS = [hi.Binding("rewrite", "<ctrl>+<alt>+<shift>+e"), hi.Binding("fix", "<cmd>+<f5>")]


def test_sway_bindings_fire_on_release_and_run_trigger():
    text = hi.sway_text(BINDINGS)
    assert "bindsym --release Ctrl+Alt+Shift+e exec " in text
    assert "bindsym --release Mod4+F5 exec " in text
    assert text.count(" trigger ") == 2 and "trigger rewrite" in text


def test_hyprland_gnome_kde_bindings():
    assert "bindr = CTRL ALT SHIFT, E, exec, " in hi.hyprland_text(BINDINGS)
    cmds = hi.gnome_commands(BINDINGS)
    assert cmds[2][-2:] == ["binding", "<Control><Alt><Shift>e"]
    listing = hi.gnome_list_value(["/x/custom0/", "/x/trayassist-old/"], BINDINGS)
    assert "'/x/custom0/'" in listing and "trayassist-old" not in listing
    kde = hi.kde_files(BINDINGS)["trayassist-rewrite.desktop"]
    assert "X-KDE-Shortcuts=Ctrl+Alt+Shift+E" in kde


def test_install_sway_writes_an_include_once_and_lists_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("SWAYSOCK", raising=False)
    (tmp_path / "sway").mkdir()
    (tmp_path / "sway" / "config").write_text("set $mod Mod4\n")
    assert main(["hotkeys", "install", "sway"]) == 0
    assert main(["hotkeys", "install", "sway"]) == 0
    config = (tmp_path / "sway" / "config").read_text()
    assert config.count("include ") == 1 and config.startswith("set $mod Mod4\n")
    assert "trigger rewrite" in (tmp_path / "sway" / "trayassist.conf").read_text()
    assert hi.installed("sway")["rewrite"].endswith("bindsym --release Ctrl+Alt+Shift+e")
    capsys.readouterr()
    assert main(["hotkeys", "install", "hyprland", "--print"]) == 0
    assert "bindr = " in capsys.readouterr().out
