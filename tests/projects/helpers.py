"""Assertions shared by the JSON API tests."""

from __future__ import annotations

import re
from typing import Any

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def assert_error(response: Any, status: int, code: str, *fields: str) -> dict[str, Any]:
    """The SPEC §3 envelope: JSON `{detail, code[, fields]}` with a readable detail."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert isinstance(body, dict), body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and len(body["detail"].strip()) > 3, body
    if code == "validation_error":
        assert isinstance(body["fields"], dict) and body["fields"], body
        for name, messages in body["fields"].items():
            assert isinstance(name, str)
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(m, str) and m.strip() for m in messages), body
        for name in fields:
            assert name in body["fields"], body
    else:
        assert not fields
        assert set(body) <= {"detail", "code", "fields"}, body
        assert "fields" not in body, body
    return body


def assert_iso_z(value: Any) -> None:
    assert isinstance(value, str) and ISO_Z.match(value), value
