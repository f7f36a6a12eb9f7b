"""Review and CI in Chromium, keyboard only (SPEC §15): open a task's drawer from its row, read
"Checks failing" and "Changes requested" beside the status, refresh, read the new words; the
row's label names them too. axe-core on every state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from playwright.sync_api import Page, expect

from ppm.extensions import db
from ppm.links import services as links
from ppm.models_base import utcnow
from tests.e2e.test_foundation import login_with_keyboard, tab_to
from tests.integrations.test_review_reduction import example, runs
from tests.links.conftest import give_credential
from tests.support.provider_examples import github

pytestmark = pytest.mark.usefixtures("github_net")
API = "https://api.github.com/repos/acme/api"
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"  # the published pull request's head.sha


@pytest.fixture
def provider() -> Iterator[responses.RequestsMock]:
    """GitHub after CI went green and the reviewer approved (its published examples)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{API}/pulls/7", json=github("pull-request"))
        mock.get(f"{API}/commits/{HEAD}/check-runs", json=runs(("completed", "success")))
        mock.get(f"{API}/pulls/7/reviews", json=example("pull-request-review-items"))
        yield mock


def _project(make: Any, owner: Any) -> dict[str, str]:
    pid = make.project(owner, "Apollo")
    task = make.task(owner, pid, name="Login")
    give_credential(owner, "github", "ghp_owner")
    link = links.add_link(owner, pid, task.id, {"url": "https://github.com/acme/api/pull/7"})
    link.status, link.title, link.fetched_at = "open", "Fix login redirect", utcnow()
    link.checks, link.review = "failing", "changes_requested"
    db.session.commit()
    return {"id": pid, "task": task.id}


def test_the_drawer_says_checks_and_review_in_words_by_keyboard(
    page: Page,
    live_server: str,
    user: Any,
    make: Any,
    provider: responses.RequestsMock,
    assert_accessible: Any,
    console_errors: list[str],
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")
    glyph = page.locator(f"#task-{project['task']} .link-indicator")
    expect(glyph).to_have_attribute(
        "aria-label", "1 external link, worst status: open, checks failing, changes requested"
    )
    assert_accessible(page, "schedule-with-review")

    tab_to(page, page.get_by_role("link", name=re.compile("^Login")))
    page.keyboard.press("Enter")
    meta = page.locator("#task-links .link-meta")
    expect(meta).to_contain_text("Checks failing")
    expect(meta).to_contain_text("Changes requested")
    assert_accessible(page, "drawer-checks-failing")

    tab_to(page, page.locator("#task-links").get_by_role("button", name=re.compile("^Refresh")))
    page.keyboard.press("Enter")
    expect(meta).to_contain_text("Checks passing")
    expect(meta).to_contain_text("Approved")
    expect(meta).not_to_contain_text("Checks failing")
    assert console_errors == []
    assert_accessible(page, "drawer-checks-passing")
