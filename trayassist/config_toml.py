"""The config file's TOML side: where each key is set, and errors that say so.

tomllib reports no line numbers for keys, so `_key_lines` finds them by scanning the text
(best effort for dotted keys and inline tables: it falls back to the enclosing table's
line, else line 1). TomlChecker turns a wrong value into a ConfigError that names the
file, the line, the key and what is allowed; trayassist.config builds its schema on it.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

Key = tuple[str, ...]


class ConfigError(Exception):
    """str() is the whole message for the user: `file:line: key: what is wrong`."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        self.path, self.line = path, line
        where = "" if path is None else f"{path}:{line}: " if line else f"{path}: "
        self.message = where + message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# A JSON string, number or boolean is also valid TOML.
toml_literal: Callable[[str | float | bool], str] = functools.partial(json.dumps,
                                                                      ensure_ascii=False)


def as_written(value: Any) -> str:
    """A value as the user wrote it in TOML (roughly), for error messages."""
    if isinstance(value, dict | list):
        return "a table" if isinstance(value, dict) else "an array"
    return toml_literal(value) if isinstance(value, bool | str) else str(value)


_KEY_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


def _parse_key(text: str) -> tuple[Key, str] | None:
    """A (dotted, maybe quoted) key at the start of `text` -> (parts, the rest)."""
    parts: list[str] = []
    pos = 0
    while match := _KEY_PART.match(text, pos):
        parts.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
        if not text.startswith(".", pos):
            return tuple(parts), text[pos:]
        pos += 1
    return None


def _key_lines(text: str) -> dict[Key, int]:
    """Full key path -> the line that sets it (tables: their header's line)."""
    lines: dict[Key, int] = {}
    table: Key = ()
    open_string = ""  # inside a multi-line string: its closing quotes
    for number, line in enumerate(text.split("\n"), 1):
        if open_string:
            open_string = "" if line.count(open_string) % 2 else open_string
            continue
        stripped = line.strip()
        if stripped.startswith("["):
            header = _parse_key(stripped.lstrip("["))
            if header and header[1].startswith("]"):
                table = header[0]
                for end in range(1, len(table) + 1):
                    lines.setdefault(table[:end], number)
            continue
        entry = _parse_key(stripped)
        if entry and entry[1].startswith("="):
            lines.setdefault(table + entry[0], number)
            open_string = next((q for q in ('"""', "'''") if entry[1].count(q) % 2), "")
    return lines


_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: Path) -> ConfigError:
    message = str(exc)
    at = _AT.search(message)
    if at is None:
        return ConfigError(f"not valid TOML: {message}", path)
    line = int(at[1]) if at[1] else text.rstrip("\n").count("\n") + 1
    detail = message[: at.start()]
    detail = detail[:1].lower() + detail[1:] + (f" (column {at[2]})" if at[2] else " (at the end)")
    if detail.startswith("invalid value"):
        detail += '; text values need quotes, e.g. model = "smollm2-135m-instruct"'
    elif detail.startswith("unescaped '\\'"):
        detail += r"; in single quotes \ is literal, e.g. model = 'C:\models\my.gguf'"
    return ConfigError(f"not valid TOML: {detail}", path, line)


class TomlChecker:
    """Checks of one parsed config file's values; a failure is a ConfigError at the line
    that sets the key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _key_lines(text)

    def line(self, key: Key) -> int:
        for end in range(len(key), 0, -1):
            if key[:end] in self.lines:
                return self.lines[key[:end]]
        return 1

    def fail(self, key: Key, message: str, *, prefix: bool = True) -> NoReturn:
        text = f"{'.'.join(key)}: {message}" if prefix else message
        raise ConfigError(text, self.path, self.line(key))

    def check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], at: Key) -> None:
        for name in table:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f'did you mean "{close[0]}"? ' if close else ""
                where = f"{'.'.join(at)}: " if at else ""
                message = f'{where}unknown key "{name}" ({hint}allowed: {", ".join(allowed)})'
                self.fail((*at, name), message, prefix=False)

    def text(self, key: Key, value: Any, what: str = "a non-empty string") -> str:
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.fail(key, f"expected {what}, got {as_written(value)}")

    def choice(self, key: Key, value: Any, allowed: tuple[str, ...]) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        self.fail(key, f"expected one of {', '.join(map(as_written, allowed))}, "
                       f"got {as_written(value)}")

    def number(self, key: Key, value: Any, low: float, high: float, whole: bool = False) -> Any:
        kinds = int if whole else int | float
        if isinstance(value, kinds) and not isinstance(value, bool) and low <= value <= high:
            return value if whole else float(value)
        what = "an integer" if whole else "a number"
        self.fail(key, f"expected {what} {low:g}..{high:g}, got {as_written(value)}")

    def boolean(self, key: Key, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        self.fail(key, f"expected true or false, got {as_written(value)}")
