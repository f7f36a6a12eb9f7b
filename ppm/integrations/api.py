"""JSON API for connected accounts (SPEC §5). Session only: a script token can never plant,
rotate or revoke a personal access token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from ppm.api_util import json_body, no_content
from ppm.auth.guard import authenticated_by_token
from ppm.errors import json_error
from ppm.integrations import services
from ppm.integrations.limits import credential_write_limit
from ppm.integrations.serializers import account_json

bp = Blueprint("integrations_api", __name__, url_prefix="/api/v1/me/credentials")


@bp.before_request
def session_only() -> Any:
    if authenticated_by_token():
        return json_error(
            403,
            "session_required",
            "Connected accounts can only be managed from a logged-in browser session, not with an API token.",
        )
    return None


@bp.get("/")
def list_credentials() -> Any:
    return jsonify([account_json(a) for a in services.list_accounts(current_user)])


@bp.get("/<provider>/")
def get_credential(provider: str) -> Any:
    return jsonify(account_json(services.get_account(current_user, provider)))


@bp.post("/<provider>/")
@credential_write_limit
def connect(provider: str) -> Any:
    return jsonify(account_json(services.connect(current_user, provider, json_body())))


@bp.patch("/<provider>/")
@credential_write_limit
def set_background_refresh(provider: str) -> Any:
    return jsonify(account_json(services.set_background_refresh(current_user, provider, json_body())))


@bp.delete("/<provider>/")
@credential_write_limit
def revoke(provider: str) -> Any:
    services.revoke(current_user, provider)
    return no_content()
