"""Fixtures for the projects API tests: a project, and clients for each role on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Factory, TokenClient, client_for


@pytest.fixture
def owner(api_client: TokenClient) -> TokenClient:
    return api_client


@pytest.fixture
def project(owner: TokenClient) -> dict[str, Any]:
    response = owner.api("POST", "/api/v1/projects/", {"name": "Apollo"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def as_role(app: Flask, make: Factory, user: Any, project: dict[str, Any]) -> Callable[[str], TokenClient]:
    """A token client for a new user holding `role` on `project` ('stranger': no role)."""

    def factory(role: str) -> TokenClient:
        if role == "owner":
            return client_for(app, user)
        person = make.user()
        if role != "stranger":
            make.member(user, project["id"], role, user=person)
        return client_for(app, person)

    return factory


@pytest.fixture
def stranger(as_role: Callable[[str], TokenClient]) -> TokenClient:
    return as_role("stranger")
