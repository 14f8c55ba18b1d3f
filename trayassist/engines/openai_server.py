"""Where the OpenAI-compatible engine's server is, and its API key.

Loopback only by default: a base_url whose host is not 127.0.0.0/8, ::1 or localhost is
refused unless allow_remote = true.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import urllib.parse

from trayassist.engines.base import EngineError

SERVER_TOKEN_ENV = "TRAYASSIST_SERVER_TOKEN"


class RemoteRefused(EngineError):
    """base_url is not on this machine and allow_remote is off."""


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def remote_host_of(base_url: str, allow_remote: bool) -> str | None:
    """None if base_url is on this machine; its host if not and allow_remote is set.

    Raises RemoteRefused otherwise. A name is resolved: every address must be loopback
    (127.0.0.0/8 or ::1); "localhost" always is.
    """
    host = urllib.parse.urlsplit(base_url).hostname or ""
    if host.lower() == "localhost" or _is_loopback(host):
        return None
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            addresses = [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
        except OSError:
            addresses = []
    if addresses and all(_is_loopback(a) for a in addresses):
        return None
    if allow_remote:
        return host
    raise RemoteRefused(
        f"base_url {base_url} is not on this machine, so your text would leave it: "
        "use a server on 127.0.0.1, or set allow_remote = true in the config")


def server_token() -> str | None:
    """TRAYASSIST_SERVER_TOKEN, else the key `server token set` put in the OS keyring."""
    from trayassist.desktop.secrets import SERVER_TOKEN, get_secret

    return os.environ.get(SERVER_TOKEN_ENV) or get_secret(SERVER_TOKEN)
