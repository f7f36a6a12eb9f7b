"""Browser login and logout (SPEC §2): CSRF, one message for every failure, no fixation,
same-site `next` only, and where anonymous visitors are sent."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ppm.auth.views import LOGIN_FAILED
from tests.conftest import CSRF_META, PASSWORD, Factory, SessionClient

CSRF_VALUE = re.compile(
    r'(name="csrf-token" content="|name="csrf_token" value="|"X-CSRFToken": ")'
    r'[^"]+"'
)


def _csrf(client: FlaskClient, url: str = "/login") -> str:
    found = CSRF_META.search(client.get(url).get_data(as_text=True))
    assert found
    return found.group(1)


def _login(client: FlaskClient, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    token = _csrf(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra})


def _logged_in(client: FlaskClient) -> bool:
    response = client.get("/projects/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    return False


def test_login_page_is_a_form_with_csrf(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert CSRF_META.search(html)
    for name in ("email", "password", "csrf_token"):
        assert f'name="{name}"' in html
    assert 'type="password"' in html


def test_login_with_csrf_starts_a_session(client: FlaskClient, user: Any) -> None:
    response = _login(client, user.email)
    assert response.status_code == 303
    assert response.headers["Location"] == "/portfolio"  # the landing page (SPEC §22)
    assert _logged_in(client)
    me = client.get("/api/v1/me/")
    assert me.get_json() == {"id": user.id, "email": "owner@example.com", "name": "Olive Owner"}


def test_email_is_case_insensitive(client: FlaskClient, user: Any) -> None:
    assert _login(client, "  OWNER@Example.COM ").status_code == 303
    assert _logged_in(client)


@pytest.mark.parametrize("token", [None, "", "not-a-token", "IjEyMyI.ZZZ.bad"])
def test_login_without_a_good_csrf_token_is_400_and_logs_nobody_in(
    client: FlaskClient, user: Any, token: str | None
) -> None:
    _csrf(client)  # the session has a token; the form just doesn't carry it
    data = {"email": user.email, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert not _logged_in(client)


def test_a_token_from_another_session_is_refused(app: Flask, client: FlaskClient, user: Any) -> None:
    other_token = _csrf(app.test_client())
    _csrf(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": other_token})
    assert response.status_code == 400
    assert not _logged_in(client)


def _normalized(html: str, email: str) -> str:
    return CSRF_VALUE.sub("TOKEN", html).replace(email, "EMAIL")


def test_wrong_password_and_unknown_email_look_the_same(app: Flask, user: Any) -> None:
    wrong = _login(app.test_client(), user.email, "wrong password")
    unknown = _login(app.test_client(), "nobody@example.com", "wrong password")
    for response in (wrong, unknown):
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert LOGIN_FAILED in html
        assert 'name="password"' in html and 'name="email"' in html  # the form again
        assert "error-summary" in html
    assert _normalized(wrong.get_data(as_text=True), user.email) == _normalized(
        unknown.get_data(as_text=True), "nobody@example.com"
    )


def test_failed_login_keeps_the_email_but_never_the_password(client: FlaskClient, user: Any) -> None:
    response = _login(client, user.email, "s3cret-wrong")
    html = response.get_data(as_text=True)
    assert 'value="owner@example.com"' in html
    assert "s3cret-wrong" not in html
    assert not _logged_in(client)


@pytest.mark.parametrize("email,password", [("", PASSWORD), ("owner@example.com", "")])
def test_blank_fields_answer_422_with_the_form(client: FlaskClient, user: Any, email: str, password: str) -> None:
    response = _login(client, email, password)
    assert response.status_code == 422
    assert 'name="password"' in response.get_data(as_text=True)
    assert not _logged_in(client)


def test_login_starts_a_fresh_session(app: Flask, client: FlaskClient, user: Any) -> None:
    old_token = _csrf(client)
    before = client.get_cookie("session")
    assert before is not None
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": old_token})
    assert response.status_code == 303
    after = client.get_cookie("session")
    assert after is not None and after.value != before.value
    # The session that existed before login (and its CSRF token) is gone.
    stale = client.post("/api/v1/projects/", json={"name": "x"}, headers={"X-CSRFToken": old_token})
    assert stale.status_code == 400
    assert stale.get_json()["code"] == "csrf_failed"
    # A cookie planted before the victim logged in does not become a logged-in session.
    attacker = app.test_client()
    attacker.set_cookie("session", before.value)
    assert not _logged_in(attacker)
    assert attacker.get("/api/v1/me/").status_code == 401


def test_session_cookie_is_httponly_and_lax(client: FlaskClient, user: Any) -> None:
    _login(client, user.email)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert (cookie.same_site or "").lower() == "lax"


# --- next= ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/projects/abc/schedule?task=1&view=gantt", "/me/settings/api-tokens"])
def test_next_sends_you_back_to_a_same_site_path(client: FlaskClient, user: Any, target: str) -> None:
    response = _login(client, user.email, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == target


def test_failed_login_keeps_next_for_the_second_try(client: FlaskClient, user: Any) -> None:
    failed = _login(client, user.email, "wrong", next="/me/settings/api-tokens")
    assert failed.status_code == 422
    assert 'name="next" value="/me/settings/api-tokens"' in failed.get_data(as_text=True)
    response = _login(client, user.email, next="/me/settings/api-tokens")
    assert response.headers["Location"] == "/me/settings/api-tokens"


def test_next_in_the_query_string_is_honoured(client: FlaskClient, user: Any) -> None:
    token = _csrf(client)
    response = client.post(
        "/login?next=%2Fme%2Fsettings%2Fapi-tokens",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/me/settings/api-tokens"


OFF_SITE = [
    "//evil.example",
    "//evil.example/projects/",
    "https://evil.example",
    "https://evil.example/projects/",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "evil.example/path",
    "/\t/evil.example",
    "https:/evil.example",
    "///evil.example",
]


def test_next_never_leaves_the_site(app: Flask, user: Any) -> None:
    for target in OFF_SITE:
        client = app.test_client()
        response = _login(client, user.email, next=target)
        assert response.status_code == 303
        location = response.headers["Location"]
        parts = urlsplit(location)
        assert not parts.scheme and not parts.netloc, (target, location)
        assert location == "/portfolio", (target, location)
        assert _logged_in(client)


def test_logged_in_visit_to_login_follows_next_safely(session_client: SessionClient) -> None:
    ok = session_client.get("/login?next=/me/settings/api-tokens")
    assert ok.status_code == 302 and ok.headers["Location"] == "/me/settings/api-tokens"
    evil = session_client.get("/login?next=//evil.example")
    assert evil.status_code == 302 and evil.headers["Location"] == "/portfolio"


# --- logout -----------------------------------------------------------------------------------


def test_logout_is_a_post_with_csrf(session_client: SessionClient) -> None:
    assert session_client.get("/logout").status_code == 405
    assert _logged_in(session_client.client)
    no_token = session_client.client.post("/logout")
    assert no_token.status_code == 400
    assert _logged_in(session_client.client)
    response = session_client.form("/logout")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert not _logged_in(session_client.client)
    assert session_client.get("/api/v1/me/").status_code == 401


# --- anonymous visitors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/projects/", "/me/settings/api-tokens", "/projects/abc/members", "/projects/?q=a+b&x=1"]
)
def test_anonymous_page_redirects_to_login_with_next(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


def test_login_after_redirect_lands_on_the_page(client: FlaskClient, user: Any) -> None:
    location = client.get("/me/settings/api-tokens").headers["Location"]
    next_url = parse_qs(urlsplit(location).query)["next"][0]
    response = _login(client, user.email, next=next_url)
    assert response.headers["Location"] == "/me/settings/api-tokens"
    assert client.get(response.headers["Location"]).status_code == 200


def test_anonymous_htmx_gets_hx_redirect(client: FlaskClient) -> None:
    response = client.get("/projects/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/projects/"})
    assert "HX-Redirect" in response.headers
    location = urlsplit(response.headers["HX-Redirect"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/projects/"]
    assert response.status_code != 302  # htmx would follow a 302 silently and swap the login page


def test_anonymous_htmx_post_gets_hx_redirect_back_to_the_page(client: FlaskClient) -> None:
    response = client.post(
        "/projects/",
        data={"name": "x"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/projects/abc/members"},
    )
    location = urlsplit(response.headers["HX-Redirect"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/projects/abc/members"]


def test_anonymous_page_post_redirects_and_changes_nothing(client: FlaskClient, make: Factory, user: Any) -> None:
    response = client.post("/projects/", data={"name": "Sneaky"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    from ppm.projects import services

    assert services.list_projects(user) == []


def test_root_redirects_to_the_portfolio_when_logged_in(session_client: SessionClient, client: FlaskClient) -> None:
    response = session_client.get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/portfolio"
    anonymous = client.get("/")
    assert anonymous.status_code == 302
    assert urlsplit(anonymous.headers["Location"]).path == "/login"


def test_every_page_carries_the_csrf_meta(session_client: SessionClient) -> None:
    for path in ("/projects/", "/me/settings/api-tokens"):
        html = session_client.get(path).get_data(as_text=True)
        assert CSRF_META.search(html), path
