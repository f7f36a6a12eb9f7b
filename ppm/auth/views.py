"""Login, logout and the API tokens settings page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ppm.auth import services
from ppm.auth.forms import ApiTokenForm, LoginForm
from ppm.errors import NotFound, ValidationError
from ppm.extensions import limiter
from ppm.htmx import announce, is_htmx, page_or_fragment

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Enter a correct email address and password. Both are case-sensitive except the email."


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect. Without one, the portfolio (SPEC §22)."""
    if not target:
        return url_for("portfolio.index")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
    ):
        return url_for("portfolio.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])  # per client address
@limiter.limit(
    "10 per minute",
    methods=["POST"],
    key_func=lambda: "login:" + services.normalize_email(request.form.get("email", "")),
)  # per account, whatever the address
def login() -> Any:
    form = LoginForm()
    next_url = request.values.get("next", "")
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_safe_next(next_url))
    if request.method == "POST":
        error = None
        if form.validate():
            user = services.authenticate(form.email.data or "", form.password.data or "")
            if user is not None:
                session.clear()  # a fresh session on login: no fixation
                login_user(user)
                return redirect(_safe_next(next_url), 303)
            error = LOGIN_FAILED
        return render_template("auth/login.html", form=form, next_url=next_url, login_error=error), 422
    return render_template("auth/login.html", form=form, next_url=next_url, login_error=None)


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        services.end_sessions(current_user)  # copies of this session's cookie stop working too
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), 303)


def _tokens_page(
    form: ApiTokenForm,
    new_token: str | None = None,
    status: int = 200,
    message: str | None = None,
    focus_heading: bool = False,
    confirm_id: str | None = None,
) -> Any:
    response = page_or_fragment(
        "auth/api_tokens.html",
        "auth/_api_tokens.html",
        status,
        form=form,
        tokens=services.list_api_tokens(current_user),
        new_token=new_token,
        focus_heading=focus_heading,
        confirm_id=confirm_id,
    )
    return announce(response, message) if message and status < 400 else response


@bp.get("/me/settings/api-tokens")
def api_tokens() -> Any:
    return _tokens_page(ApiTokenForm())


@bp.post("/me/settings/api-tokens")
def create_api_token() -> Any:
    form = ApiTokenForm()
    if not form.validate():
        return _tokens_page(form, status=422)
    try:
        row, token = services.create_api_token(current_user, form.name.data or "")
    except ValidationError as error:
        form.name.errors = list(error.fields.get("name", [error.detail]))
        return _tokens_page(form, status=422)
    return _tokens_page(
        ApiTokenForm(formdata=None),
        new_token=token,
        message=f"Token “{row.name}” created. Copy it now: it will not be shown again.",
    )


@bp.get("/me/settings/api-tokens/<token_id>/revoke")
def confirm_revoke_api_token(token_id: str) -> Any:
    """The token's row asks first (htmx convention 8); Cancel is focused."""
    return _tokens_page(ApiTokenForm(formdata=None), confirm_id=token_id)


@bp.post("/me/settings/api-tokens/<token_id>/revoke")
def revoke_api_token(token_id: str) -> Any:
    try:
        services.revoke_api_token(current_user, token_id)
    except NotFound:
        pass  # already gone: the list below shows the truth
    if not is_htmx():
        return redirect(url_for("auth.api_tokens"), 303)
    return _tokens_page(ApiTokenForm(formdata=None), message="Token revoked.", focus_heading=True)
