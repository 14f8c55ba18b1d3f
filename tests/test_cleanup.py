from __future__ import annotations

import pytest

from trayassist.cleanup import StreamCleaner, clean_output

CASES = [
    ("Here is the rewritten text:\nThe meeting is at noon.", "meeting at noon",
     "The meeting is at noon."),
    ("Sure! Here's the corrected version:\n\nI have two cats.", "i has two cat",
     "I have two cats."),
    ('"The cat sat."', "teh cat sat", "The cat sat."),
    ("The cat sat.\n\nNote: I fixed the spelling of 'the'.", "teh cat sat", "The cat sat."),
    ("Rewritten text: Short and clear.", "long and unclear", "Short and clear."),
    ('"Quoted input" stays', '"quoted input" stays', '"Quoted input" stays'),
    ("Line one.\nLine two.", "line one\nline two", "Line one.\nLine two."),
]


@pytest.mark.parametrize(("raw", "original", "expected"), CASES)
def test_chatter_is_removed(raw: str, original: str, expected: str) -> None:
    assert clean_output(raw, original) == expected


def test_whitespace_frame_and_crlf_are_kept() -> None:
    assert clean_output("A.\nB.", "  a\r\nb\r\n\r\n") == "  A.\r\nB.\r\n\r\n"


@pytest.mark.parametrize(("raw", "original", "_expected"), CASES)
def test_streaming_emits_exactly_the_final_text(raw: str, original: str, _expected: str) -> None:
    stream = StreamCleaner(original)
    pieces = [stream.feed(raw[i:i + 3]) for i in range(0, len(raw), 3)]
    final = clean_output(raw, original)
    assert "".join(pieces) + stream.finish(final) == final


def test_corrected_text_preamble_and_original_echo_are_removed() -> None:
    raw = "The corrected text is:\nI think so.\n\nThe original text was:\ni thinks so"
    assert clean_output(raw, "i thinks so") == "I think so."


def test_a_loop_is_found_and_cut_to_one_copy() -> None:
    from trayassist.cleanup import cut_repetition, repeating_tail

    looping = "Je suis là, le début de l'année, le début de l'année, le début de l'année,"
    period = repeating_tail(looping)
    assert period is not None
    assert cut_repetition(looping, period) == "Je suis là, le début de l'année,"
    assert repeating_tail("A normal sentence with no loop at all.") is None


def test_a_stacked_preamble_leaves_nothing() -> None:
    assert clean_output("The corrected text is:\n\nThe corrected text is:", "x") == ""


def test_stream_never_prints_a_line_loop_the_pipeline_cuts() -> None:
    from trayassist.cleanup import cut_repetition, repeating_tail

    stream = StreamCleaner("orig")
    raw, printed = "", ""
    for piece in ["First line.\n", "Again.\n", "Again.\n", "Again."]:
        raw += piece
        period = repeating_tail(raw)
        if period is not None:
            raw = cut_repetition(raw, period)
            break
        printed += stream.feed(piece)
    final = clean_output(raw, "orig")
    assert printed + stream.finish(final) == final == "First line.\nAgain."
