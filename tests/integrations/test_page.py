"""The Connected accounts page: sections, htmx swaps of one section, and the no-JS fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import responses

from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.conftest import SessionClient
from tests.integrations.conftest import github_user

PAGE = "/me/settings/connected-accounts"
HX = {"HX-Request": "true"}


def test_page_has_a_section_per_connectable_provider(session_client: SessionClient) -> None:
    html = session_client.get(PAGE).get_data(as_text=True)
    for provider in ("github", "gitlab", "gitea", "generic"):
        assert f'<section id="{provider}"' in html
    assert 'id="google_drive"' not in html
    assert html.count("Not connected") == 4
    assert "Connect GitHub" in html


def test_connect_form_swaps_one_section_with_focus_on_token(session_client: SessionClient) -> None:
    response = session_client.get(f"{PAGE}/github/connect", headers=HX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="github"')
    assert "<html" not in html and 'id="gitlab"' not in html
    assert 'type="password"' in html and "autofocus" in html
    assert 'name="base_url"' in html and 'name="expires_at"' in html
    assert response.headers["Vary"].count("HX-Request") == 1


def test_connect_form_without_js_is_a_full_page(session_client: SessionClient) -> None:
    html = session_client.get(f"{PAGE}/github/connect").get_data(as_text=True)
    assert "<html" in html and 'id="gitlab"' in html and 'name="token"' in html


def test_htmx_connect_success_swaps_section_and_announces(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, login="octocat")
    response = session_client.form(f"{PAGE}/github", {"token": "ghp_abc123", "base_url": ""}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Connected" in html and "octocat" in html and "Rotate" in html and "Revoke" in html
    assert 'hx-swap-oob="innerHTML:#live-region"' in html
    assert "GitHub token connected as octocat." in html


def test_connect_without_js_redirects_to_the_section(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    response = session_client.form(f"{PAGE}/github", {"token": "ghp_abc123"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{PAGE}#github")


def test_refused_token_shows_the_reason_in_the_form(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, status=401)
    response = session_client.form(f"{PAGE}/github", {"token": "ghp_bad"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html and "The provider rejected this token" in html
    assert 'class="error-summary"' in html and "autofocus" in html
    assert "ghp_bad" not in html  # the token is never echoed back


def test_validation_error_is_by_the_field(session_client: SessionClient) -> None:
    response = session_client.form(f"{PAGE}/gitlab", {"token": "", "base_url": "http://x.example"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#gitlab-token"' in html and 'href="#gitlab-base_url"' in html
    assert 'aria-describedby="gitlab-token-hint gitlab-token-error"' in html
    assert 'value="http://x.example"' in html  # nothing typed is lost


def test_revoke_confirm_then_revoke(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    github_user(provider_mock)
    session_client.form(f"{PAGE}/github", {"token": "ghp_abc123"}, headers=HX)
    confirm = session_client.get(f"{PAGE}/github/revoke", headers=HX).get_data(as_text=True)
    assert "Revoke the GitHub token? Task links that use it will stop refreshing." in confirm.replace(
        "<strong>", ""
    ).replace("</strong>", "")
    cancel = confirm.split("Cancel")[0].rsplit("<a", 1)[1]
    assert "autofocus" in cancel
    done = session_client.form(f"{PAGE}/github/revoke", headers=HX)
    html = done.get_data(as_text=True)
    assert "Not connected" in html and "GitHub token revoked." in html
    assert 'id="github-heading" tabindex="-1" autofocus' in html
    assert db.session.query(Credential).count() == 0


def test_expiry_warning_from_14_days_and_expired(session_client: SessionClient) -> None:
    session_client.api("POST", "/api/v1/me/credentials/generic/", json={"token": "t"})
    credential = db.session.query(Credential).one()
    credential.expires_at = datetime.now(UTC) + timedelta(days=10)
    db.session.commit()
    assert "Expires soon" in session_client.get(PAGE).get_data(as_text=True)
    credential.expires_at = datetime.now(UTC) + timedelta(days=40)
    db.session.commit()
    html = session_client.get(PAGE).get_data(as_text=True)
    assert "Expires soon" not in html and "Expired" not in html
    credential.expires_at = datetime.now(UTC) - timedelta(days=1)
    db.session.commit()
    assert "Expired" in session_client.get(PAGE).get_data(as_text=True)


def test_integrations_page_links_here(session_client: SessionClient, make: Any) -> None:
    project_id = make.project(session_client.user)
    html = session_client.get(f"/projects/{project_id}/integrations").get_data(as_text=True)
    assert f'href="{PAGE}#github"' in html and f'href="{PAGE}#gitlab"' in html
