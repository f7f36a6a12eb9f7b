"""The Background refresh switch in Connected accounts (SPEC §14), keyboard only: it says what
it allows, flips with Enter, keeps focus, announces the change; axe-core finds nothing."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.e2e.test_foundation import login_with_keyboard, tab_to
from tests.links.conftest import give_credential


def test_switch_background_refresh_on_and_off_with_the_keyboard(
    page: Page, live_server: str, user: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    give_credential(user, "github", "ghp_x")
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/me/settings/connected-accounts")
    switch = page.get_by_role("switch", name="Background refresh").first
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator("#github")).to_contain_text("uses this token only when you refresh a link yourself")
    assert_accessible(page, "background-switch-off")

    tab_to(page, switch)
    page.keyboard.press("Enter")
    switch = page.locator("#github").get_by_role("switch", name="Background refresh")
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("may now use your GitHub token")
    expect(page.locator("#github")).to_contain_text("without you pressing a button")
    assert_accessible(page, "background-switch-on")

    page.keyboard.press("Enter")
    expect(page.locator("#github").get_by_role("switch", name="Background refresh")).to_have_attribute(
        "aria-checked", "false"
    )
    db.session.expire_all()
    assert db.session.query(Credential).filter_by(user_id=user.id).one().background_refresh is False
    assert console_errors == []
