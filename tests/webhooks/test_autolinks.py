"""Automatic links (SPEC §20): a GitHub `pull_request` or GitLab `Merge Request Hook` delivery
that names a task key of the receiver's project links itself to that task, with its closing
intent; removals are remembered and a person's `closes` wins. Payloads are GitHub's published
examples and GitLab's documented Merge Request Hook, with branches, titles and bodies changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Factory
from tests.webhooks.conftest import EXAMPLE_PR, Hook, Hooks, github_example, gitlab_merge_request

MR = "https://gitlab.com/awesome_space/awesome_project/-/merge_requests/1"


def _pull(
    action: str = "opened",
    *,
    branch: str = "changes",
    title: str = "Update the README",
    body: str | None = "",
    updated_at: str | None = None,
) -> dict[str, Any]:
    payload = github_example(f"pull_request.{action}")
    if updated_at:
        payload["pull_request"]["updated_at"] = updated_at
    payload["pull_request"]["head"]["ref"] = branch
    payload["pull_request"]["title"] = title
    payload["pull_request"]["body"] = body
    return payload


def _links(hooks: Hooks, task_id: str | None = None, project_id: str | None = None) -> list[dict[str, Any]]:
    pid, tid = project_id or hooks.project_id, task_id or hooks.task_id
    response = hooks.viewer.api("GET", f"/api/v1/projects/{pid}/tasks/{tid}/links/")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def _task(hooks: Hooks, make: Factory, name: str, **fields: Any) -> str:
    body = hooks.member.api(
        "POST",
        f"/api/v1/projects/{hooks.project_id}/tasks/",
        json={"name": name, "start_date": "2026-03-02", "finish_date": "2026-03-06", **fields},
    )
    assert body.status_code == 201, body.get_json()
    return body.get_json()["id"]  # type: ignore[no-any-return]


def _send(hooks: Hooks, hook: Hook, payload: dict[str, Any]) -> dict[str, Any]:
    response = hooks.sender.github(hook, "pull_request", payload)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_the_project_and_task_carry_keys(hooks: Hooks) -> None:
    project = hooks.viewer.api("GET", f"/api/v1/projects/{hooks.project_id}/").get_json()
    assert project["key"] == "APO"
    task = hooks.viewer.api("GET", f"/api/v1/projects/{hooks.project_id}/tasks/{hooks.task_id}/").get_json()
    assert (task["number"], task["key"]) == (1, "APO-1")


@pytest.mark.parametrize(
    "action", ["opened", "closed", "labeled", "reopened", "converted_to_draft", "ready_for_review"]
)
def test_a_branch_name_links_on_every_action(hooks: Hooks, action: str) -> None:
    hook = hooks.create()
    assert _send(hooks, hook, _pull(action, branch="feature/apo-1-ship-it")) == {"matched": 0, "linked": 1}
    (link,) = _links(hooks)
    assert link["url"] == EXAMPLE_PR and link["source"] == "auto" and link["closes"] is True
    assert link["provider"] == "github" and link["title"] == "Update the README" and link["fetched_at"]
    assert link["status"] in ("open", "draft", "merged", "closed")


def test_body_intent_mentions_and_closes(hooks: Hooks, make: Factory) -> None:
    hook = hooks.create()
    second = _task(hooks, make, "Second")
    third = _task(hooks, make, "Third")
    body = "Relates to APO-1.\n\nFixes APO-2 and apo-3\n\n> Fixes APO-1\n`closes APO-1`"
    assert _send(hooks, hook, _pull(body=body)) == {"matched": 0, "linked": 3}
    assert _links(hooks)[0]["closes"] is False
    assert _links(hooks, second)[0]["closes"] is True
    assert _links(hooks, third)[0]["closes"] is True


def test_a_redelivery_updates_instead_of_duplicating_and_closes_follows_the_newest_intent(hooks: Hooks) -> None:
    hook = hooks.create()
    assert _send(hooks, hook, _pull(body="see APO-1"))["linked"] == 1
    assert _links(hooks)[0]["closes"] is False
    answer = _send(hooks, hook, _pull("closed", body="Closes APO-1"))
    assert answer == {"matched": 1, "linked": 0}
    (link,) = _links(hooks)
    assert link["closes"] is True and link["status"] == "closed"
    # The key taken out again removes nothing; the intent follows the newest delivery.
    later = "2030-01-01T00:00:00Z"
    assert _send(hooks, hook, _pull("reopened", body="see APO-1", updated_at=later))["linked"] == 0
    assert _links(hooks)[0]["closes"] is False
    # An older version of the pull request (out of order) does not move the intent back.
    assert _send(hooks, hook, _pull("reopened", body="Fixes APO-1"))["matched"] == 0
    assert _links(hooks)[0]["closes"] is False
    assert _send(hooks, hook, _pull("reopened", body="nothing here", updated_at=later))["linked"] == 0
    assert len(_links(hooks)) == 1


def test_a_persons_link_is_updated_and_a_persons_closes_wins(hooks: Hooks) -> None:
    hook = hooks.create()
    mine = hooks.link(EXAMPLE_PR + "/files")
    assert mine["source"] == "person" and mine["closes"] is False
    assert _send(hooks, hook, _pull(title="APO-1: readme"))["linked"] == 0
    (link,) = _links(hooks)
    assert link["id"] == mine["id"] and link["source"] == "person" and link["closes"] is True
    path = f"/api/v1/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{mine['id']}/"
    assert hooks.viewer.api("PATCH", path, json={"closes": False}).status_code == 403
    bad = hooks.member.api("PATCH", path, json={"closes": "yes"})
    assert bad.status_code == 400 and "closes" in bad.get_json()["fields"]
    assert hooks.member.api("PATCH", path, json={"closes": False}).get_json()["closes"] is False
    _send(hooks, hook, _pull("closed", title="APO-1: readme"))
    assert _links(hooks)[0]["closes"] is False


def test_a_removed_link_is_never_recreated_on_that_task(hooks: Hooks, make: Factory) -> None:
    hook = hooks.create()
    _send(hooks, hook, _pull(branch="apo-1-readme"))
    (link,) = _links(hooks)
    path = f"/api/v1/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{link['id']}/"
    assert hooks.member.api("DELETE", path).status_code == 204
    second = _task(hooks, make, "Second")
    assert _send(hooks, hook, _pull("closed", branch="apo-1-readme", body="Fixes APO-2")) == {
        "matched": 0,
        "linked": 1,
    }
    assert _links(hooks) == [] and len(_links(hooks, second)) == 1


def test_only_live_tasks_of_the_receivers_project(hooks: Hooks, make: Factory) -> None:
    hook = hooks.create()
    gone = _task(hooks, make, "Gone")  # APO-2
    assert hooks.member.api("DELETE", f"/api/v1/projects/{hooks.project_id}/tasks/{gone}/").status_code == 204
    answer = _send(hooks, hook, _pull(body="Fixes GEM-1, APO-2, APO-99 and APO-1"))
    assert answer == {"matched": 0, "linked": 1}
    assert _links(hooks, hooks.other_task_id, hooks.other_project_id) == []


def test_milestones_and_summary_tasks_are_linked_too(hooks: Hooks, make: Factory) -> None:
    hook = hooks.create()
    milestone = _task(hooks, make, "Launch", is_milestone=True, finish_date="2026-03-02")
    parent = _task(hooks, make, "Phase")
    _task(hooks, make, "Child", parent_id=parent)
    assert _send(hooks, hook, _pull(body="APO-2 APO-3"))["linked"] == 2
    assert len(_links(hooks, milestone)) == 1 and len(_links(hooks, parent)) == 1


def test_an_archived_project_links_nothing(hooks: Hooks) -> None:
    hook = hooks.create()
    assert hooks.owner.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/").status_code in (200, 204)
    response = hooks.sender.github(hook, "pull_request", _pull(branch="apo-1"))
    assert response.status_code == 202
    assert hooks.owner.api("POST", f"/api/v1/projects/{hooks.project_id}/unarchive/").status_code in (200, 204)
    assert _links(hooks) == []


def test_former_keys_keep_linking_and_resolving(hooks: Hooks) -> None:
    hook = hooks.create()
    patched = hooks.admin.api("PATCH", f"/api/v1/projects/{hooks.project_id}/", json={"key": "rocket"})
    assert patched.status_code == 200 and patched.get_json()["key"] == "ROCKET"
    assert _send(hooks, hook, _pull(body="fixes apo-1"))["linked"] == 1
    for ref in ("APO-1", "apo-1", "ROCKET-1", "Rocket-1"):
        got = hooks.viewer.api("GET", f"/api/v1/projects/{hooks.project_id}/tasks/{ref}/")
        assert got.status_code == 200 and got.get_json()["key"] == "ROCKET-1", ref
    assert hooks.viewer.api("GET", f"/api/v1/projects/{hooks.project_id}/tasks/GEM-1/").status_code == 404
    # The other project cannot take either key.
    other = f"/api/v1/projects/{hooks.other_project_id}/"
    for taken in ("APO", "rocket"):
        answer = hooks.admin.api("PATCH", other, json={"key": taken})
        assert answer.status_code == 409 and answer.get_json()["code"] == "key_taken"


def test_project_key_validation_and_roles(hooks: Hooks) -> None:
    path = f"/api/v1/projects/{hooks.project_id}/"
    for bad in ("A", "1AB", "ABCDEFGHIJK", "AB-1", "", 12, None):
        answer = hooks.admin.api("PATCH", path, json={"key": bad})
        assert answer.status_code == 400 and "key" in answer.get_json()["fields"], bad
    assert hooks.member.api("PATCH", path, json={"key": "MINE"}).status_code == 403
    made = hooks.owner.api("POST", "/api/v1/projects/", json={"name": "Zed", "key": "zz9"})
    assert made.status_code == 201 and made.get_json()["key"] == "ZZ9"
    dup = hooks.owner.api("POST", "/api/v1/projects/", json={"name": "Zed", "key": "GEM"})
    assert dup.status_code == 409 and dup.get_json()["code"] == "key_taken"
    derived = hooks.owner.api("POST", "/api/v1/projects/", json={"name": "Apollo"})
    assert derived.get_json()["key"] == "APO2"


def test_sync_rows_carry_keys_and_link_fields(hooks: Hooks) -> None:
    hook = hooks.create()
    _send(hooks, hook, _pull(branch="apo-1"))
    delta = hooks.sync()
    (task,) = [t for t in delta["tasks"]["updated"] if t["id"] == hooks.task_id]
    assert task["key"] == "APO-1" and task["number"] == 1
    (link,) = delta["task_links"]["updated"]
    assert link["source"] == "auto" and link["closes"] is True


def test_gitlab_merge_request_hook(hooks: Hooks, make: Factory) -> None:
    hook = hooks.create("gitlab")
    second = _task(hooks, make, "Second")
    payload = gitlab_merge_request(MR, title="Readme", action="update")
    payload["object_attributes"]["source_branch"] = "apo-1-readme"
    payload["object_attributes"]["description"] = "Does not fix APO-2"
    response = hooks.sender.gitlab(hook, "Merge Request Hook", payload)
    assert response.status_code == 200 and response.get_json() == {"matched": 0, "linked": 2}
    (first,) = _links(hooks)
    assert first["url"] == MR and first["provider"] == "gitlab" and first["closes"] is True
    assert _links(hooks, second)[0]["closes"] is False


def test_an_issue_delivery_links_nothing(hooks: Hooks) -> None:
    hook = hooks.create()
    payload = github_example("issues.opened")
    payload["issue"]["title"] = "APO-1 broken"
    assert hooks.sender.github(hook, "issues", payload).get_json() == {"matched": 0}
    assert _links(hooks) == []


def test_queries_do_not_grow_with_the_keys_named(hooks: Hooks, make: Factory, count_queries: Any) -> None:
    hook = hooks.create()
    for n in range(2, 51):
        make.task(hooks.owner.user, hooks.project_id, name=f"T{n}")
    with count_queries() as one:
        assert _send(hooks, hook, _pull(body="Fixes APO-1"))["linked"] == 1
    keys = ", ".join(f"APO-{n}" for n in range(1, 51))
    with count_queries() as fifty:
        answer = _send(hooks, hook, _pull("closed", body=f"Fixes {keys}"))
    assert answer == {"matched": 1, "linked": 49}
    assert len(fifty.statements) <= len(one.statements) + 3, (one.statements, fifty.statements)


def test_the_list_and_drawer_show_keys_copy_fields_and_the_closing_checkbox(app: Any, hooks: Hooks) -> None:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    from tests.conftest import SessionClient

    hook = hooks.create()
    _send(hooks, hook, _pull(branch="apo-1-ship-it", body="see APO-1"))
    member = SessionClient(app.test_client(), hooks.member.user).login()
    page = member.get(f"/projects/{hooks.project_id}/schedule?task=apo-1")
    assert page.status_code == 200
    tree = HTMLParser(page.get_data(as_text=True))
    assert tree.css_first(f"#task-{hooks.task_id} .task-key").text() == "APO-1"
    drawer = tree.css_first("section#drawer")
    assert drawer.attributes["data-task"] == hooks.task_id
    assert drawer.css_first("#task-key-value").attributes["value"] == "APO-1"
    assert drawer.css_first("#task-branch-value").attributes["value"] == "apo-1-ship-it"
    buttons = {b.text(): b.attributes.get("data-copy") for b in drawer.css("button[data-copy]")}
    assert buttons == {"Copy key": "task-key-value", "Copy branch name": "task-branch-value"}
    (link,) = _links(hooks)
    row = member.get(
        f"/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{link['id']}", headers={"HX-Request": "true"}
    )
    html = HTMLParser(row.get_data(as_text=True))
    assert html.css_first(".link-auto").text() == "Added automatically from GitHub"
    box = html.css_first(f"#link-{link['id']}-closes")
    assert box.attributes.get("type") == "checkbox" and "checked" in box.attributes  # the branch closes
    assert html.css_first(f"label[for=link-{link['id']}-closes]").text() == "Completes this task when merged"
    # Unticked (no `closes` field), with htmx: the row comes back unticked, focused and announced.
    answer = member.form(
        f"/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{link['id']}/closes", headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    again = HTMLParser(answer.get_data(as_text=True)).css_first(f"#link-{link['id']}-closes")
    assert "checked" not in again.attributes and "autofocus" in again.attributes
    assert "no longer completes" in answer.headers.get("HX-Trigger", "") + answer.get_data(as_text=True)
    assert _links(hooks)[0]["closes"] is False
    # Without JavaScript the form posts and the browser goes back to the drawer.
    plain = member.form(
        f"/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{link['id']}/closes", {"closes": "1"}
    )
    assert plain.status_code == 303 and _links(hooks)[0]["closes"] is True
    # A delivery no longer changes what the person chose.
    _send(hooks, hook, _pull("closed", body="see APO-1"))
    assert _links(hooks)[0]["closes"] is True
