"""Adding, editing, listing and removing links: validation, permissions and shapes (SPEC §6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.links.conftest import World, add, give_credential
from tests.support.shapes import LINK_FIELDS


def test_add_returns_the_full_link_starting_unknown(world: World, provider: Any) -> None:
    response = add(
        world.member,
        world,
        "  https://github.com/acme/api/pull/7  ",
        custom_title="  Login fix ",
        labels=["backend", " API "],
        provider="gitlab",
        status="merged",
        title="ignored",
    )
    assert response.status_code == 201, response.get_json()
    link = response.get_json()
    assert set(link) == LINK_FIELDS
    assert link["url"] == "https://github.com/acme/api/pull/7"
    assert link["provider"] == "github"  # resolved on the server: the hint is ignored
    assert link["status"] == "unknown" and link["title"] == "" and link["fetched_at"] is None
    assert link["custom_title"] == "Login fix" and link["display_title"] == "Login fix"
    assert link["labels"] == ["backend", "API"]
    assert link["refresh_error"] is None and link["task_id"] == world.task_id
    assert len(provider.calls) == 0  # a new link makes no fetch


def test_bare_address_gets_https(world: World) -> None:
    link = add(world.member, world, "github.com/acme/api/pull/7").get_json()
    assert link["url"] == "https://github.com/acme/api/pull/7" and link["provider"] == "github"
    assert link["display_title"] == link["url"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://example.org/x",
        "mailto:a@example.org",
        "https://",
        "http:///path",
        "https://exa mple.org/x",
        "https://example.org/a b",
        "",
        "   ",
        "https://" + "a" * 2050 + ".org",
        "file:///etc/passwd",
        "vbscript:msgbox",
        42,
        None,
    ],
)
def test_bad_urls_are_400_on_url(world: World, url: Any) -> None:
    response = world.member.api("POST", world.links_url(), json={"url": url})
    assert response.status_code == 400, url
    body = response.get_json()
    assert body["code"] == "validation_error" and list(body["fields"]) == ["url"]


def test_host_and_port_without_scheme_is_a_host(world: World) -> None:
    link = add(world.member, world, "example.org:8443/docs").get_json()
    assert link["url"] == "https://example.org:8443/docs" and link["provider"] == "generic"


@pytest.mark.parametrize(
    "second",
    [
        "https://GitHub.com/acme/api/pull/7/",
        "HTTPS://github.com:443/acme/api/pull/7",
        "github.com/acme/api/pull/7",
    ],
)
def test_same_normalized_url_twice_is_409(world: World, second: str) -> None:
    assert add(world.member, world, "https://github.com/acme/api/pull/7").status_code == 201
    response = add(world.member, world, second)
    assert response.status_code == 409 and response.get_json()["code"] == "duplicate_link"


def test_a_removed_link_can_be_added_again(world: World) -> None:
    link = add(world.member, world, "https://example.org/doc").get_json()
    assert world.member.api("DELETE", world.links_url() + f"{link['id']}/").status_code == 204
    assert add(world.member, world, "https://example.org/doc").status_code == 201


def test_paths_differing_in_case_are_different_links(world: World) -> None:
    assert add(world.member, world, "https://example.org/Doc").status_code == 201
    assert add(world.member, world, "https://example.org/doc").status_code == 201


def test_labels_rules(world: World) -> None:
    link = add(
        world.member, world, "https://example.org/1", labels=["Bug", " ", "bug", "UI", "", "ui", "Later"]
    ).get_json()
    assert link["labels"] == ["Bug", "UI", "Later"]
    too_long = add(world.member, world, "https://example.org/2", labels=["x" * 41])
    assert too_long.status_code == 400 and "labels" in too_long.get_json()["fields"]
    too_many = add(world.member, world, "https://example.org/3", labels=[f"l{i}" for i in range(13)])
    assert too_many.status_code == 400 and "labels" in too_many.get_json()["fields"]
    twelve = add(world.member, world, "https://example.org/4", labels=[f"l{i}" for i in range(12)] + ["L1"])
    assert twelve.status_code == 201
    for bad in ("bug", [1, 2], {"a": 1}):
        response = add(world.member, world, "https://example.org/5", labels=bad)
        assert response.status_code == 400 and "labels" in response.get_json()["fields"]


def test_custom_title_rules(world: World) -> None:
    assert add(world.member, world, "https://example.org/1", custom_title="x" * 201).status_code == 400
    assert add(world.member, world, "https://example.org/2", custom_title=5).status_code == 400
    assert add(world.member, world, "https://example.org/3", custom_title="x" * 200).status_code == 201


def test_malformed_bodies_are_400_never_500(world: World) -> None:
    for body in (["url"], "url", 7, None):
        response = world.member.api("POST", world.links_url(), json=body)
        assert response.status_code == 400, body
    raw = world.member.client.post(
        world.links_url(),
        data="{not json",
        headers={"Authorization": f"Bearer {world.member.token}", "Content-Type": "application/json"},
    )
    assert raw.status_code == 400 and raw.get_json()["code"] == "validation_error"


def test_list_in_stable_creation_order_and_one(world: World) -> None:
    ids = [add(world.member, world, f"https://example.org/{n}").get_json()["id"] for n in range(5)]
    listed = world.viewer.api("GET", world.links_url()).get_json()
    assert [link["id"] for link in listed] == ids
    assert [link["position"] for link in listed] == sorted(link["position"] for link in listed)
    one = world.viewer.api("GET", world.links_url() + f"{ids[2]}/")
    assert one.status_code == 200 and one.get_json()["url"] == "https://example.org/2"


def test_edit_changes_only_title_and_labels(world: World) -> None:
    link = add(world.member, world, "https://example.org/x").get_json()
    response = world.member.api(
        "PATCH",
        world.links_url() + f"{link['id']}/",
        json={
            "custom_title": " Spec ",
            "labels": ["a"],
            "url": "https://evil.example",
            "status": "merged",
            "provider": "github",
        },
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["custom_title"] == "Spec" and body["labels"] == ["a"]
    assert body["url"] == "https://example.org/x" and body["status"] == "unknown"
    assert body["provider"] == "generic"
    cleared = world.member.api("PATCH", world.links_url() + f"{link['id']}/", json={"custom_title": ""})
    assert cleared.get_json()["display_title"] == "https://example.org/x"


def test_removed_link_is_404_everywhere(world: World) -> None:
    link = add(world.member, world, "https://example.org/x").get_json()
    path = world.links_url() + f"{link['id']}/"
    response = world.member.api("DELETE", path)
    assert response.status_code == 204 and response.data == b""
    assert world.member.api("GET", path).status_code == 404
    assert world.member.api("PATCH", path, json={"custom_title": "x"}).status_code == 404
    assert world.member.api("POST", path + "refresh/").status_code == 404
    assert world.member.api("DELETE", path).status_code == 404
    assert world.viewer.api("GET", world.links_url()).get_json() == []


def test_link_ids_are_scoped_to_their_task_and_project(world: World, make: Any, app: Any) -> None:
    link = add(world.member, world, "https://example.org/x").get_json()
    other_task = make.task(world.owner.user, world.project_id, name="Other")
    assert world.member.api("GET", world.links_url(other_task.id) + f"{link['id']}/").status_code == 404
    other_project = make.project(world.owner.user, "Other project")
    elsewhere = make.task(world.owner.user, other_project)
    url = f"/api/v1/projects/{other_project}/tasks/{elsewhere.id}/links/{link['id']}/"
    assert world.owner.api("GET", url).status_code == 404


# --- permissions ----------------------------------------------------------------------


def test_viewer_reads_but_cannot_write(world: World) -> None:
    link = add(world.member, world, "https://example.org/x").get_json()
    path = world.links_url() + f"{link['id']}/"
    assert world.viewer.api("GET", world.links_url()).status_code == 200
    for method, url, body in (
        ("POST", world.links_url(), {"url": "https://example.org/y"}),
        ("PATCH", path, {"custom_title": "x"}),
        ("DELETE", path, None),
    ):
        response = world.viewer.api(method, url, json=body)
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    assert world.viewer.api("POST", path + "refresh/").status_code == 200  # refresh is a read


def test_non_member_gets_404_on_every_route(world: World) -> None:
    link = add(world.member, world, "https://example.org/x").get_json()
    path = world.links_url() + f"{link['id']}/"
    for method, url in (
        ("GET", world.links_url()),
        ("POST", world.links_url()),
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
        ("POST", path + "refresh/"),
    ):
        response = world.stranger.api(method, url, json={"url": "https://example.org/z"})
        assert response.status_code == 404, (method, url)


def test_archived_project_refuses_every_write_including_refresh(world: World) -> None:
    link = add(world.member, world, "https://example.org/x").get_json()
    path = world.links_url() + f"{link['id']}/"
    assert world.owner.api("POST", f"/api/v1/projects/{world.project_id}/archive/").status_code == 200
    for client, method, url in (
        (world.member, "POST", world.links_url()),
        (world.member, "PATCH", path),
        (world.member, "DELETE", path),
        (world.viewer, "POST", path + "refresh/"),
    ):
        response = client.api(method, url, json={"url": "https://example.org/y"})
        assert response.status_code == 403 and response.get_json()["code"] == "project_archived"
    assert world.viewer.api("GET", world.links_url()).status_code == 200


def test_anonymous_is_401(world: World, client: Any) -> None:
    assert client.get(world.links_url()).status_code == 401


# --- provider resolution --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://github.com/a/b/pull/1", "github"),
        ("https://www.github.com/a/b/issues/2", "github"),
        ("https://gitlab.com/g/p/-/merge_requests/3", "gitlab"),
        ("https://drive.google.com/file/d/abc/view", "google_drive"),
        ("https://docs.google.com/spreadsheets/d/abc/edit", "google_drive"),
        ("https://www.dropbox.com/s/abc/plan.pdf", "dropbox"),
        ("https://app.box.com/s/abc", "box"),
        ("https://1drv.ms/w/s!abc", "onedrive"),
        ("https://acme.sharepoint.com/:x:/r/doc", "onedrive"),
        ("https://box.com.evil.example/s/x", "generic"),
        ("https://notdropbox.com/x", "generic"),
        ("https://github.com.evil.example/a/b/pull/1", "generic"),
        ("https://gitlab.example.org/g/p/-/merge_requests/1", "generic"),
    ],
)
def test_provider_is_resolved_from_the_host(world: World, url: str, provider: str) -> None:
    assert add(world.member, world, url).get_json()["provider"] == provider


def test_self_hosted_hosts_route_through_the_adders_credential(world: World) -> None:
    give_credential(world.member.user, "gitlab", base_url="https://example.org/gitlab")
    mine = add(world.member, world, "https://example.org/gitlab/g/p/-/merge_requests/4").get_json()
    assert mine["provider"] == "gitlab"
    outside_root = add(world.member, world, "https://example.org/other/g/p/-/merge_requests/4").get_json()
    assert outside_root["provider"] == "generic"
    # Someone without that credential adds a link on the same host: generic.
    theirs = add(world.owner, world, "https://example.org/gitlab/g/p/-/merge_requests/5").get_json()
    assert theirs["provider"] == "generic"


def test_file_links_get_their_type_chip_at_add_time(world: World) -> None:
    sheet = add(world.member, world, "https://docs.google.com/spreadsheets/d/abc/edit").get_json()
    assert sheet["preview_type"] == "spreadsheet"
    folder = add(world.member, world, "https://www.dropbox.com/scl/fo/abc/xyz").get_json()
    assert folder["preview_type"] == "folder"
    pdf = add(world.member, world, "https://app.box.com/s/report.pdf").get_json()
    assert pdf["preview_type"] == "pdf"
    assert add(world.member, world, "https://github.com/a/b/pull/9").get_json()["preview_type"] == ""
