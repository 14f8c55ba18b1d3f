"""Long texts: pieces framed byte for byte, progress, cancel between pieces, map-reduce
summaries that keep their facts, no repeated or cut sentences, and bad input refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading

import pytest

from trayassist import chunking
from trayassist.actions import BUILTIN_ACTIONS
from trayassist.cleanup import (
    drop_headings,
    repeated_sentence,
    sentence_counts,
    trim_to_sentence,
)
from trayassist.engines.base import Cancelled
from trayassist.guard import check
from trayassist.longtext import article, letter
from trayassist.pipeline import Status, run_job
from trayassist.testing import TEXT, FakeApp, FakeClipboard, FakeKeys, ScriptedEngine
from trayassist.transform import (
    MAX_INPUT_CHARS,
    ONE_PROMPT_TOKENS,
    BadInput,
    EmptyInput,
    Progress,
    check_input,
    transform,
)

PROOFREAD, SUMMARIZE = BUILTIN_ACTIONS["proofread"], BUILTIN_ACTIONS["summarize"]
REWRITE = BUILTIN_ACTIONS["rewrite"]

FRAMED = (
    "  Dear team,\r\n\r\n"
    "    the first paragraph is indented and ends with spaces.   \r\n"
    "It goes on over a second line.\r\n"
    "\r\n \r\n"
    "\tA tab opens this one; " + "it is long enough to be split at sentences. " * 40 + "\r\n\r\n"
    "Kind regards,\r\nAl  \r\n\r\n"
)


def words(text: str) -> int:
    return len(text.split())


def run(action, text: str, engine: ScriptedEngine, **kw):  # type: ignore[no-untyped-def]
    return transform(action, text, engine, language="English", cancel=threading.Event(), **kw)


def test_split_keeps_every_byte_and_cuts_long_paragraphs_at_sentences() -> None:
    split = chunking.split(FRAMED, words, 60, first_limit=10)
    assert split.join(list(split.bodies)) == FRAMED
    assert all(b == b.strip() for b in split.bodies)
    assert split.paragraphs == 4 and len(split.bodies) > 5
    assert all(b.endswith(".") for b in split.bodies[1:-1])  # cut at sentence ends


def test_pieces_keep_crlf_blank_lines_and_indentation_byte_for_byte() -> None:
    echo = ScriptedEngine(reply=str)
    out = run(PROOFREAD, FRAMED, echo)
    assert out.text == FRAMED
    assert out.parts > 3 and len(echo.calls) == out.parts
    upper = run(REWRITE, FRAMED, ScriptedEngine(reply=str.upper))
    assert upper.text == FRAMED.upper()  # every separator where it was


def test_a_short_text_is_still_one_prompt() -> None:
    engine = ScriptedEngine(reply=str)
    text = "Hi Bob,\n\nthe meeting is at 3pm on Friday.\n\nSee you, Al"
    assert words(text) < ONE_PROMPT_TOKENS
    out = run(REWRITE, text, engine)
    assert engine.calls == [text] and out.parts == 1


def test_progress_counts_paragraphs_and_shows_the_finished_ones_in_place() -> None:
    text = letter(10)
    seen: list[Progress] = []
    out = run(PROOFREAD, text, ScriptedEngine(reply=str), on_progress=seen.append)
    assert seen[0].done == 0 and seen[-1].done == seen[-1].total == out.parts
    assert {p.unit for p in seen} <= {"paragraph", "part"}
    for p in seen:
        assert text.startswith(p.text_so_far)  # echo: the prefix of the final text
    assert str(seen[2]) == f"{seen[2].unit} 3 of {seen[2].total}"


def test_each_piece_is_checked_by_the_guard() -> None:
    text = letter(6)
    out = run(PROOFREAD, text, ScriptedEngine(reply=lambda t: re.sub(r"\d+", "7", t, count=1)))
    assert out.parts > 1 and len(out.flags) >= out.parts - 1


def test_a_bad_piece_keeps_its_original_and_says_so() -> None:
    text = letter(6)
    second = chunking.split(text, words, 160, first_limit=40).bodies[1]
    out = run(PROOFREAD, text, ScriptedEngine(
        reply=lambda t: "I'm sorry, I cannot help with that." if t == second else t))
    assert out.text == text
    assert any("2 of" in n and "left as it was" in n for n in out.notes)


def test_cancel_between_pieces_raises_and_the_pipeline_leaves_the_text() -> None:
    text = letter(6)
    cancel = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.done == 1:
            cancel.set()

    engine = ScriptedEngine(reply=str.upper)
    with pytest.raises(Cancelled):
        transform(PROOFREAD, text, engine, language="English", cancel=cancel,
                  on_progress=on_progress)
    assert len(engine.calls) == 1

    app = FakeApp(text=text)
    app.select_all()
    clipboard = FakeClipboard()
    clipboard.copy_from("old clipboard")
    cancel = threading.Event()
    result = run_job(PROOFREAD, clipboard, FakeKeys(app, clipboard), engine, cancel,
                     language="English", on_progress=on_progress)
    assert result.status is Status.CANCELLED
    assert app.text == text and clipboard.read_text() == "old clipboard"


def _extractive(text: str) -> str:
    """A stand-in summarizer: the first sentence of every paragraph."""
    return " ".join(p.split(". ")[0].rstrip(".") + "." for p in text.split("\n\n") if p)


def test_map_reduce_summary_keeps_the_key_facts_of_a_long_text() -> None:
    text = article(3000)
    engine = ScriptedEngine(reply=_extractive)
    seen: list[Progress] = []
    out = run(SUMMARIZE, text, engine, on_progress=seen.append)
    assert out.parts == len(engine.calls) > 2  # sections, then the final pass
    assert {p.unit for p in seen} == {"section"} and seen[-1].text_so_far == out.text
    assert not out.flags  # nothing changed or invented against the whole text
    first_date = re.search(r"[A-Z][a-z]+ \d{1,2}, 20\d\d", text)
    assert first_date and first_date.group() in out.text
    assert len(out.text) < len(text) / 3


def test_a_repeated_sentence_is_cut_to_one_copy() -> None:
    looping = "The bridge opens in May. The cost is high. The bridge opens in May. The co"
    out = run(SUMMARIZE, "Some text about a bridge that opens in May at a high cost.",
              ScriptedEngine(reply=lambda _t: looping))
    assert out.text == "The bridge opens in May. The cost is high."
    assert out.looped and any("repeating" in w for w in out.warnings)


def test_a_summary_never_ends_mid_sentence_and_says_it_was_cut() -> None:
    out = run(SUMMARIZE, "A long story about the harbour and its new wall, told twice.",
              ScriptedEngine(reply=lambda _t: "The harbour gets a new wall. Work starts in"))
    assert out.text == "The harbour gets a new wall."
    assert any("cut after its last complete sentence" in w for w in out.warnings)


def test_sentence_helpers() -> None:
    assert repeated_sentence("One two. Three four. One two.", {}) == 20
    # A sentence the source itself repeats may be repeated as often.
    src = "Thank you all. We met. Thank you all."
    assert repeated_sentence(src, sentence_counts(src)) is None
    assert trim_to_sentence("Done here. And th") == ("Done here.", True)
    assert trim_to_sentence("Done here.") == ("Done here.", False)
    assert trim_to_sentence("no sentence end") == ("no sentence end", False)


@pytest.mark.parametrize("text, reason", [
    ("abc\udcff def", "not valid UTF-8"),
    ("ab\0cd", "NUL bytes"),
    ("\x01\x02\x1b\x07 \x7f\u200b", "only control characters"),
    ("x" * (MAX_INPUT_CHARS + 1), "200,000"),
])
def test_unusable_input_is_refused_with_one_line(text: str, reason: str) -> None:
    with pytest.raises(BadInput, match=reason) as info:
        check_input(text)
    assert "\n" not in str(info.value)
    engine = ScriptedEngine()
    with pytest.raises(BadInput):
        run(REWRITE, text, engine)
    assert engine.calls == []


def test_empty_input_is_still_empty_input() -> None:
    with pytest.raises(EmptyInput):
        check_input(" \n\t")


def test_a_long_text_below_the_bound_is_worked_not_refused() -> None:
    text = article(12000)
    assert 60_000 < len(text) < MAX_INPUT_CHARS
    out = run(PROOFREAD, text, ScriptedEngine(reply=str))
    assert out.text == text and out.parts > 50


def test_invalid_utf8_on_the_clipboard_fails_clearly_and_leaves_the_text() -> None:
    app = FakeApp(text="x")
    clipboard = FakeClipboard()
    engine = ScriptedEngine()

    class BinaryKeys(FakeKeys):
        def send_copy(self) -> None:
            self.sent.append("copy")
            self.clipboard.formats = {TEXT: b"caf\xe9 au lait"}

    result = run_job(REWRITE, clipboard, BinaryKeys(app, clipboard), engine,
                     threading.Event(), language="English")
    assert result.status is Status.FAILED and "not valid UTF-8" in result.message
    assert engine.calls == [] and app.text == "x"


def test_guard_on_the_extractive_summary_flags_an_invented_number() -> None:
    text = article(1500)
    flags = check(text, "The council spent $1 on 1 bridge.", must_keep_all=False)
    assert flags  # the guard still sees inventions in a summary


def _cli(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "TRAYASSIST_ENGINE": "scripted",
           "TRAYASSIST_SCRIPTED": json.dumps({"reply": "echo"})}
    return subprocess.run([sys.executable, "-m", "trayassist", "run", *args], input=stdin,
                          capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("data, reason", [
    (b"caf\xe9 au lait", b"not valid UTF-8 (byte 0xe9 at offset 3)"),
    (b"\x00\x01binary\x00", b"NUL bytes"),
    (b"\x1b\x07\x01", b"only control characters"),
])
def test_run_refuses_bad_stdin_with_exit_4_and_one_line(data: bytes, reason: bytes) -> None:
    proc = _cli(data, "rewrite")
    assert proc.returncode == 4, proc.stderr
    assert reason in proc.stderr and proc.stderr.count(b"\n") == 1
    assert b"Traceback" not in proc.stderr and proc.stdout == b""


def test_run_works_a_long_text_in_pieces_and_prints_it_byte_for_byte() -> None:
    text = FRAMED + letter(8).replace("\n", "\r\n")
    proc = _cli(text.encode(), "proofread")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text.encode()


def test_the_tray_tooltip_names_the_piece_being_worked_on() -> None:
    from trayassist.tray_text import progress_tooltip

    assert progress_tooltip("rewrite", Progress(2, 12, "paragraph", "")) == \
        "trayassist (busy) - rewrite: paragraph 3 of 12"
    assert progress_tooltip("rewrite", Progress(0, 1, "text", "")) is None
    assert progress_tooltip("rewrite", Progress(12, 12, "paragraph", "")) is None


def test_titles_and_labels_above_a_summary_are_dropped() -> None:
    reply = "The Town of Eastmere: A History\n\nWork:\n\nThe bridge opens in May. It is late."
    out = run(SUMMARIZE, "A text about a bridge in Eastmere that opens late, in May.",
              ScriptedEngine(reply=lambda _t: reply))
    assert out.text == "The bridge opens in May. It is late."
    assert drop_headings("Just a phrase") == "Just a phrase"  # nothing else to keep


def test_many_guard_flags_are_summed_up_not_listed_one_line_each() -> None:
    """Found by hand: a 33 KB one-line text through `run rewrite` printed ~1,000
    'guard:' lines, and in the review window the same list made it 2,000 px tall (its
    keys off the screen). The first few are shown, then how many more; the other
    notes (loop, pieces kept) are never pushed out."""
    from trayassist.guard import Flag
    from trayassist.transform import MAX_LISTED, Outcome

    flags = tuple(Flag("number", str(n), str(n + 10)) for n in range(300))
    notes = tuple(f"part {n} of 400 left as it was: empty" for n in range(1, 60))
    outcome = Outcome("x", flags, 1, 1, 0.0, looped=True, notes=notes)
    lines = outcome.warnings
    assert len(lines) <= 2 * MAX_LISTED + 1
    assert lines[0] == "0 -> 10"
    assert f"... and {300 - MAX_LISTED + 1} more changes" in lines
    assert "the model started repeating itself; its output was cut there" in lines
    assert f"... and {59 - MAX_LISTED + 1} more notes" in lines
    few = Outcome("x", flags[:3], 1, 1, 0.0).warnings
    assert few == ("0 -> 10", "1 -> 11", "2 -> 12")
