"""SPEC §19: a credential's `expires_at` is from 1970-01-01 to 2199-12-31. A typed expiry
outside it → 400 `validation_error` on `expires_at` (never a 500 from a calendar overflow); an
expiry a provider reports outside it is judged, not stored as is (see docs/decisions.md)."""

from __future__ import annotations

import pytest
import responses

from tests.conftest import SessionClient
from tests.integrations.conftest import github_user, gitlab_user
from tests.integrations.test_connect_api import GH_TOKEN, GL_TOKEN, connect, rows
from tests.projects.helpers import assert_error


@pytest.mark.parametrize(
    "expiry",
    [
        "1969-12-31",
        "2200-01-01",
        "0001-01-01",
        "9999-12-31",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",  # 1969 in UTC
        "2199-12-31T23:30:00-01:00",  # 2200 in UTC
        "0001-01-01T00:00:00+05:00",  # overflows the calendar when converted
        "9999-12-31T23:59:59-05:00",
    ],
)
@pytest.mark.parametrize("provider", ["generic", "github"])
def test_typed_expiry_outside_the_range_is_400(
    session_client: SessionClient, provider_mock: responses.RequestsMock, provider: str, expiry: str
) -> None:
    response = connect(session_client, provider, token="tok-123", expires_at=expiry)
    body = assert_error(response, 400, "validation_error", "expires_at")
    assert "1970-01-01" in body["fields"]["expires_at"][0] and "2199-12-31" in body["fields"]["expires_at"][0]
    assert len(provider_mock.calls) == 0 and rows() == []


@pytest.mark.parametrize(
    ("expiry", "stored"),
    [
        ("2199-12-31", "2199-12-31T23:59:59"),
        ("2199-12-31T23:59:59Z", "2199-12-31T23:59:59Z"),
        ("2199-12-31T23:59:59+00:00", "2199-12-31T23:59:59Z"),
    ],
)
def test_the_last_day_is_accepted(session_client: SessionClient, expiry: str, stored: str) -> None:
    response = connect(session_client, "generic", token="tok-123", expires_at=expiry)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expires_at"].startswith(stored)


@pytest.mark.parametrize("expiry", ["1970-01-01", "1970-01-01T00:00:00Z"])
def test_the_first_day_is_in_range_but_has_passed(session_client: SessionClient, expiry: str) -> None:
    response = connect(session_client, "generic", token="tok-123", expires_at=expiry)
    assert_error(response, 422, "token_expired")


@pytest.mark.parametrize("header", ["9999-12-31 23:59:59 -0100", "2200-01-01 00:00:00 UTC", "9999-12-31 23:59:59 UTC"])
def test_a_provider_expiry_after_2199_counts_as_none(
    session_client: SessionClient, provider_mock: responses.RequestsMock, header: str
) -> None:
    github_user(provider_mock, expiry=header)
    response = connect(session_client, "github", token=GH_TOKEN)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expires_at"] is None


def test_a_provider_expiry_after_2199_leaves_the_typed_one(
    session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock, expiry="9999-12-31 23:59:59 UTC")
    response = connect(session_client, "github", token=GH_TOKEN, expires_at="2150-06-30")
    assert response.get_json()["expires_at"].startswith("2150-06-30T")


@pytest.mark.parametrize("header", ["0001-01-01 00:00:00 +0100", "1969-12-31 23:59:59 UTC"])
def test_a_provider_expiry_before_1970_has_passed(
    session_client: SessionClient, provider_mock: responses.RequestsMock, header: str
) -> None:
    github_user(provider_mock, expiry=header)
    response = connect(session_client, "github", token=GH_TOKEN)
    if header.startswith("0001"):
        # Unreadable (it leaves the calendar in UTC): ignored, as any unparseable header.
        assert response.status_code == 200 and response.get_json()["expires_at"] is None
    else:
        assert_error(response, 422, "token_expired")
        assert rows() == []


def test_gitlab_far_expiry_counts_as_none(session_client: SessionClient, provider_mock: responses.RequestsMock) -> None:
    gitlab_user(provider_mock, expires_at="9999-12-31")
    response = connect(session_client, "gitlab", token=GL_TOKEN)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expires_at"] is None
