"""The Hugging Face token: kept in the keyring, sent to huggingface.co only, never on a
redirect."""

from __future__ import annotations

import urllib.request
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from trayassist import models
from trayassist.cli import main


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username))


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield backend  # type: ignore[misc]
    keyring.set_keyring(previous)


def test_token_set_reads_stdin_and_clear_removes_it(
        memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("hf_secret123\n"))
    assert main(["models", "token", "set"]) == 0
    assert models.hf_token() == "hf_secret123"
    assert main(["models", "token", "clear"]) == 0
    assert models.hf_token() is None


def sent_headers(url: str, token: str | None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> None:
        seen.update(request.unredirected_hdrs)
        seen["redirected"] = dict(request.headers)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    models.authorizing_opener(token)(urllib.request.Request(url), 5.0)
    return seen


def test_token_goes_to_huggingface_only_and_not_on_redirects(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hf = sent_headers("https://huggingface.co/org/repo/resolve/abc/m.gguf", "tok", monkeypatch)
    assert hf["Authorization"] == "Bearer tok"
    assert "Authorization" not in hf["redirected"]  # headers copied onto a redirect
    other = sent_headers("https://example.org/m.gguf", "tok", monkeypatch)
    assert "Authorization" not in other
