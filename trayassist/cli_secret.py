"""`trayassist models token` and `trayassist server token`: set or clear one secret in
the OS keyring. One flow for both; only the key and the words differ."""

from __future__ import annotations

import sys

from trayassist.cli import EMPTY_INPUT, FAILED, OK


def _err(message: str) -> None:
    print(f"trayassist: {message}", file=sys.stderr)


def set_or_clear_secret(command: str, key: str, *, noun: str, ask: str, sent_to: str,
                        unavailable_hint: str = "") -> int:
    """`command` "clear" removes the secret `key`; "set" reads it from the terminal
    without echo (or one line of stdin when piped) and stores it. Returns an exit code.

    `noun` names the secret in messages ("token"), `ask` is the terminal prompt,
    `sent_to` says where it goes once stored, `unavailable_hint` follows the error when
    there is no keyring.
    """
    import getpass

    from trayassist.desktop.secrets import SecretStoreUnavailable, delete_secret, set_secret

    try:
        if command == "clear":
            print(f"{noun} removed" if delete_secret(key) else f"no {noun} was stored")
            return OK
        # Read without echo, never from argv: argv is visible to every user in `ps`.
        secret = (getpass.getpass(ask) if sys.stdin.isatty()
                  else sys.stdin.readline()).strip()
        if not secret:
            _err(f"empty {noun}: nothing stored")
            return EMPTY_INPUT
        set_secret(key, secret)
    except SecretStoreUnavailable as exc:
        _err(f"{exc}{unavailable_hint}")
        return FAILED
    print(f"{noun} stored in the system keyring; {sent_to}")
    return OK
