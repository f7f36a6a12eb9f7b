"""Personal API tokens and who may call /api/v1 (SPEC §2): bearer auth, CSRF for session
writes, hashed storage, last use, and the settings page (shown once, revoke)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from ppm.auth import services
from ppm.auth.models import ApiToken
from ppm.extensions import db
from ppm.projects.models import Project
from tests.conftest import Factory, SessionClient, TokenClient

TOKEN_IN_PAGE = re.compile(r'id="new-token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*id="new-token"')


def _project_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Project)) or 0


def _bearer(client: FlaskClient, token: str, method: str = "GET", url: str = "/api/v1/me/", json: Any = None) -> Any:
    return client.open(url, method=method, json=json, headers={"Authorization": f"Bearer {token}"})


def _assert_401(response: Any) -> None:
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == "not_authenticated"
    assert isinstance(body["detail"], str) and body["detail"]


# --- bearer tokens ----------------------------------------------------------------------------


def test_bearer_token_authenticates_the_api(api_client: TokenClient) -> None:
    response = api_client.api("GET", "/api/v1/me/")
    assert response.status_code == 200
    assert response.get_json() == {"id": api_client.user.id, "email": "owner@example.com", "name": "Olive Owner"}


def test_bearer_writes_need_no_csrf(api_client: TokenClient) -> None:
    response = api_client.api("POST", "/api/v1/projects/", {"name": "Scripted"})
    assert response.status_code == 201
    pid = response.get_json()["id"]
    assert api_client.api("PATCH", f"/api/v1/projects/{pid}/", {"name": "Renamed"}).status_code == 200
    assert api_client.api("DELETE", f"/api/v1/projects/{pid}/").status_code == 204


BAD_AUTHORIZATION = [
    "Bearer ppm_not-a-real-token",
    "Bearer ",
    "Bearer",
    "Bearer nope",
    "bearer ppm_" + "x" * 500,
    "Bearer ppm_\u00e9t\u00e9",
    "Token abc",
    "Basic b3duZXJAZXhhbXBsZS5jb206Y29ycmVjdCBob3JzZSBiYXR0ZXJ5",
]


def test_bad_credentials_are_401(client: FlaskClient, user: Any) -> None:
    for header in BAD_AUTHORIZATION:
        for method, json in (("GET", None), ("POST", {"name": "x"})):
            response = client.open("/api/v1/projects/", method=method, json=json, headers={"Authorization": header})
            assert response.status_code == 401, (header, method)
            _assert_401(response)
    assert _project_count() == 0


def test_scheme_is_case_insensitive(api_client: TokenClient) -> None:
    response = api_client.client.get("/api/v1/me/", headers={"Authorization": f"bearer {api_client.token}"})
    assert response.status_code == 200


def test_revoked_token_is_401(app: Flask, client: FlaskClient, user: Any) -> None:
    row, token = services.create_api_token(user, "script")
    assert _bearer(client, token).status_code == 200
    services.revoke_api_token(user, row.id)
    _assert_401(_bearer(client, token))
    _assert_401(_bearer(client, token, "POST", "/api/v1/projects/", {"name": "x"}))


def test_a_token_with_one_character_changed_is_refused(client: FlaskClient, user: Any) -> None:
    _, token = services.create_api_token(user)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    _assert_401(_bearer(client, forged))


def test_a_bad_bearer_wins_over_a_good_session(session_client: SessionClient) -> None:
    """A script that sends a wrong token is told so, even from a logged-in browser."""
    response = session_client.get("/api/v1/me/", headers={"Authorization": "Bearer ppm_wrong"})
    _assert_401(response)
    assert session_client.get("/api/v1/me/").status_code == 200


def test_bearer_does_not_log_into_pages(client: FlaskClient, api_client: TokenClient) -> None:
    response = client.get("/projects/", headers={"Authorization": f"Bearer {api_client.token}"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_bearer_is_judged_per_request(app: Flask, make: Factory, api_client: TokenClient) -> None:
    """Two scripts on one server never see each other's identity."""
    other = make.user(email="other@example.com", name="Other")
    _, other_token = services.create_api_token(other)
    shared = app.test_client()
    assert _bearer(shared, api_client.token).get_json()["email"] == "owner@example.com"
    assert _bearer(shared, other_token).get_json()["email"] == "other@example.com"
    _assert_401(shared.get("/api/v1/me/"))


def test_last_used_at_is_stamped(client: FlaskClient, user: Any) -> None:
    row, token = services.create_api_token(user, "script")
    assert row.last_used_at is None
    assert _bearer(client, token).status_code == 200
    db.session.expire_all()
    used = db.session.get(ApiToken, row.id)
    assert used is not None and used.last_used_at is not None
    _assert_401(_bearer(client, "ppm_wrong"))


def test_token_is_stored_hashed(user: Any) -> None:
    row, token = services.create_api_token(user, "script")
    assert token.startswith("ppm_") and len(token) >= 40
    raw_rows = db.session.execute(text("SELECT * FROM api_tokens")).all()
    assert len(raw_rows) == 1
    for value in raw_rows[0]:
        if isinstance(value, str):
            assert token not in value
            assert token[len("ppm_") :] not in value
    assert row.token_hash != token
    assert token.startswith(row.prefix) and len(row.prefix) < 12


def test_tokens_are_unique(user: Any) -> None:
    tokens = {services.create_api_token(user)[1] for _ in range(5)}
    assert len(tokens) == 5


# --- sessions on the API -------------------------------------------------------------------


def test_session_reads_need_no_csrf(session_client: SessionClient) -> None:
    assert session_client.get("/api/v1/projects/").status_code == 200


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": ""}, {"X-CSRFToken": "forged"}])
def test_session_json_write_without_csrf_is_400_and_changes_nothing(
    session_client: SessionClient, headers: dict[str, str]
) -> None:
    response = session_client.client.post("/api/v1/projects/", json={"name": "CSRF"}, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["code"] == "csrf_failed"
    assert response.get_json()["detail"]
    assert _project_count() == 0


def test_session_json_write_with_csrf_header_works(session_client: SessionClient) -> None:
    response = session_client.api("POST", "/api/v1/projects/", {"name": "Browser"})
    assert response.status_code == 201
    pid = response.get_json()["id"]
    patch_without = session_client.client.patch(f"/api/v1/projects/{pid}/", json={"name": "X"})
    assert patch_without.status_code == 400
    delete_without = session_client.client.delete(f"/api/v1/projects/{pid}/")
    assert delete_without.status_code == 400
    assert session_client.api("GET", f"/api/v1/projects/{pid}/").get_json()["name"] == "Browser"
    assert session_client.api("DELETE", f"/api/v1/projects/{pid}/").status_code == 204


def test_csrf_token_of_another_session_is_refused(app: Flask, make: Factory, session_client: SessionClient) -> None:
    other = SessionClient(app.test_client(), make.user()).login()
    response = session_client.client.post("/api/v1/projects/", json={"name": "x"}, headers={"X-CSRFToken": other.csrf})
    assert response.status_code == 400
    assert _project_count() == 0


@pytest.mark.parametrize(
    "method,url",
    [
        ("GET", "/api/v1/me/"),
        ("GET", "/api/v1/projects/"),
        ("POST", "/api/v1/projects/"),
        ("PATCH", "/api/v1/projects/abc/"),
        ("DELETE", "/api/v1/projects/abc/"),
        ("POST", "/api/v1/projects/abc/archive/"),
    ],
)
def test_anonymous_json_is_401_even_without_csrf(client: FlaskClient, method: str, url: str) -> None:
    response = client.open(url, method=method, json={"name": "x"})
    _assert_401(response)
    assert "Location" not in response.headers
    assert _project_count() == 0


# --- the settings page -----------------------------------------------------------------------


def _new_token(html: str) -> str | None:
    found = TOKEN_IN_PAGE.search(html)
    return (found.group(1) or found.group(2)) if found else None


def test_settings_page_creates_a_token_shown_once(session_client: SessionClient, client: FlaskClient) -> None:
    page = session_client.get("/me/settings/api-tokens")
    assert page.status_code == 200
    assert "You have no API tokens" in page.get_data(as_text=True)
    response = session_client.form("/me/settings/api-tokens", {"name": "Backup script"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = _new_token(html)
    assert token and token.startswith("ppm_")
    assert "Backup script" in html
    # It works...
    assert _bearer(client, token).get_json()["email"] == "owner@example.com"
    # ...and is never shown again.
    again = session_client.get("/me/settings/api-tokens").get_data(as_text=True)
    assert token not in again
    assert "Backup script" in again
    rows = services.list_api_tokens(session_client.user)
    assert [r.name for r in rows] == ["Backup script"]
    assert rows[0].last_used_at is not None
    assert token[:8] in again  # the prefix lets a person tell tokens apart


def test_settings_page_create_needs_csrf(session_client: SessionClient) -> None:
    response = session_client.client.post("/me/settings/api-tokens", data={"name": "Sneaky"})
    assert response.status_code == 400
    assert services.list_api_tokens(session_client.user) == []


def test_settings_page_refuses_a_long_name(session_client: SessionClient) -> None:
    response = session_client.form("/me/settings/api-tokens", {"name": "n" * 101})
    assert response.status_code == 422
    assert _new_token(response.get_data(as_text=True)) is None
    assert services.list_api_tokens(session_client.user) == []


def test_settings_page_revokes_a_token(session_client: SessionClient, client: FlaskClient) -> None:
    row, token = services.create_api_token(session_client.user, "Old script")
    assert _bearer(client, token).status_code == 200
    response = session_client.form(f"/me/settings/api-tokens/{row.id}/revoke")
    assert response.status_code == 303
    _assert_401(_bearer(client, token))
    assert services.list_api_tokens(session_client.user) == []
    assert "Old script" not in session_client.get("/me/settings/api-tokens").get_data(as_text=True)


def test_htmx_revoke_answers_the_fragment(session_client: SessionClient) -> None:
    row, _ = services.create_api_token(session_client.user, "Old script")
    keep, _ = services.create_api_token(session_client.user, "Keeper")
    response = session_client.form(f"/me/settings/api-tokens/{row.id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="api-tokens"' in html
    assert "<html" not in html
    assert f'id="token-{keep.id}"' in html and f'id="token-{row.id}"' not in html


def test_revoke_needs_csrf(session_client: SessionClient, client: FlaskClient) -> None:
    row, token = services.create_api_token(session_client.user, "Script")
    response = session_client.client.post(f"/me/settings/api-tokens/{row.id}/revoke")
    assert response.status_code == 400
    assert _bearer(client, token).status_code == 200


def test_another_users_token_cannot_be_revoked(
    app: Flask, make: Factory, session_client: SessionClient, client: FlaskClient
) -> None:
    victim = make.user(email="victim@example.com", name="Victim")
    row, token = services.create_api_token(victim, "Victim's script")
    response = session_client.form(f"/me/settings/api-tokens/{row.id}/revoke")
    assert response.status_code in (303, 404)
    assert _bearer(client, token).status_code == 200
    assert [r.id for r in services.list_api_tokens(victim)] == [row.id]
    page = session_client.get("/me/settings/api-tokens").get_data(as_text=True)
    assert "Victim's script" not in page and "Victim&#39;s script" not in page


def test_revoke_service_is_scoped_to_the_user(make: Factory, user: Any) -> None:
    other = make.user()
    row, _ = services.create_api_token(other)
    from ppm.errors import NotFound

    with pytest.raises(NotFound):
        services.revoke_api_token(user, row.id)
    assert services.list_api_tokens(other)


def test_settings_page_lists_only_my_tokens(make: Factory, session_client: SessionClient) -> None:
    services.create_api_token(make.user(), "Someone else's")
    services.create_api_token(session_client.user, "Mine")
    html = session_client.get("/me/settings/api-tokens").get_data(as_text=True)
    assert "Mine" in html
    assert "Someone else" not in html


def test_settings_page_is_not_for_bearer_tokens(client: FlaskClient, api_client: TokenClient) -> None:
    response = client.post(
        "/me/settings/api-tokens", data={"name": "x"}, headers={"Authorization": f"Bearer {api_client.token}"}
    )
    assert response.status_code in (302, 400)
    assert [r.name for r in services.list_api_tokens(api_client.user)] == ["tests"]
