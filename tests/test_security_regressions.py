"""Findings of the security review, each pinned by a test that fails if it comes back."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.conftest import PASSWORD, SessionClient, client_for
from tests.support.netguard import NetGuard, installed_netguard


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch) as guard:
        for name in ("api.github.com", "ghe.example.com"):
            guard.resolver.add(name, "140.82.112.5")
        yield guard


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "INTEGRATION_ALLOWED_HOSTS": ["ghe.example.com"]}


@pytest.mark.parametrize("token", ["ghp_SECRET123\u200b", "ghp_SECRET\u2013123", "\ufeffghp_SECRET123"])
def test_tokens_with_invisible_unicode_are_refused_before_any_call(
    session_client: SessionClient, token: str, net: NetGuard, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = session_client.api("POST", "/api/v1/me/credentials/github/", json={"token": token})
    assert response.status_code == 400 and "token" in response.get_json()["fields"]
    assert net.resolver.calls == []
    assert "SECRET" not in "\n".join(r.getMessage() for r in caplog.records)


def test_egress_never_logs_a_header_value(caplog: pytest.LogCaptureFixture, app: Any) -> None:
    from ppm import egress

    caplog.set_level(logging.DEBUG)
    with pytest.raises(egress.EgressError):
        egress.fetch("GET", "https://api.github.com/user", headers={"Authorization": "Bearer SECRET\u200b"})
    assert "SECRET" not in "\n".join(r.getMessage() for r in caplog.records)


def test_logout_invalidates_copies_of_the_session_cookie(app: Any, user: Any) -> None:
    browser = SessionClient(app.test_client(), user).login()
    stolen = browser.client.get_cookie("session")
    assert stolen is not None
    browser.form("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen.value)
    assert thief.get("/api/v1/me/").status_code == 401
    assert thief.get("/projects/").status_code == 302
    again = SessionClient(app.test_client(), user).login(PASSWORD)  # logging in again works
    assert again.get("/api/v1/me/").status_code == 200


def test_nul_bytes_in_link_routes_are_404_not_500(app: Any, make: Any, user: Any) -> None:
    project_id = make.project(user)
    task = make.task(user, project_id)
    client = client_for(app, user)
    base = f"/api/v1/projects/{project_id}/tasks"
    assert client.api("GET", f"{base}/%00/links/").status_code == 404
    assert client.api("GET", f"{base}/{task.id}/links/x%00/").status_code == 404
    titled = client.api("POST", f"{base}/{task.id}/links/", json={"url": "https://e.org", "custom_title": "a\x00b"})
    assert titled.status_code == 400


@pytest.mark.parametrize("title", ["\ud800", "evil\u202ecod.exe", "tab\there"])
def test_link_titles_refuse_unsafe_characters(app: Any, make: Any, user: Any, title: str) -> None:
    project_id = make.project(user)
    task = make.task(user, project_id)
    response = client_for(app, user).api(
        "POST",
        f"/api/v1/projects/{project_id}/tasks/{task.id}/links/",
        json={"url": "https://e.org", "custom_title": title, "labels": ["ok"]},
    )
    assert response.status_code == 400 and "custom_title" in response.get_json()["fields"]


def test_deeply_nested_json_is_400(api_client: Any) -> None:
    response = api_client.client.post(
        "/api/v1/projects/",
        data="[" * 50000 + "]" * 50000,
        headers={"Authorization": f"Bearer {api_client.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_next_with_control_characters_stays_on_site(app: Any, user: Any) -> None:
    browser = SessionClient(app.test_client(), user)
    page = browser.client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = browser.client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": "/\r\nSet-Cookie:a=b"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/portfolio"


def test_link_urls_with_user_info_are_refused(app: Any, make: Any, user: Any) -> None:
    project_id = make.project(user)
    task = make.task(user, project_id)
    for url in ("https://github.com@evil.example/a/b/pull/1", "https://user:pw@github.com/a/b/pull/1"):
        response = client_for(app, user).api(
            "POST", f"/api/v1/projects/{project_id}/tasks/{task.id}/links/", json={"url": url}
        )
        assert response.status_code == 400, url


def test_non_members_get_404_from_the_row_and_section_routes(app: Any, make: Any, user: Any) -> None:
    project_id = make.project(user)
    task = make.task(user, project_id)
    stranger = SessionClient(app.test_client(), make.user()).login()
    assert stranger.get(f"/projects/{project_id}/schedule/tasks/{task.id}/row?view=gantt").status_code == 404
    assert stranger.get(f"/projects/{project_id}/tasks/{task.id}/links").status_code == 404


def test_dot_segments_cannot_steer_the_github_api_path(app: Any, make: Any, user: Any) -> None:
    from ppm import crypto

    project_id = make.project(user)
    task = make.task(user, project_id)
    db.session.add(Credential(user_id=user.id, provider="github", ciphertext=crypto.encrypt("t"), base_url=""))
    db.session.commit()
    client = client_for(app, user)
    link = client.api(
        "POST", f"/api/v1/projects/{project_id}/tasks/{task.id}/links/", json={"url": "https://github.com/../../pull/3"}
    ).get_json()
    with responses.RequestsMock() as mock:  # any call would fail: none is registered
        body = client.api("POST", f"/api/v1/projects/{project_id}/tasks/{task.id}/links/{link['id']}/refresh/")
        assert len(mock.calls) == 0
    assert body.status_code == 200 and body.get_json()["status"] == "unknown"


def test_a_withdrawn_host_is_not_contacted_again(app: Any, make: Any, user: Any) -> None:
    session = SessionClient(app.test_client(), user).login()
    with responses.RequestsMock() as mock:
        mock.get("https://ghe.example.com/api/v3/user", json={"login": "me"}, headers={"X-OAuth-Scopes": "repo"})
        assert (
            session.api(
                "POST",
                "/api/v1/me/credentials/github/",
                json={"token": "ghp_first", "base_url": "https://ghe.example.com"},
            ).status_code
            == 200
        )
    project_id = make.project(user)
    task = make.task(user, project_id)
    link = (
        client_for(app, user)
        .api(
            "POST",
            f"/api/v1/projects/{project_id}/tasks/{task.id}/links/",
            json={"url": "https://ghe.example.com/a/b/pull/1"},
        )
        .get_json()
    )
    assert link["provider"] == "github"
    app.config["INTEGRATION_ALLOWED_HOSTS"] = []  # the operator withdraws the host
    with responses.RequestsMock() as mock:
        rotate = session.api("POST", "/api/v1/me/credentials/github/", json={"token": "ghp_second"})
        refreshed = client_for(app, user).api(
            "POST", f"/api/v1/projects/{project_id}/tasks/{task.id}/links/{link['id']}/refresh/"
        )
        assert len(mock.calls) == 0
    assert rotate.status_code == 400 and rotate.get_json()["code"] == "base_url_not_allowed"
    assert refreshed.get_json()["refresh_error"]["code"] == "blocked_host"


def test_production_config_given_to_create_app_is_strict(tmp_path: Any) -> None:
    from ppm import create_app

    app = create_app(
        {
            "PPM_ENV": "production",
            "SECRET_KEY": "s",
            "INTEGRATION_ENCRYPTION_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "max-age" in app.test_client().get("/login").headers["Strict-Transport-Security"]
