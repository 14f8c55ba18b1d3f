"""Catalog, verification before first use, pull through the CLI, and `models use`."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from trayassist import models, paths
from trayassist.cli import main

PAYLOAD = b"GGUF" + bytes(range(256)) * 4000  # ~1 MB that starts like a GGUF


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "tiny.gguf").write_bytes(PAYLOAD)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/tiny.gguf"
    httpd.shutdown()


def entry(url: str, sha: str | None = None) -> models.CatalogModel:
    return models.CatalogModel(
        name="tiny-test", file="tiny.gguf", size=len(PAYLOAD),
        sha256=sha or hashlib.sha256(PAYLOAD).hexdigest(), chat_format="chatml",
        license="test", url=url)


def test_pull_through_the_cli_installs_a_verified_file(
        server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(models.CATALOG, "tiny-test", entry(server))
    assert main(["models", "pull", "tiny-test"]) == 0
    dest = paths.models_dir() / "tiny.gguf"
    assert dest.read_bytes() == PAYLOAD
    assert main(["models", "list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("tiny-test"))
    assert " yes " in line
    assert models.resolve("tiny-test").path == dest


def test_pull_with_a_wrong_pin_leaves_nothing(
        server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(models.CATALOG, "tiny-test", entry(server, sha="0" * 64))
    assert main(["models", "pull", "tiny-test"]) == 5
    assert "SHA-256 mismatch" in capsys.readouterr().err
    leftovers = [p for p in paths.models_dir().glob("tiny.gguf*") if not p.name.endswith(".lock")]
    assert leftovers == []


def test_a_model_changed_on_disk_is_refused(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(models.CATALOG, "tiny-test", entry(server))
    dest = paths.models_dir() / "tiny.gguf"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(PAYLOAD[:-1] + b"X")  # same size, one byte flipped
    with pytest.raises(models.ModelError, match="corrupt"):
        models.resolve("tiny-test")


def test_verification_is_remembered_until_the_file_changes(
        server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(models.CATALOG, "tiny-test", entry(server))
    dest = paths.models_dir() / "tiny.gguf"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(PAYLOAD)
    hashed: list[Path] = []
    import trayassist.download as download

    real = download.sha256_file
    monkeypatch.setattr(download, "sha256_file", lambda p, **kw: hashed.append(p) or real(p))
    models.resolve("tiny-test")
    models.resolve("tiny-test")
    assert len(hashed) == 1


def test_the_embedded_model_resolves_verified(model_path: Path) -> None:
    resolved = models.resolve(models.EMBEDDED)
    assert resolved.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert resolved.chat_format.name == "chatml"


def test_a_gguf_path_uses_its_own_template_rendered_in_the_sandbox(model_path: Path) -> None:
    resolved = models.resolve(str(model_path))
    assert resolved.catalog is None
    fmt = resolved.chat_format
    assert fmt.user_open.endswith("<|im_start|>user\n")
    assert fmt.assistant_open.endswith("<|im_start|>assistant\n")
    assert fmt.end_of_turn.startswith("<|im_end|>")


def test_use_replaces_only_the_model_line(tmp_path: Path, model_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('# my settings\nmodel = "old"\nthreads = 2\n\n[actions.x]\n'
                      'instruction = "model = keep me"\n')
    models.set_active(models.EMBEDDED, config)
    assert config.read_text() == (
        '# my settings\nmodel = "smollm2-135m-instruct"\nthreads = 2\n\n[actions.x]\n'
        'instruction = "model = keep me"\n')
