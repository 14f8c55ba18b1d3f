"""The privacy ledger: what trayassist did on this machine, as counters only.

Per action: jobs run, words processed, input tokens read, tokens generated; overall:
bytes this process sent off the machine (read from the engine, 0 for the in-process
engines) and to which hosts. Never any of the text, never a window title, never a
timestamp per job: only sums, and the day counting started.

The file lives in the data folder (`trayassist.paths.data_dir()`, which TRAYASSIST_HOME
redirects), written atomically (temp file + os.replace) under a filelock, so the daemon
and a CLI run on the same machine never lose each other's counts.

The cost estimate prices the same tokens at a hosted small model's list price, which the
user can set (config `api_price_input` / `api_price_output`, USD per 1M tokens). Default:
OpenAI gpt-4o-mini, $0.15 input / $0.60 output per 1M tokens, from OpenAI's API pricing
page (openai.com/api/pricing), as also listed by Vercel's AI Gateway model page for
gpt-4o-mini ("$0.15 per million input tokens"). Prices change: the ledger prints which
price it used.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import filelock

from trayassist import paths

log = logging.getLogger(__name__)

DEFAULT_PRICE_INPUT = 0.15  # USD per 1M input tokens, gpt-4o-mini (see module docstring)
DEFAULT_PRICE_OUTPUT = 0.60  # USD per 1M output tokens
PRICE_SOURCE = "OpenAI gpt-4o-mini list price (openai.com/api/pricing)"
VERSION = 1


@dataclass
class ActionCounts:
    jobs: int = 0
    words: int = 0  # words of the user's text that went into the model
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class Ledger:
    since: str = ""  # ISO date counting started
    actions: dict[str, ActionCounts] = field(default_factory=dict)
    bytes_sent_remote: int = 0
    remote_hosts: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return sum(a.jobs for a in self.actions.values())

    @property
    def words(self) -> int:
        return sum(a.words for a in self.actions.values())

    @property
    def input_tokens(self) -> int:
        return sum(a.input_tokens for a in self.actions.values())

    @property
    def output_tokens(self) -> int:
        return sum(a.output_tokens for a in self.actions.values())

    def cost(self, price_input: float, price_output: float) -> float:
        """USD the same tokens would have cost at these prices (per 1M tokens)."""
        return (self.input_tokens * price_input + self.output_tokens * price_output) / 1e6

    def to_json(self, price_input: float = DEFAULT_PRICE_INPUT,
                price_output: float = DEFAULT_PRICE_OUTPUT) -> dict[str, Any]:
        return {
            "version": VERSION,
            "since": self.since,
            "jobs": self.jobs,
            "words": self.words,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "bytes_sent_remote": self.bytes_sent_remote,
            "remote_hosts": list(self.remote_hosts),
            "actions": {name: asdict(c) for name, c in sorted(self.actions.items())},
            "hosted_api_estimate_usd": round(self.cost(price_input, price_output), 6),
            "price_per_1m_tokens_usd": {"input": price_input, "output": price_output},
        }


def ledger_file() -> Path:
    return paths.data_dir() / "ledger.json"


def _lock(path: Path) -> filelock.BaseFileLock:
    return filelock.FileLock(str(path.with_suffix(".lock")), timeout=5.0)


def _parse(raw: dict[str, Any]) -> Ledger:
    def count(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
            else 0

    actions = {}
    for name, counts in (raw.get("actions") or {}).items():
        if isinstance(name, str) and isinstance(counts, dict):
            actions[name] = ActionCounts(**{k: count(counts.get(k)) for k in
                                            ("jobs", "words", "input_tokens", "output_tokens")})
    hosts = [h for h in raw.get("remote_hosts") or [] if isinstance(h, str)]
    return Ledger(since=str(raw.get("since") or ""), actions=actions,
                  bytes_sent_remote=count(raw.get("bytes_sent_remote")), remote_hosts=hosts)


def load(path: Path | None = None) -> Ledger:
    """The counters so far; a missing or unreadable file counts from zero."""
    path = ledger_file() if path is None else path
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Ledger()
    except (OSError, ValueError) as exc:
        log.warning("ledger unreadable, counting from zero: %s", exc)
        return Ledger()
    return _parse(raw) if isinstance(raw, dict) else Ledger()


def _write(path: Path, ledger: Ledger) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": VERSION, "since": ledger.since,
            "actions": {n: asdict(c) for n, c in sorted(ledger.actions.items())},
            "bytes_sent_remote": ledger.bytes_sent_remote,
            "remote_hosts": sorted(set(ledger.remote_hosts))}
    fd, tmp = tempfile.mkstemp(prefix=".ledger-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def record(action: str, *, words: int, input_tokens: int, output_tokens: int,
           bytes_sent_remote: int = 0, remote_host: str | None = None,
           path: Path | None = None) -> None:
    """Add one job's counts. Any thread; blocks briefly on the file lock. A ledger that
    cannot be written is logged and skipped: it never fails the user's job."""
    path = ledger_file() if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _lock(path):
            ledger = load(path)
            if not ledger.since:
                ledger.since = _dt.date.today().isoformat()
            counts = ledger.actions.setdefault(action, ActionCounts())
            counts.jobs += 1
            counts.words += max(0, words)
            counts.input_tokens += max(0, input_tokens)
            counts.output_tokens += max(0, output_tokens)
            ledger.bytes_sent_remote += max(0, bytes_sent_remote)
            if remote_host and remote_host not in ledger.remote_hosts:
                ledger.remote_hosts.append(remote_host)
            _write(path, ledger)
    except (OSError, filelock.Timeout) as exc:
        log.warning("could not update the ledger: %s", exc)


class EngineMeter:
    """Reads the bytes an engine sent off the machine, as a difference per job.

    Engines that send text elsewhere (issue 11's openai engine) expose
    `bytes_sent_remote` (a running total) and `remote_host`; in-process engines have
    neither, which reads as 0 and None."""

    def __init__(self, engine: object) -> None:
        self._engine = engine
        self._start = self.total()

    def total(self) -> int:
        value = getattr(self._engine, "bytes_sent_remote", 0)
        return value if isinstance(value, int) else 0

    def sent(self) -> int:
        return max(0, self.total() - self._start)

    @property
    def host(self) -> str | None:
        host = getattr(self._engine, "remote_host", None)
        return host if isinstance(host, str) and host else None


def format_ledger(ledger: Ledger, price_input: float, price_output: float) -> str:
    """The human table for `trayassist ledger` and the tray's ledger entry."""
    lines = [f"trayassist ledger (counting since {ledger.since or 'the first job'})", ""]
    lines.append(f"{'ACTION':<14} {'JOBS':>6} {'WORDS':>9} {'TOKENS IN':>10} {'TOKENS OUT':>11}")
    for name, c in sorted(ledger.actions.items()):
        lines.append(f"{name:<14} {c.jobs:>6} {c.words:>9} {c.input_tokens:>10} "
                     f"{c.output_tokens:>11}")
    lines.append(f"{'total':<14} {ledger.jobs:>6} {ledger.words:>9} {ledger.input_tokens:>10} "
                 f"{ledger.output_tokens:>11}")
    lines.append("")
    where = ", ".join(ledger.remote_hosts) if ledger.remote_hosts else "none"
    lines.append(f"bytes sent off this machine: {ledger.bytes_sent_remote} (hosts: {where})")
    lines.append(f"the same tokens on a hosted API: ${ledger.cost(price_input, price_output):.4f}"
                 f" at ${price_input:g} in / ${price_output:g} out per 1M tokens")
    lines.append("only counters are kept here, never any of your text")
    return "\n".join(lines)
