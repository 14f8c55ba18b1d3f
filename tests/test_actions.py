"""Built-in actions, their token budgets, and hotkey syntax."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import trayassist.hotkey_syntax as hotkey_syntax
from trayassist.actions import BUILTIN_ACTIONS, Action
from trayassist.hotkey_syntax import Hotkey, HotkeyError, canonical_hotkey, parse_hotkey

# Bindings desktops already own; a default hotkey must not steal one.
DESKTOP_BINDINGS = {
    "<ctrl>+<space>", "<ctrl>+<alt>+t", "<ctrl>+<alt>+l", "<ctrl>+<alt>+<delete>",
    "<ctrl>+<alt>+<up>", "<ctrl>+<alt>+<down>", "<ctrl>+<alt>+<left>", "<ctrl>+<alt>+<right>",
    "<ctrl>+<alt>+<shift>+r",
}  # fmt: skip


def test_builtin_actions() -> None:
    assert list(BUILTIN_ACTIONS) == ["rewrite", "proofread", "summarize", "translate"]
    for name, action in BUILTIN_ACTIONS.items():
        assert action.name == name and action.builtin
        assert action.hotkey is not None
        assert canonical_hotkey(action.hotkey) == action.hotkey
        assert action.hotkey not in DESKTOP_BINDINGS
        assert "<cmd>" not in action.hotkey  # Super combos belong to the desktop
        assert "Output only" in action.instruction
    hotkeys = [a.hotkey for a in BUILTIN_ACTIONS.values()]
    assert len(set(hotkeys)) == len(hotkeys)
    assert BUILTIN_ACTIONS["rewrite"].hotkey == "<ctrl>+<alt>+<shift>+e"
    summarize = BUILTIN_ACTIONS["summarize"]
    assert (summarize.output_ratio, summarize.keep_all_facts) == (0.7, False)
    assert BUILTIN_ACTIONS["translate"].output_ratio == 2.2
    assert all(a.keep_all_facts for n, a in BUILTIN_ACTIONS.items() if n != "summarize")


def test_instruction_for_fills_in_the_language_only() -> None:
    translate = BUILTIN_ACTIONS["translate"]
    assert translate.instruction_for("German").startswith("Translate the text into German.")
    assert "{language}" not in translate.instruction_for("German")
    odd = Action("odd", "Keep {braces} and {0}; write {language}.", None)
    assert odd.instruction_for("French") == "Keep {braces} and {0}; write French."
    assert BUILTIN_ACTIONS["rewrite"].instruction_for("French") == (
        BUILTIN_ACTIONS["rewrite"].instruction)


def test_token_budget() -> None:
    rewrite = BUILTIN_ACTIONS["rewrite"]  # output_ratio 1.6
    assert rewrite.token_budget(100, 10_000) == 160 + 48
    assert rewrite.token_budget(100, 150) == 150  # never past the context
    assert rewrite.token_budget(0, 10_000) == 48
    assert rewrite.token_budget(100, 3) == 16  # at least 16
    assert BUILTIN_ACTIONS["summarize"].token_budget(1000, 10_000) == 700 + 48
    assert BUILTIN_ACTIONS["translate"].token_budget(100, 10_000) == 220 + 48
    fixed = Action("fixed", "x", None, max_tokens=64)
    assert fixed.token_budget(5000, 10_000) == 64
    assert fixed.token_budget(5, 40) == 40


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("<ctrl>+<alt>+<shift>+e", "<ctrl>+<alt>+<shift>+e"),
        ("<Shift>+<ctrl_l>+<ALT_R>+E", "<ctrl>+<alt>+<shift>+e"),
        ("<cmd_r>+<shift>+p", "<shift>+<cmd>+p"),
        (" <ctrl> + <alt> + k ", "<ctrl>+<alt>+k"),
        ("<ctrl>+<f12>", "<ctrl>+<f12>"),
        ("<alt>+<page_down>", "<alt>+<page_down>"),
        ("<ctrl>+<alt>+<65>", "<ctrl>+<alt>+<65>"),
        ("<ctrl>+<alt>+<065>", "<ctrl>+<alt>+<65>"),
        ("<ctrl>++", "<ctrl>++"),  # pynput: a + that starts a part is the plus key
        ("<alt_gr>+<ctrl>+1", "<ctrl>+<alt_gr>+1"),
        ("<ctrl>+<alt>+<print_screen>", "<ctrl>+<alt>+<print_screen>"),
    ],
)
def test_parse_hotkey(spec: str, canonical: str) -> None:
    hotkey = parse_hotkey(spec)
    assert hotkey.canonical == canonical == str(hotkey)
    assert parse_hotkey(canonical) == hotkey  # canonical form is a fixed point


def test_hotkey_fields() -> None:
    assert parse_hotkey("<shift>+<ctrl_r>+<Space>") == Hotkey(
        frozenset({"ctrl", "shift"}), "<space>")
    assert parse_hotkey("<ctrl>+<alt>+<shift>+e") == parse_hotkey("<alt>+<shift>+<ctrl>+E")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "expected modifiers like"),
        ("<ctrl>+<alt>+", "expected modifiers like"),
        ("<ctrl>+", "expected modifiers like"),
        ("<ctrl>+<alt>", "no key"),
        ("e", "needs <ctrl>, <alt> or <cmd>"),
        ("<shift>+e", "needs <ctrl>, <alt> or <cmd>"),
        ("<alt_gr>+e", "needs <ctrl>, <alt> or <cmd>"),
        ("<ctrl>+e+f", "2 keys"),
        ("<ctrl>+<ctrl>+e", "<ctrl> appears twice"),
        ("<ctrl_l>+<ctrl_r>+e", "<ctrl> appears twice"),
        ("<ctrl>+<alt>+<foo>", "<foo> is not a key"),
        ("ctrl+alt+e", "write ctrl in angle brackets, as <ctrl>"),
        ("<ctrl>+ab", "neither one character"),
        ("<ctrl>+<-3>", "<-3> is not a key"),
    ],
)
def test_bad_hotkeys_say_what_is_allowed(spec: str, says: str) -> None:
    with pytest.raises(HotkeyError) as err:
        parse_hotkey(spec)
    message = str(err.value)
    assert message.startswith(f'"{spec}" is not a hotkey: ')
    assert says in message
    assert message.endswith(
        "expected modifiers like <ctrl>, <alt>, <shift>, <cmd> joined by + with one key, "
        "e.g. <ctrl>+<alt>+<shift>+e")
    assert isinstance(err.value, ValueError)


def test_trailing_plus_message_is_exact() -> None:
    with pytest.raises(HotkeyError, match=r"^\"<ctrl>\+<alt>\+\" is not a hotkey: expected "):
        parse_hotkey("<ctrl>+<alt>+")


def test_hotkey_syntax_does_not_import_pynput() -> None:
    tree = ast.parse(Path(hotkey_syntax.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("pynput") for name in imported)
