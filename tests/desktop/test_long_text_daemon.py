"""A long selection through the real daemon on X11: worked in pieces, pasted back with
every blank line and indentation where it was (the scripted engine upper-cases each piece,
so any piece lost, doubled or misplaced shows)."""

from __future__ import annotations

import pytest
from xapp import XAppClient, xdotool

from trayassist.longtext import letter

pytestmark = pytest.mark.desktop

REWRITE = "ctrl+alt+shift+e"



def test_a_ten_paragraph_selection_comes_back_in_place(
        xserver, daemons, target_window: XAppClient) -> None:  # type: ignore[no-untyped-def]
    paragraphs = letter(10).strip().split("\n\n")
    text = paragraphs[0] + "\n\n    " + "\n \n\n".join(paragraphs[1:]) + "  \n\nBest,\nAl"
    daemon = daemons.start(xserver.env, scripted={"reply": "upper", "token_delay_s": 0.001},
                           config='delivery = "paste"\n')
    target_window.set_text(text)
    target_window.select_all()
    xdotool(xserver.env, "key", REWRITE)
    status = daemon.wait_jobs(1, timeout=120)
    assert status["jobs"]["succeeded"] == 1, daemon.output()
    assert target_window.text() == text.upper()
    assert text not in daemon.output()
