"""Consent to background refresh (SPEC §14): off by default, in the credential JSON, switched by
its owner only, from a browser session (the PATCH route or the switch in Connected accounts)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ppm import crypto
from ppm.auth.models import User
from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.conftest import SessionClient, client_for

URL = "/api/v1/me/credentials/"
PAGE = "/me/settings/connected-accounts"
HX = {"HX-Request": "true"}


def _connect(user: User, provider: str = "github") -> Credential:
    credential = Credential(user_id=user.id, provider=provider, ciphertext=crypto.encrypt("ghp_x"), account_login="me")
    db.session.add(credential)
    db.session.commit()
    return credential


def _stored(user: User, provider: str = "github") -> bool:
    db.session.expire_all()
    found = db.session.query(Credential).filter_by(user_id=user.id, provider=provider).one()
    return bool(found.background_refresh)


def test_off_by_default_and_in_the_credential_json(session_client: SessionClient) -> None:
    _connect(session_client.user)
    row = session_client.api("GET", f"{URL}github/").get_json()
    assert row["background_refresh"] is False
    assert session_client.api("GET", f"{URL}gitlab/").get_json()["background_refresh"] is False


def test_patch_switches_it_and_answers_the_row(session_client: SessionClient) -> None:
    _connect(session_client.user)
    before = session_client.api("GET", f"{URL}github/").get_json()
    response = session_client.api("PATCH", f"{URL}github/", json={"background_refresh": True})
    assert response.status_code == 200
    row = response.get_json()
    assert row["background_refresh"] is True and row["provider"] == "github"
    assert row["updated_at"] == before["updated_at"]  # consent is not a rotation
    assert _stored(session_client.user)
    off = session_client.api("PATCH", f"{URL}github/", json={"background_refresh": False})
    assert off.get_json()["background_refresh"] is False and not _stored(session_client.user)


def test_patch_is_session_only(app: Flask, session_client: SessionClient) -> None:
    _connect(session_client.user)
    script = client_for(app, session_client.user)
    response = script.api("PATCH", f"{URL}github/", json={"background_refresh": True})
    assert response.status_code == 403 and response.get_json()["code"] == "session_required"
    assert not _stored(session_client.user)


def test_patch_needs_csrf_from_a_session(session_client: SessionClient) -> None:
    _connect(session_client.user)
    response = session_client.client.patch(f"{URL}github/", json={"background_refresh": True})
    assert response.status_code == 400 and not _stored(session_client.user)


def test_bad_values_and_missing_credentials(session_client: SessionClient) -> None:
    for body in ({"background_refresh": "yes"}, {}, [True], None):
        response = session_client.api("PATCH", f"{URL}github/", json=body)
        assert response.status_code in (400, 404), body
    _connect(session_client.user)
    bad = session_client.api("PATCH", f"{URL}github/", json={"background_refresh": 1})
    assert bad.status_code == 400 and "background_refresh" in bad.get_json()["fields"]
    missing = session_client.api("PATCH", f"{URL}gitlab/", json={"background_refresh": True})
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_connected"
    unknown = session_client.api("PATCH", f"{URL}bitbucket/", json={"background_refresh": True})
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "unknown_provider"


def test_the_switch_says_what_it_allows_and_flips_with_htmx(session_client: SessionClient) -> None:
    _connect(session_client.user)
    html = session_client.get(PAGE).get_data(as_text=True)
    assert 'role="switch" aria-checked="false"' in html
    assert "uses this token only when you refresh a link yourself" in html
    response = session_client.form(f"{PAGE}/github/background", {"background_refresh": "on"}, headers=HX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and fragment.lstrip().startswith('<section id="github"')
    assert 'aria-checked="true"' in fragment and "autofocus" in fragment
    assert "without you pressing a button" in fragment
    assert 'hx-swap-oob="innerHTML:#live-region"' in fragment  # announced
    assert _stored(session_client.user)


def test_the_switch_works_without_javascript(session_client: SessionClient) -> None:
    _connect(session_client.user)
    session_client.api("PATCH", f"{URL}github/", json={"background_refresh": True})
    response = session_client.form(f"{PAGE}/github/background", {})
    assert response.status_code == 303 and response.headers["Location"].endswith("#github")
    assert not _stored(session_client.user)


def test_no_switch_for_generic_tokens(session_client: SessionClient) -> None:
    session_client.api("POST", f"{URL}generic/", json={"token": "t"})
    html: Any = session_client.get(PAGE).get_data(as_text=True)
    generic = html[html.index('<section id="generic"') :]
    assert 'role="switch"' not in generic
