"""Who is asking: session login for pages, bearer tokens for /api/v1, and CSRF for browser writes.

Order of refusals (SPEC §12): authentication first, then CSRF, then the route's own checks.
Pages are private by default; `PUBLIC_ENDPOINTS` lists the few that are not.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Request, current_app, g, redirect, request
from flask_login import current_user

from ppm.auth.models import User
from ppm.auth.services import user_for_api_token
from ppm.errors import json_error
from ppm.extensions import csrf, db, login_manager
from ppm.htmx import is_htmx

PUBLIC_ENDPOINTS = {"auth.login", "static"}
# Endpoints whose request carries its own authentication (a webhook's signature): no session,
# no API token and no CSRF token apply. Capabilities add theirs.
SIGNED_ENDPOINTS: set[str] = set()
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _is_api(req: Request) -> bool:
    return req.path.startswith("/api/")


def authenticated_by_token() -> bool:
    return bool(g.get("auth_method") == "token")


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_session_user(user_id: str) -> User | None:
        # A bearer header on the API wins over any session cookie sent alongside it.
        if _is_api(request) and _bearer_token(request) is not None:
            return None
        raw_id, _, epoch = str(user_id).partition(":")
        user = db.session.get(User, raw_id) if "\x00" not in raw_id else None
        if user is None or epoch != str(user.session_epoch):
            return None  # logged out since this cookie was issued
        return user

    @login_manager.request_loader
    def load_token_user(req: Request) -> User | None:
        token = _bearer_token(req)
        if not token or not _is_api(req):
            return None
        user = user_for_api_token(token)
        if user is not None:
            g.auth_method = "token"
        return user

    app.before_request(_guard)
    app.teardown_request(_forget_request_state)


# What Flask-Login and Flask-WTF cache in `g` for one request. `g` lives as long as the app
# context, and a caller (a test, a CLI command) that holds one app context across several
# requests would otherwise hand one request's user and CSRF token to the next.
_REQUEST_STATE = ("_login_user", "auth_method", "csrf_token", "csrf_valid")


def _forget_request_state(_error: BaseException | None = None) -> None:
    for name in _REQUEST_STATE:
        g.pop(name, None)


def login_redirect_url() -> str:
    target = request.full_path if request.query_string else request.path
    if request.method not in SAFE_METHODS or is_htmx():
        target = request.headers.get("HX-Current-URL") or request.referrer or "/projects/"
        target = _local_path(target)
    return "/login?" + urlencode({"next": target})


def _local_path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path or "/"
    return path + ("?" + parts.query if parts.query else "")


def _guard() -> Any:
    if request.url_rule is None:
        return None  # unknown route or wrong method: routing answers 404/405 to everyone
    if request.endpoint in SIGNED_ENDPOINTS:
        return None
    if _is_api(request):
        return _guard_api()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return _check_csrf()
    if not current_user.is_authenticated:
        if is_htmx():
            response = current_app.response_class("", 401)
            response.headers["HX-Redirect"] = login_redirect_url()
            return response
        return redirect(login_redirect_url())
    return _check_csrf()


def _guard_api() -> Any:
    if not current_user.is_authenticated:
        if _bearer_token(request) is not None:
            return json_error(401, "not_authenticated", "The API token is not valid or was revoked.")
        return json_error(401, "not_authenticated", "Log in, or send an API token as 'Authorization: Bearer <token>'.")
    if authenticated_by_token():
        return None  # a bearer token cannot be forged by another site: no CSRF needed
    return _check_csrf()


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    csrf.protect()  # raises CSRFError (400), turned into a response by ppm.errors
    return None
