"""The faithfulness guard: protected facts must survive rewrite, translate and summarize."""

from __future__ import annotations

import pytest

from trayassist.guard import Flag, check


def strs(flags: list[Flag]) -> list[str]:
    return [str(f) for f in flags]


@pytest.mark.parametrize(
    "text",
    [
        "Meet at 3pm on May 1, 2024 at https://example.org/a?id=7.",
        "Pay $1,200.50 (20% off) by 2024-05-01; mail ops@example.com or call +1 555 123 4567.",
        "Version v1.2.3 ships 3 fixes at 10:30.",
        "Nothing to protect here.",
    ],
)
def test_identical_text_has_no_flags(text: str) -> None:
    assert check(text, text) == []
    assert check(text, text, must_keep_all=False) == []


def test_changed_time_is_one_change() -> None:
    flags = check("Meet at 3pm", "Meet at 10am")
    assert flags == [Flag("time", "3pm", "10am")]
    assert strs(flags) == ["3pm -> 10am"]


@pytest.mark.parametrize(
    "written",
    ["3 pm", "3:00 PM", "15:00", "3 p.m.", "15 Uhr", "15h", "15h00", "om 15.00 uur", "15:00:00"],
)
def test_equivalent_time_formats_match(written: str) -> None:
    assert check("Meet at 3pm.", f"Meet at {written}.") == []


@pytest.mark.parametrize(("before", "after"), [("3pm", "3am"), ("15:00", "15:30"), ("3pm", "16h")])
def test_different_times_are_flagged(before: str, after: str) -> None:
    assert strs(check(f"Call at {before}", f"Call at {after}")) == [f"{before} -> {after}"]


def test_bare_clock_time_may_be_afternoon() -> None:
    assert check("Treffen um 3:00", "Meeting at 3pm") == []
    assert strs(check("Meeting at 03:00", "Meeting at 3pm")) == ["03:00 -> 3pm"]


@pytest.mark.parametrize(
    ("original", "result", "expected"),
    [
        ("Docs: https://example.org/guide.", "Docs are online.", "dropped: https://example.org/guide"),
        ("(see https://example.org/a_(b))", "see it", "dropped: https://example.org/a_(b)"),
        ("Write to ops@example.com today.", "Write to us today.", "dropped: ops@example.com"),
    ],
)
def test_dropped_url_and_email_are_flagged(original: str, result: str, expected: str) -> None:
    assert strs(check(original, result)) == [expected]


def test_email_is_case_insensitive_and_url_exact() -> None:
    assert check("Mail Bob@Example.COM", "mail bob@example.com") == []
    assert strs(check("https://x.org/A", "https://x.org/a")) == ["https://x.org/A -> https://x.org/a"]


def test_changed_amount() -> None:
    flags = check("The budget is $1,200.", "The budget is $1,300.")
    assert flags == [Flag("amount", "$1,200", "$1,300")]
    assert strs(flags) == ["$1,200 -> $1,300"]


@pytest.mark.parametrize(
    "translated",
    [
        "Der Preis beträgt 1.200,50 €.",
        "Le prix est de 1 200,50 €.",
        "Le prix est de 1\u202f200,50\u00a0€.",
        "Der Preis beträgt 1200,50 EUR.",
        "El precio es de 1.200,50 euros.",
    ],
)
def test_translated_amount_with_switched_separators_matches(translated: str) -> None:
    assert check("The price is €1,200.50.", translated) == []


def test_amount_currency_matters() -> None:
    assert check("$5", "USD 5") == []
    assert strs(check("It costs $5.", "Es kostet 5 €.")) == ["$5 -> 5 €"]


@pytest.mark.parametrize(
    ("before", "after"), [("1,200", "1.200"), ("1.200", "1,200"), ("1,5", "1.5")]
)
def test_ambiguous_separators_match_either_reading(before: str, after: str) -> None:
    assert check(f"We sold {before} units", f"Wir verkauften {after} Stück") == []


@pytest.mark.parametrize(
    "written", ["20%", "20 percent", "20 per cent", "20 Prozent", "20 pour cent"]
)
def test_percent_formats_match(written: str) -> None:
    assert check("A 20 % discount", f"A {written} discount") == []


def test_changed_percent_is_flagged() -> None:
    assert strs(check("A 20% discount", "A 25% discount")) == ["20% -> 25%"]


@pytest.mark.parametrize(
    "written",
    ["1 May 2024", "1. Mai 2024", "2024-05-01", "1er mai 2024", "1 de mayo de 2024",
     "1º de maio de 2024", "1 mei 2024", "05/01/2024", "01.05.2024", "the 1st of May, 2024"],
)
def test_reformatted_date_matches(written: str) -> None:
    assert check("Due May 1, 2024.", f"Due {written}.") == []


@pytest.mark.parametrize(
    ("before", "after"),
    [("May 1, 2024", "May 2, 2024"), ("May 1, 2024", "1 June 2024"), ("May 1st", "May 1, 2024")],
)
def test_changed_date_is_flagged(before: str, after: str) -> None:
    assert strs(check(f"Due {before}.", f"Due {after}.")) == [f"{before} -> {after}"]


def test_lowercase_may_is_not_a_month() -> None:
    assert check("Option 1 may work.", "Option 1 might work.") == []


ORIGINAL = "On May 1, 2024 at 3pm we sold 1,200 units for $5 each (see https://x.org/r)."


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("We sold 1,200 units.", []),
        ("On May 1 sales happened.", ["May 1, 2024 -> May 1"]),
        ("We sold 1,300 units.", ["1,200 -> 1,300"]),
        ("We sold 1,200 units at 4pm.", ["3pm -> 4pm"]),
        ("We sold 1,200 units, 1,200 in total.", []),
        ("We sold 1,200 units to 7 buyers.", ["added: 7"]),
    ],
)
def test_summarize_allows_dropping_but_not_changing(summary: str, expected: list[str]) -> None:
    assert strs(check(ORIGINAL, summary, must_keep_all=False)) == expected


def test_keep_all_flags_what_summarize_allows() -> None:
    flags = strs(check(ORIGINAL, "We sold 1,200 units.", must_keep_all=True))
    assert flags == [
        "dropped: May 1, 2024", "dropped: 3pm", "dropped: $5", "dropped: https://x.org/r"]


def test_invented_value_in_summary_is_added() -> None:
    assert strs(check("We sold units.", "We sold 42 units.", must_keep_all=False)) == ["added: 42"]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("See https://x.org/page/42 for 3 items.", []),
        ("See the page for 3 items.", ["dropped: https://x.org/page/42"]),
        ("See https://x.org/page/43 for 3 items.",
         ["https://x.org/page/42 -> https://x.org/page/43"]),
        ("See https://x.org/page/42 for 42 items.", ["3 -> 42"]),
    ],
)
def test_numbers_inside_urls_are_not_counted_again(result: str, expected: list[str]) -> None:
    assert strs(check("See https://x.org/page/42 for 3 items.", result)) == expected


@pytest.mark.parametrize(
    ("original", "result", "expected"),
    [
        ("We have apples.", "We have 42 apples.", ["added: 42"]),
        ("Buy 3 apples.", "Buy 3 apples and 3 pears.", ["added: 3"]),
        ("Buy 3 apples.", "Buy 4 apples and 5 pears.", ["3 -> 4", "added: 5"]),
        ("Buy 3 apples and 5 pears.", "Buy pears.", ["dropped: 3", "dropped: 5"]),
    ],
)
def test_keep_all_flags_invented_and_dropped_numbers(
    original: str, result: str, expected: list[str]
) -> None:
    assert strs(check(original, result)) == expected


def test_several_changes_pair_in_order_of_appearance() -> None:
    flags = strs(check("Open 9am, close 5pm.", "Open 8am, close 6pm."))
    assert flags == ["9am -> 8am", "5pm -> 6pm"]


@pytest.mark.parametrize(
    ("original", "result", "expected"),
    [
        ("Install v1.2.3 now.", "Install v1.2.3 now.", []),
        ("Install v1.2.3 now.", "Install v1.2.4 now.", ["v1.2.3 -> v1.2.4"]),
        ("Call +1 (555) 123-4567.", "Call +1 555 123 4567.", []),
        ("Call 555-123-4567.", "Call 555-123-4568.", ["555-123-4567 -> 555-123-4568"]),
    ],
)
def test_versions_and_phones_are_kept_verbatim(
    original: str, result: str, expected: list[str]
) -> None:
    assert strs(check(original, result)) == expected


def test_flag_str_formats() -> None:
    assert str(Flag("url", "https://x.org", "")) == "dropped: https://x.org"
    assert str(Flag("number", "", "42")) == "added: 42"
    assert str(Flag("time", "3pm", "10am")) == "3pm -> 10am"
