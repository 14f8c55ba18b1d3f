"""Prompts as chat messages for the OpenAI-compatible engine, and its replies cleaned.

The server applies its own chat template, so the prompt goes as messages. The engine's
ChatFormat (MESSAGES) is a set of private-use markers: `build_prompt` puts them around the
content segments, and `to_messages` turns marker + content back into
system/user/assistant messages. The user's text is a content segment, so it can never
become a marker; what the server's tokenizer does with control-token text inside a message
is up to the server.
"""

from __future__ import annotations

import re

from trayassist.engines.base import EngineError
from trayassist.prompting import ChatFormat, Prompt

# Private-use markers: no template or user text of ours contains them, and the user's
# text is never scaffolding anyway.
_MARK = "\ue010{}\ue011"
_MARKER = re.compile("\ue010(system|user|assistant|end)\ue011")
MESSAGES = ChatFormat(
    name="openai-messages",
    system_open=_MARK.format("system"),
    system_close=_MARK.format("end"),
    user_open=_MARK.format("user"),
    user_close=_MARK.format("end"),
    assistant_open=_MARK.format("assistant"),
    end_of_turn=_MARK.format("end"),
)


def to_messages(prompt: Prompt) -> list[dict[str, str]]:
    """A prompt built on MESSAGES -> chat messages; the open assistant turn is dropped."""
    messages: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for segment in prompt.segments():
        if segment.special:
            for role in _MARKER.findall(segment.text):
                current = None if role == "end" else {"role": role, "content": ""}
                if current is not None:
                    messages.append(current)
        elif segment.text:
            if current is None:
                raise EngineError("internal: prompt content outside a message")
            current["content"] += segment.text
    if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
        messages.pop()
    return messages


class ThinkFilter:
    """Drops a leading <think>...</think> block (reasoning models asked not to think
    may still emit an empty one); everything else passes through unchanged."""

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._buf = ""
        self._state = "start"  # start -> (thinking ->) after -> pass

    def feed(self, piece: str) -> str:
        if self._state == "pass":
            return piece
        self._buf += piece
        if self._state == "start":
            head = self._buf.lstrip()
            if len(head) < len(self.OPEN) and self.OPEN.startswith(head):
                return ""  # could still become <think>
            if not head.startswith(self.OPEN):
                self._state = "pass"
                out, self._buf = self._buf, ""
                return out
            self._state, self._buf = "thinking", head[len(self.OPEN):]
        if self._state == "thinking":
            end = self._buf.find(self.CLOSE)
            if end < 0:
                return ""
            self._state, self._buf = "after", self._buf[end + len(self.CLOSE):]
        rest = self._buf.lstrip()
        if not rest:
            return ""
        self._state, self._buf = "pass", ""
        return rest

    def finish(self) -> str:
        out = self._buf if self._state in ("start", "pass") else ""
        self._buf = ""
        return out
