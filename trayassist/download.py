"""Resumable, verified downloads of model files.

A model is a few GB, so a pull must survive Ctrl-C and flaky networks: bytes go to
`<dest>.part` and a later call resumes it with an HTTP Range request. `dest` itself only
ever appears (atomically, via os.replace) once its size and SHA-256 match, so anything
at `dest` can be trusted without re-hashing on every start.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tqdm import tqdm

from trayassist import __version__

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# Errors that mean "the transfer broke", as opposed to "the server said no".
_NET_ERRORS = (OSError, http.client.HTTPException)


class DownloadError(Exception):
    """A download failed; the message is one line meant for the user."""


class ChecksumMismatch(DownloadError):
    """The downloaded bytes are not the expected file (wrong size or SHA-256)."""


class _Restart(Exception):
    """The partial file cannot be resumed and must be downloaded again from zero."""


def sha256_file(path: Path, *, chunk_size: int = CHUNK) -> str:
    """Return the hex SHA-256 of a file, reading it in chunks (models are GBs)."""
    digest = hashlib.sha256()
    _hash_into(digest, path, chunk_size)
    return digest.hexdigest()


def _hash_into(digest: Any, path: Path, chunk_size: int = CHUNK) -> None:
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)


def safe_url(url: str) -> str:
    """The URL without credentials, query or fragment (signed CDN links carry tokens there)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _human(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _problem(actual_size: int, actual_sha: str | None, want_sha: str,
             size: int | None) -> str | None:
    """Describe why a file is not the expected one, or None if it is."""
    if size is not None and actual_size != size:
        return f"size mismatch: expected {size} bytes, got {actual_size}"
    if actual_sha is not None and actual_sha != want_sha:
        return f"SHA-256 mismatch: expected {want_sha[:12]}..., got {actual_sha[:12]}..."
    return None


def download_verified(
    url: str,
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: bool = True,
    timeout: float = 30.0,
    opener: Callable[..., Any] | None = None,
) -> Path:
    """Download url to dest, resumably, verifying SHA-256 before dest appears.

    If dest already exists and verifies it is returned without any request; if it does not
    verify it is removed and downloaded again. `opener(request, timeout=...)` defaults to
    urllib.request.urlopen (an OpenerDirector's .open also fits). Raises ChecksumMismatch
    if the finished file is wrong (the .part is removed), DownloadError for anything else
    (the .part is kept so the same call resumes it). KeyboardInterrupt propagates, also
    keeping the .part.
    """
    dest = Path(dest)
    want = sha256.strip().lower()
    if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(dest.with_name(dest.name + ".lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("waiting for another download of %s to finish", dest.name)
        lock.acquire()
    try:
        return _download_locked(url, dest, want, size, progress, timeout,
                                opener or urllib.request.urlopen)
    finally:
        lock.release()


def _download_locked(url: str, dest: Path, want: str, size: int | None, progress: bool,
                     timeout: float, open_url: Callable[..., Any]) -> Path:
    name = dest.name
    if dest.exists():
        actual = dest.stat().st_size
        problem = _problem(actual, None, want, size) or _problem(
            actual, sha256_file(dest), want, size)
        if problem is None:
            log.info("%s is already downloaded and verified", name)
            return dest
        log.warning("%s: existing file failed verification (%s); downloading it again",
                    name, problem)
        dest.unlink()

    part = dest.with_name(name + ".part")
    log.info("downloading %s from %s", name, safe_url(url))
    restarted = False
    while True:
        try:
            got, fetched = _fetch(url, part, open_url, size, timeout, progress, name)
            problem = _problem(part.stat().st_size, got, want, size)
            if problem and not fetched:
                # The server had nothing past the .part (or it was already full size),
                # yet it is wrong: a stale or corrupt partial file, so start over once.
                raise _Restart(f"the partial file is complete but wrong ({problem})")
            break
        except _Restart as why:
            if restarted:
                raise DownloadError(f"{name}: {why}; giving up") from None
            restarted = True
            log.warning("%s: %s; starting again from zero", name, why)
            part.unlink(missing_ok=True)

    if problem:
        part.unlink(missing_ok=True)
        raise ChecksumMismatch(f"{name}: {problem}; the partial file was removed")
    os.replace(part, dest)  # atomic: dest is either absent or complete and verified
    if os.name == "posix":
        # Persist the rename itself, so a crash cannot resurrect the .part.
        with contextlib.suppress(OSError):
            fd = os.open(dest.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    log.info("%s downloaded and verified", name)
    return dest


def _fetch(url: str, part: Path, open_url: Callable[..., Any], size: int | None,
           timeout: float, progress: bool, name: str) -> tuple[str, bool]:
    """Complete `part` from the server; return (its SHA-256, whether any bytes were fetched)."""
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        raise _Restart("the partial file is larger than the expected size")
    if size is not None:
        free = shutil.disk_usage(part.parent).free
        if free < size - offset:
            raise DownloadError(f"{name}: not enough disk space in {part.parent}: need "
                                f"{_human(size - offset)}, only {_human(free)} free")
    digest = hashlib.sha256()
    if offset:
        log.info("%s: resuming after %d bytes (re-checking them first)", name, offset)
        _hash_into(digest, part)
        if offset == size:
            return digest.hexdigest(), False

    # identity: a compressed body would break byte offsets and the size check.
    headers = {"User-Agent": f"trayassist/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = open_url(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 416 and offset:
            return digest.hexdigest(), False  # nothing past the .part: verify it as is
        raise DownloadError(f"{name}: the server answered HTTP {e.code} {e.reason}") from None
    except _NET_ERRORS as e:
        raise DownloadError(f"{name}: could not connect ({getattr(e, 'reason', e)}); "
                            "check the network and run the same command again") from None

    with resp:
        status = getattr(resp, "status", 200)
        if status == 416 and offset:  # a custom opener may not raise for it
            return digest.hexdigest(), False
        if offset and status == 206:
            content_range = resp.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                raise _Restart(f"the server resumed at the wrong place ({content_range!r})")
        elif offset:
            log.info("%s: the server ignored the resume request; starting from zero", name)
            offset, digest = 0, hashlib.sha256()
        length = resp.headers.get("Content-Length")
        expected = offset + int(length) if length and length.isdigit() else size
        _stream(resp, part, offset, expected, digest, size, progress, name)
    return digest.hexdigest(), True


def _stream(resp: Any, part: Path, offset: int, expected: int | None, digest: Any,
            size: int | None, progress: bool, name: str) -> None:
    """Append the response body to part (truncating it first if offset is 0)."""
    done = offset
    bar = tqdm(total=expected, initial=offset, desc=name, unit="B", unit_scale=True,
               unit_divisor=1024, file=sys.stderr, leave=False,
               disable=not progress or not sys.stderr.isatty())
    try:
        with bar, open(part, "ab" if offset else "wb") as f:
            while block := resp.read(CHUNK):
                f.write(block)
                digest.update(block)
                done += len(block)
                bar.update(len(block))
                if size is not None and done > size:
                    break  # wrong file: stop early, the size check will reject it
            f.flush()
            os.fsync(f.fileno())  # the bytes must be on disk before the rename
    except KeyboardInterrupt:
        log.warning("%s: download interrupted after %s; run the same command again to resume",
                    name, _human(done))
        raise
    except _NET_ERRORS as e:
        raise DownloadError(f"{name}: download interrupted after {_human(done)} ({e}); "
                            "run the same command again to resume") from None
    # http.client returns b"" rather than raising when a connection drops early.
    if expected is not None and done < expected:
        raise DownloadError(f"{name}: download interrupted after {_human(done)} of "
                            f"{_human(expected)}; run the same command again to resume")
