"""Fixtures for the auth tests."""

from __future__ import annotations

from functools import partial

import pytest
from werkzeug.security import generate_password_hash

from ppm.auth import services as auth_services


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt takes ~0.1 s a hash; only the login tests' behaviour matters here."""
    monkeypatch.setattr(auth_services, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))
