"""Notifications on the Integrations page in a real browser, keyboard only (SPEC §25): an admin
subscribes a receiver, copies the one-time secret, sends a test, reads the delivery log,
redelivers, disables and re-enables with inline confirms; errors are summarised and focused; a
member does not see the section; axe-core finds no violations in any state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import base_config
from tests.e2e.test_foundation import confirm_by_keyboard, login_with_keyboard, tab_to, wait_for_settled_swap
from tests.notifications.conftest import HOOKS, drain, url_of
from tests.support.netguard import PUBLIC_V4, NetGuard, installed_netguard
from tests.support.receiver import Receiver


@pytest.fixture
def app_config(tmp_path: Any) -> dict[str, Any]:
    return {**base_config(tmp_path), "INTEGRATION_ALLOW_HTTP": True}


@pytest.fixture
def hooks_net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch, {HOOKS: PUBLIC_V4[0]}) as guard:
        yield guard


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def _project(make: Any, user: Any, role: str) -> str:
    owner = make.user(email="olga@example.com", name="Olga Owner")
    project_id: str = make.project(owner, "Apollo")
    make.member(owner, project_id, role, user=user)
    return project_id


def test_admin_subscribes_tests_reads_the_log_redelivers_and_disables_with_the_keyboard(
    page: Page,
    live_server: str,
    user: Any,
    make: Any,
    assert_accessible: Any,
    hooks_net: NetGuard,
    receiver: Receiver,
) -> None:
    project_id = _project(make, user, "admin")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project_id}/integrations")
    section = page.locator("#notifications")
    expect(section).to_contain_text("No subscriptions yet.")
    assert_accessible(page, "notifications-empty")

    # A bad address: the summary takes focus and links to the field, which says why.
    tab_to(page, page.get_by_label("Address (URL)"))
    page.keyboard.type("https://127.0.0.1/hook")
    tab_to(page, page.get_by_role("button", name="Create subscription"))
    page.keyboard.press("Enter")
    expect(section.locator(".error-summary")).to_be_focused()
    expect(section.locator("#notification-url-error")).to_contain_text("private or loopback")
    assert_accessible(page, "notifications-error")

    # Create: the reveal takes focus, the live region says to copy the secret.
    field = page.get_by_label("Address (URL)")
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type(url_of(receiver))
    tab_to(page, page.get_by_role("button", name="Create subscription"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Copy the signing secret")).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("Standard Webhooks subscription created.")
    secret = page.locator("#notification-secret").input_value()
    assert secret.startswith("whsec_")
    assert_accessible(page, "notifications-reveal")
    copy = page.get_by_role("button", name="Copy secret")
    tab_to(page, copy)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Secret copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # Done: the secret is gone for good; focus on the new row's Send test.
    tab_to(page, page.get_by_role("link", name="Done"))
    page.keyboard.press("Enter")
    send_test = section.get_by_role("button", name=f"Send test to {url_of(receiver)}")
    expect(send_test).to_be_focused()
    expect(page.locator("#notification-secret")).to_have_count(0)
    assert secret not in page.content()

    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_contain_text("Test event queued")
    wait_for_settled_swap(page)
    expect(send_test).to_be_focused()
    assert receiver.received == []
    drain()
    assert len(receiver.received) == 1

    # The delivery log: heading focused, the attempt shown with its status; redeliver.
    log = section.get_by_role("link", name=f"Delivery log of {url_of(receiver)}")
    tab_to(page, log)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Delivery log (last 50 attempts)")).to_be_focused()
    expect(section).to_contain_text("Delivered: HTTP 200")
    assert_accessible(page, "notifications-log")
    tab_to(page, section.get_by_role("button", name="Redeliver event"))
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_contain_text("Event queued again with the same webhook-id.")
    drain()
    assert len(receiver.received) == 2 and receiver.received[0].webhook_id == receiver.received[1].webhook_id
    page.reload()

    # Disable asks first (Cancel focused); after it the row says so and Re-enable has focus.
    wait_for_settled_swap(page)
    disable = section.get_by_role("link", name=f"Disable {url_of(receiver)}")
    tab_to(page, disable)
    page.keyboard.press("Enter")
    confirm_by_keyboard(
        page, section, "Disable this subscription?", "Disable", assert_accessible, "notifications-confirm"
    )
    expect(page.locator("#live-region")).to_contain_text("Subscription disabled")
    reenable = section.get_by_role("link", name=f"Re-enable {url_of(receiver)}")
    expect(reenable).to_be_focused()
    expect(section.locator(".badge-bad")).to_have_text("Disabled")
    page.keyboard.press("Enter")
    confirm_by_keyboard(
        page, section, "Re-enable this subscription?", "Re-enable", assert_accessible, "notifications-reenable"
    )
    expect(page.locator("#live-region")).to_contain_text("Subscription re-enabled")
    expect(disable).to_be_focused()


def test_a_member_does_not_see_the_section(page: Page, live_server: str, user: Any, make: Any) -> None:
    project_id = _project(make, user, "member")
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project_id}/integrations")
    expect(page.locator("#webhooks")).to_have_count(1)
    expect(page.locator("#notifications")).to_have_count(0)
    response = page.request.get(f"{live_server}/projects/{project_id}/integrations/notifications")
    assert response.status == 403
