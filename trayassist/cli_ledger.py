"""`trayassist ledger`: the privacy ledger's counters (never any text)."""

from __future__ import annotations

import argparse
import json


def cmd_ledger(args: argparse.Namespace) -> int:
    from trayassist import ledger
    from trayassist.cli import OK, _config

    cfg = _config(args)
    price_in = cfg.api_price_input if args.price_input is None else args.price_input
    price_out = cfg.api_price_output if args.price_output is None else args.price_output
    counts = ledger.load()
    if args.json:
        print(json.dumps(counts.to_json(price_in, price_out)))
    else:
        print(ledger.format_ledger(counts, price_in, price_out))
        print(f"file: {ledger.ledger_file()}")
    return OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ledger", help="jobs, words and tokens processed on this machine, "
                       "bytes sent elsewhere, and what a hosted API would have cost")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--price-input", type=float, metavar="USD",
                   help="hosted API price per 1M input tokens (default: config "
                   "api_price_input, else gpt-4o-mini's $0.15)")
    p.add_argument("--price-output", type=float, metavar="USD",
                   help="per 1M output tokens (default: config api_price_output, else $0.60)")
    p.set_defaults(func=cmd_ledger)
