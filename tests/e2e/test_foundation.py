"""A new user's first minutes, keyboard only: log in, create a project, look around."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD


def tab_to(page: Page, locator: Any, limit: int = 60) -> None:
    """Reach `locator` with Tab, or else with Shift+Tab, as a keyboard user would."""
    for key, steps in (("Tab", limit), ("Shift+Tab", 2 * limit)):
        for _ in range(steps):
            if locator.evaluate("el => el === document.activeElement"):
                return
            page.keyboard.press(key)
    raise AssertionError(f"could not reach {locator} with the keyboard")


def wait_for_settled_swap(page: Page) -> None:
    """htmx moves focus to the swapped content's [autofocus] only when it settles (about 20 ms
    after the swap); a key pressed before then is overridden, so wait out the settling."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def login_with_keyboard(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/portfolio$"))  # the landing page (SPEC §22)


def confirm_by_keyboard(
    page: Page, region: Locator, question: str, button: str, accessible: Callable[[Page, str], None], name: str
) -> None:
    """An inline confirm (the `inline_confirm` macro) just opened in `region`: it asks `question`
    with Cancel focused and passes axe as `name`; then Tab reaches `button` and Enter presses it."""
    expect(region).to_contain_text(question)
    expect(region.get_by_role("link", name="Cancel")).to_be_focused()
    accessible(page, name)
    page.keyboard.press("Tab")
    expect(region.get_by_role("button", name=button)).to_be_focused()
    page.keyboard.press("Enter")


@contextmanager
def without_script(browser: Any, base: str, email: str, path: str) -> Iterator[Page]:
    """`path` after a keyboard login, in a browser context with JavaScript off."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login_with_keyboard(page, base, email)
        page.goto(f"{base}{path}")
        yield page
    finally:
        context.close()


def test_keyboard_login_create_project_and_axe(
    page: Page, live_server: str, user: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    page.goto(f"{live_server}/login")
    assert_accessible(page, "login")

    # The skip link is the first stop and moves focus to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    # A wrong password: the error summary takes focus and links to the field.
    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a correct email address and password")
    assert_accessible(page, "login-error")

    login_with_keyboard(page, live_server, user.email)
    assert_accessible(page, "portfolio-empty")
    # From the landing page to Projects through the main navigation.
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/projects/$"))
    assert_accessible(page, "projects-empty")

    # Create a project with the keyboard alone; an empty name first shows the error.
    name_field = page.get_by_label("Project name")
    tab_to(page, page.get_by_role("button", name="Create project"))
    page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("Enter a project name")
    assert_accessible(page, "projects-error")
    tab_to(page, name_field)
    page.keyboard.type("Apollo launch")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/projects/[0-9a-f]{32}/schedule$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Apollo launch")
    assert_accessible(page, "schedule")

    # Members and integrations pages, reached by keyboard through the project tabs.
    tab_to(page, page.get_by_role("link", name="Members"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/members$"))
    assert_accessible(page, "members")
    tab_to(page, page.get_by_role("link", name="Integrations"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Manage your connected accounts")).to_be_visible()
    assert_accessible(page, "integrations")

    page.goto(f"{live_server}/me/settings/api-tokens")
    assert_accessible(page, "api-tokens")
    assert console_errors == []


def test_add_member_by_keyboard_swaps_section_and_announces(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project_id = make.project(user, "Gemini")
    colleague = make.user(email="colleague@example.com", name="Cora Colleague")
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project_id}/members")

    # An unknown email: the section swaps in place with the error summary focused.
    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type("nobody@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#members .error-summary")).to_be_focused()
    assert_accessible(page, "members-error")

    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.press("Control+A")
    page.keyboard.type(colleague.email)
    page.keyboard.press("Enter")
    expect(page.locator("#members")).to_contain_text("Cora Colleague")
    expect(page.locator("#live-region")).to_have_text("Cora Colleague added as member.")
    assert_accessible(page, "members-added")
    assert console_errors == []


def test_api_token_created_once_and_revoked(page: Page, live_server: str, user: Any, assert_accessible: Any) -> None:
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/me/settings/api-tokens")
    tab_to(page, page.get_by_label("Token name"))
    page.keyboard.type("backup script")
    page.keyboard.press("Enter")
    token_box = page.get_by_label("New token")
    expect(token_box).to_be_focused()
    assert token_box.input_value().startswith("ppm_")
    expect(page.locator("#live-region")).to_contain_text("Copy it now")
    assert_accessible(page, "api-token-created")

    tab_to(page, page.get_by_role("link", name="Revoke backup script"))
    page.keyboard.press("Enter")
    tokens, question = page.locator("#api-tokens"), "Revoke “backup script”? Scripts using it stop working"
    confirm_by_keyboard(page, tokens, question, "Revoke", assert_accessible, "api-token-confirm")
    expect(page.get_by_role("heading", name="Your tokens")).to_be_focused()
    expect(page.locator("#api-tokens")).to_contain_text("You have no API tokens.")
    page.reload()
    expect(page.get_by_label("New token")).to_have_count(0)
