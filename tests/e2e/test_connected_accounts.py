"""Connected accounts in a real browser, keyboard only: connect, rotate with a bad token, revoke."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from playwright.sync_api import Page, expect

from tests.e2e.test_foundation import confirm_by_keyboard, login_with_keyboard, tab_to

pytestmark = pytest.mark.usefixtures("github_net")


@pytest.fixture
def github() -> Iterator[responses.RequestsMock]:
    # `responses` patches the whole process, so it also answers for the live server's thread.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get("https://api.github.com/user", json={"login": "octocat"}, headers={"X-OAuth-Scopes": "repo, read:org"})
        yield mock


def test_connect_rotate_and_revoke_with_the_keyboard(
    page: Page,
    live_server: str,
    user: Any,
    github: responses.RequestsMock,
    assert_accessible: Any,
    console_errors: list[str],
) -> None:
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/me/settings/connected-accounts#github")
    section = page.locator("#github")
    expect(section).to_contain_text("Not connected")
    assert_accessible(page, "accounts-empty")

    tab_to(page, page.get_by_role("link", name="Connect GitHub"))
    page.keyboard.press("Enter")
    token = page.locator("#github-token")
    expect(token).to_be_focused()
    assert_accessible(page, "accounts-connect-form")
    page.keyboard.type("ghp_" + "a1" * 18)
    page.keyboard.press("Enter")
    expect(section).to_contain_text("Connected as octocat")
    expect(section).to_contain_text("repo, read:org")
    expect(page.get_by_role("link", name="Rotate GitHub token")).to_be_focused()
    expect(page.locator("#live-region")).to_have_text("GitHub token connected as octocat.")
    assert_accessible(page, "accounts-connected")

    # Rotate with a token GitHub rejects: the reason shows in the form, focus on the summary.
    github.replace(responses.GET, "https://api.github.com/user", status=401, json={})
    page.keyboard.press("Enter")
    expect(token).to_be_focused()
    page.keyboard.type("ghp_" + "b2" * 18)
    page.keyboard.press("Enter")
    summary = section.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The provider rejected this token")
    assert_accessible(page, "accounts-rotate-error")

    # Cancel goes back; revoke asks first with Cancel focused, then revokes.
    tab_to(page, section.get_by_role("link", name="Cancel"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="Revoke GitHub token"))
    page.keyboard.press("Enter")
    question = "Revoke the GitHub token? Task links that use it will stop refreshing."
    confirm_by_keyboard(page, section, question, "Revoke", assert_accessible, "accounts-revoke-confirm")
    expect(section).to_contain_text("Not connected")
    expect(page.locator("#github-heading")).to_be_focused()
    expect(page.locator("#live-region")).to_have_text("GitHub token revoked.")
    assert_accessible(page, "accounts-revoked")
    assert console_errors == []
