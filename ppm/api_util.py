"""Small helpers shared by the JSON blueprints."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request


def json_body() -> Any:
    """The parsed body, or None. The services refuse anything but a JSON object, after they
    have routed the project and checked the role (SPEC §12: 404 and 403 come first)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None  # absurdly deep nesting is malformed input, refused like any other


def created(data: Any) -> tuple[Response, int]:
    return jsonify(data), 201


def no_content() -> tuple[str, int]:
    return "", 204
