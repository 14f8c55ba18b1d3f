"""The Engine port on an OpenAI-compatible server (Ollama's /v1, LM Studio, llama.cpp's
llama-server, vLLM): chat completions streamed as server-sent events.

- The server applies its own chat template, so the prompt goes as messages
  (openai_messages: the marker ChatFormat, to_messages, ThinkFilter).
- Loopback only by default (openai_server: remote_host_of, the API key). With
  allow_remote, `remote_host` names the host and `bytes_sent_remote` counts the request
  bodies sent there (the privacy ledger reads it).
- One kept httpx client, one connection at a time (limits), so the socket in use is
  known: cancel and the wall-clock deadline shut it down from a watcher thread, which
  ends a blocked read at once, whether the server is still reading the prompt or
  streaming tokens.
- httpx is imported in `load`, never at module import: the default in-process engines
  open no socket, and neither does importing this module.
- A stream that ends without a finish reason or `[DONE]` (the server died) is an error,
  never a short result.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from trayassist.engines.base import (
    Cancelled,
    DeadlineExceeded,
    EngineError,
    EngineInfo,
    GenOptions,
    ModelLoadError,
    PromptTooLong,
)
from trayassist.engines.openai_messages import MESSAGES, ThinkFilter, to_messages
from trayassist.engines.openai_server import remote_host_of, server_token
from trayassist.prompting import ChatFormat, Prompt

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
_WATCH_STEP_S = 0.02


def _shutdown(sock: socket.socket | None) -> None:
    """End the connection now: a read blocked on it in another thread returns at once
    (close() alone would not wake it)."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        if sys.platform == "win32":
            # Windows: shutdown() does not wake a recv() blocked in another thread;
            # closesocket() does (it aborts the pending call).
            with contextlib.suppress(OSError):
                sock.close()


def _error_text(response: Any) -> str:
    """The server's error message from a JSON body, else a short text excerpt."""
    try:
        body = json.loads(response.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        return ""
    except Exception:  # noqa: BLE001 - a failed read leaves only the status code
        return ""
    error = body.get("error", body.get("detail", "")) if isinstance(body, dict) else ""
    if isinstance(error, dict):
        error = error.get("message", "")
    return " ".join(str(error).split())[:200]


class OpenAIEngine:
    """One model on one OpenAI-compatible server. Owner thread as every engine; the
    per-generation watcher thread only shuts the socket down."""

    def __init__(self, base_url: str, model: str, *, allow_remote: bool = False,
                 context_size: int = 4096,
                 token: Callable[[], str | None] = server_token) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.remote_host: str | None = remote_host_of(self.base_url, allow_remote)
        self.bytes_sent_remote = 0  # request bodies sent to remote_host, in bytes
        self._context_size = context_size
        self._token = token
        self._client: Any = None  # httpx.Client, imported lazily
        self._httpx: Any = None
        self._sock: socket.socket | None = None  # the one pooled connection's socket

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(name="openai", model_path=Path(self.model),
                          context_size=self._context_size, chat_format=MESSAGES.name,
                          threads=0, endpoint=self.base_url, remote_host=self.remote_host)

    @property
    def chat_format(self) -> ChatFormat:
        return MESSAGES

    # -- connection --------------------------------------------------------------------

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            self._sock = sock if isinstance(sock, socket.socket) else None

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 stream: bool = False) -> Any:
        content = json.dumps(body).encode("utf-8") if body is not None else None
        if content and self.remote_host:
            self.bytes_sent_remote += len(content)
        request = self._client.build_request(
            method, self.base_url + path, content=content,
            headers={"Content-Type": "application/json"} if content else None,
            extensions={"trace": self._trace})
        return self._client.send(request, stream=stream)

    def _explain(self, exc: Exception) -> str:
        httpx = self._httpx
        if isinstance(exc, httpx.ConnectError):
            reason = str(exc) or "connection failed"
            if "refused" in reason.lower():
                reason = "connection refused"
            return (f"no server answers at {self.base_url} ({reason}): start it "
                    "(e.g. `ollama serve`) or fix base_url in the config")
        if isinstance(exc, httpx.TimeoutException):
            return f"the server at {self.base_url} did not answer in time"
        return f"lost the server at {self.base_url}: {type(exc).__name__}"

    def _status_error(self, response: Any, cls: type[EngineError]) -> EngineError:
        code = response.status_code
        detail = _error_text(response)
        if code in (401, 403):
            return cls(f"the server at {self.base_url} refused the request (HTTP {code}): "
                       "store its API key with `trayassist server token set`")
        if code == 404 and "model" in detail.lower():
            return cls(f"unknown model {self.model!r} on {self.base_url} ({detail})")
        if code == 400 and "context" in detail.lower():
            return PromptTooLong(f"the server says the text is too long: {detail}")
        return cls(f"the server at {self.base_url} answered HTTP {code}"
                   + (f": {detail}" if detail else ""))

    def load(self) -> None:
        """Connect and check the server knows the model. Owner thread; blocks up to
        the connect timeout."""
        if self._client is not None:
            return
        import httpx

        self._httpx = httpx
        token = self._token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(
            headers=headers, trust_env=False,  # no proxy from the environment
            timeout=httpx.Timeout(CONNECT_TIMEOUT_S, read=None),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        self._client = client
        try:
            response = self._request("GET", "/models")
            if response.status_code != 200:
                if response.status_code == 404:
                    return  # a server without a model list: the first job will tell
                raise self._status_error(response, ModelLoadError)
            try:
                listed = [str(m.get("id")) for m in response.json().get("data", [])]
            except (ValueError, AttributeError):
                listed = []
        except httpx.HTTPError as exc:
            self.close()
            raise ModelLoadError(self._explain(exc)) from None
        except EngineError:
            self.close()
            raise
        if listed and not {self.model, f"{self.model}:latest"} & set(listed):
            self.close()
            raise ModelLoadError(f"unknown model {self.model!r} on {self.base_url} "
                                 f"(it has: {', '.join(listed[:8])})")

    # -- the Engine port ---------------------------------------------------------------

    def count_text_tokens(self, text: str) -> int:
        """An over-estimate (the server's tokenizer is not at hand): a token per 3 bytes."""
        return 1 + len(text.encode("utf-8", "replace")) // 3

    def count_tokens(self, prompt: Prompt) -> int:
        messages = to_messages(prompt)
        return sum(4 + self.count_text_tokens(m["content"]) for m in messages) + 4

    def warm(self, prompt: Prompt) -> None:
        """Connect; the server caches prompt heads itself (llama-server, Ollama)."""
        self.load()

    def _watch(self, cancel: threading.Event, done: threading.Event, deadline: float,
               tripped: list[type[EngineError]]) -> None:
        """Watcher thread: on cancel or past the deadline, shut the socket down."""
        while not done.is_set():
            why: type[EngineError] | None = None
            if cancel.wait(_WATCH_STEP_S):
                why = Cancelled
            elif time.monotonic() > deadline:
                why = DeadlineExceeded
            if why is not None and not done.is_set():
                tripped.append(why)
                _shutdown(self._sock)
                return

    def generate(self, prompt: Prompt, options: GenOptions,
                 cancel: threading.Event) -> Iterator[str]:
        self.load()
        httpx = self._httpx
        body = {"model": self.model, "messages": to_messages(prompt), "stream": True,
                "max_tokens": options.max_tokens, "temperature": options.temperature}
        deadline = time.monotonic() + options.deadline_s
        done = threading.Event()
        tripped: list[type[EngineError]] = []
        if cancel.is_set():
            raise Cancelled("cancelled")
        watcher = threading.Thread(target=self._watch, args=(cancel, done, deadline, tripped),
                                   name="trayassist-openai-watch", daemon=True)
        watcher.start()
        think = ThinkFilter()
        finished = done_reading = False
        response = None
        try:
            response = self._request("POST", "/chat/completions", body, stream=True)
            if response.status_code != 200:
                raise self._status_error(response, EngineError)
            for line in response.iter_lines():
                if tripped:
                    break
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    # Read on to the end of the body (it ends right after), so the
                    # connection stays reusable for the next job.
                    finished = done_reading = True
                    continue
                if done_reading:
                    continue
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise EngineError("the server sent a malformed stream") from None
                if "error" in chunk:
                    raise EngineError(f"the server failed: {chunk['error']}")
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content") or ""
                    piece = think.feed(text) if text else ""
                    if piece:
                        yield piece
                    if choice.get("finish_reason"):
                        finished = True
        except httpx.HTTPError as exc:
            if not tripped and not done_reading:
                raise EngineError(self._explain(exc)) from None
        finally:
            done.set()
            if response is not None:
                response.close()  # mid-stream: the connection is dropped, never reused
            if tripped or not done_reading:
                self._drop_connection()
        if tripped and not (done_reading and tripped[0] is DeadlineExceeded):
            kind = tripped[0]
            raise kind("cancelled" if kind is Cancelled else
                       f"no answer within {options.deadline_s:.0f} s")
        if not finished:
            raise EngineError(f"the server at {self.base_url} stopped mid-answer")
        rest = think.finish()
        if rest:
            yield rest

    def _drop_connection(self) -> None:
        sock, self._sock = self._sock, None
        _shutdown(sock)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
        self._sock = None
