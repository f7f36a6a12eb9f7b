"""Connect a Gitea / Forgejo token (SPEC §24): Codeberg as the SaaS host, any other instance
through `base_url` under the allowed-hosts rules of self-hosted GitLab (§5).

Bodies: Gitea's swagger `User` (`tests/integrations/data/gitea_api.py`); error bodies are Gitea's
`APIError` shape (`{"message", "url"}`) from `templates/swagger/v1_json.tmpl`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from sqlalchemy import select

from ppm.extensions import db
from ppm.integrations import services
from ppm.integrations.models import Credential
from tests.conftest import SessionClient
from tests.integrations.data import gitea_api
from tests.support.netguard import NetGuard

URL = "/api/v1/me/credentials/"
TOKEN = "3f5a1c9e7b2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a"  # Gitea's tokens are 40 hex characters
CODEBERG_API = "https://codeberg.org/api/v1"
API_ERROR = {"message": "user does not exist [uid: 0, name: ]", "url": "https://codeberg.org/api/swagger"}

# (base_url sent, stored base_url, the API root ppm must call)
ROOTS = [
    pytest.param("", "", CODEBERG_API, id="codeberg"),
    pytest.param("https://codeberg.org", "", CODEBERG_API, id="codeberg-named"),
    pytest.param("https://example.org/gitea", "https://example.org/gitea", "https://example.org/gitea/api/v1",
                 id="self-hosted-subpath"),
    pytest.param("https://gitlab.example.org", "https://gitlab.example.org", "https://gitlab.example.org/api/v1",
                 id="self-hosted"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _codeberg(net: NetGuard) -> Iterator[None]:
    net.resolver.add("codeberg.org", "217.197.91.145")
    yield


def connect(client: SessionClient, base_url: str = "", token: str = TOKEN) -> Any:
    return client.api("POST", f"{URL}gitea/", json={"token": token, **({"base_url": base_url} if base_url else {})})


def stored() -> list[Credential]:
    db.session.expire_all()
    return list(db.session.scalars(select(Credential)))


@pytest.mark.parametrize(("base_url", "kept", "api"), ROOTS)
def test_user_answer_connects_with_login_and_no_scopes(
    session_client: SessionClient, provider_mock: responses.RequestsMock, base_url: str, kept: str, api: str
) -> None:
    provider_mock.get(f"{api}/user", json=gitea_api.USER)
    response = connect(session_client, base_url)
    assert response.status_code == 200, response.get_json()
    row = response.get_json()
    assert row["provider"] == "gitea" and row["account_login"] == "earl-warren"
    assert row["scopes"] is None and row["base_url"] == kept
    sent = provider_mock.calls[0].request
    assert sent.url == f"{api}/user"
    assert sent.headers["Authorization"] == f"token {TOKEN}"
    assert TOKEN not in response.get_data(as_text=True)
    assert len(stored()) == 1


def test_label_and_row_in_the_list(session_client: SessionClient) -> None:
    rows = session_client.api("GET", URL).get_json()
    gitea = next(row for row in rows if row["provider"] == "gitea")
    assert gitea["name"] == "Gitea / Forgejo" and gitea["requires_credential"] is True and gitea["exists"] is False


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize(("base_url", "kept", "api"), ROOTS)
def test_401_and_403_are_token_rejected(
    session_client: SessionClient,
    provider_mock: responses.RequestsMock,
    base_url: str,
    kept: str,
    api: str,
    status: int,
) -> None:
    provider_mock.get(f"{api}/user", json=API_ERROR, status=status)
    response = connect(session_client, base_url)
    assert response.status_code == 422 and response.get_json()["code"] == "token_rejected"
    assert response.get_json()["detail"].startswith("The provider rejected this token")
    assert stored() == []


@pytest.mark.parametrize(
    ("status", "headers", "code"),
    [(500, {}, "provider_unreachable"), (502, {}, "provider_unreachable"),
     (429, {"Retry-After": "120"}, "provider_rate_limited")],
)  # fmt: skip
def test_other_answers_as_section_5(
    session_client: SessionClient,
    provider_mock: responses.RequestsMock,
    status: int,
    headers: dict[str, str],
    code: str,
) -> None:
    provider_mock.get(f"{CODEBERG_API}/user", json=API_ERROR, status=status, headers=headers)
    response = connect(session_client)
    assert response.status_code == 422 and response.get_json()["code"] == code
    assert stored() == []


def test_an_answer_without_login_is_not_stored(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    provider_mock.get(f"{CODEBERG_API}/user", json={"message": "not a Gitea"})
    assert connect(session_client).status_code == 422
    assert stored() == []


def test_a_host_not_allowed_is_refused_before_any_byte_leaves(
    session_client: SessionClient, provider_mock: responses.RequestsMock, net: NetGuard
) -> None:
    response = connect(session_client, "https://git.example.net")
    assert response.status_code == 400 and response.get_json()["code"] == "base_url_not_allowed"
    assert "INTEGRATION_ALLOWED_HOSTS" in response.get_json()["detail"]
    assert len(provider_mock.calls) == 0 and stored() == []


def test_a_malformed_base_url_is_a_validation_error(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    response = connect(session_client, "ftp://example.org/gitea")
    assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
    assert len(provider_mock.calls) == 0


def test_codeberg_is_claimed_and_other_hosts_are_not() -> None:
    from ppm.integrations.registry import provider_for_host

    assert provider_for_host("codeberg.org").id == "gitea"
    assert provider_for_host("CODEBERG.ORG.").id == "gitea"
    assert provider_for_host("codeberg.org.evil.example").id == "generic"
    assert provider_for_host("notcodeberg.org").id == "generic"


def test_the_allowed_host_rule_is_the_self_hosted_gitlab_one(app: Any) -> None:
    with app.test_request_context():
        assert services.host_still_allowed("gitea", "https://example.org/gitea") is True
        assert services.host_still_allowed("gitea", "https://git.example.net") is False
