"""Secrets at rest: MultiFernet over INTEGRATION_ENCRYPTION_KEY (first key encrypts, all decrypt)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class UnreadableSecret(Exception):
    """No configured key can decrypt this value (the key was changed or lost)."""


def _keys() -> list[str]:
    raw = str(current_app.config.get("INTEGRATION_ENCRYPTION_KEY") or "")
    return [key.strip() for key in raw.split(",") if key.strip()]


def _fernet() -> MultiFernet:
    keys = _keys()
    if not keys:
        raise RuntimeError("INTEGRATION_ENCRYPTION_KEY is not set")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError) as error:
        raise UnreadableSecret("no configured key can read this secret") from error


def reencrypt(ciphertext: str) -> str:
    """The same secret under the first key (for key rotation)."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError) as error:
        raise UnreadableSecret("no configured key can read this secret") from error
