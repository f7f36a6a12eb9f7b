"""Connect, rotate and revoke through /api/v1/me/credentials/ (SPEC §5 and §12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses
from sqlalchemy import select

from ppm import crypto
from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.conftest import SessionClient, TokenClient
from tests.integrations.conftest import GITHUB_API, github_user, gitlab_user

URL = "/api/v1/me/credentials/"
GH_TOKEN = "ghp_" + "A1b2C3d4" * 4
GL_TOKEN = "glpat-" + "Zz9Yy8Xx7Ww6" * 2


def rows() -> list[Credential]:
    db.session.expire_all()
    return list(db.session.scalars(select(Credential)))


def connect(client: SessionClient, provider: str, **body: Any) -> Any:
    return client.api("POST", f"{URL}{provider}/", json=body)


# --- listing and routing --------------------------------------------------------------


def test_list_has_one_row_per_connectable_provider_ordered_by_id(session_client: SessionClient) -> None:
    response = session_client.api("GET", URL)
    assert response.status_code == 200
    data = response.get_json()
    assert [row["provider"] for row in data] == ["generic", "gitea", "github", "gitlab"]
    github = data[2]
    assert github == {
        "provider": "github",
        "name": "GitHub",
        "requires_credential": True,
        "exists": False,
        "base_url": "",
        "account_login": None,
        "scopes": None,
        "created_at": None,
        "updated_at": None,
        "last_used_at": None,
        "expires_at": None,
        "background_refresh": False,
    }
    assert data[0]["requires_credential"] is False


def test_unknown_and_unconnectable_providers_are_404(session_client: SessionClient) -> None:
    unknown = session_client.api("GET", f"{URL}bitbucket/")
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "unknown_provider"
    assert session_client.api("POST", f"{URL}bitbucket/", json={"token": "x"}).status_code == 404
    drive = session_client.api("GET", f"{URL}google_drive/")
    assert drive.status_code == 404 and drive.get_json()["code"] != "unknown_provider"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_api_tokens_cannot_manage_credentials(
    api_client: TokenClient, method: str, provider_mock: responses.RequestsMock
) -> None:
    path = URL if method == "GET" else f"{URL}github/"
    response = api_client.api(method, path, json={"token": GH_TOKEN})
    assert response.status_code == 403
    assert response.get_json()["code"] == "session_required"
    assert len(provider_mock.calls) == 0 and rows() == []


def test_anonymous_gets_401(client: Any) -> None:
    response = client.post(f"{URL}github/", json={"token": GH_TOKEN})
    assert response.status_code == 401
    assert response.get_json()["code"] == "not_authenticated"


def test_session_write_without_csrf_header_is_refused(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    response = session_client.client.post(f"{URL}github/", json={"token": GH_TOKEN})
    assert response.status_code == 400
    assert rows() == [] and len(provider_mock.calls) == 0


# --- GitHub ---------------------------------------------------------------------------


def test_github_connect_verifies_then_stores_encrypted(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, expiry="2099-12-31 23:59:59 UTC")
    response = connect(session_client, "github", token=f"  {GH_TOKEN}\n")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["exists"] is True and body["account_login"] == "octocat"
    assert body["scopes"] == ["repo", "read:org"]
    assert body["expires_at"] == "2099-12-31T23:59:59Z"
    assert body["base_url"] == ""
    sent = provider_mock.calls[0].request
    assert sent.url == f"{GITHUB_API}/user"
    assert sent.headers["Authorization"] == f"Bearer {GH_TOKEN}"  # trimmed before sending
    assert sent.headers["Accept"] == "application/vnd.github+json"
    assert sent.headers["X-GitHub-Api-Version"] == "2022-11-28"
    [row] = rows()
    assert GH_TOKEN not in row.ciphertext and crypto.decrypt(row.ciphertext) == GH_TOKEN


def test_github_expiry_with_numeric_offset(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, expiry="2099-06-30 12:00:00 +0200")
    body = connect(session_client, "github", token=GH_TOKEN).get_json()
    assert body["expires_at"] == "2099-06-30T10:00:00Z"


def test_github_unparseable_expiry_is_ignored(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, expiry="next tuesday")
    response = connect(session_client, "github", token=GH_TOKEN)
    assert response.status_code == 200 and response.get_json()["expires_at"] is None


def test_fine_grained_token_without_scope_header_is_accepted(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, scopes=None)
    response = connect(session_client, "github", token="github_pat_" + "x1" * 20)
    assert response.status_code == 200 and response.get_json()["scopes"] is None


@pytest.mark.parametrize("scopes", ["read:org, gist", ""])
def test_classic_token_without_repo_scope_is_refused(
    session_client: SessionClient, scopes: str, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, scopes=scopes)
    response = connect(session_client, "github", token=GH_TOKEN)
    assert response.status_code == 422
    assert response.get_json()["code"] == "insufficient_scope"
    assert "repo" in response.get_json()["detail"]
    assert rows() == []


def test_public_repo_scope_is_enough(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    github_user(provider_mock, scopes="public_repo")
    assert connect(session_client, "github", token=GH_TOKEN).status_code == 200


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, "token_rejected"),
        (403, "token_rejected"),
        (404, "token_rejected"),
        (500, "provider_unreachable"),
        (503, "provider_unreachable"),
    ],
)
def test_provider_answers_map_to_codes(
    session_client: SessionClient, status: int, code: str, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, status=status)
    response = connect(session_client, "github", token=GH_TOKEN)
    assert response.status_code == 422
    assert response.get_json()["code"] == code
    assert rows() == []


def test_rejected_detail_says_the_provider_rejected_it(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, status=401)
    detail = connect(session_client, "github", token=GH_TOKEN).get_json()["detail"]
    assert detail.startswith("The provider rejected this token")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (requests.exceptions.ConnectionError("refused"), "provider_unreachable"),
        (requests.exceptions.ReadTimeout("slow"), "provider_timeout"),
    ],
)
def test_network_failures_map_to_codes(
    session_client: SessionClient, error: Exception, code: str, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(f"{GITHUB_API}/user", body=error)
    response = connect(session_client, "github", token=GH_TOKEN)
    assert response.status_code == 422 and response.get_json()["code"] == code
    assert rows() == []


def test_host_resolving_to_a_private_address_is_blocked_without_revealing_it(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    response = connect(session_client, "github", token=GH_TOKEN, base_url="https://intranet.example.com")
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "blocked_host"
    assert "10.1.2.3" not in body["detail"]
    assert len(provider_mock.calls) == 0 and rows() == []


def test_expired_by_provider_header(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    github_user(provider_mock, expiry="2020-01-01 00:00:00 UTC")
    response = connect(session_client, "github", token=GH_TOKEN)
    assert response.status_code == 422 and response.get_json()["code"] == "token_expired"
    assert rows() == []


@pytest.mark.parametrize("provider", ["github", "gitlab", "generic"])
def test_user_expiry_in_the_past_is_refused_before_sending(
    session_client: SessionClient, provider: str, provider_mock: responses.RequestsMock
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    response = connect(session_client, provider, token="tok-123", expires_at=yesterday)
    assert response.status_code == 422 and response.get_json()["code"] == "token_expired"
    assert len(provider_mock.calls) == 0 and rows() == []


def test_user_expiry_is_kept_when_provider_reports_none(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    body = connect(session_client, "github", token=GH_TOKEN, expires_at="2099-03-01").get_json()
    assert body["expires_at"].startswith("2099-03-01T")


# --- the order of checks --------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "   ", "ghp_abc def", "ghp_abc\tdef", "ghp_\x00abc", "x" * 4097, 12345, None])
def test_bad_token_shapes_are_400(
    session_client: SessionClient, token: Any, provider_mock: responses.RequestsMock
) -> None:
    response = connect(session_client, "github", token=token)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "validation_error" and "token" in body["fields"]
    assert len(provider_mock.calls) == 0 and rows() == []


@pytest.mark.parametrize("provider", ["github", "gitlab", "generic"])
@pytest.mark.parametrize(
    "base_url",
    [
        "http://gitlab.example.org",
        "ftp://gitlab.example.org",
        "gitlab.example.org",
        "https://user:pw@gitlab.example.org",
        "https://gitlab.example.org/?x=1",
        "https://gitlab.example.org/#top",
        "https://",
        "https://bad host.example",
        "https://a\\b.example",
        "javascript:alert(1)",
        "https://gitlab.example.org:99999",
    ],
)
def test_malformed_base_url_is_400_on_base_url(
    session_client: SessionClient, provider: str, base_url: str, provider_mock: responses.RequestsMock
) -> None:
    response = connect(session_client, provider, token="tok-123", base_url=base_url)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["code"] == "validation_error" and "base_url" in body["fields"]
    assert len(provider_mock.calls) == 0 and rows() == []


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_host_not_allowed_sends_no_byte_of_the_token(
    session_client: SessionClient, provider: str, net: Any, provider_mock: responses.RequestsMock
) -> None:
    response = connect(session_client, provider, token="tok-123", base_url="https://evil.example.net")
    assert response.status_code == 400
    assert response.get_json()["code"] == "base_url_not_allowed"
    assert len(provider_mock.calls) == 0 and net.resolver.calls == [] and rows() == []


def test_wrong_provider_tokens_are_refused_unsent(
    session_client: SessionClient, net: Any, provider_mock: responses.RequestsMock
) -> None:
    for provider, token in [
        ("github", GL_TOKEN),
        ("gitlab", GH_TOKEN),
        ("gitlab", "gho_abc"),
        ("gitlab", "ghu_abc"),
        ("gitlab", "ghs_abc"),
        ("gitlab", "github_pat_abc"),
    ]:
        response = connect(session_client, provider, token=token)
        assert response.status_code == 422, (provider, token)
        assert response.get_json()["code"] == "wrong_provider_token"
    assert len(provider_mock.calls) == 0 and net.resolver.calls == [] and rows() == []


def test_malformed_bodies_are_400(session_client: SessionClient) -> None:
    for body in (["token"], "token", 5):
        response = session_client.api("POST", f"{URL}github/", json=body)
        assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
    response = session_client.client.post(
        f"{URL}github/",
        data="not json",
        headers={"X-CSRFToken": session_client.csrf, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


# --- self-hosted ----------------------------------------------------------------------


def test_github_enterprise_uses_api_v3(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    github_user(provider_mock, api="https://ghe.example.com/api/v3", login="enterprise-me")
    body = connect(session_client, "github", token=GH_TOKEN, base_url="https://GHE.example.com/").get_json()
    assert body["base_url"] == "https://ghe.example.com"
    assert body["account_login"] == "enterprise-me"


@pytest.mark.parametrize("alias", ["https://github.com", "https://www.github.com", "https://api.github.com/"])
def test_github_saas_aliases_mean_the_saas_api(
    session_client: SessionClient, alias: str, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    body = connect(session_client, "github", token=GH_TOKEN, base_url=alias).get_json()
    assert body["base_url"] == ""
    assert provider_mock.calls[0].request.url == f"{GITHUB_API}/user"


def test_gitlab_saas_reads_login_scopes_and_expiry(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    gitlab_user(provider_mock, scopes=["read_api", "read_user"], expires_at="2099-01-31")
    response = connect(session_client, "gitlab", token=GL_TOKEN)
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["account_login"] == "tanuki" and body["scopes"] == ["read_api", "read_user"]
    assert body["expires_at"].startswith("2099-01-31")
    assert all(c.request.headers["PRIVATE-TOKEN"] == GL_TOKEN for c in provider_mock.calls)
    assert "Authorization" not in provider_mock.calls[0].request.headers


def test_gitlab_relative_root(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    gitlab_user(provider_mock, api="https://example.org/gitlab/api/v4", username="rel")
    body = connect(session_client, "gitlab", token=GL_TOKEN, base_url="https://example.org/gitlab/").get_json()
    assert body["base_url"] == "https://example.org/gitlab" and body["account_login"] == "rel"


def test_gitlab_without_read_api_is_refused(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    gitlab_user(provider_mock, scopes=["read_user"])
    response = connect(session_client, "gitlab", token=GL_TOKEN)
    assert response.status_code == 422 and response.get_json()["code"] == "insufficient_scope"
    assert "read_api" in response.get_json()["detail"] and rows() == []


def test_gitlab_rejected_token(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    gitlab_user(provider_mock, status=401)
    response = connect(session_client, "gitlab", token=GL_TOKEN)
    assert response.get_json()["code"] == "token_rejected"


def test_generic_is_stored_without_any_call(
    session_client: SessionClient, net: Any, provider_mock: responses.RequestsMock
) -> None:
    response = connect(session_client, "generic", token="anything-goes", base_url="https://git.example.net")
    assert response.status_code == 200
    assert response.get_json()["base_url"] == "https://git.example.net"
    assert len(provider_mock.calls) == 0 and net.resolver.calls == []
    assert crypto.decrypt(rows()[0].ciphertext) == "anything-goes"


# --- rotate and revoke ----------------------------------------------------------------


def test_rotate_updates_in_place_and_keeps_left_out_fields(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    gitlab_user(provider_mock, api="https://gitlab.example.org/api/v4", expires_at=None)
    first = connect(
        session_client, "gitlab", token=GL_TOKEN, base_url="https://gitlab.example.org", expires_at="2099-05-01"
    ).get_json()
    second = connect(session_client, "gitlab", token=GL_TOKEN + "2").get_json()
    assert second["base_url"] == "https://gitlab.example.org"  # not silently cleared
    assert second["expires_at"] == first["expires_at"]
    assert second["created_at"] == first["created_at"]
    [row] = rows()
    assert crypto.decrypt(row.ciphertext) == GL_TOKEN + "2"
    assert provider_mock.calls[-1].request.url.startswith("https://gitlab.example.org/api/v4/")


def test_rotate_with_empty_base_url_returns_to_saas(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, api="https://ghe.example.com/api/v3")
    github_user(provider_mock)
    connect(session_client, "github", token=GH_TOKEN, base_url="https://ghe.example.com")
    body = connect(session_client, "github", token=GH_TOKEN, base_url="").get_json()
    assert body["base_url"] == ""
    assert len(rows()) == 1


def test_failed_rotate_keeps_the_stored_token(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    connect(session_client, "github", token=GH_TOKEN)
    before = rows()[0].ciphertext
    provider_mock.replace(responses.GET, f"{GITHUB_API}/user", status=401, json={})
    assert connect(session_client, "github", token=GH_TOKEN + "X").status_code == 422
    assert rows()[0].ciphertext == before


def test_revoke_hard_deletes_and_is_idempotent(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    connect(session_client, "github", token=GH_TOKEN)
    first = session_client.api("DELETE", f"{URL}github/")
    assert first.status_code == 204 and first.data == b""
    assert rows() == []
    assert session_client.api("DELETE", f"{URL}github/").status_code == 204
    assert session_client.api("GET", f"{URL}github/").get_json()["exists"] is False


def test_credentials_are_per_user(
    app: Any, session_client: SessionClient, make: Any, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    connect(session_client, "github", token=GH_TOKEN)
    other = SessionClient(app.test_client(), make.user()).login()
    assert other.api("GET", f"{URL}github/").get_json()["exists"] is False
    assert other.api("DELETE", f"{URL}github/").status_code == 204
    assert len(rows()) == 1  # the other user's revoke touched only their own (absent) row
    mine = session_client.api("GET", f"{URL}github/").get_json()
    assert mine["exists"] is True and mine["account_login"] == "octocat"
