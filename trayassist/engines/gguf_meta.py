"""Read GGUF metadata without loading a model, and patch one string value in a copy.

Layout (GGUF v2/v3, little-endian): magic b"GGUF", version u32, tensor_count u64,
kv_count u64, then kv_count entries: key (u64 length + UTF-8 bytes), value type u32,
value. A string is u64 length + bytes; an array is element type u32 + count u64 +
elements. Tensor infos and data follow; we never read them.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Older runtimes reject some newer pre-tokenizer names although they implement the same
# split. gpt4all 2.8.2's llama.cpp does not know "smollm" (SmolLM2), but upstream
# llama.cpp tokenizes "smollm" and "refact" with the same two regexes (\p{N}, then the
# GPT-2 pattern). The only other difference, tokenizer_clean_spaces, is used by
# llama_detokenize, which gpt4all does not call (it converts token by token). Only
# same-length aliases are allowed so a patch never shifts any offset in the file.
PRE_TOKENIZER_ALIASES = {"smollm": "refact"}

_MAGIC = b"GGUF"
_STRING, _ARRAY = 8, 9
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_MAX_ARRAY = 64  # arrays longer than this (vocabularies, merges) are skipped, not read


class GgufError(ValueError):
    pass


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise GgufError("truncated GGUF header")
    return data


def _u32(f: BinaryIO) -> int:
    return int(struct.unpack("<I", _read(f, 4))[0])


def _u64(f: BinaryIO) -> int:
    return int(struct.unpack("<Q", _read(f, 8))[0])


def _string(f: BinaryIO) -> str:
    return _read(f, _u64(f)).decode("utf-8", errors="replace")


def _value(f: BinaryIO, vtype: int, want: bool) -> object:
    """Read (want) or skip one value; skipped values come back as None."""
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        value = struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]
        return value if want else None
    if vtype == _STRING:
        n = _u64(f)
        if want:
            return _read(f, n).decode("utf-8", errors="replace")
        f.seek(n, os.SEEK_CUR)
        return None
    if vtype == _ARRAY:
        etype, count = _u32(f), _u64(f)
        if want and count <= _MAX_ARRAY:
            return [_value(f, etype, True) for _ in range(count)]
        if etype in _SCALARS:  # fixed size: one seek over the whole array
            f.seek(count * struct.calcsize(_SCALARS[etype]), os.SEEK_CUR)
        else:
            for _ in range(count):
                _value(f, etype, False)
        return None
    raise GgufError(f"unknown GGUF value type {vtype}")


def _entries(f: BinaryIO, keys: set[str] | None) -> Iterator[tuple[str, int, object, int]]:
    """Yield (key, type, value or None, offset of the value) for every metadata entry."""
    if _read(f, 4) != _MAGIC:
        raise GgufError("not a GGUF file")
    version = _u32(f)
    if version not in (2, 3):
        raise GgufError(f"unsupported GGUF version {version} (or big-endian file)")
    _u64(f)  # tensor count
    for _ in range(_u64(f)):
        key = _string(f)
        vtype = _u32(f)
        offset = f.tell()
        yield key, vtype, _value(f, vtype, keys is None or key in keys), offset


def read_metadata(path: Path, keys: set[str] | None = None) -> dict[str, object]:
    """Metadata values by key (all, or only `keys`); arrays over 64 items are left out.

    Reads only the header, seeking past large arrays, so it is cheap even for big models.
    `{arch}.context_length` needs `general.architecture` first: read that, then ask.
    """
    out: dict[str, object] = {}
    with open(path, "rb") as f:
        for key, _vtype, value, _offset in _entries(f, keys):
            if value is not None:
                out[key] = value
            if keys is not None and keys <= out.keys():
                break
    return out


def _string_location(path: Path, key: str) -> tuple[int, str] | None:
    """(offset of the string's bytes, value) for a string-valued key, else None."""
    with open(path, "rb") as f:
        for k, vtype, value, offset in _entries(f, {key}):
            if k == key:
                return (offset + 8, str(value)) if vtype == _STRING else None
    return None


def compatible_model(path: Path, compat_dir: Path) -> Path:
    """`path` itself, or a cached copy whose pre-tokenizer name older runtimes accept.

    The copy is keyed by the source's resolved path, size and mtime (hashing gigabytes
    on every start would be slow), written to a temp file and renamed into place, so a
    crash never leaves a half-written model. Stale copies of the same model are removed.
    """
    loc = _string_location(path, "tokenizer.ggml.pre")
    if loc is None or loc[1] not in PRE_TOKENIZER_ALIASES:
        return path
    offset, old = loc
    new = PRE_TOKENIZER_ALIASES[old].encode()
    assert len(new) == len(old.encode()), "aliases must keep the length"
    st = path.stat()
    ident = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()
    target = compat_dir / f"{hashlib.sha256(ident).hexdigest()[:16]}-{path.stem}.gguf"
    if target.exists() and target.stat().st_size == st.st_size:
        return target
    compat_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=compat_dir, prefix=".tmp-", suffix=".gguf")
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 22):
                dst.write(chunk)
            dst.seek(offset)
            dst.write(new)
            dst.flush()
            os.fsync(dst.fileno())
        check = _string_location(Path(tmp_name), "tokenizer.ggml.pre")
        if check is None or check[1] != new.decode():
            raise GgufError("patched copy does not read back")
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    for stale in compat_dir.glob(f"*-{path.stem}.gguf"):
        # Same length: a 16-hex key for this stem, not some "x-<stem>" of another model.
        if stale != target and len(stale.name) == len(target.name):
            stale.unlink(missing_ok=True)
    return target


# -- the context a model gets ----------------------------------------------------------------

DEFAULT_CONTEXT = 4096  # when the file does not say
MAX_CONTEXT = 8192  # beyond this, prompts this slow on a CPU are better worked in pieces
MIN_CONTEXT = 2048
KV_MEMORY_SHARE = 0.125  # the KV cache may take at most this share of available memory


@dataclass(frozen=True)
class ContextInfo:
    trained: int | None  # {arch}.context_length: what the model was trained for
    kv_bytes_per_token: int | None  # f16 K and V over all layers


def context_info(path: Path) -> ContextInfo:
    """The trained context and the KV cache's cost per token, from the GGUF header."""
    arch = read_metadata(path, {"general.architecture"}).get("general.architecture")
    if not isinstance(arch, str):
        return ContextInfo(None, None)
    keys = {f"{arch}.{k}" for k in ("context_length", "block_count", "embedding_length",
                                     "attention.head_count", "attention.head_count_kv",
                                     "attention.key_length", "attention.value_length")}
    meta = {k.removeprefix(f"{arch}."): v for k, v in read_metadata(path, keys).items()
            if isinstance(v, int)}
    trained = meta.get("context_length")
    kv = None
    layers, heads = meta.get("block_count"), meta.get("attention.head_count")
    embd = meta.get("embedding_length")
    if layers and heads and embd:
        kv_heads = meta.get("attention.head_count_kv", heads)
        k_len = meta.get("attention.key_length", embd // heads)
        v_len = meta.get("attention.value_length", embd // heads)
        kv = layers * kv_heads * (k_len + v_len) * 2
    return ContextInfo(trained, kv)


def _mem_available() -> int | None:
    """Bytes of memory available now (Linux), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def choose_context(path: Path, *, cap: int = MAX_CONTEXT,
                   available: int | None = None) -> int:
    """The model's trained context, at most `cap`, and small enough that its KV cache
    takes at most KV_MEMORY_SHARE of the memory available (a multiple of 256)."""
    try:
        info = context_info(path)
    except (OSError, GgufError):
        return DEFAULT_CONTEXT
    n = min(info.trained or DEFAULT_CONTEXT, cap)
    available = available if available is not None else _mem_available()
    if available and info.kv_bytes_per_token:
        n = min(n, int(available * KV_MEMORY_SHARE) // info.kv_bytes_per_token)
    return max(min(MIN_CONTEXT, info.trained or MIN_CONTEXT), n // 256 * 256)
