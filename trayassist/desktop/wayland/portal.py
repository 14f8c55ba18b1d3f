"""xdg-desktop-portal over D-Bus with jeepney (pure Python): the request/response dance
shared by the GlobalShortcuts and RemoteDesktop clients.

A portal method returns a Request object path at once and answers later with a
`Response(u code, a{sv} results)` signal on that path. We subscribe to every Response
before calling (a fast portal answers before its method reply reaches us) and pick ours
by the returned path.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from typing import Any

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
REQUEST = "org.freedesktop.portal.Request"
RESPONSE_TIMEOUT = 30.0  # a consent dialog waits for the user; long, but bounded
CALL_TIMEOUT = 5.0
_tokens = itertools.count(1)


class PortalError(OSError):
    """The portal is missing, refused, or did not answer."""


def token() -> str:
    return f"trayassist{os.getpid()}_{next(_tokens)}"


class Portal:
    """One session-bus connection to the portal. Not thread-safe: one owner thread."""

    def __init__(self, interface: str) -> None:
        try:
            from jeepney import DBusAddress, MatchRule, message_bus
            from jeepney.io.blocking import open_dbus_connection
        except ImportError as exc:  # pragma: no cover - jeepney is a dependency on Linux
            raise PortalError("jeepney is missing: pip install jeepney") from exc
        self.interface = interface
        try:
            self.conn = open_dbus_connection(bus="SESSION")
        except (OSError, KeyError, ValueError) as exc:
            raise PortalError(f"no session D-Bus: {exc}") from exc
        self._address = DBusAddress(PATH, bus_name=BUS_NAME, interface=interface)
        rule = MatchRule(type="signal", interface=REQUEST, member="Response")
        self._responses = self.conn.filter(rule, bufsize=64)
        self._filter = self._responses.__enter__()
        self.conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT)
        self.version = self._version()

    def _version(self) -> int:
        from jeepney import DBusAddress, new_method_call

        props = DBusAddress(PATH, bus_name=BUS_NAME, interface="org.freedesktop.DBus.Properties")
        msg = new_method_call(props, "Get", "ss", (self.interface, "version"))
        try:
            reply = self.conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
        except TimeoutError as exc:
            raise PortalError(f"the portal did not answer ({self.interface})") from exc
        if reply.header.message_type.name == "error":
            raise PortalError(f"the desktop portal lacks {self.interface}")
        (value,) = reply.body
        return int(value[1])

    def call(self, method: str, signature: str, *args: Any) -> tuple[Any, ...]:
        from jeepney import new_method_call

        reply = self.conn.send_and_get_reply(
            new_method_call(self._address, method, signature, args), timeout=CALL_TIMEOUT)
        if reply.header.message_type.name == "error":
            raise PortalError(f"{self.interface}.{method} failed: {reply.body}")
        return tuple(reply.body)

    def request(self, method: str, signature: str, *args: Any,
                timeout: float = RESPONSE_TIMEOUT) -> dict[str, Any]:
        """Call a Request-returning method and wait for its Response; its results with
        variants unwrapped. Raises PortalError when the user or the portal refused."""
        (handle,) = self.call(method, signature, *args)
        deadline = time.monotonic() + timeout
        while True:
            for msg in list(self._filter):
                if msg.header.fields.get(1) == handle:  # 1: PATH header field
                    self._filter.remove(msg)
                    code, results = msg.body
                    if code != 0:
                        raise PortalError(f"{self.interface}.{method} was refused (code {code})")
                    return {k: v[1] for k, v in results.items()}
            left = deadline - time.monotonic()
            if left <= 0:
                raise PortalError(f"{self.interface}.{method}: no response in {timeout:.0f} s")
            try:
                self.conn.recv_until_filtered(self._filter, timeout=left)
            except TimeoutError:
                continue

    def close(self) -> None:
        self._responses.__exit__(None, None, None)
        self.conn.close()
