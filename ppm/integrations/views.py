"""The Connected accounts page: one section per provider, each swapped alone by htmx (SPEC §5).

States of a section: view, form (connect or rotate), confirm revoke. Without JavaScript the same
links and forms work as full pages with post-redirect-get.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ppm.errors import DomainError, ValidationError
from ppm.htmx import announce, is_htmx, wants_fragment
from ppm.integrations import services
from ppm.integrations.forms import ConnectForm
from ppm.integrations.limits import credential_write_limit

bp = Blueprint("integrations", __name__, url_prefix="/me/settings/connected-accounts")


def _render(
    provider_id: str,
    state: str,
    form: ConnectForm | None = None,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    focus: str = "",
) -> Any:
    """The section alone for htmx, else the whole page with that section in `state`."""
    account = services.get_account(current_user, provider_id)
    section = {
        "account": account,
        "state": state,
        "form": form or ConnectForm(formdata=None),
        "error": error,
        "focus": focus,
    }
    if wants_fragment():
        body = render_template("integrations/_account.html", **section)
    else:
        accounts = services.list_accounts(current_user, by_id=False)
        body = render_template(
            "integrations/connected_accounts.html", accounts=accounts, active=provider_id, section=section
        )
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return announce(response, message) if message else response


def _done(provider_id: str, message: str, focus: str) -> Any:
    if not is_htmx():
        return redirect(url_for("integrations.page") + f"#{provider_id}", 303)
    return _render(provider_id, "view", message=message, focus=focus)


@bp.get("")
def page() -> Any:
    accounts = services.list_accounts(current_user, by_id=False)
    return render_template("integrations/connected_accounts.html", accounts=accounts, active=None, section=None)


@bp.get("/<provider_id>")
def section(provider_id: str) -> Any:
    if not is_htmx():
        services.connectable(provider_id)
        return redirect(url_for("integrations.page") + f"#{provider_id}")
    return _render(provider_id, "view", focus="primary")


@bp.get("/<provider_id>/connect")
def connect_form(provider_id: str) -> Any:
    return _render(provider_id, "form", focus="token")


@bp.post("/<provider_id>")
@credential_write_limit
def connect(provider_id: str) -> Any:
    form = ConnectForm()
    data: dict[str, Any] = {"token": request.form.get("token", "")}
    if "base_url" in request.form:
        data["base_url"] = request.form.get("base_url", "")
    if request.form.get("expires_at"):
        data["expires_at"] = request.form["expires_at"]
    rotating = services.get_account(current_user, provider_id).connected
    try:
        account = services.connect(current_user, provider_id, data)
    except ValidationError as error:
        for name, messages in error.fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = list(messages)
        return _render(provider_id, "form", form=form, status=422)
    except DomainError as error:
        if error.status == 404:
            raise
        return _render(provider_id, "form", form=form, status=422, error=error.detail)
    verb = "rotated" if rotating else "connected"
    login = account.credential.account_login if account.credential else None
    who = f" as {login}" if login else ""
    return _done(provider_id, f"{account.provider.label} token {verb}{who}.", focus="primary")


@bp.post("/<provider_id>/background")
@credential_write_limit
def background(provider_id: str) -> Any:
    """The switch for background refresh (SPEC §14): the form says which way to set it."""
    allow = request.form.get("background_refresh") == "on"
    account = services.set_background_refresh(current_user, provider_id, {"background_refresh": allow})
    label = account.provider.label
    message = (
        f"ppm may now use your {label} token to keep links current in the background."
        if allow
        else f"ppm will no longer use your {label} token unless you refresh a link yourself."
    )
    return _done(provider_id, message, focus="background")


@bp.get("/<provider_id>/revoke")
def confirm_revoke(provider_id: str) -> Any:
    return _render(provider_id, "confirm", focus="cancel")


@bp.post("/<provider_id>/revoke")
@credential_write_limit
def revoke(provider_id: str) -> Any:
    account = services.get_account(current_user, provider_id)
    services.revoke(current_user, provider_id)
    return _done(provider_id, f"{account.provider.label} token revoked.", focus="heading")
