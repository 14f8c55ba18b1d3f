"""`trayassist eval`: run the built-in evaluation set on a model, print a table, write JSON."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path


def cmd_eval(args: argparse.Namespace) -> int:
    from trayassist import capabilities, evaluation, models, paths
    from trayassist.cli import MODEL_ERROR, OK, USAGE, _config, _err
    from trayassist.engines import EngineError, make_engine

    cfg = _config(args)
    which = [args.action] if args.action else list(evaluation.ACTIONS)
    missing = [a for a in which if a not in cfg.actions]
    if missing:
        _err(f"unknown action {missing[0]!r} (evaluated: {', '.join(evaluation.ACTIONS)})")
        return USAGE
    try:
        model = models.resolve(args.model or cfg.model)
        engine = make_engine(args.engine or cfg.engine, model.path, model.chat_format,
                             threads=cfg.threads, cache_dir=paths.cache_dir())
        engine.load()
    except (models.ModelError, EngineError) as exc:
        _err(str(exc))
        return MODEL_ERROR

    def progress(text: str) -> None:
        if not args.quiet:
            sys.stderr.write(text)
            sys.stderr.flush()

    try:
        reports = evaluation.evaluate(engine, dict(cfg.actions), which, progress)
    finally:
        engine.close()
    date = _dt.date.today().isoformat()
    result = evaluation.to_json(model.name, engine.info.name, reports, date)
    out = Path(args.json) if args.json else (
        paths.data_dir() / "eval" / f"{model.name}-{engine.info.name}-{date}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"model {model.name} on {engine.info.name}, {date}")
    print(evaluation.table(reports))
    print(f"JSON: {out}")
    if not args.no_record:
        print(f"capabilities recorded in {capabilities.record(result)}")
    return OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure what a model can be trusted with "
                       "(built-in set per action)")
    p.add_argument("--model", metavar="NAME|PATH", help="catalog name or .gguf path "
                   "(default: the active model)")
    p.add_argument("--engine", choices=("auto", "llama-cpp", "gpt4all"))
    p.add_argument("--action", help="only this action (proofread, rewrite, summarize, "
                   "translate)")
    p.add_argument("--json", metavar="FILE", help="where to write the JSON report "
                   "(default: the data folder's eval/)")
    p.add_argument("--no-record", action="store_true",
                   help="do not record the result as this machine's capabilities")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress dots")
    p.set_defaults(func=cmd_eval)
