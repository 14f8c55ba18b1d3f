"""`trayassist apps`: the per-app profiles, and what the focused app gets."""

from __future__ import annotations

import argparse
import json
import time

TYPE_CHECKING = False  # registered on every CLI start: keep imports inside the command
if TYPE_CHECKING:
    from typing import Any


def register(sub: Any) -> None:
    apps = sub.add_parser("apps", help="per-app profiles (terminals, editors...) and what "
                          "the focused app gets")
    apps.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                      help="wait this long before asking which app is focused (time to "
                           "click into the app you want to check)")
    apps.add_argument("--json", action="store_true", help="one JSON object")
    apps.set_defaults(func=cmd_apps)


def _focused(delay: float) -> tuple[Any, str, Any]:
    """(AppInfo or None, why unknown, the desktop or None)."""
    from trayassist.desktop import DesktopUnavailable, make_desktop

    try:
        desktop = make_desktop()
    except DesktopUnavailable as exc:
        return None, str(exc), None
    if delay > 0:
        time.sleep(delay)
    app = desktop.focus.focused_app()
    return app, "" if app else f"the {desktop.backend} desktop cannot tell", desktop


def cmd_apps(args: argparse.Namespace) -> int:
    from trayassist.apps import (
        BUILTIN_PROFILES,
        DEFAULT,
        PlatformKeys,
        describe,
        focused_plan,
        lookup,
        platform_keys,
    )
    from trayassist.config import load_config
    from trayassist.text_table import table

    cfg = load_config()
    app, why, desktop = _focused(args.delay)
    platform = platform_keys(desktop) if desktop is not None else PlatformKeys()
    names = sorted(set(BUILTIN_PROFILES) | set(cfg.apps))
    rows = []
    for name in names:
        _, origin, profile = lookup(name, cfg.apps)
        rows.append({"app": name, "origin": origin, "kind": profile.kind,
                     **describe(profile, platform), "note": profile.note})
    focused: dict[str, Any] = {"app": None, "why_unknown": why}
    if desktop is not None:
        app, plan = focused_plan(desktop, cfg)
        shown = describe(lookup(None if plan.profile == DEFAULT else plan.profile,
                                cfg.apps)[2], platform)
        if app is None and plan.copy:  # unknown focus: never Ctrl+C (it may be a terminal)
            shown["copy"] = plan.copy
        focused = {"app": app.app_id if app else None, "process": app.process if app else None,
                   "profile": plan.profile, "origin": plan.origin, **shown,
                   "delivery": plan.delivery, "why_unknown": why}
    if args.json:
        print(json.dumps({"profiles": rows, "focused": focused}, indent=2))
        return 0
    columns = ("app", "kind", "capture", "copy", "paste", "delivery", "enabled", "origin")
    print("\n".join(table([["APP", "KIND", "CAPTURE", "COPY", "PASTE", "DELIVERY", "ON",
                             "ORIGIN"]] + [[str(r[c]) for c in columns] for r in rows])))
    default = describe(lookup(None, cfg.apps)[2], platform)
    print(f"\nany other app: capture {default['capture']}, copy {default['copy']}, "
          f"paste {default['paste']}, delivery {cfg.delivery} (config)")
    if focused["app"] is None:
        copy = f", with copy {focused['copy']}" if "copy" in focused else ""
        print(f"focused app: unknown ({why}): it gets the default profile{copy}")
    else:
        print(f"focused app: {focused['app']} (process {focused['process'] or '?'}) -> "
              f"profile {focused['profile']} ({focused['origin']}): capture "
              f"{focused['capture']}, copy {focused['copy']}, paste {focused['paste']}, "
              f"delivery {focused['delivery']}, enabled {focused['enabled']}")
    return 0
