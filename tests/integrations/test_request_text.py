"""SPEC §19 for connected accounts: a lone surrogate, NUL or other control character in any
string of a connect body → 400 on that field, before anything is sent to a provider."""

from __future__ import annotations

import pytest
import responses

from tests.conftest import SessionClient
from tests.integrations.test_connect_api import connect, rows
from tests.projects.helpers import assert_error


@pytest.mark.parametrize("bad", ["\ud800", "\x00", "\x1b"])
@pytest.mark.parametrize("field", ["token", "base_url", "expires_at"])
@pytest.mark.parametrize("provider", ["github", "gitlab", "generic"])
def test_bad_text_in_a_connect_body_is_400_on_that_field(
    session_client: SessionClient, provider_mock: responses.RequestsMock, provider: str, field: str, bad: str
) -> None:
    body = {"token": "tok-123", "base_url": "https://example.org", "expires_at": "2099-01-01"}
    body[field] = body[field][:3] + bad + body[field][3:]
    assert_error(connect(session_client, provider, **body), 400, "validation_error", field)
    assert len(provider_mock.calls) == 0 and rows() == []
