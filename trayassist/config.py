"""The user's config file: TOML in, frozen dataclasses out.

Loading has no side effects: a missing file means the defaults, and nothing is created.
Every error names the file, the line, the key and what is allowed (the line-finding and
the generic checks: config_toml). This module is the schema: which keys there are and what
each may hold.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from trayassist import paths
from trayassist.actions import BUILTIN_ACTIONS, Action
from trayassist.apps import BUILTIN_PROFILES, CAPTURES, INTERRUPT, TERMINAL, AppOverride
from trayassist.config_toml import (
    ConfigError,
    Key,
    TomlChecker,
    as_written,
    syntax_error,
    toml_literal,
)
from trayassist.discovery import split_spec
from trayassist.hotkey_syntax import ChordError, HotkeyError, parse_chord, parse_hotkey
from trayassist.ledger import DEFAULT_PRICE_INPUT, DEFAULT_PRICE_OUTPUT

ENGINES = ("auto", "llama-cpp", "gpt4all", "openai")
DELIVERIES = ("auto", "review", "paste", "clipboard")
TOP_KEYS = ("model", "engine", "threads", "translate_to", "delivery", "base_url",
            "allow_remote", "api_price_input", "api_price_output", "actions", "apps")
APP_KEYS = ("capture", "copy", "paste", "delivery", "enabled")
DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"  # Ollama's OpenAI-compatible API
ACTION_KEYS = ("instruction", "hotkey", "max_tokens", "temperature", "output_ratio",
               "keep_all_facts")
ACTION_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def _builtin_actions() -> Mapping[str, Action]:
    return MappingProxyType(dict(BUILTIN_ACTIONS))


@dataclass(frozen=True)
class Config:
    # A catalog name, or a path to a .gguf file (absolute once loaded from a file).
    model: str = "smollm2-135m-instruct"
    engine: str = "auto"  # auto | llama-cpp | gpt4all | openai
    threads: int | None = None  # None: chosen by the engine
    translate_to: str = "English"
    # auto: paste a clean result, open the review window for a flagged or looped one or
    # when the model is not capable of the action; review: always the window;
    # paste: always paste; clipboard: only copy the result.
    delivery: str = "auto"
    # engine = "openai": an OpenAI-compatible server; `model` is then the server's name.
    base_url: str = DEFAULT_BASE_URL
    allow_remote: bool = False  # False: a base_url not on this machine is refused
    # USD per 1M tokens, for the ledger's hosted-API estimate (default: gpt-4o-mini's
    # list price; see trayassist.ledger).
    api_price_input: float = DEFAULT_PRICE_INPUT
    api_price_output: float = DEFAULT_PRICE_OUTPUT
    actions: Mapping[str, Action] = field(default_factory=_builtin_actions)
    # Per-app overrides of the built-in profiles, keyed by lower-case app_id.
    apps: Mapping[str, AppOverride] = field(default_factory=lambda: MappingProxyType({}))
    path: Path | None = None  # the file it came from; None: built-in defaults


class ConfigExistsError(ConfigError, FileExistsError):
    """`config init` found a config file already there and left it alone."""


class _Loader(TomlChecker):
    """trayassist's schema: what each key of the config may hold."""

    def __init__(self, path: Path, text: str) -> None:
        super().__init__(path, text)
        self.raw_model = False  # engine = "openai": `model` is a server's name, kept as is

    def hotkey(self, key: Key, value: Any) -> str | None:
        if not isinstance(value, str):
            self.fail(key, f'expected a hotkey like "<ctrl>+<alt>+<shift>+e" ("" for none), '
                           f"got {as_written(value)}")
        if not value.strip():
            return None
        try:
            return parse_hotkey(value).canonical
        except HotkeyError as exc:
            self.fail(key, str(exc))

    def url(self, key: Key, value: Any) -> str:
        import urllib.parse

        text = self.text(key, value, 'an http(s) URL, e.g. "http://127.0.0.1:11434/v1"')
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(key, f'expected an http(s) URL like "{DEFAULT_BASE_URL}", '
                           f"got {as_written(text)}")
        return text.rstrip("/")

    def model(self, value: Any) -> str:
        spec = self.text(("model",), value, "a catalog model name or a path to a .gguf file")
        if self.raw_model or split_spec(spec) is not None:
            return spec  # a server's model name, or a model another app keeps (ollama:...)
        if not (spec.lower().endswith(".gguf") or spec.startswith("~") or "/" in spec
                or "\\" in spec):
            return spec  # a catalog name; trayassist.models checks it when it loads
        file = Path(spec).expanduser()
        return str(file if file.is_absolute() else self.path.absolute().parent / file)

    def action(self, name: str, table: Any) -> Action:
        at = ("actions", name)
        if not ACTION_NAME.fullmatch(name):
            self.fail(at, "action names are 1-32 lowercase letters, digits, _ or -, "
                          "starting with a letter")
        if not isinstance(table, dict):
            self.fail(at, f"expected a table ([actions.{name}] with keys "
                          f"{', '.join(ACTION_KEYS)}), got {as_written(table)}")
        self.check_keys(table, ACTION_KEYS, at)
        base = BUILTIN_ACTIONS.get(name)
        if base is None and "instruction" not in table:
            self.fail(at, 'a new action needs an instruction, e.g. instruction = "Rewrite the '
                          'text in a formal tone. Output only the rewritten text."')
        checks: dict[str, Callable[[Key, Any], Any]] = {
            "instruction": self.text,
            "hotkey": self.hotkey,
            "max_tokens": lambda key, value: self.number(key, value, 1, 8192, whole=True),
            "temperature": lambda key, value: self.number(key, value, 0, 2),
            "output_ratio": lambda key, value: self.number(key, value, 0.1, 10),
            "keep_all_facts": self.boolean,
        }
        changes = {k: checks[k]((*at, k), value) for k, value in table.items()}
        if base is not None:
            return replace(base, **changes)
        return Action(name=name, **{"hotkey": None, **changes})

    def actions(self, raw: Any) -> Mapping[str, Action]:
        if not isinstance(raw, dict):
            self.fail(("actions",),
                      f"expected tables like [actions.rewrite], got {as_written(raw)}")
        actions = dict(BUILTIN_ACTIONS)
        actions.update((name, self.action(name, table)) for name, table in raw.items())
        owners: dict[str, str] = {}
        set_at = {n: self.line(("actions", n, "hotkey")) if n in raw else 0 for n in actions}
        for name, action in actions.items():
            other = owners.setdefault(action.hotkey, name) if action.hotkey else name
            if other != name:  # report it where the file sets it: the later of the two
                here, there = (name, other) if set_at[name] >= set_at[other] else (other, name)
                self.fail(("actions", here, "hotkey"),
                          f'"{action.hotkey}" is also the hotkey of action "{there}": give each '
                          'action its own hotkey, or turn one off with hotkey = ""')
        return MappingProxyType(actions)

    def chord(self, key: Key, value: Any) -> str:
        if not isinstance(value, str):
            self.fail(key, f'expected a key chord like "<ctrl>+<shift>+c" ("" for none), '
                           f"got {as_written(value)}")
        if not value.strip():
            return ""
        try:
            return parse_chord(value).canonical
        except ChordError as exc:
            self.fail(key, str(exc))

    def app(self, name: str, table: Any) -> AppOverride:
        at = ("apps", name)
        if not isinstance(table, dict):
            self.fail(at, f'expected a table ([apps."{name}"] with keys '
                          f"{', '.join(APP_KEYS)}), got {as_written(table)}")
        self.check_keys(table, APP_KEYS, at)
        checks: dict[str, Callable[[Key, Any], Any]] = {
            "capture": lambda key, value: self.choice(key, value, CAPTURES),
            "copy": self.chord,
            "paste": self.chord,
            "delivery": lambda key, value: self.choice(key, value, DELIVERIES),
            "enabled": self.boolean,
        }
        override = AppOverride(**{k: checks[k]((*at, k), v) for k, v in table.items()})
        base = BUILTIN_PROFILES.get(name.lower())
        if base is not None and base.kind == TERMINAL and override.copy == INTERRUPT:
            self.fail((*at, "copy"), f'a terminal turns {INTERRUPT} into an interrupt '
                      '(SIGINT) of the running command: use "<ctrl>+<shift>+c", or "" '
                      "to copy nothing")
        return override

    def apps(self, raw: Any) -> Mapping[str, AppOverride]:
        if not isinstance(raw, dict):
            self.fail(("apps",), f'expected tables like [apps."xterm"], got {as_written(raw)}')
        apps: dict[str, AppOverride] = {}
        for name, table in raw.items():
            if not name.strip():
                self.fail(("apps", name), "an app name (its app_id, as `trayassist apps` "
                          "shows it) cannot be empty")
            apps[name.strip().lower()] = self.app(name, table)
        return MappingProxyType(apps)

    def config(self, raw: dict[str, Any]) -> Config:
        self.check_keys(raw, TOP_KEYS, ())
        # TRAYASSIST_ENGINE overrides the engine, so it decides what `model` means too.
        self.raw_model = (os.environ.get("TRAYASSIST_ENGINE") or raw.get("engine")) == "openai"
        parse: dict[str, Callable[[Any], Any]] = {
            "model": self.model,
            "engine": lambda value: self.choice(("engine",), value, ENGINES),
            "threads": lambda value: self.number(("threads",), value, 1, 64, whole=True),
            "translate_to": lambda value: self.text(("translate_to",), value, "a language name"),
            "delivery": lambda value: self.choice(("delivery",), value, DELIVERIES),
            "base_url": lambda value: self.url(("base_url",), value),
            "allow_remote": lambda value: self.boolean(("allow_remote",), value),
            "api_price_input": lambda value: self.number(("api_price_input",), value, 0, 1e4),
            "api_price_output": lambda value: self.number(("api_price_output",), value, 0, 1e4),
            "actions": self.actions,
            "apps": self.apps,
        }
        return Config(**{k: parse[k](value) for k, value in raw.items()}, path=self.path)


def load_config(path: Path | None = None) -> Config:
    """Read the config (default: paths.config_file()); no file means the defaults."""
    path = paths.config_file() if path is None else Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"cannot read the config: {exc.strerror or exc}", path) from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError("not UTF-8 text: save the file as UTF-8", path, line) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(exc, text, path) from None
    return _Loader(path, text).config(raw)


def default_config_text() -> str:
    """The file `config init` writes: every option, commented out, showing its default.

    Lines like `#key = value` and `#[table]` are the defaults: uncommenting them changes
    nothing. Lines starting with `# ` are explanations and examples.
    """
    d = Config()
    out = [
        "# trayassist configuration (TOML). Every setting below is commented out and shows",
        "# its default: remove the leading # to change one. Errors name this file and the line.",
        "",
        "# The model: a catalog name (`trayassist models` lists them) or a path to a .gguf",
        "# file (~ is expanded; a relative path is relative to this file's folder).",
        f"#model = {toml_literal(d.model)}",
        "",
        '# Runtime: "auto" (llama-cpp if installed, else gpt4all), "llama-cpp", "gpt4all", or',
        '# "openai": an OpenAI-compatible server (Ollama, LM Studio, llama-server, vLLM);',
        "# then `model` is the server's model name, e.g. \"qwen3:1.7b\".",
        f"#engine = {toml_literal(d.engine)}",
        "",
        "# engine = \"openai\" only: the server's API root. A server not on this machine is",
        "# refused unless allow_remote = true (then your text leaves this machine).",
        f"#base_url = {toml_literal(d.base_url)}",
        f"#allow_remote = {toml_literal(d.allow_remote)}",
        "",
        "# CPU threads for generation, 1..64, e.g. threads = 4. Unset: the engine chooses.",
        "",
        "# The language the translate action writes.",
        f"#translate_to = {toml_literal(d.translate_to)}",
        "",
        '# "auto" pastes a clean result and opens the review window when the guard flagged',
        "# the result, the model looped, or the model is not capable of the action;",
        '# "review" always opens the review window (Enter pastes, Esc discards);',
        '# "paste" always replaces the selection; "clipboard" only copies the result.',
        f"#delivery = {toml_literal(d.delivery)}",
        "",
        "# `trayassist ledger` prices the tokens you ran locally at a hosted API's rate,",
        "# USD per 1M tokens (default: OpenAI gpt-4o-mini's list price).",
        f"#api_price_input = {toml_literal(d.api_price_input)}",
        f"#api_price_output = {toml_literal(d.api_price_output)}",
        "",
        "# Actions. Tune a built-in one by naming only what changes, e.g.",
        "#   [actions.rewrite]",
        '#   hotkey = "<ctrl>+<alt>+r"',
        "# Hotkeys use pynput syntax: modifiers <ctrl>, <alt>, <shift>, <cmd> and one key,",
        "# joined by +, with at least one of <ctrl>, <alt>, <cmd>; hotkey = \"\" means none.",
        "# Add your own action as a table of its own; only instruction is required:",
        "#   [actions.formal]",
        '#   instruction = "Rewrite the text in a formal tone. Output only the rewritten text."',
        '#   hotkey = "<ctrl>+<alt>+<shift>+f"',
        "#   max_tokens = 512      # 1..8192; unset: scaled to the input by output_ratio",
        "#   temperature = 0.0     # 0..2; 0 gives the same answer every time",
        "#   output_ratio = 1.6    # 0.1..10 output tokens per input token",
        "#   keep_all_facts = true # check that every number, name and link survives",
        "# {language} in an instruction becomes translate_to.",
        "",
        "# Per-app profiles (`trayassist apps` lists them and names the focused app).",
        "# Terminals, editors and remote-desktop viewers have built-in ones; override by",
        "# app name (X11 WM_CLASS class, Wayland app_id, Windows exe name), e.g.",
        '#   [apps."xterm"]',
        '#   capture = "primary"       # "primary": read the selection without a key, else',
        '#                             # "copy-keys": send the copy chord below',
        '#   copy = "<ctrl>+<shift>+c" # the app\'s copy chord; "" = never send one',
        '#   paste = "<shift>+<insert>" # the app\'s paste chord; "" = none',
        '#   delivery = "clipboard"    # or "paste"',
        "#   enabled = false           # trayassist does nothing in this app",
    ]
    for action in BUILTIN_ACTIONS.values():
        out += ["", f"#[actions.{action.name}]",
                f"#instruction = {toml_literal(action.instruction)}",
                f"#hotkey = {toml_literal(action.hotkey or '')}",
                f"#temperature = {toml_literal(action.temperature)}",
                f"#output_ratio = {toml_literal(action.output_ratio)}",
                f"#keep_all_facts = {toml_literal(action.keep_all_facts)}"]
    return "\n".join(out) + "\n"


def write_default_config(path: Path) -> None:
    """`config init`: write default_config_text() to a new file; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as file:
            file.write(default_config_text())
    except FileExistsError:
        raise ConfigExistsError(
            "a config file is already there and was left as it is: edit it, or move it away "
            "and run `trayassist config init` again", path) from None
