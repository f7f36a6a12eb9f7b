"""Gitea / Forgejo in a real browser (SPEC §24): the connected-accounts section `#gitea` connects a
Codeberg token, and an admin sets up a Gitea receiver on the Integrations page with its steps and
the ALLOWED_HOST_LIST note; axe-core finds no violations in any of these states.

Codeberg's `GET /api/v1/user` answers with Gitea's swagger `User` (tests/integrations/data/gitea_api.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from playwright.sync_api import Page, expect

from tests.e2e.test_foundation import login_with_keyboard, tab_to
from tests.integrations.data import gitea_api
from tests.support.netguard import NetGuard, installed_netguard


@pytest.fixture
def codeberg_net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch, {"codeberg.org": "217.197.91.145"}) as guard:
        yield guard


@pytest.fixture
def codeberg(codeberg_net: NetGuard) -> Iterator[responses.RequestsMock]:
    # `responses` patches the whole process, so it also answers for the live server's thread.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get("https://codeberg.org/api/v1/user", json=gitea_api.USER)
        yield mock


def test_connect_a_codeberg_token_in_the_gitea_section(
    page: Page,
    live_server: str,
    user: Any,
    codeberg: responses.RequestsMock,
    assert_accessible: Any,
    console_errors: list[str],
) -> None:
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/me/settings/connected-accounts#gitea")
    section = page.locator("section#gitea")
    expect(section.get_by_role("heading", name="Gitea / Forgejo")).to_be_visible()
    expect(section).to_contain_text("Not connected")
    assert_accessible(page, "accounts-with-gitea")

    tab_to(page, page.get_by_role("link", name="Connect Gitea / Forgejo"))
    page.keyboard.press("Enter")
    token = page.locator("#gitea-token")
    expect(token).to_be_focused()
    expect(section).to_contain_text("Leave empty for codeberg.org")
    assert_accessible(page, "gitea-connect-form")
    page.keyboard.type(gitea_api.HEAD_SHA)  # 40 hex characters, like a Gitea token
    page.keyboard.press("Enter")
    expect(section).to_contain_text("Connected as earl-warren")
    expect(section).to_contain_text("Gitea / Forgejo (codeberg.org)")
    expect(page.get_by_role("link", name="Rotate Gitea / Forgejo token")).to_be_focused()
    assert codeberg.calls[0].request.headers["Authorization"] == f"token {gitea_api.HEAD_SHA}"
    assert_accessible(page, "gitea-connected")
    assert console_errors == []


def test_admin_sets_up_a_gitea_receiver_with_its_steps(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    owner = make.user(email="olga@example.com", name="Olga Owner")
    project_id = make.project(owner, "Apollo")
    make.member(owner, project_id, "admin", user=user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project_id}/integrations")
    expect(page.get_by_role("link", name="Connect Gitea / Forgejo")).to_have_attribute(
        "href", "/me/settings/connected-accounts#gitea"
    )
    section = page.locator("#webhooks")
    expect(section).to_contain_text("ALLOWED_HOST_LIST")
    assert_accessible(page, "integrations-with-gitea")

    provider = page.get_by_label("Provider")
    tab_to(page, provider)
    provider.select_option("gitea")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create webhook")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Set up the Gitea / Forgejo webhook")).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("Gitea / Forgejo webhook created.")
    expect(page.locator("#webhook-url")).to_have_value(re.compile(rf"^{re.escape(live_server)}/hooks/gitea/\S+$"))
    for words in ("Target URL", "application/json", "Pull request", "Issues", "Commit status", "[webhook]"):
        expect(section).to_contain_text(words)
    expect(section.locator("#webhook-allowed-hosts")).to_contain_text("ALLOWED_HOST_LIST")
    assert_accessible(page, "gitea-webhook-reveal")

    tab_to(page, page.get_by_role("link", name="Done"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Rotate secret of the Gitea / Forgejo webhook")).to_be_focused()
    expect(section.locator("tbody")).to_contain_text("Gitea / Forgejo")
    assert_accessible(page, "gitea-webhook-listed")
    assert console_errors == []
