"""Models other apps keep: Ollama's store, LM Studio's and GPT4All's folders and the
Hugging Face cache, laid out in a temporary HOME from the embedded GGUF (linked, so
every source holds the same real model file)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

if sys.platform == "win32":
    pytest.skip("lays out the Linux/macOS folders of Ollama, LM Studio and GPT4All and the "
                "HF cache's symlinks (Windows needs a privilege for those)",
                allow_module_level=True)

from trayassist import discovery, models  # noqa: E402
from trayassist.cli import main  # noqa: E402

DIGEST = "sha256:" + "ab" * 32


def link(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():  # content-addressed stores hold one blob for every name
        return dest
    try:
        os.link(src, dest)
    except OSError:  # another filesystem: a symlink, as the HF cache uses anyway
        dest.symlink_to(src)
    return dest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
                "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    return home


def ollama_store(root: Path, gguf: Path, name: str = "smollm2", tag: str = "135m",
                 namespace: str = "library") -> Path:
    blob = link(gguf, root / "blobs" / DIGEST.replace(":", "-"))
    (root / "blobs" / ("sha256-" + "cd" * 32)).write_text('{"stop": ["<|im_end|>"]}')
    manifest = root / "manifests" / "registry.ollama.ai" / namespace / name / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.params", "digest": "sha256:" + "cd" * 32},
        {"mediaType": "application/vnd.ollama.image.model", "digest": DIGEST,
         "size": gguf.stat().st_size}]}))
    return blob


def all_sources(home: Path, gguf: Path) -> dict[str, Path]:
    hub = home / ".cache" / "huggingface" / "hub" / "models--HuggingFaceTB--SmolLM2-GGUF"
    rev = "0123456789abcdef0123456789abcdef01234567"
    (hub / "refs").mkdir(parents=True)
    (hub / "refs" / "main").write_text(rev)
    blob = link(gguf, hub / "blobs" / ("ef" * 32))
    snap = hub / "snapshots" / rev / "smollm2.gguf"
    snap.parent.mkdir(parents=True)
    snap.symlink_to(Path("..") / ".." / "blobs" / blob.name)
    lms = home / ".lmstudio" / "models" / "lmstudio-community" / "SmolLM2-GGUF"
    g4a = home / ".local" / "share" / "nomic.ai" / "GPT4All"
    paths = {
        "ollama:smollm2:135m": ollama_store(home / ".ollama" / "models", gguf),
        "lmstudio:lmstudio-community/SmolLM2-GGUF/SmolLM2-135M.gguf":
            link(gguf, lms / "SmolLM2-135M.gguf"),
        "gpt4all:SmolLM2-135M.gguf": link(gguf, g4a / "SmolLM2-135M.gguf"),
        "hf:HuggingFaceTB/SmolLM2-GGUF/smollm2.gguf": snap,
    }
    # Not models: a vision projector, a partial download and a file that is not GGUF.
    link(gguf, lms / "mmproj-SmolLM2.gguf")
    link(gguf, g4a / "incomplete-Other.gguf")
    (g4a / "notes.gguf").write_text("not a model")
    return paths


def fingerprint(paths: list[Path]) -> list[tuple[int, int, str]]:
    out = []
    for path in paths:
        st = path.stat()
        with path.open("rb") as fh:
            head = hashlib.sha256(fh.read(1 << 20)).hexdigest()
        out.append((st.st_size, st.st_mtime_ns, head))
    return out


def test_every_source_is_found_with_name_and_size(home: Path, model_path: Path) -> None:
    expected = all_sources(home, model_path)
    found = {m.spec: m for m in discovery.find_all()}
    assert set(found) == set(expected)
    for spec, path in expected.items():
        assert found[spec].path == path
        assert found[spec].size == model_path.stat().st_size


def test_models_list_shows_them_and_use_loads_the_file_in_place(
        home: Path, model_path: Path, capsys: pytest.CaptureFixture[str],
        trayassist_home: Path) -> None:
    expected = all_sources(home, model_path)
    before = fingerprint(list(expected.values()))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    for spec in expected:
        line = next(ln for ln in out.splitlines() if ln.endswith(spec))
        assert line.split()[0] == spec.split(":")[0] and "98MB" in line
    assert "not by SHA-256" in out
    assert main(["models", "use", "ollama:smollm2:135m"]) == 0
    assert 'model = "ollama:smollm2:135m"' in (trayassist_home / "config.toml").read_text()
    resolved = models.resolve("ollama:smollm2:135m")
    assert resolved.path == expected["ollama:smollm2:135m"]  # the blob itself, no copy
    assert resolved.chat_format.end_of_turn == "<|im_end|>"  # from the GGUF's template
    assert main(["models", "list"]) == 0
    active = next(ln for ln in capsys.readouterr().out.splitlines()
                  if ln.endswith("ollama:smollm2:135m"))
    assert "*" in active
    assert fingerprint(list(expected.values())) == before  # read, never modified


@pytest.mark.engine
def test_run_uses_an_ollama_blob_in_process(home: Path, model_path: Path,
                                            trayassist_home: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    expected = all_sources(home, model_path)
    before = fingerprint(list(expected.values()))
    assert main(["models", "use", "ollama:smollm2:135m"]) == 0
    assert main(["run", "proofread", "--engine", "llama-cpp",
                 "--text", "teh cat sat on teh mat."]) == 0
    assert capsys.readouterr().out.strip()
    assert fingerprint(list(expected.values())) == before


def test_ollama_names_follow_ollama(home: Path, model_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = home / "elsewhere"
    ollama_store(store, model_path, name="qwen3", tag="latest")
    ollama_store(store, model_path, name="tiny", tag="q4", namespace="someone")
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    specs = {m.spec for m in discovery.find_all(("ollama",))}
    assert specs == {"ollama:qwen3:latest", "ollama:someone/tiny:q4"}
    found = discovery.find("ollama:qwen3")  # no tag means :latest, as in `ollama run`
    assert found is not None and found.spec == "ollama:qwen3:latest"


def test_env_and_settings_folders_are_honoured(home: Path, model_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    hub = home / "hf-elsewhere"
    snap = hub / "models--org--repo" / "snapshots" / "rev1" / "m.gguf"
    link(model_path, snap)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    g4a = home / "g4a-models"
    link(model_path, g4a / "Other.gguf")
    ini = home / ".config" / "nomic.ai" / "GPT4All.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(f"[General]\nmodelPath={g4a}\n")
    specs = {m.spec for m in discovery.find_all(("hf", "gpt4all"))}
    assert specs == {"hf:org/repo/m.gguf", "gpt4all:Other.gguf"}


def test_a_missing_model_names_where_it_looked(home: Path) -> None:
    with pytest.raises(models.ModelError, match="not among the models of Ollama"):
        models.resolve("ollama:nothing:here")
    assert main(["models", "use", "lmstudio:a/b/c.gguf"]) == 5


def test_the_config_keeps_a_source_spec_as_written(trayassist_home: Path) -> None:
    from trayassist.config import load_config

    trayassist_home.mkdir(parents=True)
    (trayassist_home / "config.toml").write_text(
        'model = "lmstudio:lmstudio-community/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf"\n')
    assert load_config().model == "lmstudio:lmstudio-community/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf"
