"""Prompts as segments, so the user's text can never turn into control tokens.

A prompt is scaffolding (the chat template's control tokens, tokenized with
special=True) interleaved with content (system text, instruction, the user's
selection, all tokenized with special=False). The user's text comes last, after an
action-specific head that is identical from job to job, so engines can reuse the
head's KV state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

SYSTEM_TEXT = (
    "You are a writing assistant inside a text editor. You reply with the edited text "
    "only: no greeting, no preamble, no explanation, no notes."
)


@dataclass(frozen=True)
class Segment:
    text: str
    special: bool  # True: template scaffolding, may contain control tokens


@dataclass(frozen=True)
class Prompt:
    head: tuple[Segment, ...]  # same for every job of one action: the KV-reuse key
    text: str  # the user's selection; always plain text
    tail: tuple[Segment, ...]  # closes the user turn, opens the assistant's

    def segments(self) -> tuple[Segment, ...]:
        return (*self.head, Segment(self.text, special=False), *self.tail)


@dataclass(frozen=True)
class ChatFormat:
    """The scaffolding around a system message and one user turn.

    Every field is scaffolding; content is never formatted into these strings.
    """

    name: str
    system_open: str
    system_close: str
    user_open: str
    user_close: str
    assistant_open: str
    end_of_turn: str  # generation stops here (also on the model's EOG token)


CHATML = ChatFormat(
    name="chatml",
    system_open="<|im_start|>system\n",
    system_close="<|im_end|>\n",
    user_open="<|im_start|>user\n",
    user_close="<|im_end|>\n",
    assistant_open="<|im_start|>assistant\n",
    end_of_turn="<|im_end|>",
)

LLAMA3 = ChatFormat(
    name="llama3",
    system_open="<|start_header_id|>system<|end_header_id|>\n\n",
    system_close="<|eot_id|>",
    user_open="<|start_header_id|>user<|end_header_id|>\n\n",
    user_close="<|eot_id|>",
    assistant_open="<|start_header_id|>assistant<|end_header_id|>\n\n",
    end_of_turn="<|eot_id|>",
)

# Qwen3 with thinking turned off: what its own template renders for
# enable_thinking=false, an empty think block opening the reply, so the model answers
# at once. (Qwen's soft switch "/no_think" in the user's turn would put our words into
# the user's text; the template's switch does not.)
QWEN3_NO_THINK = replace(
    CHATML, name="qwen3-no-think",
    assistant_open=CHATML.assistant_open + "<think>\n\n</think>\n\n")

# Gemma 3 has no system role (its template prepends the system text to the first user
# turn); here the system text is a user turn of its own, so an example turn can follow.
GEMMA3 = ChatFormat(
    name="gemma3",
    system_open="<start_of_turn>user\n",
    system_close="<end_of_turn>\n",
    user_open="<start_of_turn>user\n",
    user_close="<end_of_turn>\n",
    assistant_open="<start_of_turn>model\n",
    end_of_turn="<end_of_turn>",
)

PHI4 = ChatFormat(
    name="phi4",
    system_open="<|system|>",
    system_close="<|end|>",
    user_open="<|user|>",
    user_close="<|end|>",
    assistant_open="<|assistant|>",
    end_of_turn="<|end|>",
)

FORMATS = {f.name: f for f in (CHATML, LLAMA3, QWEN3_NO_THINK, GEMMA3, PHI4)}


def build_prompt(fmt: ChatFormat, instruction: str, text: str,
                 example: tuple[str, str] | None = None) -> Prompt:
    """System message, an optional worked example turn, then the instruction and text."""
    lead = instruction.strip() + "\n\n"
    head: tuple[Segment, ...] = (
        Segment(fmt.system_open, special=True),
        Segment(SYSTEM_TEXT, special=False),
        Segment(fmt.system_close + fmt.user_open, special=True),
    )
    if example is not None:
        head += (
            Segment(lead + example[0], special=False),
            Segment(fmt.user_close + fmt.assistant_open, special=True),
            Segment(example[1], special=False),
            Segment(fmt.end_of_turn + _turn_gap(fmt) + fmt.user_open, special=True),
        )
    head += (Segment(lead, special=False),)
    tail = (Segment(fmt.user_close + fmt.assistant_open, special=True),)
    return Prompt(head=head, text=text, tail=tail)


def _turn_gap(fmt: ChatFormat) -> str:
    # ChatML puts a newline after <|im_end|>; its user_close carries it.
    return fmt.user_close[len(fmt.end_of_turn):] if fmt.user_close.startswith(
        fmt.end_of_turn) else ""


# Sentinels for sandboxed rendering: private-use characters no template emits.
_SYS, _USER = "\ue000SYS\ue001", "\ue000USER\ue001"


class TemplateError(ValueError):
    pass


def format_from_template(template: str, bos_token: str = "", eos_token: str = "") -> ChatFormat:
    """Derive a ChatFormat from a GGUF's Jinja chat template.

    The template is untrusted (it comes from a downloaded file), so it is rendered in
    Jinja's immutable sandbox, once, with sentinel content; the scaffolding is what
    surrounds the sentinels.
    """
    from jinja2 import TemplateError as JinjaError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    try:
        tpl = env.from_string(template)
        messages = [{"role": "system", "content": _SYS}, {"role": "user", "content": _USER}]
        with_gen = tpl.render(messages=messages, add_generation_prompt=True,
                              bos_token=bos_token, eos_token=eos_token,
                              raise_exception=raise_exception)
        # Rendering with an assistant reply tells us how a turn ends.
        reply = "\ue000A\ue001"
        full = tpl.render(messages=[*messages, {"role": "assistant", "content": reply}],
                          add_generation_prompt=False, bos_token=bos_token,
                          eos_token=eos_token, raise_exception=raise_exception)
    except (JinjaError, TypeError, ValueError) as exc:
        raise TemplateError(f"chat template could not be rendered: {exc}") from exc
    if with_gen.count(_SYS) != 1 or with_gen.count(_USER) != 1:
        raise TemplateError("chat template does not place a system and a user message")
    before_sys, rest = with_gen.split(_SYS)
    between, after_user = rest.split(_USER)
    if bos_token and before_sys.startswith(bos_token):
        before_sys = before_sys[len(bos_token):]  # the tokenizer adds BOS itself
    end = full.split(reply, 1)[1] if reply in full else ""
    end_of_turn = end.strip() or eos_token
    return ChatFormat(
        name="gguf-template",
        system_open=before_sys,
        system_close="",
        user_open=between,
        user_close="",
        assistant_open=after_user,
        end_of_turn=end_of_turn,
    )
