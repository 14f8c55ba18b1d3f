"""The review window on Windows: a native Win32 window (ctypes), because the embeddable
CPython the installer ships has no tkinter.

    python -m trayassist.desktop.windows.review_window [--log FILE]

Speaks exactly the protocol of trayassist.review_window (JSON lines on stdin and stdout;
see that module's docstring) and writes the same `--log` events (times, event names and
counts, never any text), so trayassist.review.ReviewHost drives either one.

Differences from the Tk window:
- "launcher" with items (the launcher) is answered at once with an empty choice and not
  shown: on Windows pystray's tray icon has a real menu, so the daemon never asks for a
  launcher; the answer only keeps a caller from waiting. Without items it is a read-only
  panel (the privacy ledger from the tray menu): shown, closed by Esc or Enter.
- Before it hides after a choice, the window lets any process take the foreground
  (AllowSetForegroundWindow), so the daemon may give the keyboard back to the target.

Threads: the main thread owns the window and runs its message loop; a reader thread
turns stdin lines into a queue and posts a message per line (WM_APP), so only the
window thread touches windows.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Any, TextIO

from trayassist.review_protocol import ProtocolSide
from trayassist.review_window import KEYS_HINT, word_diff

REVIEW, PANEL = "review", "panel"


class WindowsReviewApp(ProtocolSide):
    """The protocol's state, on the window thread (except `read_stdin`)."""

    def __init__(self, log_path: str | None, out: TextIO | None = None) -> None:
        from trayassist.desktop.windows.review_ui import ReviewWindowUI

        super().__init__(log_path, out)
        self.note = ""
        self.size = (0, 0)
        self.ui = ReviewWindowUI(self.key, lambda: self.choose("discard"), self._pump,
                                 KEYS_HINT)
        self.size = self.ui.layout()

    # -- plumbing ---------------------------------------------------------------

    def _pump(self) -> None:
        while True:
            try:
                msg = self.inbox.get_nowait()
            except queue.Empty:
                return
            if msg is None or msg.get("op") == "quit":
                self.ui.destroy()  # the daemon quit, or went away: the loop ends
                return
            self.handle(msg)

    def run(self, stream: TextIO) -> None:
        threading.Thread(target=self.read_stdin, args=(stream, self.ui.post_inbox),
                         name="review-stdin",
                         daemon=True).start()
        self.ui.run()

    # -- review -----------------------------------------------------------------

    def handle(self, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        review = self.mode == REVIEW
        if op == "open":
            self.open_review(msg)
        elif op == "launcher" and not msg.get("items") and msg.get("body"):
            self.open_panel(msg)
        elif op == "launcher":
            # Not on Windows (the tray has a menu): answer so nothing waits on it.
            self.log("launcher_declined", items=len(msg.get("items") or []))
            self.send({"session": msg.get("session"), "choice": ""})
        elif op == "piece" and review:
            self.add_piece(str(msg.get("text", "")))
        elif op == "progress" and review:
            self.ui.set_label(self.ui.status,
                              f"writing: {msg.get('unit', 'part')} "
                              f"{int(msg.get('done', 0)) + 1} of {msg.get('total', 1)}")
        elif op == "final" and review:
            self.show_final(str(msg.get("text", "")), [str(w) for w in msg.get("warnings",
                                                                               [])])
        elif op == "retrying" and review:
            self.final, self.pieces = False, 0
            self.ui.set_text("")
            self._notes([])
            self.ui.set_label(self.ui.status, "writing again, a little more freely...")
            self.log("retrying")
        elif op == "show" and review:
            self.ui.show(self.size)  # a tray click while the job's window waits
            self.log("shown")
        elif op == "close":
            self.log("closed")
            self.session, self.mode = None, ""
            self.ui.hide()

    def _notes(self, warnings: list[str]) -> None:
        """The note line (the model is not capable) and the guard's warnings in words;
        the window grows to fit them."""
        flags = "\n".join(f"Check: {w}" for w in warnings)
        self.ui.set_label(self.ui.note, self.note)
        self.ui.set_label(self.ui.flags, flags)
        self.size = self.ui.layout(self.note, flags)
        self.ui.resize(self.size)  # only while shown

    def open_review(self, msg: dict[str, Any]) -> None:
        self.session, self.mode = int(msg["session"]), REVIEW
        self.final, self.pieces = False, 0
        self.original, self.diff = str(msg.get("original", "")), bool(msg.get("diff"))
        self.note = str(msg.get("note") or "")
        action = str(msg.get("action", ""))
        self.ui.set_title(f"trayassist review: {action}")
        self.ui.set_label(self.ui.header, f"trayassist: {action}")
        self.ui.set_label(self.ui.status, "writing...")
        self.ui.set_label(self.ui.hint, KEYS_HINT)
        self.ui.set_text("")
        self._notes([])
        self.ui.show(self.size)
        self.log("shown")

    def add_piece(self, piece: str) -> None:
        if self.final or not piece:
            return
        self.ui.append(piece)  # drawn before it returns
        self.pieces += 1
        if self.pieces == 1:
            self.log("first_piece")

    def show_final(self, result: str, warnings: list[str]) -> None:
        self.final = True
        if self.diff:
            self.ui.set_diff(word_diff(self.original, result))
        else:
            self.ui.set_text(result)
        changed = "" if result.strip() != self.original.strip() else " (no change)"
        self.ui.set_label(self.ui.status, f"done{changed}: check it, then choose")
        self._notes(warnings)
        if self.pieces == 0:
            self.log("first_piece")
        self.log("final", warnings=len(warnings))

    def open_panel(self, msg: dict[str, Any]) -> None:
        """A read-only text (the privacy ledger: counters, never the user's text)."""
        self.session, self.mode = int(msg["session"]), PANEL
        title = str(msg.get("title") or "trayassist")
        self.note = ""
        self.ui.set_title(title)
        self.ui.set_label(self.ui.header, title)
        self.ui.set_label(self.ui.status, "")
        self.ui.set_label(self.ui.hint, "Esc  close")
        self.ui.set_text(str(msg["body"]), fixed=True)  # the ledger is a table
        self._notes([])
        self.ui.show(self.size)
        self.log("launcher_shown", items=0)

    def key(self, choice: str) -> None:
        if self.mode == PANEL and choice in ("discard", "replace"):
            self.choose("")  # Esc or Enter closes the panel, choosing nothing
            return
        if self.mode != REVIEW:
            return
        if choice != "discard" and not self.final:
            return  # Enter / Ctrl+C / R wait for the whole result
        self.choose(choice)

    def choose(self, choice: str) -> None:
        if self.session is None:
            self.ui.hide()
            return
        session, mode = self.session, self.mode
        if choice != "retry":
            self.session, self.mode = None, ""
            # Hidden before answering: the target gets its focus back at once.
            self.ui.hide(hand_back=True)
        self.log("choice", choice=choice if mode == REVIEW else "launcher-item")
        self.send({"session": session, "choice": choice})


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m trayassist.desktop.windows.review_window")
    parser.add_argument("--log", help="event log (JSON lines, no text)")
    args = parser.parse_args(argv)
    if sys.platform != "win32":
        print("this review window runs on Windows only (trayassist.review_window is the "
              "Tk one)", file=sys.stderr)
        return 2
    # The daemon writes UTF-8 whatever the Windows code page is.
    for stream in (sys.stdin, sys.stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8")
    app = WindowsReviewApp(args.log)
    app.send({"ready": True})
    app.run(sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
