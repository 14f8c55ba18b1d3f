"""Tests for trayassist.download against a real HTTP server on 127.0.0.1.

The server supports Range requests and can be told to drop the connection after N body
bytes (cleanly or with a reset), to ignore Range, or to serve different bytes. It records
every request before answering it, so assertions never race the handler thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import socket
import struct
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from trayassist import download
from trayassist.download import ChecksumMismatch, DownloadError, download_verified, sha256_file

MiB = 1024 * 1024
TIMEOUT = 10.0


@dataclass
class Seen:
    range: str | None
    status: int
    body_bytes: int  # how many body bytes the server sent (or will send) for this request


@dataclass
class State:
    data: bytes
    ignore_range: bool = False
    drop_after: int | None = None  # one-shot: cut the next response after this many bytes
    drop_mode: str = "fin"  # "fin": clean close; "rst": connection reset
    seen: list[Seen] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        st = self.server.state
        rng = self.headers.get("Range")
        if self.path.split("?")[0] != "/model.bin":
            st.seen.append(Seen(rng, 404, 0))
            self.send_error(404)
            return
        data, start, status = st.data, 0, 200
        if rng and not st.ignore_range:
            match = re.fullmatch(r"bytes=(\d+)-", rng)
            assert match, rng
            start = int(match.group(1))
            if start >= len(data):
                st.seen.append(Seen(rng, 416, 0))
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        body = data[start:]
        limit, st.drop_after = st.drop_after, None
        to_send = body if limit is None else body[:limit]
        st.seen.append(Seen(rng, status, len(to_send)))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        try:
            for i in range(0, len(to_send), 64 * 1024):
                self.wfile.write(to_send[i : i + 64 * 1024])
            self.wfile.flush()
        except OSError:  # the client went away (e.g. the KeyboardInterrupt test)
            self.close_connection = True
            return
        if limit is not None:
            self.close_connection = True
            if st.drop_mode == "rst":  # linger 0: close() sends RST instead of FIN
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    state: State


@dataclass
class Served:
    url: str
    state: State

    @property
    def data(self) -> bytes:
        return self.state.data

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.state.data).hexdigest()


@pytest.fixture
def served() -> Iterator[Served]:
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.state = State(data=os.urandom(3 * MiB + 12345))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{httpd.server_address[1]}/model.bin", httpd.state)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=TIMEOUT)


def pull(served: Served, dest: Path, **kw: Any) -> Path:
    kw.setdefault("sha256", served.sha)
    return download_verified(served.url, dest, progress=False, timeout=TIMEOUT, **kw)


def part_of(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def test_full_download_verifies_and_leaves_no_part(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "models" / "m.gguf"  # the folder does not exist yet
    assert pull(served, dest, size=len(served.data)) == dest
    assert dest.read_bytes() == served.data
    assert not part_of(dest).exists()
    assert served.state.seen == [Seen(None, 200, len(served.data))]


def test_progress_bar_path_runs(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    download_verified(served.url, dest, sha256=served.sha, progress=True, timeout=TIMEOUT)
    assert dest.read_bytes() == served.data


def test_wrong_sha_raises_and_removes_everything(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    with pytest.raises(ChecksumMismatch, match=r"m\.gguf: SHA-256 mismatch: expected 000000"):
        pull(served, dest, sha256="0" * 64)
    assert not dest.exists()
    assert not part_of(dest).exists()


def test_wrong_size_raises_checksum_mismatch(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    with pytest.raises(ChecksumMismatch, match="size mismatch"):
        pull(served, dest, size=len(served.data) + 1)
    assert not dest.exists()
    assert not part_of(dest).exists()


def test_interrupted_download_keeps_part_and_resumes(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    served.state.drop_after = 2 * MiB + 7  # server closes cleanly mid-body
    with pytest.raises(DownloadError, match="run the same command again to resume") as info:
        pull(served, dest, size=len(served.data))
    assert not isinstance(info.value, ChecksumMismatch)
    assert not dest.exists()
    assert part_of(dest).read_bytes() == served.data[: 2 * MiB + 7]

    pull(served, dest, size=len(served.data))
    assert dest.read_bytes() == served.data
    assert not part_of(dest).exists()
    first, second = served.state.seen
    assert first.range is None
    assert second == Seen(f"bytes={2 * MiB + 7}-", 206, len(served.data) - 2 * MiB - 7)
    assert second.body_bytes < first.body_bytes < len(served.data)


def test_connection_reset_keeps_part_and_resumes(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    served.state.drop_after, served.state.drop_mode = 2 * MiB + 7, "rst"
    with pytest.raises(DownloadError, match="run the same command again to resume") as info:
        pull(served, dest, size=len(served.data))
    assert not isinstance(info.value, ChecksumMismatch)
    assert not dest.exists()
    # A reset may discard bytes the client had not read yet, so any prefix is valid.
    have = part_of(dest).stat().st_size
    assert part_of(dest).read_bytes() == served.data[:have]

    pull(served, dest, size=len(served.data))
    assert dest.read_bytes() == served.data
    assert served.state.seen[-1] == Seen(f"bytes={have}-" if have else None,
                                         206 if have else 200, len(served.data) - have)


def test_server_ignoring_range_restarts_from_zero(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    part_of(dest).write_bytes(b"garbage" * 1000)  # would corrupt the result if appended to
    served.state.ignore_range = True
    pull(served, dest)
    assert dest.read_bytes() == served.data
    assert served.state.seen == [Seen("bytes=7000-", 200, len(served.data))]


def test_existing_verified_dest_makes_no_request(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    dest.write_bytes(served.data)
    assert pull(served, dest, size=len(served.data)) == dest
    assert served.state.seen == []


def test_existing_corrupt_dest_is_replaced(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    dest.write_bytes(os.urandom(len(served.data)))
    pull(served, dest, size=len(served.data))
    assert dest.read_bytes() == served.data
    assert served.state.seen == [Seen(None, 200, len(served.data))]


def test_complete_part_with_known_size_is_verified_without_request(
    served: Served, tmp_path: Path
) -> None:
    dest = tmp_path / "m.gguf"
    part_of(dest).write_bytes(served.data)
    pull(served, dest, size=len(served.data))
    assert dest.read_bytes() == served.data
    assert served.state.seen == []


def test_complete_part_gets_416_and_is_verified(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    part_of(dest).write_bytes(served.data)
    pull(served, dest)  # no size: the server's 416 says nothing is left
    assert dest.read_bytes() == served.data
    assert [s.status for s in served.state.seen] == [416]


def test_corrupt_full_part_gets_416_and_restarts(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    part_of(dest).write_bytes(os.urandom(len(served.data)))
    pull(served, dest)
    assert dest.read_bytes() == served.data
    assert served.state.seen == [
        Seen(f"bytes={len(served.data)}-", 416, 0),
        Seen(None, 200, len(served.data)),
    ]


def test_part_from_different_bytes_is_rejected_then_redownloaded(
    served: Served, tmp_path: Path
) -> None:
    dest = tmp_path / "m.gguf"
    served.state.drop_after = MiB
    with pytest.raises(DownloadError):
        pull(served, dest)
    served.state.data = os.urandom(len(served.data))  # the file changed upstream
    with pytest.raises(ChecksumMismatch, match="the partial file was removed"):
        pull(served, dest)
    assert not part_of(dest).exists()
    assert not dest.exists()
    pull(served, dest)
    assert dest.read_bytes() == served.data


def test_keyboard_interrupt_keeps_part(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"

    def opener(request: urllib.request.Request, timeout: float) -> Any:
        resp = urllib.request.urlopen(request, timeout=timeout)
        real_read, calls = resp.read, []

        def read(n: int = -1) -> bytes:
            calls.append(n)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real_read(n)

        resp.read = read
        return resp

    with pytest.raises(KeyboardInterrupt):
        pull(served, dest, opener=opener)
    assert not dest.exists()
    assert part_of(dest).read_bytes() == served.data[: download.CHUNK]
    pull(served, dest)
    assert dest.read_bytes() == served.data
    assert served.state.seen[-1].range == f"bytes={download.CHUNK}-"


def test_not_enough_disk_space_fails_before_any_request(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_usage = shutil._ntuple_diskusage(total=10**12, used=10**12 - 1000, free=1000)
    monkeypatch.setattr(download.shutil, "disk_usage", lambda _path: fake_usage)
    with pytest.raises(DownloadError, match="not enough disk space"):
        pull(served, tmp_path / "m.gguf", size=len(served.data))
    assert served.state.seen == []


def test_http_error_is_one_line_download_error(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        download_verified(served.url.replace("model.bin", "nope.bin"), dest,
                          sha256=served.sha, progress=False, timeout=TIMEOUT)
    assert "\n" not in str(info.value)
    assert not dest.exists()


def test_unreachable_server_is_download_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="could not connect"):
        download_verified(f"http://127.0.0.1:{port}/m", tmp_path / "m", sha256="0" * 64,
                          progress=False, timeout=TIMEOUT)


def test_concurrent_pulls_of_same_model_download_once(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pull(served, dest)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert dest.read_bytes() == served.data
    assert len(served.state.seen) == 1


def test_logs_never_contain_credentials_or_query(
    served: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trayassist.download")
    download_verified(served.url + "?token=SECRET123", tmp_path / "m.gguf",
                      sha256=served.sha, progress=False, timeout=TIMEOUT)
    assert "SECRET123" not in caplog.text
    assert "127.0.0.1" in caplog.text
    assert (download.safe_url("https://user:pw@example.com:8443/a/b.gguf?sig=x#frag")
            == "https://example.com:8443/a/b.gguf")


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    blob = os.urandom(MiB + 3)
    (tmp_path / "f").write_bytes(blob)
    assert sha256_file(tmp_path / "f", chunk_size=4096) == hashlib.sha256(blob).hexdigest()


def test_rejects_malformed_sha(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        download_verified("http://127.0.0.1:9/x", tmp_path / "x", sha256="abc")
