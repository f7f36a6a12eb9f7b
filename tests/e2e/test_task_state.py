"""Task state in Chromium (SPEC §21): a signed "merged" delivery turns a task done in the list,
and the drawer says why; a person sets a state with the keyboard in the drawer (announced); the
Gantt marks the done bar and says "Done" in its names table. axe-core on each state."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from playwright.sync_api import Page, expect

from ppm.automations import services as automations
from ppm.links import services as links
from ppm.webhooks import services as webhooks
from tests.e2e.test_foundation import login_with_keyboard, tab_to, wait_for_settled_swap, without_script
from tests.webhooks.conftest import EXAMPLE_PR, github_example


def _merged_delivery(app: Any, receiver_path: str, secret: str) -> None:
    payload = github_example("pull_request.closed")
    payload["pull_request"].update(merged=True, merged_at="2019-05-15T15:21:18Z", merge_commit_sha="c4295bd74fb0")
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    response = app.test_client().post(
        receiver_path,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-Hub-Signature-256": signature,
        },
    )
    assert response.status_code == 200 and response.get_json() == {"matched": 1}, response.get_json()


def test_a_merged_delivery_finishes_the_task_in_the_list_and_the_drawer_says_why(
    app: Any, page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    pid = make.project(user, "Website")
    task = make.task(user, pid, name="Component library")
    other = make.task(user, pid, name="Write docs")
    link = links.add_link(user, pid, task.id, {"url": EXAMPLE_PR})
    links.edit_link(user, pid, task.id, link.id, {"custom_title": "acme/website#120", "closes": True})
    automations.set_switches(user, pid, {"done_on_merge": True})
    revealed = webhooks.create_receiver(user, pid, {"provider": "github"})

    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{pid}/schedule")
    row = page.locator(f"#task-{task.id}")
    expect(row.locator(".c-state")).to_have_text("○ To do")
    assert_accessible(page, "state-list-todo")

    _merged_delivery(app, f"/hooks/github/{revealed.receiver.id}", revealed.secret)

    page.reload()
    expect(row.locator(".c-state")).to_have_text("✓ Done")  # words and a shape, not colour alone
    tab_to(page, row.get_by_role("link", name="Component library"))
    page.keyboard.press("Enter")
    drawer = page.locator("#drawer")
    expect(drawer.get_by_role("heading", name="Component library")).to_be_focused()
    expect(drawer.locator("#drawer-state")).to_have_text("✓ Done — set automatically when acme/website#120 was merged")
    assert_accessible(page, "state-drawer-automatic")

    # A person sets another task's state with the keyboard: announced, the row follows.
    page.goto(f"{live_server}/projects/{pid}/schedule?task={other.id}")
    in_progress = page.get_by_role("radio", name="In progress")
    tab_to(page, page.get_by_role("radio", name="To do"))  # Tab reaches the group's checked radio
    page.keyboard.press("ArrowRight")
    expect(in_progress).to_be_checked()
    expect(in_progress).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Set state")).to_be_focused()
    page.keyboard.press("Enter")
    wait_for_settled_swap(page)
    expect(page.locator("#live-region")).to_contain_text("“Write docs” is now in progress.")
    expect(page.get_by_role("radio", name="In progress")).to_be_focused()
    expect(page.locator(f"#task-{other.id} .c-state")).to_have_text("◐ In progress")
    assert_accessible(page, "state-drawer-person")

    # The Gantt: the done bar has its tick, and the names table says "Done" in words.
    page.goto(f"{live_server}/projects/{pid}/schedule?view=gantt")
    gantt_row = page.locator(f"#task-{task.id}")
    expect(gantt_row.locator("th")).to_contain_text("Done")
    expect(gantt_row.locator(".bar.done")).to_have_count(1)
    expect(gantt_row.locator(".done-tick")).to_have_count(1)
    expect(page.locator(f"#task-{other.id} .bar.done")).to_have_count(0)
    assert_accessible(page, "state-gantt")
    assert console_errors == []


def test_the_state_control_works_without_javascript(live_server: str, user: Any, make: Any, browser: Any) -> None:
    pid = make.project(user, "Website")
    task = make.task(user, pid, name="Plain form")
    with without_script(browser, live_server, user.email, f"/projects/{pid}/schedule?task={task.id}") as plain:
        plain.get_by_role("radio", name="Done").check()
        plain.get_by_role("button", name="Set state").click()
        expect(plain.locator(f"#task-{task.id} .c-state")).to_have_text("✓ Done")
        expect(plain.locator("#drawer-state")).to_have_text("✓ Done")
