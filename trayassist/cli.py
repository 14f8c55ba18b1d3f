"""The `trayassist` command: parse, call the core, print. No logic of its own."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence

from trayassist import __version__, paths

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, TextIO

    from trayassist.config import Config

# Imports of the core stay inside the commands: `status` and `trigger` (run from compositor
# key bindings) must not pay for config, models or engines.

# Exit codes (documented in the README; the tray and the benchmarks rely on them).
OK, FAILED, USAGE, GUARD, EMPTY_INPUT, MODEL_ERROR, GENERATION_ERROR = 0, 1, 2, 3, 4, 5, 6
INTERRUPTED = 130
READER_GONE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left

Handler = Callable[[argparse.Namespace], int]


def _err(message: str) -> None:
    print(f"trayassist: {message}", file=sys.stderr)


def _config(args: argparse.Namespace) -> Config:
    from trayassist.config import load_config

    return load_config()


def _read_input(args: argparse.Namespace) -> str:
    """--text, or stdin as strict UTF-8 (raises BadInput: never a traceback)."""
    from trayassist.transform import BadInput

    if args.text is not None:
        return str(args.text)  # undecodable argv bytes arrive as surrogates: check_input
    data = sys.stdin.buffer.read()
    # The text keeps its own line ends (read as bytes): write them back untranslated, or
    # Windows' text-mode stdout turns each \r\n into \r\r\n.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(newline="")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"the input is not valid UTF-8 (byte 0x{data[exc.start]:02x} at "
                       f"offset {exc.start}): convert it first, e.g. with iconv") from exc


def cmd_run(args: argparse.Namespace) -> int:
    from trayassist import models
    from trayassist.cleanup import StreamCleaner
    from trayassist.engines import EngineError, engine_from_config
    from trayassist.engines.base import ModelLoadError
    from trayassist.transform import BadInput, EmptyInput, Progress, check_input, transform

    cfg = _config(args)
    action = cfg.actions.get(args.action)
    if action is None:
        _err(f"unknown action {args.action!r} (available: {', '.join(cfg.actions)})")
        return USAGE
    try:
        text = _read_input(args)
        check_input(text)
    except EmptyInput:
        _err("empty input: pass --text or pipe text on stdin")
        return EMPTY_INPUT
    except BadInput as exc:
        _err(str(exc))
        return EMPTY_INPUT
    try:
        engine = engine_from_config(cfg, model=args.model, engine=args.engine)
        engine.load()
    except (models.ModelError, ModelLoadError) as exc:
        _err(str(exc))
        return MODEL_ERROR
    except EngineError as exc:
        _err(str(exc))
        return USAGE
    from trayassist import capabilities, ledger

    model_name = capabilities.model_key(args.model or cfg.model, engine)
    capability = capabilities.lookup(model_name, action.name, engine.info.name)
    if not capability.trusted:
        _err(capabilities.advice(action.name, model_name)
             + ("" if args.strict else " (the result below may be wrong)"))
        if args.strict:
            engine.close()
            return GUARD
    meter = ledger.EngineMeter(engine)
    # Streaming: a one-prompt job prints cleaned lines as they come; a job in pieces
    # prints each finished piece in its place; a long summary prints at the end (its
    # section summaries are not the result). --strict prints only a result that passed.
    stream = None if args.strict else StreamCleaner(text)
    pieces = {"mode": "text"}
    show_progress = sys.stderr.isatty()

    def on_piece(piece: str) -> None:
        if stream is not None and pieces["mode"] == "text":
            sys.stdout.write(stream.feed(piece))
            sys.stdout.flush()

    def on_progress(progress: Progress) -> None:
        if progress.total > 1:
            pieces["mode"] = progress.unit
        if stream is not None and progress.unit not in ("text", "section"):
            sys.stdout.write(stream.finish(progress.text_so_far))
            sys.stdout.flush()
        if show_progress and progress.total > 1 and progress.done < progress.total:
            sys.stderr.write(f"\r{action.name}: {progress} ")
            sys.stderr.flush()

    try:
        outcome = transform(action, text, engine, language=args.to or cfg.translate_to,
                            cancel=threading.Event(), on_piece=on_piece,
                            on_progress=on_progress)
    except BadInput as exc:
        _err(str(exc))
        return EMPTY_INPUT
    except EngineError as exc:
        _err(f"{action.name} failed: {exc}")
        return GENERATION_ERROR
    finally:
        engine.close()
        if show_progress and pieces["mode"] != "text":
            sys.stderr.write("\r\033[K")
    ledger.record(action.name, words=len(text.split()), input_tokens=outcome.input_tokens,
                  output_tokens=outcome.pieces, bytes_sent_remote=meter.sent(),
                  remote_host=meter.host)
    for warning in outcome.warnings:
        _err(f"guard: {warning}")
    if args.strict and outcome.warnings:
        count = len(outcome.flags) + outcome.looped + len(outcome.notes)
        _err(f"--strict: {count} guard flag(s); result not printed")
        return GUARD
    sys.stdout.write(stream.finish(outcome.text) if stream is not None else outcome.text)
    sys.stdout.flush()
    return OK


def cmd_actions(args: argparse.Namespace) -> int:
    cfg = _config(args)
    for action in cfg.actions.values():
        origin = "built-in" if action.builtin else "custom"
        print(f"{action.name:<12} {action.hotkey or '(no hotkey)':<26} {origin}")
        print(f"    {action.instruction_for(cfg.translate_to)}")
    return OK


def cmd_models_list(args: argparse.Namespace) -> int:
    from trayassist import models
    from trayassist.text_table import table

    cfg = _config(args)
    rows = [["NAME", "SIZE", "FORMAT", "INSTALLED", "ACTIVE", "ENGINES", "LICENSE"]]
    for entry in models.CATALOG.values():
        rows.append([entry.name, f"{entry.size / 1e6:.0f}MB", entry.chat_format,
                     "yes" if models.installed_path(entry) else "no",
                     "*" if cfg.model == entry.name else "", ",".join(entry.engines),
                     entry.license])
    print("\n".join(table(rows, right=frozenset({1}))))
    from trayassist import discovery

    found = discovery.find_all()
    if found:
        print("\nFound on this machine (used in place, never modified; checked for being "
              "readable GGUF, not by SHA-256):")
        rows = [["SOURCE", "SIZE", "ACTIVE", "NAME (for `models use`)"]]
        rows += [[model.source, f"{model.size / 1e6:.0f}MB",
                  "*" if cfg.model == model.spec else "", model.spec] for model in found]
        print("\n".join(table(rows, right=frozenset({1}))))
    if cfg.model not in models.CATALOG and not any(m.spec == cfg.model for m in found):
        kind = "server model" if cfg.engine == "openai" else "file, not in the catalog"
        print(f"active: {cfg.model} ({kind})")
    return OK


def cmd_models_pull(args: argparse.Namespace) -> int:
    from trayassist import models
    from trayassist.download import DownloadError

    try:
        path = models.pull(args.name, progress=sys.stderr.isatty())
    except (models.ModelError, DownloadError) as exc:
        _err(str(exc))
        return MODEL_ERROR
    print(path)
    return OK


def cmd_models_use(args: argparse.Namespace) -> int:
    from trayassist import models

    _config(args)  # refuse to edit a config that does not load
    try:
        value = models.set_active(args.spec, paths.config_file())
    except models.ModelError as exc:
        _err(str(exc))
        return MODEL_ERROR
    print(f"active model: {value} (in {paths.config_file()})")
    return OK


def cmd_models_token(args: argparse.Namespace) -> int:
    from trayassist.cli_secret import set_or_clear_secret
    from trayassist.desktop.secrets import HF_TOKEN

    return set_or_clear_secret(
        args.token_command, HF_TOKEN, noun="token", ask="Hugging Face token: ",
        sent_to="`models pull` sends it to huggingface.co only")


def cmd_config_path(args: argparse.Namespace) -> int:
    print(paths.config_file())
    return OK


def cmd_config_init(args: argparse.Namespace) -> int:
    from trayassist.config import write_default_config

    target = paths.config_file()
    write_default_config(target)
    print(f"wrote {target}")
    return OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from trayassist.doctor import run_checks

    ok = True
    for check in run_checks():
        mark = "ok " if check.ok else "-- "
        print(f"{mark} {check.name:<14} {check.detail}")
        if not check.ok:
            ok = ok and not check.required
            if check.fix:
                print(f"    fix: {check.fix}")
    return OK if ok else FAILED


def cmd_daemon(args: argparse.Namespace) -> int:
    from trayassist.daemon import run_daemon

    return run_daemon(_config(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trayassist",
        description="A private writing assistant: a small language model on your machine.",
    )
    parser.add_argument("--version", action="version", version=f"trayassist {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log events to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run an action on text (stdin or --text)")
    run.add_argument("action")
    run.add_argument("--text", help="the text (default: read stdin)")
    run.add_argument("--to", metavar="LANG", help="target language for translate")
    run.add_argument("--model", metavar="NAME|PATH",
                     help="catalog name, ollama:NAME:TAG (etc.) or .gguf path; "
                     "with --engine openai the server's model name")
    run.add_argument("--engine", choices=("auto", "llama-cpp", "gpt4all", "openai"))
    run.add_argument("--strict", action="store_true",
                     help="exit 3 instead of printing a result the guard flagged")
    run.set_defaults(func=cmd_run)

    sub.add_parser("actions", help="list actions").set_defaults(func=cmd_actions)

    mod = sub.add_parser("models", help="list, pull or choose models")
    msub = mod.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)
    msub.add_parser("list", help="catalog and installed models").set_defaults(
        func=cmd_models_list)
    pull = msub.add_parser("pull", help="download a catalog model (resumable, verified)")
    pull.add_argument("name")
    pull.set_defaults(func=cmd_models_pull)
    use = msub.add_parser("use", help="make a model active: a catalog name, a model found "
                          "on this machine (ollama:NAME:TAG, lmstudio:.., gpt4all:.., hf:..) "
                          "or a .gguf path")
    use.add_argument("spec", metavar="NAME|SOURCE:NAME|PATH")
    use.set_defaults(func=cmd_models_use)
    token = msub.add_parser("token", help="store or clear a Hugging Face token (OS keyring) "
                            "for gated models")
    token.add_argument("token_command", choices=("set", "clear"))
    token.set_defaults(func=cmd_models_token)

    conf = sub.add_parser("config", help="where the config lives; write a default one")
    csub = conf.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    csub.add_parser("path", help="print the config file's path").set_defaults(
        func=cmd_config_path)
    csub.add_parser("init", help="write a commented default config").set_defaults(
        func=cmd_config_init)

    sub.add_parser("doctor", help="check what works and what is missing").set_defaults(
        func=cmd_doctor)

    sub.add_parser("daemon", help="start the tray daemon (the default)").set_defaults(
        func=cmd_daemon)
    from trayassist import (
        cli_apps,
        cli_autostart,
        cli_bench,
        cli_control,
        cli_eval,
        cli_hotkeys,
        cli_ledger,
        cli_server,
    )

    cli_control.register(sub)
    cli_bench.register(sub)
    cli_apps.register(sub)
    cli_server.register(sub)
    cli_autostart.register(sub)
    cli_hotkeys.register(sub)
    cli_eval.register(sub)
    cli_ledger.register(sub)
    return parser


class _WindowsStdout:
    """stdout on Windows, where a write to a pipe whose reader left fails with OSError
    EINVAL instead of BrokenPipeError: say it the POSIX way, for stdout only."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise BrokenPipeError(errno.EPIPE, "the reader of stdout went away") from exc
            raise

    def write(self, text: str) -> int:
        written: int = self._call(self._stream.write, text)
        return written

    def flush(self) -> None:
        self._call(self._stream.flush)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="trayassist: %(levelname)s %(name)s: %(message)s")
    handler: Handler = getattr(args, "func", cmd_daemon)  # no command: start the tray
    if sys.platform == "win32" and sys.stdout is not None:
        sys.stdout = _WindowsStdout(sys.stdout)  # type: ignore[assignment]
    try:
        return handler(args)
    except KeyboardInterrupt:
        _err("interrupted")
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`trayassist run ... | head`): a normal end for a CLI.
        # Point stdout at devnull so the interpreter's last flush cannot raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return READER_GONE
    except Exception as exc:
        from trayassist.config import ConfigError  # only now: see the imports above

        if not isinstance(exc, ConfigError):
            raise
        _err(str(exc))
        return USAGE
