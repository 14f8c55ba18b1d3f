"""The SecretStore port on the OS keyring (Secret Service, KWallet, Keychain, Windows).

trayassist keeps two kinds of secret: an optional Hugging Face access token for
`models pull` of gated repositories, and an optional API key for the OpenAI-compatible
server of engine "openai". They live in the OS keyring, never in the config file or a log.
"""

from __future__ import annotations

SERVICE = "trayassist"
HF_TOKEN = "huggingface-token"
SERVER_TOKEN = "server-token"  # the API key of the OpenAI-compatible server (engine "openai")


class SecretStoreUnavailable(Exception):
    pass


def _keyring():  # type: ignore[no-untyped-def]
    import keyring
    from keyring.errors import KeyringError

    backend = keyring.get_keyring()
    if "fail" in type(backend).__module__:
        raise SecretStoreUnavailable(
            "no keyring backend: install gnome-keyring or KWallet (or set HF_TOKEN instead)")
    return keyring, KeyringError


def get_secret(name: str) -> str | None:
    """The stored secret, or None when there is none or no keyring. Any thread."""
    try:
        keyring, keyring_error = _keyring()
    except SecretStoreUnavailable:
        return None
    try:
        value: str | None = keyring.get_password(SERVICE, name)
    except keyring_error:
        return None
    return value


def set_secret(name: str, value: str) -> None:
    keyring, keyring_error = _keyring()
    try:
        keyring.set_password(SERVICE, name, value)
    except keyring_error as exc:
        raise SecretStoreUnavailable(f"the keyring refused: {exc}") from exc


def delete_secret(name: str) -> bool:
    keyring, keyring_error = _keyring()
    try:
        keyring.delete_password(SERVICE, name)
    except keyring_error:
        return False
    return True
