"""Small helpers shared by the JSON blueprints."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ppm.errors import ValidationCollector


def json_body() -> Any:
    """The request's JSON body, or a 400 a person can read."""
    data = request.get_json(silent=True)
    if data is None:
        errors = ValidationCollector()
        errors.add("body", "Send a JSON object with Content-Type: application/json.")
        errors.raise_if_any()
    return data


def created(data: Any) -> tuple[Response, int]:
    return jsonify(data), 201


def no_content() -> tuple[str, int]:
    return "", 204
