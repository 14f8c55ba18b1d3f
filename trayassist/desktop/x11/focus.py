"""The focused app and its PRIMARY selection on X11.

`X11Focus` names the app holding the keyboard focus by the WM_CLASS of its toplevel
(`AppInfo.app_id` = the class, lower-cased) and its _NET_WM_PID; never its title.
`X11Primary` reads PRIMARY without sending a key, but only when its owner is the focused
client: a selection owned by another window is not the one the user means. Each calling
thread gets its own connection (python-xlib Display objects are not thread-safe).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

from Xlib import X
from Xlib.error import XError

from trayassist.desktop.x11.clipboard import SECRET_HINT, Reader
from trayassist.ports import AppInfo

log = logging.getLogger(__name__)

PRIMARY_TIMEOUT = 0.5  # TARGETS + one text conversion; live owners answer in ms
MAX_DEPTH = 64  # a window tree deeper than this is not a real desktop


class _PerThread:
    def __init__(self, display: str | None = None) -> None:
        self._display = display  # None: the DISPLAY environment variable
        self._local = threading.local()

    def _reader(self) -> Reader:
        reader: Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = Reader(self._display, "PRIMARY")
        return reader

    def close(self) -> None:
        reader = getattr(self._local, "reader", None)
        if reader is not None:
            reader.close()
            self._local.reader = None


def _wm_class(win: Any) -> tuple[str, str] | None:
    cls = win.get_wm_class()
    return (cls[0], cls[1]) if cls else None


def _server_pid(r: Reader, xid: int) -> int | None:
    """The owning process as the X server knows it (X-Resource), for local clients that
    set no _NET_WM_PID (Tk, some toolkits without a window manager)."""
    if not r.d.has_extension("X-Resource"):
        return None
    from Xlib.ext import res

    reply = r.d.res_query_client_ids([{"client": xid, "mask": res.LocalClientPIDMask}])
    for ident in reply.ids:
        if ident.spec.mask & res.LocalClientPIDMask and ident.value:
            return int(ident.value[0])
    return None


class X11Focus(_PerThread):
    """The Focus port on X11. Worker thread (any one thread per instance)."""

    def focused_app(self) -> AppInfo | None:
        r = self._reader()
        try:
            return self._lookup(r)
        except XError as exc:  # the window went away while we looked
            log.debug("focused app lookup failed: %s", type(exc).__name__)
            return None

    def _lookup(self, r: Reader) -> AppInfo | None:
        focus = r.d.get_input_focus().focus
        fid = int(getattr(focus, "id", focus))
        if fid in (X.NONE, X.PointerRoot):
            return None
        root = r.d.screen().root.id
        win = r.d.create_resource_object("window", fid)
        for _ in range(MAX_DEPTH):  # up from the focused widget to its toplevel's client
            cls = _wm_class(win)
            if cls is not None:
                return self._info(r, win, cls)
            parent = win.query_tree().parent
            pid = int(getattr(parent, "id", parent))
            if pid in (X.NONE, root):
                break
            win = parent
        client = self._client_below(r, win)  # a reparenting WM's frame: its client
        if client is not None:
            cls = _wm_class(client)
            if cls is not None:
                return self._info(r, client, cls)
        return None

    def _client_below(self, r: Reader, frame: Any) -> Any | None:
        wm_state = r.atom("WM_STATE")
        todo = [frame]
        for _ in range(MAX_DEPTH * 4):
            if not todo:
                return None
            win = todo.pop(0)
            if win.get_full_property(wm_state, X.AnyPropertyType) is not None:
                return win
            todo.extend(win.query_tree().children)
        return None

    def _info(self, r: Reader, win: Any, cls: tuple[str, str]) -> AppInfo:
        instance, klass = cls
        prop = win.get_full_property(r.atom("_NET_WM_PID"), X.AnyPropertyType)
        pid = int(prop.value[0]) if prop is not None and len(prop.value) else None
        if pid is None:
            pid = _server_pid(r, int(win.id))
        machine = win.get_full_property(r.atom("WM_CLIENT_MACHINE"), X.AnyPropertyType)
        local = machine is None or bytes(machine.value).decode(errors="replace") in (
            socket.gethostname(), "localhost")
        process = None
        if pid and local:
            try:
                process = Path(f"/proc/{pid}/comm").read_text().strip() or None
            except OSError:
                process = None
        app = AppInfo(app_id=(klass or instance).lower(), window_class=instance,
                      process=process, pid=pid if local else None)
        log.debug("focused app: %s (process %s)", app.app_id, app.process)
        return app


def _toplevel(r: Reader, xid: int) -> int:
    """The root's child that contains window `xid` (a WM frame or the toplevel itself)."""
    root = r.d.screen().root.id
    win = r.d.create_resource_object("window", xid)
    for _ in range(MAX_DEPTH):
        parent = win.query_tree().parent
        pid = int(getattr(parent, "id", parent))
        if pid in (X.NONE, root):
            return int(win.id)
        win = parent
    return int(win.id)


def _viewable(r: Reader, xid: int) -> bool:
    win = r.d.create_resource_object("window", xid)
    return bool(win.get_attributes().map_state == X.IsViewable)


class X11Primary(_PerThread):
    """The PrimarySelection port on X11. Worker thread (any one thread per instance).

    PRIMARY says nothing about *which* window's selection it is, and apps keep owning it
    after focus moves. So the read happens only when (1) the owner is the focused client,
    and (2) the owner window lies inside the focused toplevel, or is a hidden helper
    window (GTK and Qt own selections through one) of a client showing no other
    toplevel: a selection made in another window of the same app is not used.
    """

    def _owned_by_focused_window(self, r: Reader, owner: int) -> bool:
        focus = r.d.get_input_focus().focus
        fid = int(getattr(focus, "id", focus))
        if fid in (X.NONE, X.PointerRoot):
            return False
        client = r.client_of(fid)
        if r.client_of(owner) != client:
            return False
        focused_top, owner_top = _toplevel(r, fid), _toplevel(r, owner)
        if owner_top == focused_top:
            return True
        if _viewable(r, owner_top):
            return False  # owned from another visible window of this app
        shown = [top for top in self._toplevels_of(r, client) if top != focused_top]
        return not shown

    def _toplevels_of(self, r: Reader, client: int) -> list[int]:
        """The viewable root children (toplevels or WM frames) showing `client`'s windows."""
        found = []
        wm_state = r.atom("WM_STATE")
        for child in r.d.screen().root.query_tree().children:
            if child.get_attributes().map_state != X.IsViewable:
                continue
            if r.client_of(child.id) == client:
                found.append(int(child.id))
                continue
            if child.get_full_property(wm_state, X.AnyPropertyType) is not None:
                continue  # an unreparented toplevel of another client
            for sub in child.query_tree().children:  # a WM frame: is its client ours?
                if r.client_of(sub.id) == client:
                    found.append(int(child.id))
                    break
        return found

    def read_primary(self, app: AppInfo | None) -> str | None:
        if app is None:
            return None  # an unknown app: keep today's behaviour (the copy keys)
        r = self._reader()
        try:
            owner = r.owner(r.sel)
            if owner == X.NONE:
                return None
            if not self._owned_by_focused_window(r, owner):
                log.debug("PRIMARY is not the focused window's selection (%s)", app.app_id)
                return None
            deadline = time.monotonic() + PRIMARY_TIMEOUT
            targets = r.targets(deadline)
            if targets is not None and SECRET_HINT in targets:
                return None  # marked secret: let the copy path refuse it
            text = r.text(deadline)
        except XError as exc:
            log.debug("PRIMARY read failed: %s", type(exc).__name__)
            return None
        return text if text and text.strip() else None
