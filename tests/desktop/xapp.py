"""A tiny real X11 text window for desktop tests, and the X command-line helpers.

Run as a script (`python xapp.py --title T --socket PATH`) it shows a Tk Text widget. Tk on
X11 binds Ctrl+C / Ctrl+V to <<Copy>> / <<Paste>> on the CLIPBOARD selection, like GTK and
Qt apps. Unlike them, Tk's X11 paste does not replace the selected text; this app does (as
GTK/Qt do) so an end-to-end "select, transform, paste" leaves only the result.

The control socket takes one request per line and answers one JSON line:
    set <json str>         replace the text          select_all / select <start> <end>
    get                    {"text": ...}             focus      {"focus": widget or null}
    keys / clear_keys      every KeyPress/KeyRelease the widget got: keysym, state, send_event
    own <json {target: str}>   own CLIPBOARD through Tk, serving these targets
    deselect               clear the selection (Tk may keep owning PRIMARY)
    secret_copy <json bool>  copies marked secret, selection not exported (a password field)
    quit
Imported, it provides XAppClient (the test side) and xdotool / xclip helpers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from waiting import wait_for  # also re-exported: the X11 tests take it from here

# Modifier bits in an X event state.
SHIFT, CONTROL, ALT = 0x1, 0x4, 0x8



def run_x(env: dict[str, str], *args: str, data: bytes | None = None,
          timeout: float = 5.0, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run an X client; the timeout guards against a hung selection owner."""
    return subprocess.run(args, env=env, input=data, capture_output=True, timeout=timeout,
                          check=check)


def xdotool(env: dict[str, str], *args: str) -> str:
    return run_x(env, "xdotool", *args).stdout.decode().strip()


def xclip_get(env: dict[str, str], target: str = "UTF8_STRING") -> bytes | None:
    """The clipboard's `target` as bytes, or None when there is no owner or no such target."""
    proc = run_x(env, "xclip", "-selection", "clipboard", "-t", target, "-o", check=False)
    return proc.stdout if proc.returncode == 0 else None


def xclip_targets(env: dict[str, str]) -> list[str]:
    data = xclip_get(env, "TARGETS")
    return data.decode().split() if data else []


def xclip_set(env: dict[str, str], data: str | bytes, target: str = "UTF8_STRING") -> None:
    """Make a separate xclip process own CLIPBOARD with `data`; return once it serves it.

    xclip forks a child that serves until another client takes the selection. Its output
    goes to DEVNULL: a captured pipe would stay open in the child and hang this call.
    """
    raw = data.encode() if isinstance(data, str) else data
    subprocess.run(["xclip", "-selection", "clipboard", "-t", target, "-i"], env=env,
                   input=raw, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=5.0, check=True)
    wait_for(lambda: xclip_get(env, target) == raw, what=f"xclip to serve {target}")


def screenshot(env: dict[str, str], path: Path) -> Path:
    """Save the whole screen as PNG (ImageMagick), e.g. as a test artifact of the tray."""
    run_x(env, "import", "-window", "root", str(path), timeout=10.0)
    return path


class XAppClient:
    """The test's handle on a running xapp window."""

    def __init__(self, proc: subprocess.Popen[bytes], sock_path: Path, title: str,
                 window_id: str = "") -> None:
        self.proc, self.title, self.window_id = proc, title, window_id
        self._sock = wait_for(lambda: self._connect(sock_path), timeout=10.0,
                              what=f"xapp {title} control socket")
        self._buf = b""

    def _connect(self, path: Path) -> socket.socket | None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"xapp exited with {self.proc.returncode}")
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(str(path))
        except OSError:
            s.close()
            return None
        s.settimeout(5.0)  # a reply is immediate; this only turns a hung app into an error
        return s

    def call(self, command: str, arg: Any = None) -> Any:
        line = command if arg is None else f"{command} {json.dumps(arg)}"
        self._sock.sendall(line.encode() + b"\n")
        while b"\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise RuntimeError("xapp closed the control socket")
            self._buf += chunk
        reply, self._buf = self._buf.split(b"\n", 1)
        result = json.loads(reply)
        if "error" in result:
            raise RuntimeError(f"xapp: {result['error']}")
        return result

    def set_text(self, text: str) -> None:
        self.call("set", text)

    def select_all(self) -> None:
        self.call("select_all")

    def select(self, start: int, end: int) -> None:
        self.call(f"select {start} {end}")

    def text(self) -> str:
        return str(self.call("get")["text"])

    def keys(self) -> list[dict[str, Any]]:
        return list(self.call("keys")["keys"])

    def clear_keys(self) -> None:
        self.call("clear_keys")

    def focus(self) -> str | None:
        value = self.call("focus")["focus"]
        return str(value) if value else None

    def own_clipboard(self, targets: dict[str, str]) -> None:
        self.call("own", targets)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):  # it may have died already
            self.call("quit")
        self._sock.close()
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---- the app (runs in its own process) ---------------------------------------------------

def _main(argv: list[str]) -> None:
    import argparse
    import tkinter as tk

    ap = argparse.ArgumentParser()
    ap.add_argument("--title", required=True)
    ap.add_argument("--socket", required=True)
    args = ap.parse_args(argv)

    root = tk.Tk()
    root.title(args.title)
    root.geometry("480x240+40+80")  # clear of the tray host in the top-right corner
    text = tk.Text(root, undo=True)
    text.pack(fill="both", expand=True)
    keys: list[dict[str, Any]] = []

    def record(ev: Any) -> None:
        kind = getattr(ev.type, "name", str(ev.type))  # a tkinter.EventType member
        keys.append({"type": "press" if kind == "KeyPress" else "release",
                     "keysym": ev.keysym, "state": int(ev.state),
                     "send_event": bool(ev.send_event)})

    def delete_selection(_ev: Any) -> None:
        if text.tag_ranges("sel"):
            text.delete("sel.first", "sel.last")

    # Our bindtags run before the Text class's: one sees every key, the other empties the
    # selection before Tk's own <<Paste>> inserts the clipboard. Two tags, because Tk runs
    # one binding per tag and <<Paste>> would shadow <KeyPress> for Ctrl+V.
    secret_copy = {"on": False}

    def copy(_ev: Any) -> str | None:
        # Secret mode copies as a password manager does: the text plus the KDE hint
        # target that says "never keep or show this".
        if not secret_copy["on"] or not text.tag_ranges("sel"):
            return None
        root.clipboard_clear()
        root.clipboard_append(text.get("sel.first", "sel.last"), type="UTF8_STRING")
        root.clipboard_append("secret", type="x-kde-passwordManagerHint")
        return "break"

    text.bindtags(("xapp_keys", "xapp_paste", *text.bindtags()))
    root.bind_class("xapp_keys", "<KeyPress>", record)
    root.bind_class("xapp_keys", "<KeyRelease>", record)
    root.bind_class("xapp_paste", "<<Paste>>", delete_selection)
    root.bind_class("xapp_paste", "<<Copy>>", copy)

    def handle(line: str) -> dict[str, Any]:
        cmd, _, rest = line.partition(" ")
        if cmd == "set":
            text.delete("1.0", "end")
            text.insert("1.0", json.loads(rest))
        elif cmd in ("select_all", "select"):
            start, end = (int(v) for v in rest.split()) if rest else (0, len(text.get("1.0",
                                                                                 "end-1c")))
            text.tag_remove("sel", "1.0", "end")
            text.tag_add("sel", f"1.0+{start}c", f"1.0+{end}c")
            # The cursor ends where a mouse or Shift+arrow selection would leave it, so a
            # paste after deleting the selection lands where the selection was.
            text.mark_set("insert", f"1.0+{end}c")
        elif cmd == "deselect":
            text.tag_remove("sel", "1.0", "end")
        elif cmd == "get":
            return {"text": text.get("1.0", "end-1c")}
        elif cmd == "keys":
            return {"keys": keys}
        elif cmd == "clear_keys":
            keys.clear()
        elif cmd == "focus":
            widget = root.focus_get()
            return {"focus": str(widget) if widget is not None else None}
        elif cmd == "own":
            root.clipboard_clear()
            for target, value in json.loads(rest).items():
                root.clipboard_append(value, type=target)
        elif cmd == "secret_copy":
            # As a password field does: its selection is not exported to PRIMARY either
            # (Qt and GTK password entries never own PRIMARY), so only the copy shows it.
            secret_copy["on"] = bool(json.loads(rest))
            text.configure(exportselection=not secret_copy["on"])
        elif cmd == "quit":
            root.after_idle(root.destroy)
        else:
            return {"error": f"unknown command {cmd!r}"}
        return {"ok": True}

    server = socket.socket(socket.AF_UNIX)
    server.bind(args.socket)
    server.listen(4)
    buffers: dict[socket.socket, bytes] = {}

    def on_client(conn: socket.socket, _mask: int) -> None:
        data = conn.recv(65536)
        if not data:
            root.tk.deletefilehandler(conn)
            conn.close()
            return
        buffers[conn] = buffers.get(conn, b"") + data
        while b"\n" in buffers[conn]:
            line, buffers[conn] = buffers[conn].split(b"\n", 1)
            try:
                reply = handle(line.decode())
            except Exception as exc:  # report to the test instead of dying
                reply = {"error": repr(exc)}
            conn.sendall(json.dumps(reply).encode() + b"\n")

    def on_accept(_sock: socket.socket, _mask: int) -> None:
        conn, _ = server.accept()
        root.tk.createfilehandler(conn, tk.READABLE, on_client)

    # Tk's file handlers wake its event loop directly: no polling delay on the channel.
    root.tk.createfilehandler(server, tk.READABLE, on_accept)
    text.focus_set()
    root.mainloop()


if __name__ == "__main__":
    _main(sys.argv[1:])
