"""Sync fixtures: a project with an owner's token client, clients per role, the network guard
with `responses` standing in for GitHub and a Google Drive share page, and a GitHub credential
for the owner (so link refresh runs the real provider code against the mock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses
from flask import Flask

from tests.conftest import Factory, TokenClient, client_for
from tests.support.netguard import NetGuard, installed_netguard
from tests.sync.helpers import GITHUB_API, NAMES, connect_github


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch, NAMES) as guard:
        yield guard


@pytest.fixture
def provider_mock() -> Iterator[responses.RequestsMock]:
    # Loopback passes through, so a live server on 127.0.0.1 still answers the tests.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        yield mock


@pytest.fixture
def owner(api_client: TokenClient) -> TokenClient:
    return api_client


@pytest.fixture
def project_id(make: Factory, user: Any) -> str:
    return make.project(user, "Apollo")


@pytest.fixture
def as_role(app: Flask, make: Factory, user: Any, project_id: str) -> Callable[[str], TokenClient]:
    """A token client for a new user holding `role` on the project ('stranger': no role)."""

    def factory(role: str) -> TokenClient:
        if role == "owner":
            return client_for(app, user)
        person = make.user()
        if role != "stranger":
            make.member(user, project_id, role, user=person)
        return client_for(app, person)

    return factory


@pytest.fixture
def github(provider_mock: responses.RequestsMock, user: Any) -> responses.RequestsMock:
    """The owner has a GitHub credential; PR answers come from `pull_state` (see helpers)."""
    connect_github(provider_mock, user)
    return provider_mock


__all__ = ["GITHUB_API"]
