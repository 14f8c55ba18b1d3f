"""The catalog: every pin well-formed, each entry's runtimes, Qwen3 without thinking."""

from __future__ import annotations

import re

import pytest

from trayassist import models
from trayassist.cli import main
from trayassist.prompting import FORMATS, build_prompt


@pytest.mark.parametrize("entry", list(models.CATALOG.values()), ids=list(models.CATALOG))
def test_every_entry_is_pinned(entry: models.CatalogModel) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    assert entry.size > 50_000_000 and entry.license
    assert entry.chat_format in FORMATS
    assert entry.engines and set(entry.engines) <= {"llama-cpp", "gpt4all"}
    if entry.url is not None:  # a revision, never a branch that can move
        assert re.fullmatch(r"https://huggingface\.co/[^/]+/[^/]+/resolve/[0-9a-f]{40}/"
                            + re.escape(entry.file), entry.url)


def test_newer_architectures_are_marked_llama_cpp_only() -> None:
    for name in ("qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "gemma-3-1b-it", "gemma-3-4b-it",
                 "phi-4-mini-instruct"):
        assert models.CATALOG[name].engines == ("llama-cpp",)
    assert "gpt4all" in models.CATALOG[models.EMBEDDED].engines


def test_gpt4all_refuses_a_model_it_cannot_run_with_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "rewrite", "--engine", "gpt4all", "--model", "qwen3-4b",
                 "--text", "Some text."])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "qwen3-4b runs on llama-cpp only" in err and "gpt4all 2.8.2" in err


def test_qwen3_prompts_turn_thinking_off() -> None:
    fmt = FORMATS[models.CATALOG["qwen3-1.7b"].chat_format]
    prompt = build_prompt(fmt, "Fix it.", "teh text")
    tail = "".join(s.text for s in prompt.tail)
    # What Qwen3's template renders with enable_thinking=false: an empty think block.
    assert tail.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert "/no_think" not in "".join(s.text for s in prompt.segments())


def test_models_list_shows_which_engines_run_each(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    qwen = next(ln for ln in lines if ln.startswith("qwen3-4b "))
    assert " llama-cpp " in qwen and "gpt4all" not in qwen
    assert "llama-cpp,gpt4all" in next(ln for ln in lines if ln.startswith("smollm2-135m"))


def test_models_list_columns_line_up_whatever_the_longest_cell(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.split("\n\n")[0].splitlines()
    header, rows = lines[0], lines[1:]
    at = {name: header.index(name) for name in ("FORMAT", "INSTALLED", "ENGINES", "LICENSE")}
    for row in rows:
        entry = models.CATALOG[row.split()[0]]
        assert row[at["FORMAT"]:].startswith(entry.chat_format + " "), row
        assert row[at["INSTALLED"]:].split()[0] in ("yes", "no"), row
        assert row[at["ENGINES"]:].startswith(",".join(entry.engines) + " "), row
        assert row[at["LICENSE"]:] == entry.license, row
