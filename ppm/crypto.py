"""Secrets at rest: MultiFernet over INTEGRATION_ENCRYPTION_KEY (first key encrypts, all decrypt)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

log = logging.getLogger(__name__)
Row = TypeVar("Row")


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


def reencrypt_each(rows: Iterable[Row], rewrite: Callable[[Row], None], name: Callable[[Row], str]) -> tuple[int, int]:
    """Key rotation over stored rows: `rewrite` re-encrypts one (with `reencrypt`); a row no key
    can read is logged by `name` and left as it is. Returns (re-encrypted, unreadable)."""
    done = failed = 0
    for row in rows:
        try:
            rewrite(row)
            done += 1
        except UnreadableSecret:
            failed += 1
            log.warning("%s could not be read with any configured key", name(row))
    return done, failed
