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
