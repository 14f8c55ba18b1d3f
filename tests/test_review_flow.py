"""delivery = auto / review through the real pipeline, with a scripted review window."""

from __future__ import annotations

import threading
import time

from trayassist.actions import BUILTIN_ACTIONS
from trayassist.job import Status, Timing
from trayassist.pipeline import run_job
from trayassist.review_window import word_diff
from trayassist.testing import TEXT, FakeApp, FakeClipboard, FakeKeys, ScriptedEngine

FAST = Timing(modifier_release_s=0.01, copy_timeout_s=0.05, poll_s=0.001, paste_read_s=0.01,
              paste_settle_s=0)
OLD = {TEXT: b"what the user had copied", "text/html": b"<b>rich</b>"}
REWRITE = BUILTIN_ACTIONS["rewrite"]


class FakeSession:
    def __init__(self, reviewer: FakeReviewer) -> None:
        self.reviewer = reviewer
        self.events: list[str] = []
        self.finals: list[tuple[str, list[str]]] = []
        self.discarded_by_user = False

    def piece(self, text: str) -> None:
        self.events.append("piece")

    def progress(self, progress: object) -> None:
        self.events.append("progress")

    def final(self, text: str, warnings: list[str]) -> None:
        self.events.append("final")
        self.finals.append((text, warnings))

    def retrying(self) -> None:
        self.events.append("retrying")

    def wait_choice(self, timeout: float) -> str:
        return self.reviewer.choices.pop(0)

    def restore_focus(self, timeout: float) -> bool:
        self.events.append("focus")
        return self.reviewer.focus_ok

    def close(self) -> None:
        self.events.append("close")


class FakeReviewer:
    def __init__(self, *choices: str, focus_ok: bool = True) -> None:
        self.choices = list(choices)
        self.sessions: list[FakeSession] = []
        self.focus_ok = focus_ok

    def open(self, action: str, original: str, *, diff: bool, note: str | None = None,
             cancel: threading.Event | None = None) -> FakeSession:
        session = FakeSession(self)
        session.events.append(f"open diff={diff} note={note is not None}")
        self.sessions.append(session)
        return session


def run(text: str, engine: ScriptedEngine, reviewer: FakeReviewer | None, *,
        delivery: str = "auto", capable: bool = True):  # type: ignore[no-untyped-def]
    app = FakeApp(text)
    app.select_all()
    clipboard = FakeClipboard(OLD)
    keys = FakeKeys(app, clipboard)
    result = run_job(REWRITE, clipboard, keys, engine, threading.Event(), language="English",
                     delivery=delivery, timing=FAST, reviewer=reviewer, capable=capable,
                     note=None if capable else "rewrite needs a larger model")
    return app, clipboard, keys, result


def test_auto_pastes_a_clean_result_without_opening_the_window() -> None:
    reviewer = FakeReviewer()
    app, clipboard, keys, result = run("meet at 3pm", ScriptedEngine(), reviewer)
    assert result.status is Status.DONE and app.text == "MEET AT 3PM"
    assert reviewer.sessions == [] and keys.sent == ["copy", "paste"]


def test_auto_sends_a_flagged_result_to_the_window_and_esc_leaves_everything() -> None:
    reviewer = FakeReviewer("discard")
    engine = ScriptedEngine(reply=lambda _p: "meet at 5pm")
    app, clipboard, keys, result = run("meet at 3pm", engine, reviewer)
    assert result.status is Status.DISCARDED and result.reviewed
    assert app.text == "meet at 3pm" and keys.sent == ["copy"]
    assert clipboard.formats == OLD
    (session,) = reviewer.sessions
    assert session.finals[0][1] == ["3pm -> 5pm"]
    assert session.events[-1] == "close"
    assert result.stats is not None and result.stats.output_tokens == 3


def test_enter_gives_the_focus_back_then_pastes() -> None:
    reviewer = FakeReviewer("replace")
    engine = ScriptedEngine(reply=lambda _p: "meet at 5pm")
    app, clipboard, keys, result = run("meet at 3pm", engine, reviewer)
    assert result.status is Status.DONE and app.text == "meet at 5pm"
    assert reviewer.sessions[0].events.index("focus") > reviewer.sessions[0].events.index(
        "final")
    assert clipboard.formats == OLD


def test_focus_not_back_leaves_the_result_on_the_clipboard_instead_of_pasting() -> None:
    reviewer = FakeReviewer("replace", focus_ok=False)
    engine = ScriptedEngine(reply=lambda _p: "meet at 5pm")
    app, clipboard, keys, result = run("meet at 3pm", engine, reviewer)
    assert result.status is Status.COPIED and app.text == "meet at 3pm"
    assert clipboard.read_text() == "meet at 5pm" and keys.sent == ["copy"]


def test_ctrl_c_leaves_the_result_on_the_clipboard_on_purpose() -> None:
    reviewer = FakeReviewer("copy")
    engine = ScriptedEngine(reply=lambda _p: "meet at 5pm")
    app, clipboard, _keys, result = run("meet at 3pm", engine, reviewer)
    assert result.status is Status.COPIED and app.text == "meet at 3pm"
    assert clipboard.read_text() == "meet at 5pm"


def test_retry_runs_again_warmer_and_streams_into_the_same_window() -> None:
    reviewer = FakeReviewer("retry", "replace")
    engine = ScriptedEngine(reply=lambda _p: "meet at 5pm")
    _app, _clip, _keys, result = run("meet at 3pm", engine, reviewer)
    assert len(engine.calls) == 2 and len(reviewer.sessions) == 1
    events = reviewer.sessions[0].events
    assert events.count("final") == 2 and "retrying" in events
    assert result.stats is not None and result.stats.output_tokens == 6


def test_a_model_not_capable_of_the_action_streams_into_the_window_from_the_start() -> None:
    reviewer = FakeReviewer("discard")
    app, _clip, _keys, result = run("make this better", ScriptedEngine(), reviewer,
                                    capable=False)
    events = reviewer.sessions[0].events
    assert events[0] == "open diff=True note=True"
    assert events.index("piece") < events.index("final")
    assert app.text == "make this better" and result.status is Status.DISCARDED


def test_review_mode_always_opens_and_without_a_window_never_pastes_unseen() -> None:
    reviewer = FakeReviewer("replace")
    app, _c, _k, result = run("ok", ScriptedEngine(), reviewer, delivery="review")
    assert reviewer.sessions and app.text == "OK"
    app, clipboard, _k, result = run("ok", ScriptedEngine(), None, delivery="review")
    assert result.status is Status.COPIED and app.text == "ok"


def test_word_diff_marks_removed_and_inserted_words() -> None:
    runs = word_diff("i has went home", "I went home")
    assert ("del", "i has") in runs and ("ins", "I") in runs
    assert "".join(t for tag, t in runs if tag != "del").replace("  ", " ").strip() == \
        "I went home"


def test_a_window_that_cannot_open_leaves_a_flagged_result_on_the_clipboard() -> None:
    class Broken(FakeReviewer):
        def open(self, *a, **kw):  # type: ignore[no-untyped-def]
            raise RuntimeError("no Tk")

    engine = ScriptedEngine(reply=lambda _p: "meet at 5pm")
    app, clipboard, keys, result = run("meet at 3pm", engine, Broken())
    assert result.status is Status.COPIED and app.text == "meet at 3pm"
    assert "review window could not open" in result.message and keys.sent == ["copy"]


def test_a_cancelled_job_stops_waiting_for_the_users_choice() -> None:
    """The tray's "Cancel running job" (or quit) while the window waits: discard at once,
    not after the 15-minute choice timeout."""
    from trayassist.review import ReviewHost, ReviewSession

    cancel = threading.Event()
    session = ReviewSession(ReviewHost(), 1, cancel, None)
    threading.Timer(0.05, cancel.set).start()
    started = time.monotonic()
    assert session.wait_choice(timeout=60.0) == "discard"
    assert time.monotonic() - started < 20  # the cancel ended it, not the 60 s timeout


class StopsAtFirstPiece(FakeReviewer):
    """A window that goes away while the model still writes: the user's Esc, or (not by the
    user) the window process dying."""

    def __init__(self, by_user: bool) -> None:
        super().__init__()
        self.by_user = by_user

    def open(self, action: str, original: str, *, diff: bool, note: str | None = None,
             cancel: threading.Event | None = None) -> FakeSession:
        session = super().open(action, original, diff=diff, note=note, cancel=cancel)
        assert cancel is not None

        def piece(text: str) -> None:
            session.discarded_by_user = self.by_user
            cancel.set()

        session.piece = piece  # type: ignore[method-assign]
        return session


def test_esc_while_it_streams_is_a_discard_and_a_dead_window_a_cancel() -> None:
    engine = ScriptedEngine(reply=lambda _p: "a long answer that takes a while to write")
    for by_user, status, message in ((True, Status.DISCARDED, "Discarded"),
                                     (False, Status.CANCELLED, "Cancelled")):
        app, clipboard, _keys, result = run("meet at 3pm", engine, StopsAtFirstPiece(by_user),
                                            delivery="review")
        assert result.status is status and result.message.startswith(message)
        assert app.text == "meet at 3pm" and clipboard.formats == OLD
