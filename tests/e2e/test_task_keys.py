"""Task keys in a real browser (SPEC §20), keyboard only: copy a task's branch name from the
drawer (the clipboard holds it and "Copied" is announced, the page stays), send a signed GitHub
delivery naming that branch to the live server, and see the automatic link in the drawer with
its "Completes this task when merged" box, which the keyboard unticks (announced)."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from typing import Any

from playwright.sync_api import Page, expect

from ppm.webhooks import services as webhooks
from tests.e2e.test_foundation import login_with_keyboard, tab_to
from tests.webhooks.conftest import github_example


def _deliver(base: str, receiver_id: str, secret: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        f"{base}/hooks/github/{receiver_id}",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "e2e-keys-1",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def test_copy_a_branch_name_deliver_it_and_see_the_link(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project_id = make.project(user, "Website")
    task = make.task(user, project_id, name="Button components", start_date="2026-03-02", finish_date="2026-03-06")
    revealed = webhooks.create_receiver(user, project_id, {"provider": "github"})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project_id}/schedule?task=web-1")
    drawer = page.locator("#drawer")
    expect(drawer.get_by_role("heading", name="Button components")).to_be_visible()
    expect(page.locator(f"#task-{task.id} .task-key")).to_have_text("WEB-1")
    url_before = page.url

    copy = page.get_by_role("button", name="Copy branch name")
    tab_to(page, copy)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Copied")
    expect(copy).to_be_focused()
    branch = page.evaluate("navigator.clipboard.readText()")
    assert branch == "web-1-button-components"
    assert page.url == url_before  # no page change
    tab_to(page, page.get_by_role("button", name="Copy key"))
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "WEB-1"
    assert_accessible(page, "task-keys-drawer")

    payload = github_example("pull_request.opened")
    payload["pull_request"]["head"]["ref"] = branch
    payload["pull_request"]["title"] = "Button components"
    assert _deliver(live_server, revealed.receiver.id, revealed.secret, payload) == {"matched": 0, "linked": 1}

    page.reload()
    links = page.locator("#task-links")
    expect(links).to_contain_text("Added automatically from GitHub")
    box = page.get_by_label("Completes this task when merged")
    expect(box).to_be_checked()
    tab_to(page, box)
    page.keyboard.press("Space")
    expect(page.locator("#live-region")).to_contain_text("no longer completes the task when merged")
    box = page.get_by_label("Completes this task when merged")
    expect(box).not_to_be_checked()
    expect(box).to_be_focused()
    assert_accessible(page, "task-keys-auto-link")
    assert console_errors == []
