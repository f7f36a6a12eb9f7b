"""The drawer's External links section as htmx fragments (SPEC §6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from tests.conftest import Factory, SessionClient
from tests.links.conftest import give_credential

HX = {"HX-Request": "true"}
PULL = "https://github.com/acme/api/pull/7"
PULL_API = "https://api.github.com/repos/acme/api/pulls/7"


@pytest.fixture
def setup(app: Any, make: Factory) -> Any:
    owner = make.user(email="owner@example.com", name="Olive Owner")
    project_id = make.project(owner)
    viewer = make.member(owner, project_id, "viewer")
    task = make.task(owner, project_id, name="Ship it")
    base = f"/projects/{project_id}/tasks/{task.id}/links"
    return SessionClient(app.test_client(), owner).login(), SessionClient(app.test_client(), viewer).login(), base


def test_add_swaps_the_section_announces_and_signals_the_schedule(setup: Any) -> None:
    owner, _, base = setup
    response = owner.form(
        base,
        {"url": "github.com/acme/api/pull/7", "custom_title": "Login fix", "labels": "backend, api, Backend"},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="task-links"')
    assert "Login fix" in html and 'target="_blank" rel="noopener noreferrer"' in html
    assert html.count('class="label"') == 2
    assert "Link added: Login fix (GitHub)." in html
    assert json.loads(response.headers["HX-Trigger"])["links-changed"]["task_id"] in base
    url_input = html.split('id="link-url"')[0].rsplit("<input", 1)[1]
    assert "autofocus" in url_input  # ready to paste the next link


def test_add_without_js_redirects_to_the_drawer(setup: Any) -> None:
    owner, _, base = setup
    response = owner.form(base, {"url": "https://example.org/spec"})
    assert response.status_code == 303 and "task=" in response.headers["Location"]


def test_invalid_and_duplicate_urls_answer_422_in_the_form(setup: Any) -> None:
    owner, _, base = setup
    bad = owner.form(base, {"url": "javascript:alert(1)", "custom_title": "keep me"}, headers=HX)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "There is a problem" in html and 'href="#link-url"' in html
    assert 'value="keep me"' in html  # nothing typed is lost
    owner.form(base, {"url": "https://example.org/a"}, headers=HX)
    dup = owner.form(base, {"url": "https://EXAMPLE.org/a/"}, headers=HX)
    assert dup.status_code == 422 and "already on the task" in dup.get_data(as_text=True)


def test_live_hint(setup: Any) -> None:
    owner, _, base = setup
    assert "GitHub detected — refresh fetches live status" in owner.get(
        f"{base}/detect?url=https://github.com/a/b/pull/1"
    ).get_data(as_text=True)
    plain = owner.get(f"{base}/detect?url=example.org/x").get_data(as_text=True)
    assert "Will be saved as a plain link (no live status)" in plain
    assert "Google Drive detected" in owner.get(f"{base}/detect?url=https://drive.google.com/file/d/x/view").get_data(
        as_text=True
    )
    assert owner.get(f"{base}/detect?url=javascript:x").get_data(as_text=True).strip() == ""


def _add(owner: SessionClient, base: str, url: str) -> str:
    html = owner.form(base, {"url": url}, headers=HX).get_data(as_text=True)
    return html.split('id="link-')[1].split('"')[0] if 'id="link-' in html.replace('id="link-url"', "") else ""


def _first_link_id(html: str) -> str:
    return html.split('<li id="link-')[1].split('"')[0]


def _added_pull(client: SessionClient, base: str) -> str:
    """Adds GitHub pull request 7 through the section at `base`; the new link's id."""
    return _first_link_id(client.form(base, {"url": PULL}, headers=HX).get_data(as_text=True))


def test_edit_swaps_the_row_and_saves(setup: Any) -> None:
    owner, _, base = setup
    html = owner.form(base, {"url": "https://example.org/a"}, headers=HX).get_data(as_text=True)
    link_id = _first_link_id(html)
    form = owner.get(f"{base}/{link_id}/edit", headers=HX).get_data(as_text=True)
    assert form.lstrip().startswith(f'<li id="link-{link_id}"') and "autofocus" in form
    saved = owner.form(f"{base}/{link_id}/edit", {"custom_title": "Spec", "labels": "a, b"}, headers=HX)
    html = saved.get_data(as_text=True)
    assert "Spec" in html and "Link saved: Spec." in html and "links-changed" in saved.headers["HX-Trigger"]
    edit_button = html.split("Edit<span")[0].rsplit("<a", 1)[1]
    assert "autofocus" in edit_button
    too_long = owner.form(f"{base}/{link_id}/edit", {"custom_title": "x" * 201}, headers=HX)
    assert too_long.status_code == 422 and "at most 200" in too_long.get_data(as_text=True)


def test_remove_confirms_inline_then_removes(setup: Any) -> None:
    owner, _, base = setup
    link_id = _first_link_id(owner.form(base, {"url": "https://example.org/a"}, headers=HX).get_data(as_text=True))
    confirm = owner.get(f"{base}/{link_id}/remove", headers=HX).get_data(as_text=True)
    assert "Remove this link?" in confirm
    assert "autofocus" in confirm.split(">Cancel<")[0].rsplit("<a", 1)[1]
    done = owner.form(f"{base}/{link_id}/remove", headers=HX)
    html = done.get_data(as_text=True)
    assert "No links yet." in html and "Link removed: https://example.org/a." in html
    assert 'id="task-links-heading" tabindex="-1" autofocus' in html


def test_viewer_sees_no_add_edit_or_remove_but_can_refresh(setup: Any) -> None:
    owner, viewer, base = setup
    owner.form(base, {"url": PULL}, headers=HX)
    html = viewer.get(base, headers=HX).get_data(as_text=True)
    assert "Refresh" in html
    assert "Add link" not in html and "Edit" not in html and "Remove" not in html
    link_id = _first_link_id(html)
    assert viewer.form(base, {"url": "https://example.org/b"}, headers=HX).status_code == 403
    assert viewer.get(f"{base}/{link_id}/edit", headers=HX).status_code == 403
    assert viewer.form(f"{base}/{link_id}/remove", headers=HX).status_code == 403


def test_refresh_without_credential_prompts_to_connect(setup: Any) -> None:
    owner, viewer, base = setup
    link_id = _added_pull(owner, base)
    html = viewer.form(f"{base}/{link_id}/refresh", headers=HX).get_data(as_text=True)
    assert "Connect GitHub to see status" in html
    assert 'href="/me/settings/connected-accounts#github"' in html


def test_refresh_shows_status_text_and_failure_keeps_it(setup: Any) -> None:
    owner, _, base = setup
    give_credential(owner.user, "github")
    link_id = _added_pull(owner, base)
    with responses.RequestsMock() as mock:
        mock.get(PULL_API, json={"state": "closed", "merged": True, "title": "Fix login"})
        html = owner.form(f"{base}/{link_id}/refresh", headers=HX).get_data(as_text=True)
    assert "Status: </span>Merged" in html and "Link refreshed: merged." in html and "as of just now" in html
    with responses.RequestsMock() as mock:
        mock.get(PULL_API, status=503)
        html = owner.form(f"{base}/{link_id}/refresh", headers=HX).get_data(as_text=True)
    assert "Merged" in html and "Couldn’t refresh:" in html and "showing status from just now" in html
    assert "Couldn&#39;t refresh" in html or "Couldn't refresh" in html


def test_link_titles_are_escaped(setup: Any) -> None:
    owner, _, base = setup
    html = owner.form(
        base, {"url": "https://example.org/x", "custom_title": "<script>alert(1)</script>"}, headers=HX
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_every_link_control_works_without_javascript(setup: Any) -> None:
    owner, _, base = setup
    assert owner.form(base, {"url": "https://example.org/a"}).status_code == 303
    link_id = _first_link_id(owner.get(base, headers=HX).get_data(as_text=True))
    bad_add = owner.form(base, {"url": "ftp://example.org", "custom_title": "kept"})
    html = bad_add.get_data(as_text=True)
    assert bad_add.status_code == 422 and "<html" in html and "There is a problem" in html and 'value="kept"' in html
    edit = owner.get(f"{base}/{link_id}/edit")
    assert (
        edit.status_code == 200
        and "<html" in edit.get_data(as_text=True)
        and 'name="custom_title"' in edit.get_data(as_text=True)
    )
    bad_edit = owner.form(f"{base}/{link_id}/edit", {"custom_title": "x" * 201})
    assert bad_edit.status_code == 422 and "at most 200" in bad_edit.get_data(as_text=True)
    saved = owner.form(f"{base}/{link_id}/edit", {"custom_title": "Spec", "labels": ""})
    assert saved.status_code == 303 and "task=" in saved.headers["Location"]
    confirm = owner.get(f"{base}/{link_id}/remove")
    assert confirm.status_code == 200 and "Remove this link?" in confirm.get_data(as_text=True)
    assert owner.form(f"{base}/{link_id}/remove").status_code == 303
    assert "No links yet." in owner.get(base, headers=HX).get_data(as_text=True)


def test_the_hint_is_announced_in_the_one_live_region(setup: Any) -> None:
    owner, _, base = setup
    html = owner.get(f"{base}/detect?url=https://github.com/a/b/pull/1").get_data(as_text=True)
    assert 'hx-swap-oob="innerHTML:#live-region">GitHub detected' in html


def test_a_rate_limited_refresh_says_when_and_refresh_stays_usable(setup: Any) -> None:
    owner, _, base = setup
    give_credential(owner.user, "github")
    link_id = _added_pull(owner, base)
    with responses.RequestsMock() as mock:
        # The reset is the `x-rate-limit-reset` example of GitHub's OpenAPI description.
        mock.get(
            PULL_API,
            json={"message": "API rate limit exceeded"},
            status=403,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1590701888"},
        )
        response = owner.form(f"{base}/{link_id}/refresh", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Couldn’t refresh: GitHub is rate-limiting requests. GitHub&#39;s rate limit resets at 21:38 UTC" in html
    button = html.split(f'action="{base}/{link_id}/refresh"')[1].split("</form>")[0]
    assert "Refresh" in button and "disabled" not in button and "autofocus" in button
    assert "resets at 21:38 UTC on 2020-05-28" in html.split("#live-region")[1]  # announced too
