"""`trayassist server ...`: the OpenAI-compatible server of engine "openai"."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _err(message: str) -> None:
    print(f"trayassist: {message}", file=sys.stderr)


def cmd_server_token(args: argparse.Namespace) -> int:
    from trayassist.cli_secret import set_or_clear_secret
    from trayassist.desktop.secrets import SERVER_TOKEN

    return set_or_clear_secret(
        args.token_command, SERVER_TOKEN, noun="API key", ask="API key of the server: ",
        sent_to='engine "openai" sends it to base_url only',
        unavailable_hint=" (or set TRAYASSIST_SERVER_TOKEN)")


def cmd_server_check(args: argparse.Namespace) -> int:
    from trayassist.config import load_config
    from trayassist.engines import EngineError
    from trayassist.engines.openai_engine import OpenAIEngine

    cfg = load_config()
    try:
        engine = OpenAIEngine(cfg.base_url, cfg.model, allow_remote=cfg.allow_remote)
        engine.load()
    except EngineError as exc:
        _err(str(exc))
        return 5
    engine.close()
    where = (f"not on this machine: your text goes to {engine.remote_host}"
             if engine.remote_host else "on this machine")
    print(f"ok: {cfg.base_url} serves {cfg.model} ({where})")
    return 0


def register(subparsers: Any) -> None:
    """Add `server` to the top-level subcommands."""
    server = subparsers.add_parser(
        "server", help='the OpenAI-compatible server of engine "openai": API key, check')
    ssub = server.add_subparsers(dest="server_command", metavar="SUBCOMMAND", required=True)
    token = ssub.add_parser("token", help="store or clear its API key (OS keyring)")
    token.add_argument("token_command", choices=("set", "clear"))
    token.set_defaults(func=cmd_server_token)
    ssub.add_parser("check", help="connect to base_url and check it serves the model").\
        set_defaults(func=cmd_server_check)
