"""Connect, as GitHub and GitLab answer today (SPEC §18): expired and under-scoped tokens named
from the provider's own error body, rate limits with a time, GitLab before 15.5, tokens that
are not personal access tokens, and provider strings cleaned before they are stored. Every
GitLab rule runs against gitlab.com, a self-managed host and one under a relative root."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import select

from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.conftest import SessionClient
from tests.integrations.conftest import GITHUB_API, GITLAB_API
from tests.support import provider_examples as examples

URL = "/api/v1/me/credentials/"
PAGE = "/me/settings/connected-accounts"
HX = {"HX-Request": "true"}
GL_TOKEN = "glpat-" + "Zz9Yy8Xx7Ww6" * 2
GH_TOKEN = "ghp_" + "A1b2C3d4" * 4

# (base_url sent on connect, the API root ppm must call)
GITLAB_ROOTS = [
    pytest.param("", GITLAB_API, id="gitlab.com"),
    pytest.param("https://gitlab.example.org", "https://gitlab.example.org/api/v4", id="self-managed"),
    pytest.param("https://example.org/gitlab", "https://example.org/gitlab/api/v4", id="relative-root"),
]


def connect_gitlab(client: SessionClient, base_url: str) -> Any:
    body = {"token": GL_TOKEN, **({"base_url": base_url} if base_url else {})}
    return client.api("POST", f"{URL}gitlab/", json=body)


def stored() -> list[Credential]:
    db.session.expire_all()
    return list(db.session.scalars(select(Credential)))


def self_url(api: str) -> str:
    return f"{api}/personal_access_tokens/self"


def refused(response: Any, code: str) -> dict[str, Any]:
    """The connect answered 422 with `code` and stored nothing; its body, for the words."""
    body: dict[str, Any] = response.get_json()
    assert response.status_code == 422 and body["code"] == code, body
    assert stored() == []
    return body


# --- GitLab's documented answers are accepted --------------------------------------------


@pytest.mark.parametrize(("base_url", "api"), GITLAB_ROOTS)
def test_documented_user_and_token_answers_connect(
    session_client: SessionClient, provider_mock: responses.RequestsMock, base_url: str, api: str
) -> None:
    provider_mock.get(f"{api}/user", json=examples.GITLAB_USER)
    provider_mock.get(self_url(api), json=examples.GITLAB_TOKEN_SELF)
    response = connect_gitlab(session_client, base_url)
    assert response.status_code == 200, response.get_json()
    row = response.get_json()
    assert row["account_login"] == "john_smith" and row["scopes"] == ["api"] and row["expires_at"] is None
    assert row["base_url"] == base_url


@pytest.mark.parametrize(("base_url", "api"), GITLAB_ROOTS)
def test_gitlab_before_15_5_is_accepted_with_unknown_scopes(
    session_client: SessionClient, provider_mock: responses.RequestsMock, base_url: str, api: str
) -> None:
    provider_mock.get(f"{api}/user", json=examples.GITLAB_USER)
    provider_mock.get(self_url(api), json=examples.GITLAB_NO_SUCH_ROUTE, status=404)
    response = connect_gitlab(session_client, base_url)
    assert response.status_code == 200, response.get_json()
    row = response.get_json()
    assert row["exists"] is True and row["account_login"] == "john_smith"
    assert row["scopes"] is None and row["expires_at"] is None
    assert len(stored()) == 1


def test_gitlab_before_15_5_keeps_the_users_own_expiry(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(f"{GITLAB_API}/user", json=examples.GITLAB_USER)
    provider_mock.get(self_url(GITLAB_API), json=examples.GITLAB_NO_SUCH_ROUTE, status=404)
    response = session_client.api("POST", f"{URL}gitlab/", json={"token": GL_TOKEN, "expires_at": "2099-03-01"})
    assert response.status_code == 200 and response.get_json()["expires_at"].startswith("2099-03-01")


# --- refusals, named in the provider's terms ------------------------------------------------


@pytest.mark.parametrize(("base_url", "api"), GITLAB_ROOTS)
def test_expired_token_is_token_expired(
    session_client: SessionClient, provider_mock: responses.RequestsMock, base_url: str, api: str
) -> None:
    provider_mock.get(
        f"{api}/user",
        json=examples.GITLAB_TOKEN_EXPIRED,
        status=401,
        headers={"WWW-Authenticate": examples.GITLAB_TOKEN_EXPIRED_CHALLENGE},
    )
    body = refused(connect_gitlab(session_client, base_url), "token_expired")
    assert "create a new token" in body["detail"] and "copied all of it" not in body["detail"]
    assert len(provider_mock.calls) == 1  # /self never asked


def test_expired_read_from_the_challenge_header_alone(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(
        f"{GITLAB_API}/user",
        body="",
        status=401,
        headers={"WWW-Authenticate": examples.GITLAB_TOKEN_EXPIRED_CHALLENGE},
    )
    assert connect_gitlab(session_client, "").get_json()["code"] == "token_expired"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (examples.GITLAB_TOKEN_REVOKED, "revoked"),
        (examples.GITLAB_UNAUTHORIZED, "copied all of it"),
    ],
)
def test_other_401s_stay_token_rejected(
    session_client: SessionClient, provider_mock: responses.RequestsMock, body: dict[str, Any], words: str
) -> None:
    provider_mock.get(f"{GITLAB_API}/user", json=body, status=401)
    assert words in refused(connect_gitlab(session_client, ""), "token_rejected")["detail"]


@pytest.mark.parametrize(("base_url", "api"), GITLAB_ROOTS)
def test_insufficient_scope_names_read_api(
    session_client: SessionClient, provider_mock: responses.RequestsMock, base_url: str, api: str
) -> None:
    provider_mock.get(f"{api}/user", json=examples.GITLAB_INSUFFICIENT_SCOPE, status=403)
    assert "needs read_api" in refused(connect_gitlab(session_client, base_url), "insufficient_scope")["detail"]


@pytest.mark.parametrize(("base_url", "api"), GITLAB_ROOTS)
def test_not_a_personal_access_token_is_rejected_saying_so(
    session_client: SessionClient, provider_mock: responses.RequestsMock, base_url: str, api: str
) -> None:
    provider_mock.get(f"{api}/user", json=examples.GITLAB_USER)
    provider_mock.get(self_url(api), json=examples.GITLAB_NOT_A_PERSONAL_TOKEN, status=400)
    body = refused(connect_gitlab(session_client, base_url), "token_rejected")
    assert "only personal access tokens" in body["detail"]


@pytest.mark.parametrize(("base_url", "api"), GITLAB_ROOTS)
def test_rate_limited_connect_says_when_to_try_again(
    session_client: SessionClient, provider_mock: responses.RequestsMock, base_url: str, api: str
) -> None:
    headers = {k: v for k, v in examples.GITLAB_RATE_LIMIT_HEADERS.items() if k != "Retry-After"}
    provider_mock.get(f"{api}/user", body="Retry later\n", status=429, headers=headers)
    body = refused(connect_gitlab(session_client, base_url), "provider_rate_limited")
    assert body["retry_at"] == "2021-01-05T11:00:00Z"  # RateLimit-Reset, epoch seconds
    assert "resets at 11:00 UTC on 2021-01-05" in body["detail"] and "try again" in body["detail"]


def test_rate_limited_connect_prefers_retry_after(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(
        f"{GITLAB_API}/user", body="Retry later\n", status=429, headers=examples.GITLAB_RATE_LIMIT_HEADERS
    )
    before = datetime.now(UTC).replace(microsecond=0)
    body = connect_gitlab(session_client, "").get_json()
    after = datetime.now(UTC)
    retry_at = datetime.fromisoformat(body["retry_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=30) <= retry_at <= after + timedelta(seconds=30)


def test_rate_limited_connect_without_a_time_still_says_what_to_do(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(f"{GITLAB_API}/user", body="Retry later\n", status=429)
    body = connect_gitlab(session_client, "").get_json()
    assert body["code"] == "provider_rate_limited" and "Try again in a few minutes" in body["detail"]
    assert "retry_at" not in body


def test_github_rate_limit_reads_its_reset_header(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(
        f"{GITHUB_API}/user",
        json={"message": "API rate limit exceeded"},
        status=403,
        headers={
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(examples.GITHUB_RATE_LIMIT_RESET),
        },
    )
    body = session_client.api("POST", f"{URL}github/", json={"token": GH_TOKEN}).get_json()
    assert body["code"] == "provider_rate_limited" and body["retry_at"] == "2020-05-28T21:38:08Z"
    assert "GitHub's rate limit resets at 21:38 UTC on 2020-05-28" in body["detail"]


def test_github_documented_user_connects(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    provider_mock.get(f"{GITHUB_API}/user", json=examples.github("private-user"), headers={"X-OAuth-Scopes": "repo"})
    response = session_client.api("POST", f"{URL}github/", json={"token": GH_TOKEN})
    assert response.status_code == 200 and response.get_json()["account_login"] == "octocat"


# --- strings from providers are cleaned before they are stored -----------------------------


def test_gitlab_login_and_scopes_are_cleaned(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(f"{GITLAB_API}/user", json=examples.gitlab(examples.GITLAB_USER, username="john\x00_smith\ud800"))
    provider_mock.get(
        self_url(GITLAB_API), json=examples.gitlab(examples.GITLAB_TOKEN_SELF, scopes=["read_api\x1b[2J", "a\x00pi"])
    )
    response = connect_gitlab(session_client, "")
    assert response.status_code == 200, response.get_json()
    row = response.get_json()
    assert row["account_login"] == "john_smith" and row["scopes"] == ["read_api[2J", "api"]
    assert stored()[0].account_login == "john_smith"


def test_github_login_that_is_only_control_characters_is_no_login(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(f"{GITHUB_API}/user", json=examples.github("private-user", login="\x00\x07"))
    refused(session_client.api("POST", f"{URL}github/", json={"token": GH_TOKEN}), "provider_unreachable")


# --- the page explains each refusal ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (401, examples.GITLAB_TOKEN_EXPIRED, "create a new token"),
        (403, examples.GITLAB_INSUFFICIENT_SCOPE, "needs read_api"),
    ],
)
def test_page_explains_the_refusal_in_the_providers_terms(
    session_client: SessionClient,
    provider_mock: responses.RequestsMock,
    status: int,
    body: dict[str, Any],
    words: str,
) -> None:
    provider_mock.get(f"{GITLAB_API}/user", json=body, status=status)
    response = session_client.form(f"{PAGE}/gitlab", {"token": GL_TOKEN, "base_url": ""}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html and words in html
    assert GL_TOKEN not in html


def test_page_says_when_to_try_again(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    headers = {k: v for k, v in examples.GITLAB_RATE_LIMIT_HEADERS.items() if k != "Retry-After"}
    provider_mock.get(f"{GITLAB_API}/user", body="Retry later\n", status=429, headers=headers)
    html = session_client.form(f"{PAGE}/gitlab", {"token": GL_TOKEN, "base_url": ""}, headers=HX).get_data(as_text=True)
    assert "GitLab&#39;s rate limit resets at 11:00 UTC on 2021-01-05" in html


@pytest.mark.parametrize("status", [403, 429])
def test_github_secondary_rate_limit_at_connect_is_a_rate_limit_not_a_refusal(
    session_client: SessionClient, provider_mock: responses.RequestsMock, status: int
) -> None:
    # SPEC §26: GitHub's secondary limits answer 403 or 429 with this message and often no
    # Retry-After; "wait for at least one minute" (docs.github.com, "Rate limits for the REST API").
    provider_mock.get(
        f"{GITHUB_API}/user",
        json={
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        },
        status=status,
        headers={"X-RateLimit-Remaining": "4990"},
    )
    before = datetime.now(UTC).replace(microsecond=0)
    body = refused(session_client.api("POST", f"{URL}github/", json={"token": GH_TOKEN}), "provider_rate_limited")
    after = datetime.now(UTC)
    retry_at = datetime.fromisoformat(body["retry_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=60) <= retry_at <= after + timedelta(seconds=60)
    assert stored() == []
