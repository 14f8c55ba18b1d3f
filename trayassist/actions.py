"""What each action asks the model to do, its hotkey and its limits (pure data).

The built-in actions live here; `trayassist.config` tunes them and adds the user's own.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGE_FIELD = "{language}"
# Room for an answer that is a little longer than a very short input (a title, a word).
_BUDGET_SLACK = 48
_MIN_BUDGET = 16


@dataclass(frozen=True)
class Action:
    name: str
    instruction: str  # may contain "{language}" (translate)
    hotkey: str | None  # canonical pynput syntax, or None for no hotkey
    max_tokens: int | None = None  # None: scaled to the input by output_ratio
    temperature: float = 0.0
    output_ratio: float = 1.6  # output tokens allowed per input token
    keep_all_facts: bool = True  # faithfulness guard: every number/name/link must survive
    builtin: bool = False
    # One worked example (input, output) shown to the model before the user's text.
    # Small models copy the example's shape instead of chatting ("The corrected text
    # is: ..."); it lives in the prompt head, whose KV state is cached, so it is cheap.
    # Kept free of numbers and links so none can leak into a result unnoticed.
    example: tuple[str, str] | None = None

    def instruction_for(self, language: str) -> str:
        """The instruction with "{language}" filled in; other braces are left alone."""
        return self.instruction.replace(LANGUAGE_FIELD, language)

    def token_budget(self, input_tokens: int, context_left: int) -> int:
        """Most tokens to generate: max_tokens, or the input scaled by output_ratio (plus a
        little slack), never more than the context has left, and at least 16."""
        wanted = self.max_tokens or int(input_tokens * self.output_ratio) + _BUDGET_SLACK
        return max(_MIN_BUDGET, min(wanted, context_left))


_ONLY = "Output only the {} text, nothing else."

BUILTIN_ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            name="rewrite",
            instruction=(
                "Rewrite the text so it is clearer and easier to read. Keep its meaning and "
                "write in the same language. Keep every number, name, date and link exactly "
                "as written. " + _ONLY.format("rewritten")
            ),
            hotkey="<ctrl>+<alt>+<shift>+e",
            builtin=True,
            # A kitchen topic on purpose: with an office-topic example (a late report),
            # 3 of 8 office texts came back as the example's answer; with this one, 0.
            example=(
                "You should to mix the flour and the eggs good, and after that you bake it "
                "in oven for the time it need.",
                "Mix the flour and eggs well, then bake it in the oven for as long as it needs.",
            ),
        ),
        Action(
            name="proofread",
            instruction=(
                "Fix the spelling, grammar and punctuation of the text. Change nothing else: "
                "keep its wording, meaning, language and formatting. "
                + _ONLY.format("corrected")
            ),
            hotkey="<ctrl>+<alt>+<shift>+p",
            builtin=True,
            example=(
                "i has went to the libary yesterday and borrowed too book.",
                "I went to the library yesterday and borrowed two books.",
            ),
        ),
        Action(
            name="summarize",
            instruction=(
                "Summarize the text concisely, in the same language as the text. "
                "Output only the summary, nothing else."
            ),
            hotkey="<ctrl>+<alt>+<shift>+s",
            output_ratio=0.7,
            keep_all_facts=False,
            builtin=True,
        ),
        Action(
            name="translate",
            instruction=(
                "Translate the text into {language}. Keep the formatting, names, numbers and "
                "links. " + _ONLY.format("translated")
            ),
            hotkey="<ctrl>+<alt>+<shift>+t",
            output_ratio=2.2,
            builtin=True,
        ),
    )
}
