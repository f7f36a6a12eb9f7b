"""JSON API for the portfolio (SPEC §22): parse the choices, call the service, serialize."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from ppm.portfolio import services
from ppm.portfolio.serializers import project_health_json

bp = Blueprint("portfolio_api", __name__, url_prefix="/api/v1")


@bp.get("/portfolio/")
def portfolio() -> Any:
    rows = services.portfolio(current_user, services.parse_choices(request.args, strict=True))
    return jsonify({"projects": [project_health_json(row) for row in rows]})
