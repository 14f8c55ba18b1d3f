"""The whole job (capture -> transform -> deliver) through the in-memory fakes."""

from __future__ import annotations

import threading

import pytest

from trayassist.actions import BUILTIN_ACTIONS
from trayassist.engines.base import EngineError
from trayassist.pipeline import Status, Timing, run_job, transform
from trayassist.testing import (
    TEXT,
    FakeApp,
    FakeClipboard,
    FakeKeys,
    ScriptedEngine,
)

FAST = Timing(modifier_release_s=0.01, copy_timeout_s=0.05, poll_s=0.001,
              paste_read_s=0.01, paste_settle_s=0)
REWRITE = BUILTIN_ACTIONS["rewrite"]
OLD_CLIPBOARD = {TEXT: b"what the user had copied", "text/html": b"<b>rich</b>"}


def setup(text: str = "make this better", *, select: bool = True, **keys_kw: bool):
    app = FakeApp(text)
    if select:
        app.select_all()
    clipboard = FakeClipboard(OLD_CLIPBOARD)
    keys = FakeKeys(app, clipboard, **keys_kw)
    return app, clipboard, keys


def job(clipboard, keys, engine, *, delivery="paste", cancel=None):
    return run_job(REWRITE, clipboard, keys, engine, cancel or threading.Event(),
                   language="English", delivery=delivery, timing=FAST)


def test_selection_is_replaced_and_clipboard_restored_with_every_format() -> None:
    app, clipboard, keys = setup("make this better")
    result = job(clipboard, keys, ScriptedEngine())
    assert result.status is Status.DONE
    assert app.text == "MAKE THIS BETTER"
    assert clipboard.formats == OLD_CLIPBOARD
    assert keys.sent == ["copy", "paste"]
    assert result.original == "make this better"


def test_nothing_selected_transforms_nothing_and_restores() -> None:
    app, clipboard, keys = setup("untouched", select=False)
    engine = ScriptedEngine()
    result = job(clipboard, keys, engine)
    assert result.status is Status.NOTHING_SELECTED
    assert app.text == "untouched" and engine.calls == []
    assert clipboard.formats == OLD_CLIPBOARD


def test_selection_equal_to_old_clipboard_is_still_captured() -> None:
    app, clipboard, keys = setup("what the user had copied")
    result = job(clipboard, keys, ScriptedEngine())
    assert result.status is Status.DONE
    assert app.text == "WHAT THE USER HAD COPIED"


def test_secret_copy_never_reaches_the_model() -> None:
    app, clipboard, keys = setup("hunter2", secret=True)
    engine = ScriptedEngine()
    result = job(clipboard, keys, engine)
    assert result.status is Status.SECRET
    assert engine.calls == [] and app.text == "hunter2"
    assert "hunter2" not in result.message
    assert clipboard.formats == OLD_CLIPBOARD


def test_held_modifiers_refuse_before_any_keystroke() -> None:
    app, clipboard, keys = setup(modifiers_held=True)
    result = job(clipboard, keys, ScriptedEngine())
    assert result.status is Status.KEYS_HELD
    assert keys.sent == [] and clipboard.formats == OLD_CLIPBOARD


def test_failing_engine_leaves_text_and_says_why() -> None:
    app, clipboard, keys = setup("keep me")
    result = job(clipboard, keys, ScriptedEngine(fail_with=EngineError("model exploded")))
    assert result.status is Status.FAILED
    assert "model exploded" in result.message
    assert app.text == "keep me" and keys.sent == ["copy"]
    assert clipboard.formats == OLD_CLIPBOARD


def test_cancel_leaves_text_and_restores() -> None:
    app, clipboard, keys = setup("keep me too")
    cancel = threading.Event()
    cancel.set()
    result = job(clipboard, keys, ScriptedEngine(), cancel=cancel)
    assert result.status is Status.CANCELLED
    assert app.text == "keep me too" and clipboard.formats == OLD_CLIPBOARD


def test_clipboard_mode_copies_result_without_pasting() -> None:
    app, clipboard, keys = setup("copy only")
    result = job(clipboard, keys, ScriptedEngine(), delivery="clipboard")
    assert result.status is Status.COPIED
    assert app.text == "copy only" and keys.sent == ["copy"]
    assert clipboard.read_text() == "COPY ONLY"


def test_user_copy_during_job_is_not_overwritten() -> None:
    app, clipboard, keys = setup("slow text")

    def reply(text: str) -> str:
        clipboard.copy_from("copied meanwhile")  # the user copies while we generate
        return text.upper()

    result = job(clipboard, keys, ScriptedEngine(reply=reply))
    assert result.status is Status.DONE
    assert app.text == "SLOW TEXT"
    assert clipboard.read_text() == "copied meanwhile"


def test_guard_flag_is_reported() -> None:
    app, clipboard, keys = setup("Meet at 3pm on the 5th")
    result = job(clipboard, keys, ScriptedEngine(reply=lambda t: "Meet at 10am on the 5th"))
    assert result.status is Status.DONE
    assert [str(f) for f in result.flags] == ["3pm -> 10am"]


def test_transform_keeps_the_inputs_whitespace_frame() -> None:
    out = transform(REWRITE, "\n  fix me\r\n", ScriptedEngine(reply=lambda t: "Fixed."),
                    language="English", cancel=threading.Event())
    assert out.text == "\n  Fixed.\r\n"


def test_transform_rejects_empty_input() -> None:
    from trayassist.pipeline import EmptyInput

    with pytest.raises(EmptyInput):
        transform(REWRITE, "  \n", ScriptedEngine(), language="English",
                  cancel=threading.Event())


def test_keys_held_at_paste_time_leave_the_result_on_the_clipboard() -> None:
    app, clipboard, keys = setup("late keys")

    def reply(text: str) -> str:
        keys.modifiers_held = True  # the user grabbed Ctrl/Alt again while the model worked
        return text.upper()

    result = job(clipboard, keys, ScriptedEngine(reply=reply))
    assert result.status is Status.COPIED and "Ctrl+V" in result.message
    assert keys.sent == ["copy"] and app.text == "late keys"
    assert clipboard.read_text() == "LATE KEYS"


def test_an_answer_to_the_worked_example_is_never_pasted() -> None:
    proofread = BUILTIN_ACTIONS["proofread"]
    assert proofread.example is not None
    app, clipboard, keys = setup("my own words stay mine")
    leaked = ScriptedEngine(reply=lambda t: proofread.example[1])  # type: ignore[index]
    result = run_job(proofread, clipboard, keys, leaked, threading.Event(),
                     language="English", timing=FAST)
    assert result.status is Status.FAILED and "example" in result.message
    assert app.text == "my own words stay mine" and clipboard.formats == OLD_CLIPBOARD


def test_a_chat_reply_instead_of_an_edit_is_never_pasted() -> None:
    app, clipboard, keys = setup("send me the slides")
    chatty = ScriptedEngine(reply=lambda t: "I'm sorry for the confusion, but I cannot help.")
    result = job(clipboard, keys, chatty)
    assert result.status is Status.FAILED and "replied" in result.message
    assert app.text == "send me the slides"
