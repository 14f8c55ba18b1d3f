"""`trayassist server ...`: the OpenAI-compatible server of engine "openai"."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _err(message: str) -> None:
    print(f"trayassist: {message}", file=sys.stderr)


def cmd_server_token(args: argparse.Namespace) -> int:
    import getpass

    from trayassist.desktop.secrets import (
        SERVER_TOKEN,
        SecretStoreUnavailable,
        delete_secret,
        set_secret,
    )

    try:
        if args.token_command == "clear":
            print("API key removed" if delete_secret(SERVER_TOKEN) else "no API key was stored")
            return 0
        # Read without echo, never from argv: argv is visible to every user in `ps`.
        token = (getpass.getpass("API key of the server: ") if sys.stdin.isatty()
                 else sys.stdin.readline()).strip()
        if not token:
            _err("empty API key: nothing stored")
            return 4
        set_secret(SERVER_TOKEN, token)
    except SecretStoreUnavailable as exc:
        _err(f"{exc} (or set TRAYASSIST_SERVER_TOKEN)")
        return 1
    print("API key stored in the system keyring; engine \"openai\" sends it to base_url only")
    return 0


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
