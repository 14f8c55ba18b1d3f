"""The composition root: config -> desktop -> worker -> tray -> control socket.

Threads: the main thread runs the tray loop; the worker owns the engine; pynput's
listener thread and the control threads only enqueue. SIGTERM/SIGINT (SIGBREAK on
Windows), Quit in the menu and `trayassist quit` cancel the running job, which restores
the clipboard, and exit within ~2 s.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from trayassist import capabilities, ledger, paths
from trayassist.actions import Action
from trayassist.apps import Plan, focused_plan
from trayassist.config import Config
from trayassist.control import ControlServer
from trayassist.engines import Engine, engine_from_config
from trayassist.instance import AlreadyRunning, acquire_single_instance, stop_signals
from trayassist.pipeline import JobResult, Status, run_job
from trayassist.ports import AppInfo
from trayassist.review import ReviewHost, WindowFocus
from trayassist.transform import Progress, capped_lines
from trayassist.tray_text import progress_tooltip, tooltip
from trayassist.worker import State, Worker

log = logging.getLogger(__name__)

SHUTDOWN_JOIN_S = 1.5  # the job gets this long to notice the cancel and restore
TRIGGER_WAIT_S = 300.0


def _load_engine(cfg: Config) -> Engine:
    """Worker thread: resolve + verify the model, load it, warm every action's head."""
    from trayassist.prompting import build_prompt

    engine = engine_from_config(cfg)
    engine.load()
    for action in cfg.actions.values():
        engine.warm(build_prompt(engine.chat_format,
                                 action.instruction_for(cfg.translate_to), "", action.example))
    return engine


def _review_host(backend: str) -> ReviewHost:
    """The review window / launcher process; on X11 and Windows it gives the focus back
    itself (on Wayland the compositor does)."""
    focus: WindowFocus | None = None
    if backend == "x11":
        from trayassist.desktop.x11.activate import X11WindowFocus

        focus = X11WindowFocus()
    host = ReviewHost(log_path=paths.runtime_dir() / "review-events.log", focus=focus)
    if backend == "windows":
        from trayassist.desktop.windows.activate import WindowsWindowFocus

        host.focus = WindowsWindowFocus(host.window_pid)
    return host


class Daemon:
    def __init__(self, cfg: Config) -> None:
        from trayassist.desktop import make_desktop

        self.cfg = cfg
        self.tray: Any = None  # set in run(); notifications may arrive before it exists
        # notify-send where installed; otherwise messages go to the tray's tooltip.
        self.desktop = make_desktop(notify_fallback=self._show_in_tooltip)
        self._last_message = ""
        self.worker = Worker(
            lambda: _load_engine(cfg),
            self._run,
            on_result=self._on_result,
            on_state=self._on_state,
        )
        self.control = ControlServer(self._handle_control, on_quit=self.shutdown)
        self._stopping = threading.Event()
        self.review = _review_host(self.desktop.backend)

    # -- worker thread ------------------------------------------------------------

    def _run(self, action: Action, engine: Engine, cancel: threading.Event) -> JobResult:
        app, plan = self.plan()
        meter = ledger.EngineMeter(engine)
        model = capabilities.model_key(self.cfg.model, engine)
        capability = capabilities.lookup(model, action.name, engine.info.name)
        note = None if capability.trusted else capabilities.advice(action.name, model)
        result = run_job(action, self.desktop.clipboard, self.desktop.keys, engine, cancel,
                         language=self.cfg.translate_to, delivery=self._delivery(),
                         plan=plan, primary=self.desktop.primary, app=app,
                         on_progress=lambda p: self._on_progress(action, p),
                         reviewer=self.review, capable=capability.trusted, note=note)
        if result.stats is not None:  # the model ran: count it (never the text)
            ledger.record(action.name, words=result.stats.words,
                          input_tokens=result.stats.input_tokens,
                          output_tokens=result.stats.output_tokens,
                          bytes_sent_remote=meter.sent(), remote_host=meter.host)
        if result.status is Status.COPIED and not getattr(self.desktop.keys, "can_inject",
                                                          True):
            # No key injection here (Wayland without the virtual keyboard or the
            # RemoteDesktop portal): say how to finish by hand.
            result = dataclasses.replace(result, message=f"{action.name}: the result is on "
                                         "the clipboard: paste it with Ctrl+V.")
        return result

    def plan(self) -> tuple[AppInfo | None, Plan]:
        """The focused app and what it gets (its profile). Worker thread."""
        return focused_plan(self.desktop, self.cfg)

    def _delivery(self) -> str:
        """Without key injection (GNOME/KDE lacking the RemoteDesktop portal) the result
        can only be left on the clipboard."""
        return self.cfg.delivery if getattr(self.desktop.keys, "can_inject", True) \
            else "clipboard"

    def _on_progress(self, action: Action, progress: Progress) -> None:
        """Worker thread: "rewrite: paragraph 3 of 12" in the tooltip of a long job."""
        tip = progress_tooltip(action.name, progress)
        if tip is not None and self.tray is not None:
            self.tray.show(State.BUSY.value, tip)

    def _on_result(self, action: Action, result: JobResult) -> None:
        if result.status is Status.DISABLED:
            return  # the user turned trayassist off in this app: stay silent
        if result.reviewed:
            if result.status not in (Status.DONE, Status.DISCARDED):
                self._notify(result.message)
        elif result.flags:
            changes = "; ".join(capped_lines(tuple(str(f) for f in result.flags), "changes"))
            # The flags quote the user's numbers, e-mails, URLs: shown, never logged.
            self._notify(f"{action.name}: check the result: {changes}",
                         logged=f"{action.name}: check the result ({len(result.flags)} "
                                "guard flags)")
        elif result.status is not Status.DONE:
            self._notify(result.message)
        self._last_message = result.message

    # -- any thread ---------------------------------------------------------------

    def _notify(self, message: str, logged: str | None = None) -> None:
        """`logged`: what the log gets instead of a message that quotes the user's text."""
        log.info("notify: %s", message if logged is None else logged)
        self.desktop.notifier.notify("trayassist", message)

    def _on_state(self, state: State) -> None:
        if self.tray is not None:
            self.tray.show(state.value, self._tooltip(state))

    def _tooltip(self, state: State) -> str:
        return tooltip(state, self.worker.engine, self.cfg.model, self.worker.error)

    def _hotkey_callback(self, name: str) -> Callable[[], None]:
        def on_hotkey() -> None:
            """The hotkey listener's thread: enqueue and return at once."""
            self.worker.submit(self.cfg.actions[name], from_hotkey=True)

        return on_hotkey

    def status(self) -> dict[str, Any]:
        engine = self.worker.engine
        counts = self.worker.counts
        return {
            "state": self.worker.state.value,
            "jobs_done": counts.done,
            "jobs": {"succeeded": counts.succeeded, "refused": counts.refused,
                     "failed": counts.failed},
            "model": str(engine.info.model_path) if engine else self.cfg.model,
            "engine": engine.info.name if engine else self.cfg.engine,
            "endpoint": engine.info.endpoint if engine else None,
            "remote_host": engine.info.remote_host if engine else None,
            "error": self.worker.error or None,
            "last_message": self._last_message,
            "pid": os.getpid(),
        }

    def _handle_control(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = request.get("cmd")
        if cmd == "status":
            return {"ok": True, **self.status()}
        if cmd == "trigger":
            name = str(request.get("action", ""))
            if name not in self.cfg.actions:
                return {"ok": False, "error": f"unknown action {name!r} "
                        f"(available: {', '.join(self.cfg.actions)})"}
            job = self.worker.submit(self.cfg.actions[name], from_hotkey=False)
            if not job.done.wait(TRIGGER_WAIT_S) or job.result is None:
                return {"ok": False, "error": "timed out waiting for the job"}
            result = job.result
            return {"ok": result.status in (Status.DONE, Status.COPIED),
                    "status": result.status.value, "message": result.message,
                    "flags": [str(f) for f in result.flags]}
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    def shutdown(self) -> None:
        """Any thread, idempotent: cancel the job and stop the tray loop."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        log.info("shutting down")
        self.worker.cancel()
        if self.tray is not None:
            self.tray.stop()

    # -- main thread ----------------------------------------------------------------

    def _menu(self) -> list[Any]:
        from trayassist.desktop.tray import MenuItem

        items = [
            MenuItem(f"{a.name.capitalize()} selection", self._menu_runner(a.name),
                     default=(i == 0))
            for i, a in enumerate(self.cfg.actions.values())
        ]
        items += [
            MenuItem("Cancel running job", self.worker.cancel),
            MenuItem("Pause hotkeys", lambda: self.worker.set_paused(not self.worker.paused),
                     checked=lambda: self.worker.paused),
            MenuItem("Copy last original text", self._copy_last_original),
            MenuItem("Privacy ledger", self._show_ledger),
            MenuItem("Open config", self._open_config),
            MenuItem("Quit", self.shutdown),
        ]
        return items

    def _launcher_items(self) -> dict[str, Callable[[], None]]:
        """What the launcher offers where the tray has no menu: actions, cancel (while a
        job runs), pause, ledger, quit (labels -> what they do)."""
        items = {f"{a.name.capitalize()} selection": self._menu_runner(a.name)
                 for a in self.cfg.actions.values()}
        if self.worker.state is State.BUSY:  # a job without a window can be stopped too
            items["Cancel running job"] = self.worker.cancel
        pause = "Resume hotkeys" if self.worker.paused else "Pause hotkeys"
        items[pause] = lambda: self.worker.set_paused(not self.worker.paused)
        items["Privacy ledger"] = self._show_ledger
        items["Quit"] = self.shutdown
        return items

    def _open_launcher(self) -> None:
        """Tray click on a menu-less backend (tray loop thread): show the launcher."""
        items = self._launcher_items()

        def chosen(label: str) -> None:
            action = items.get(label)
            if action is not None:
                action()

        self.review.launcher(list(items), chosen)

    def _show_ledger(self) -> None:
        counts = ledger.load()
        text = ledger.format_ledger(counts, self.cfg.api_price_input, self.cfg.api_price_output)
        self.review.info("trayassist privacy ledger", text)

    def _menu_runner(self, name: str) -> Callable[[], None]:
        def run() -> None:
            self.worker.submit(self.cfg.actions[name], from_hotkey=False)

        return run

    def _copy_last_original(self) -> None:
        if self.worker.last_original is None:
            self._notify("No job has run yet.")
        else:
            self.desktop.clipboard.write_text(self.worker.last_original)

    def _open_config(self) -> None:
        from trayassist.config import write_default_config

        target = paths.config_file()
        if not target.exists():
            write_default_config(target)
        opener = {"darwin": ["open"], "win32": ["cmd", "/c", "start", ""]}.get(
            sys.platform, ["xdg-open"])
        try:
            subprocess.Popen([*opener, str(target)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        except OSError:
            self._notify(f"Config file: {target}")

    def run(self) -> int:
        from trayassist.desktop.tray import MenuItem, Tray, backend_has_menu

        bindings = {a.hotkey: self._hotkey_callback(a.name)
                    for a in self.cfg.actions.values() if a.hotkey}
        wayland = self.desktop.backend == "wayland"
        if backend_has_menu(wayland):
            self.tray = Tray("trayassist", self._menu(), wayland=wayland)
        else:
            self.tray = Tray("trayassist", [MenuItem("Open trayassist", self._open_launcher,
                                                     default=True)],
                             wayland=wayland)

        names = {a.hotkey: a.name for a in self.cfg.actions.values() if a.hotkey}

        def setup() -> None:
            from trayassist.desktop import HotkeyTaken

            self.worker.start()
            if self.cfg.delivery in ("auto", "review"):
                self.review.start()  # ready before the first job: the window shows at once
            try:
                self.control.start()
            except (OSError, ValueError) as exc:
                # Keep running: hotkeys and the menu still work without the CLI channel.
                log.error("control channel unavailable: %s", exc)
                self._notify(f"`trayassist status/trigger/quit` unavailable: {exc}")
            try:
                self.desktop.hotkeys.start(bindings, names)
            except HotkeyTaken as exc:
                # Keep running: the menu and `trayassist trigger` still work.
                log.error("%s", exc)
                self._notify(str(exc))
            else:
                log.info("ready for hotkeys: %s", ", ".join(bindings))
            self._on_state(self.worker.state)

        previous = {sig: signal.signal(sig, lambda *_: self.shutdown())
                    for sig in stop_signals()}
        try:
            self.tray.run(setup)
        finally:
            self.shutdown()
            self.desktop.hotkeys.stop()
            self.control.stop()
            self.review.stop()  # never blocks; an open window reads as discarded
            self.worker.stop(SHUTDOWN_JOIN_S)
            hand_off = getattr(self.desktop.clipboard, "hand_off", None)
            if hand_off is not None:
                hand_off()  # X11: the clipboard outlives us, as it did before the job
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _show_in_tooltip(self, title: str, message: str) -> None:
        if self.tray is not None:
            self.tray.show(self.worker.state.value, f"trayassist: {message}")


def run_daemon(cfg: Config) -> int:
    """`trayassist` / `trayassist daemon`. Returns the exit code."""
    from trayassist.desktop import DesktopUnavailable

    try:
        lock = acquire_single_instance()
    except AlreadyRunning as exc:
        print(f"trayassist: {exc}", file=sys.stderr)
        return 1
    try:
        try:
            daemon = Daemon(cfg)
        except DesktopUnavailable as exc:
            print(f"trayassist: {exc}", file=sys.stderr)
            return 1
        return daemon.run()
    finally:
        lock.release()

