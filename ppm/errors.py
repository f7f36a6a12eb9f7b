"""Domain errors, and the one place that turns any error into a JSON, htmx or page response."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from ppm.htmx import is_htmx

log = logging.getLogger("ppm.errors")


class DomainError(Exception):
    """A refusal a person should read: status, machine code and a sentence."""

    status = 400
    code = "bad_request"
    detail = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.detail
        self.code = code or self.code
        self.status = status or self.status
        self.extra = extra or {}
        super().__init__(self.detail)

    def to_dict(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code, **self.extra}


class NotFound(DomainError):
    status = 404
    code = "not_found"
    detail = "Not found."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    detail = "Your role on this project does not allow this."


class ProjectArchived(DomainError):
    status = 403
    code = "project_archived"
    detail = "This project is archived and read-only. Unarchive it to make changes."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    detail = "This conflicts with the current state."


class ValidationError(DomainError):
    status = 400
    code = "validation_error"
    detail = "Some fields are not valid."

    def __init__(self, fields: dict[str, list[str]], detail: str | None = None) -> None:
        self.fields = fields
        if detail is None:
            first = next(iter(fields.values()), ["Some fields are not valid."])
            detail = first[0] if len(fields) == 1 else "Some fields are not valid: " + ", ".join(fields) + "."
        super().__init__(detail, extra={"fields": fields})


class ValidationCollector:
    """Gathers field errors so a form reports all of them at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def has(self, field: str) -> bool:
        return field in self.fields

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/hooks/"))  # scripts and webhook senders read JSON


def json_error(status: int, code: str, detail: str, **extra: Any) -> Response:
    response = jsonify({"detail": detail, "code": code, **extra})
    response.status_code = status
    return response


def page_error(status: int, detail: str) -> Response:
    """A page for browsers; for htmx, an alert swapped into the page's alert region."""
    if is_htmx():
        response = make_response(render_template("_alert.html", message=detail), status)
        response.headers["HX-Retarget"] = "#alert-region"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return make_response(render_template("error.html", status=status, detail=detail), status)


HTTP_CODES = {
    400: ("bad_request", "The request was malformed."),
    401: ("not_authenticated", "Authentication is required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed on this resource."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as JSON."),
    429: ("rate_limited", "Too many requests. Wait a minute and try again."),
}


def _rollback() -> None:
    from ppm.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the error page must still answer
        log.exception("rollback failed")


UNAVAILABLE_DETAIL = "ppm cannot reach its database right now. Nothing was changed; try again in a few seconds."
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


def _prefers_json() -> bool:
    return wants_json() or request.is_json or request.accept_mimetypes.best == "application/json"


def database_unavailable(error: Exception) -> Response:
    """503 while the database is away: a clear page or JSON error, never a traceback."""
    from flask import g

    from ppm.extensions import login_manager

    cause = getattr(error, "orig", None) or error
    log.warning("database unavailable on %s %s: %s", request.method, request.path, _first_line(cause))
    _rollback()
    # The page must render without the database: the user row (and its expired attributes) is out of reach.
    g._login_user = login_manager.anonymous_user()
    if _prefers_json():
        response = json_error(503, "unavailable", UNAVAILABLE_DETAIL)
    else:
        response = page_error(503, UNAVAILABLE_DETAIL)
    response.headers["Retry-After"] = "5"
    return response


def _first_line(cause: BaseException) -> str:
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0][:200]}" if text else type(cause).__name__


def register_error_handlers(app: Flask) -> None:
    for database_error in DATABASE_DOWN:
        app.register_error_handler(database_error, database_unavailable)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Any:
        _rollback()  # a refusal changes nothing
        if wants_json():
            return json_error(error.status, error.code, error.detail, **error.extra)
        return page_error(error.status, error.detail)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        detail = "Your session's security token is missing or out of date. Reload the page and try again."
        if wants_json():
            return json_error(400, "csrf_failed", detail)
        return page_error(400, detail)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        code, detail = HTTP_CODES.get(status, ("error", error.description or "Error."))
        if wants_json():
            response = json_error(status, code, detail)
        else:
            response = page_error(status, detail)
        if status == 405:
            response.headers["Allow"] = dict(error.get_headers()).get("Allow", "")
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        detail = "Something went wrong on our side. Nothing was changed; please try again."
        if wants_json():
            return json_error(500, "internal_error", detail)
        return page_error(500, detail)
