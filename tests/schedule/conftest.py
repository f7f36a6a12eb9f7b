"""Fixtures for the schedule: a small project with nested tasks, and a logged-in browser-like
client for each role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from flask import Flask
from selectolax.lexbor import LexborHTMLParser
from werkzeug.security import generate_password_hash

from ppm.auth import services as auth_services
from ppm.auth.models import User
from tests.conftest import Factory, SessionClient


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt takes ~0.1 s a hash; these tests are about the schedule, not the hash."""
    monkeypatch.setattr(
        auth_services, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000")
    )


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


@pytest.fixture
def project(make: Factory, user: User) -> dict[str, Any]:
    """Apollo: a summary with two subtasks (one assigned), a nested summary, a milestone."""
    pid = make.project(user, "Apollo")
    mate = make.member(user, pid, "member", user=make.user(name="Ravi Patel"))
    build = make.task(user, pid, name="Build", start_date=day(0), finish_date=day(1))
    design = make.task(
        user,
        pid,
        name="Design",
        parent_id=build.id,
        start_date=day(2),
        finish_date=day(6),
        assignee_ids=[mate.id, user.id],
    )
    code = make.task(user, pid, name="Code", parent_id=build.id, start_date=day(5), finish_date=day(12))
    review = make.task(user, pid, name="Review", parent_id=code.id, start_date=day(7), finish_date=day(9))
    launch = make.task(user, pid, name="Launch", start_date=day(14), finish_date=day(14), is_milestone=True)
    return {
        "id": pid,
        "build": build.id,
        "design": design.id,
        "code": code.id,
        "review": review.id,
        "launch": launch.id,
        "mate": mate,
    }


@pytest.fixture
def login(app: Flask, make: Factory, user: User, project: dict[str, Any]) -> Callable[[str], SessionClient]:
    """A logged-in session client holding `role` on the project ('stranger': none)."""

    def factory(role: str) -> SessionClient:
        if role == "owner":
            return SessionClient(app.test_client(), user).login()
        person = make.user()
        if role != "stranger":
            make.member(user, project["id"], role, user=person)
        return SessionClient(app.test_client(), person).login()

    return factory


HTMX = {"HX-Request": "true"}


def htmx(target: str, **extra: str) -> dict[str, str]:
    return {**HTMX, "HX-Target": target, "HX-Current-URL": "http://localhost/", **extra}


def parse(response: Any) -> LexborHTMLParser:
    return LexborHTMLParser(response.get_data(as_text=True))


def texts(tree: LexborHTMLParser, selector: str) -> list[str]:
    return [" ".join(node.text().split()) for node in tree.css(selector)]


def parse_rows(response: Any) -> LexborHTMLParser:
    """The table rows a fragment carries out of band, in <template>s (which htmx opens; a
    parser keeps their content apart, so unwrap them into a table: the rest is fostered out)."""
    body = response.get_data(as_text=True).replace("<template>", "").replace("</template>", "")
    return LexborHTMLParser("<table>" + body + "</table>")
