"""Webhooks on the Integrations page in a real browser, keyboard only: an admin creates a
receiver, copies its secret, rotates it and deletes it; a member sees no controls; axe-core finds
no violations in any state (SPEC §13)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.test_foundation import confirm_by_keyboard, login_with_keyboard, tab_to


def _secret(page: Page) -> str:
    return page.locator("#webhook-secret").input_value()


def _olgas_project(make: Any, user: Any, role: str) -> tuple[Any, str]:
    """Olga's project Apollo, where `user` has `role`: (Olga, the project's id)."""
    owner = make.user(email="olga@example.com", name="Olga Owner")
    project_id = make.project(owner, "Apollo")
    make.member(owner, project_id, role, user=user)
    return owner, project_id


def test_admin_creates_copies_rotates_and_deletes_with_the_keyboard(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    _, project_id = _olgas_project(make, user, "admin")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project_id}/integrations")
    section = page.locator("#webhooks")
    expect(section).to_contain_text("No webhooks yet.")
    assert_accessible(page, "webhooks-empty")

    # Create: GitHub is preselected; the reveal takes focus and the live region says what to do.
    tab_to(page, page.get_by_label("Provider"))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create webhook")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Set up the GitHub webhook")).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("GitHub webhook created.")
    expect(section).to_contain_text("Pull request reviews")
    secret = _secret(page)
    assert len(secret) >= 43
    assert_accessible(page, "webhooks-reveal")

    # Copy the secret with its button: it lands on the clipboard and the copy is announced.
    copy = page.get_by_role("button", name="Copy secret")
    tab_to(page, copy)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Secret copied.")
    expect(copy).to_be_focused()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # Done: back to the list, focus on the new receiver's Rotate control.
    tab_to(page, page.get_by_role("link", name="Done"))
    page.keyboard.press("Enter")
    rotate = page.get_by_role("link", name="Rotate secret of the GitHub webhook")
    expect(rotate).to_be_focused()
    expect(page.locator("#webhook-secret")).to_have_count(0)
    expect(section).to_contain_text("No delivery yet")

    # Rotate asks first (Cancel focused), then reveals a new secret.
    page.keyboard.press("Enter")
    question = "Rotate the secret of this GitHub webhook?"
    confirm_by_keyboard(page, section, question, "Rotate secret", assert_accessible, "webhooks-confirm-rotate")
    expect(page.get_by_role("heading", name="Set up the GitHub webhook")).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("New secret made for the GitHub webhook")
    assert _secret(page) not in ("", secret)
    tab_to(page, page.get_by_role("link", name="Done"))
    page.keyboard.press("Enter")
    expect(rotate).to_be_focused()

    # Delete asks first; Cancel keeps it, then Delete removes it and focus goes to the heading.
    delete = page.get_by_role("link", name="Delete the GitHub webhook")
    tab_to(page, delete)
    page.keyboard.press("Enter")
    expect(section).to_contain_text("Delete this GitHub webhook?")
    expect(section.get_by_role("link", name="Cancel")).to_be_focused()
    assert_accessible(page, "webhooks-confirm-delete")
    page.keyboard.press("Enter")
    expect(delete).to_be_focused()
    page.keyboard.press("Enter")
    expect(section.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(section.get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Webhooks")).to_be_focused()
    expect(page.locator("#live-region")).to_have_text("GitHub webhook deleted.")
    expect(section).to_contain_text("No webhooks yet.")
    assert_accessible(page, "webhooks-deleted")
    assert console_errors == []


def test_a_member_sees_the_receivers_and_no_controls(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    from ppm.webhooks import services

    owner, project_id = _olgas_project(make, user, "member")
    services.create_receiver(owner, project_id, {"provider": "gitlab"})
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project_id}/integrations")
    section = page.locator("#webhooks")
    expect(section.get_by_role("cell", name="GitLab", exact=True)).to_be_visible()
    expect(section).to_contain_text("No delivery yet")
    expect(section.get_by_role("link")).to_have_count(0)
    expect(section.get_by_role("button")).to_have_count(0)
    expect(section.locator("input, select, form")).to_have_count(0)
    assert_accessible(page, "webhooks-member")
    assert console_errors == []
