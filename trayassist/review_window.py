"""The review window and the launcher: a small Tk process the daemon drives over a pipe.

Why a child process: pystray owns the daemon's main thread (macOS requires it) and Tk
wants the main thread of the process that runs it; two GUI toolkits in one process
fight over it. A child (`python -m trayassist.review_window`) has its own main thread,
starts once and stays withdrawn between jobs (so the window shows in a few ms, not the
~0.3 s a fresh Python + Tk takes), and if it crashes the daemon only loses a window.

Protocol: JSON lines on stdin, JSON lines on stdout.
  in:  {"op": "open", "session": n, "action": a, "original": t, "diff": bool, "note": s}
       {"op": "piece", "text": t}   {"op": "progress", "done": d, "total": n, "unit": u}
       {"op": "final", "text": t, "warnings": [..]}   {"op": "retrying"}   {"op": "close"}
       {"op": "launcher", "session": n, "items": [label, ...], "title": s}
       {"op": "quit"}
  out: {"session": n, "choice": "replace" | "copy" | "discard" | "retry" | <label>}
The window's own event log (`--log FILE`: one JSON line per event with a wall-clock
time, never any text) lets tests and the benchmark see when the first piece became
visible, without sleeping.

Keyboard: Enter replaces, Ctrl+C copies, R retries, Esc discards. The text widgets never
export their selection (exportselection=False): the target app's PRIMARY selection is
left alone until the paste.
"""

from __future__ import annotations

import difflib
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from trayassist.review_protocol import ProtocolSide

BG, FG, DIM = "#fbfbfa", "#1d1d1f", "#6b6b70"
DEL_BG, INS_BG, FLAG_FG = "#fde2e1", "#dcf5df", "#a0360b"
KEYS_HINT = "Enter  replace      Ctrl+C  copy      R  retry      Esc  discard"


def word_diff(original: str, result: str) -> list[tuple[str, str]]:
    """(tag, text) runs: "same", "del" (only in the original), "ins" (only in the result),
    at word level, keeping the result's own spacing; a removed run always stands apart
    from its neighbours by a space."""
    import re

    a = re.findall(r"\S+|\s+", original)
    b = re.findall(r"\S+|\s+", result)
    runs: list[tuple[str, str]] = []

    def add(tag: str, text: str) -> None:
        if not text:
            return
        if runs and "del" in (tag, runs[-1][0]) and not runs[-1][1][-1:].isspace() \
                and not text[:1].isspace():
            runs.append(("same", " "))
        runs.append((tag, text))

    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            add("same", "".join(b[j1:j2]))
            continue
        if op in ("replace", "delete"):
            add("del", "".join(a[i1:i2]).strip())
        if op in ("replace", "insert"):
            add("ins", "".join(b[j1:j2]))
    return runs


class App(ProtocolSide):
    def __init__(self, log_path: str | None) -> None:
        import tkinter as tk

        super().__init__(log_path)
        self.tk = tk
        self.root = tk.Tk(className="trayassist-review")
        self.root.withdraw()
        self.root.title("trayassist")
        self.root.configure(bg=BG)
        self.root.attributes("-topmost", True)
        self.root.protocol("WM_DELETE_WINDOW", lambda: self.choose("discard"))
        self.items: list[str] = []
        self.frame: Any = None
        self._build_review()
        threading.Thread(target=self.read_stdin, args=(sys.stdin,), daemon=True).start()
        self.root.after(5, self._pump)

    # -- plumbing ---------------------------------------------------------------

    def _pump(self) -> None:
        try:
            while True:
                msg = self.inbox.get_nowait()
                if msg is None or msg.get("op") == "quit":
                    self.root.destroy()  # the daemon quit, or went away
                    return
                self.handle(msg)
        except queue.Empty:
            pass
        self.root.after(5, self._pump)

    # -- layout -----------------------------------------------------------------

    def _build_review(self) -> None:
        tk = self.tk
        self.frame = tk.Frame(self.root, bg=BG, padx=12, pady=10)
        self.header = tk.Label(self.frame, bg=BG, fg=FG, anchor="w",
                               font=("TkDefaultFont", 11, "bold"))
        self.header.pack(fill="x")
        self.status = tk.Label(self.frame, bg=BG, fg=DIM, anchor="w")
        self.status.pack(fill="x")
        self.text = tk.Text(self.frame, width=64, height=9, wrap="word", bg="white", fg=FG,
                            relief="solid", borderwidth=1, padx=8, pady=6,
                            exportselection=False, takefocus=0, font=("TkDefaultFont", 11))
        self.text.tag_configure("del", background=DEL_BG, overstrike=True, foreground=DIM)
        self.text.tag_configure("ins", background=INS_BG)
        self.text.pack(fill="both", expand=True, pady=(6, 6))
        self.flags = tk.Label(self.frame, bg=BG, fg=FLAG_FG, anchor="w", justify="left",
                              wraplength=520)
        self.flags.pack(fill="x")
        self.hint = tk.Label(self.frame, text=KEYS_HINT, bg=BG, fg=DIM, anchor="w")
        self.hint.pack(fill="x", pady=(6, 0))
        self.launcher = tk.Frame(self.root, bg=BG, padx=6, pady=6)
        for seq, choice in (("<Return>", "replace"), ("<KP_Enter>", "replace"),
                            ("<Escape>", "discard"), ("<Control-c>", "copy"),
                            ("<Control-C>", "copy"), ("r", "retry"), ("R", "retry")):
            self.root.bind(seq, self._on_key(self.key, choice))

    @staticmethod
    def _on_key(handler: Callable[[str], None], value: str) -> Callable[[Any], None]:
        def on_key(_event: Any) -> None:
            handler(value)

        return on_key

    def _place_near_pointer(self) -> None:
        self.root.update_idletasks()
        w, h = self.root.winfo_reqwidth(), self.root.winfo_reqheight()
        px, py = self.root.winfo_pointerxy()
        sw, sh = self.root.winfo_screenwidth(), self.root.winfo_screenheight()
        x = min(max(0, px + 12), max(0, sw - w))
        y = min(max(0, py + 16), max(0, sh - h))
        self.root.geometry(f"+{x}+{y}")

    def _show(self) -> None:
        self._place_near_pointer()
        self.root.deiconify()
        self.root.lift()
        self.root.update_idletasks()
        self.root.focus_force()  # keyboard only: the keys must reach us at once

    def _hide(self) -> None:
        self.root.withdraw()
        self.root.update_idletasks()

    # -- review -------------------------------------------------------------------

    def handle(self, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        if op == "open":
            self.open_review(msg)
        elif op == "launcher":
            self.open_launcher(msg)
        elif op == "piece" and self.mode == "review":
            self.add_piece(str(msg.get("text", "")))
        elif op == "progress" and self.mode == "review":
            self.status.configure(text=f"writing: {msg.get('unit', 'part')} "
                                       f"{int(msg.get('done', 0)) + 1} of {msg.get('total', 1)}")
        elif op == "final" and self.mode == "review":
            self.show_final(str(msg.get("text", "")), list(msg.get("warnings", [])))
        elif op == "retrying" and self.mode == "review":
            self.final, self.pieces = False, 0
            self._set_text("")
            self.flags.configure(text="")
            self.status.configure(text="writing again, a little more freely...")
            self.log("retrying")
        elif op == "show" and self.mode == "review":
            self._show()  # a tray click while the job's window waits: bring it back
            self.log("shown")
        elif op == "close":
            self.log("closed")
            self.session, self.mode = None, ""
            self._hide()

    def _set_text(self, value: str) -> None:
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        if value:
            self.text.insert("1.0", value)
        self.text.configure(state="disabled")

    def open_review(self, msg: dict[str, Any]) -> None:
        self.launcher.pack_forget()
        self.frame.pack(fill="both", expand=True)
        self.session, self.mode = int(msg["session"]), "review"
        self.final, self.pieces = False, 0
        self.original, self.diff = str(msg.get("original", "")), bool(msg.get("diff"))
        self.header.configure(text=f"trayassist: {msg.get('action', '')}")
        note = msg.get("note")
        self.status.configure(text="writing...")
        self.flags.configure(text=str(note) if note else "")
        self._set_text("")
        self.root.title(f"trayassist {msg.get('action', '')}")
        self._show()
        self.log("shown")

    def add_piece(self, piece: str) -> None:
        if self.final or not piece:
            return
        self.text.configure(state="normal")
        self.text.insert("end", piece)
        self.text.see("end")
        self.text.configure(state="disabled")
        self.pieces += 1
        if self.pieces == 1:
            self.text.update_idletasks()  # drawn before we say it is visible
            self.log("first_piece")

    def show_final(self, result: str, warnings: list[str]) -> None:
        self.final = True
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        if self.diff:
            for tag, run in word_diff(self.original, result):
                self.text.insert("end", run, () if tag == "same" else (tag,))
        else:
            self.text.insert("end", result)
        self.text.configure(state="disabled")
        changed = "" if result.strip() != self.original.strip() else " (no change)"
        self.status.configure(text=f"done{changed}: check it, then choose")
        notes = [self.flags.cget("text")] if self.flags.cget("text") else []
        notes += [f"Check: {w}" for w in warnings]
        self.flags.configure(text="\n".join(notes))
        self.root.update_idletasks()
        if self.pieces == 0:
            self.log("first_piece")
        self.log("final", warnings=len(warnings))

    def key(self, choice: str) -> None:
        if self.mode == "launcher" and (choice == "discard"
                                        or (choice == "replace" and not self.items)):
            self.choose("")  # Esc closes the launcher, choosing nothing
        elif self.mode == "review":
            if choice != "discard" and not self.final:
                return  # Enter / Ctrl+C / R wait for the whole result
            self.choose(choice)

    def choose(self, choice: str) -> None:
        if self.session is None:
            self._hide()
            return
        session, mode = self.session, self.mode
        if choice != "retry":
            self.session, self.mode = None, ""
            self._hide()  # before answering: the target gets its focus back at once
        self.log("choice", choice=choice if mode == "review" else "launcher-item")
        self.send({"session": session, "choice": choice})

    # -- launcher -------------------------------------------------------------------

    def open_launcher(self, msg: dict[str, Any]) -> None:
        tk = self.tk
        self.frame.pack_forget()
        for child in self.launcher.winfo_children():
            child.destroy()
        self.session, self.mode = int(msg["session"]), "launcher"
        self.items = [str(i) for i in msg.get("items", [])]
        tk.Label(self.launcher, text=str(msg.get("title", "trayassist")), bg=BG, fg=FG,
                 font=("TkDefaultFont", 11, "bold"), anchor="w").pack(fill="x", padx=6)
        if msg.get("body"):
            tk.Label(self.launcher, text=str(msg["body"]), bg=BG, fg=FG, justify="left",
                     font=("TkFixedFont", 10), anchor="w").pack(fill="x", padx=6, pady=4)
            tk.Label(self.launcher, text="Esc  close", bg=BG, fg=DIM,
                     anchor="w").pack(fill="x", padx=6)
        for index, label in enumerate(self.items):
            hotkey = str(index + 1) if index < 9 else ""
            button = tk.Button(self.launcher, text=f"{hotkey}  {label}" if hotkey else label,
                               anchor="w", relief="flat", bg=BG, activebackground=INS_BG,
                               command=lambda i=label: self.choose(i))
            button.pack(fill="x")
            if hotkey:
                self.root.bind(hotkey, self._on_key(self._launch, label))
        self.launcher.pack(fill="both", expand=True)
        self.root.title("trayassist")
        self._show()
        self.log("launcher_shown", items=len(self.items))

    def _launch(self, label: str) -> None:
        if self.mode == "launcher":
            self.choose(label)

    def run(self) -> None:
        self.root.mainloop()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m trayassist.review_window")
    parser.add_argument("--log", help="event log (JSON lines, no text)")
    args = parser.parse_args(argv)
    app = App(args.log)
    app.send({"ready": True})
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
