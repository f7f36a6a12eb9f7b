"""Attack tests (SPEC §22): a project the person is not a member of never
appears (JSON or page), and hostile sort/filter values are 400 on the JSON API."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import Factory, SessionClient, client_for

API = "/api/v1/portfolio/"


@pytest.fixture
def people(app: Flask, make: Factory) -> dict[str, Any]:
    owner = make.user(email="owner@example.com", name="Olive Owner")
    mine = make.project(owner, "Mine")
    secret = make.project(owner, "TOPSECRETPROJECT")
    archived_secret = make.project(owner, "ARCHIVEDSECRET")
    person = make.member(owner, mine, "viewer")
    owner_client = client_for(app, owner)
    owner_client.api("POST", f"/api/v1/projects/{archived_secret}/archive/")
    make.task(owner, secret, name="Hidden", start_date="2020-01-01", finish_date="2020-01-02")
    return {"app": app, "person": person, "mine": mine, "secret": secret, "owner": owner_client}


@pytest.mark.parametrize(
    "query",
    ["", "?include_archived=1", "?sort=name", "?sort=finish_date&include_archived=true", "?attention_only=1"],
)
def test_non_member_projects_never_appear(people: dict[str, Any], query: str) -> None:
    client = client_for(people["app"], people["person"])
    response = client.api("GET", API + query)
    assert response.status_code == 200
    ids = [row["id"] for row in response.get_json()["projects"]]
    assert people["secret"] not in ids
    assert all(i == people["mine"] for i in ids)
    text = response.get_data(as_text=True)
    assert "TOPSECRETPROJECT" not in text and "ARCHIVEDSECRET" not in text
    session = SessionClient(people["app"].test_client(), people["person"]).login()
    for headers in ({}, {"HX-Request": "true"}):
        page = session.get("/portfolio" + query, headers=headers).get_data(as_text=True)
        assert "TOPSECRETPROJECT" not in page and "ARCHIVEDSECRET" not in page


@pytest.mark.parametrize(
    "query",
    [
        "?sort=bogus",
        "?sort=NAME",
        "?sort=" + "x" * 5000,
        "?sort=name%00",
        "?attention_only=2",
        "?attention_only=yes please",
        "?include_archived=-1",
        "?include_archived=%FF",
        "?attention_only=%ED%A0%80",
        "?sort=%C0%AF",
    ],
)
def test_hostile_choices_are_400_on_json(people: dict[str, Any], query: str) -> None:
    client = client_for(people["app"], people["person"])
    response = client.api("GET", API + query)
    assert response.status_code == 400, (query[:40], response.status_code)
    assert response.get_json()["code"] == "validation_error"


@pytest.mark.parametrize("query", ["?sort=bogus", "?attention_only=%ED%A0%80", "?sort=" + "x" * 5000])
def test_hostile_choices_never_500_on_the_page(people: dict[str, Any], query: str) -> None:
    session = SessionClient(people["app"].test_client(), people["person"]).login()
    assert session.get("/portfolio" + query).status_code < 500


def test_logged_out_portfolio_json_is_401(people: dict[str, Any]) -> None:
    assert people["app"].test_client().get(API).status_code == 401
