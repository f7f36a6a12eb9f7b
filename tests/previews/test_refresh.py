"""Refresh of cloud-file links through the real route (SPEC §7, §12): the share page is fetched
anonymously through the egress guard (stub resolver + `responses`); success fills the card,
private answers and failures keep the last good one and record `refresh_error`."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from ppm.integrations.previews import MAX_PAGE_BYTES, PRIVATE_DETAIL
from tests.previews.conftest import PRIVATE_IP, PRIVATE_NAME, PUBLIC, World, html_page, og
from tests.support.netguard import NetGuard

SHEET = "https://docs.google.com/spreadsheets/d/1XyZ/edit"
DRIVE = "https://drive.google.com/file/d/1AbC/view"
DROPBOX = "https://www.dropbox.com/scl/fi/k3j2h/plan.pdf"
BOX = "https://app.box.com/s/9z8y7x6w"
ONEDRIVE = "https://1drv.ms/x/s!AkQ3"
SHAREPOINT = "https://acme.sharepoint.com/:p:/s/team/EcDe"
HTML = "text/html; charset=utf-8"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def share_page(title: str, description: str = "", image: str = "") -> str:
    tags = [og("og:title", title)]
    if description:
        tags.append(og("og:description", description))
    if image:
        tags.append(og("og:image", image))
    return html_page(*tags, title=f"{title} - Host")


def serve(
    pages: responses.RequestsMock, url: str, body: Any = "", status: int = 200, content_type: str = HTML, **headers: str
) -> None:
    pages.add(responses.GET, url, body=body, status=status, content_type=content_type, headers=headers)


GOOD = share_page("Launch checklist", "Who does what", "https://lh3.googleusercontent.com/docs/thumb=w1200")
GOOD_CARD = {
    "title": "Launch checklist",
    "description": "Who does what",
    "thumbnail_url": "https://lh3.googleusercontent.com/docs/thumb=w1200",
}


def card_of(link: dict[str, Any]) -> dict[str, Any]:
    return {key: link[key] for key in ("title", "description", "thumbnail_url")}


def good_card(world: World, pages: responses.RequestsMock, url: str = SHEET) -> dict[str, Any]:
    link = world.add(url)
    serve(pages, url, GOOD)
    refreshed = world.refresh(link["id"])
    assert card_of(refreshed) == GOOD_CARD and refreshed["refresh_error"] is None
    pages.reset()
    return refreshed


# --- success ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "provider", "preview_type"),
    [
        (SHEET, "google_drive", "spreadsheet"),
        (DRIVE, "google_drive", "file"),
        (DROPBOX, "dropbox", "pdf"),
        (BOX, "box", "file"),
        (ONEDRIVE, "onedrive", "file"),
        (SHAREPOINT, "onedrive", "file"),
    ],
)
def test_success_fills_the_card(
    world: World, pages: responses.RequestsMock, url: str, provider: str, preview_type: str
) -> None:
    link = world.add(url)
    assert link["provider"] == provider and link["preview_type"] == preview_type
    serve(pages, url, GOOD)
    refreshed = world.refresh(link["id"])
    assert card_of(refreshed) == GOOD_CARD
    assert refreshed["preview_type"] == preview_type
    assert refreshed["refresh_error"] is None and refreshed["fetched_at"]
    assert refreshed["status"] == "unknown"  # file links have no status
    assert world.get(link["id"]) == refreshed


def test_the_fetch_is_anonymous_and_bounded(world: World, pages: responses.RequestsMock, net: NetGuard) -> None:
    link = world.add(SHEET)
    serve(pages, SHEET, GOOD)
    world.refresh(link["id"])
    assert len(pages.calls) == 1
    request = pages.calls[0].request
    assert request.method == "GET" and request.url == SHEET
    sent = {name.lower() for name in request.headers}
    assert not sent & {"cookie", "authorization", "proxy-authorization"}
    assert net.resolver.lookups("docs.google.com") == 1  # through the guard's own resolution


def test_adding_a_file_link_fetches_nothing(world: World, pages: responses.RequestsMock, net: NetGuard) -> None:
    world.add(DRIVE)
    assert len(pages.calls) == 0 and net.resolver.calls == []


def test_a_viewer_may_refresh_a_file_link(world: World, pages: responses.RequestsMock) -> None:
    link = world.add(BOX)
    serve(pages, BOX, GOOD)
    assert card_of(world.refresh(link["id"], client=world.viewer)) == GOOD_CARD


def test_fetched_strings_are_stored_as_plain_text(world: World, pages: responses.RequestsMock) -> None:
    link = world.add(DROPBOX)
    page = (
        "<html><head><title><script>alert(1)</script> plan</title>"
        "<meta property=og:description content='&lt;img src=x onerror=alert(2)&gt;\u0000\u202e'>"
        "<meta property=og:image content='javascript:alert(3)'>"
        "<meta name=twitter:image content='data:image/png;base64,AAAA'></head></html>"
    )
    serve(pages, DROPBOX, page)
    refreshed = world.refresh(link["id"])
    assert refreshed["title"] == "<script>alert(1)</script> plan"
    assert refreshed["description"] == "<img src=x onerror=alert(2)>\ufffd"
    assert refreshed["thumbnail_url"] == ""


def test_values_are_capped(world: World, pages: responses.RequestsMock) -> None:
    link = world.add(BOX)
    serve(pages, BOX, share_page("t" * 5000, "d" * 100_000, "https://cdn.box.com/" + "i" * 3000))
    refreshed = world.refresh(link["id"])
    assert refreshed["title"] == "t" * 300 and refreshed["description"] == "d" * 1000
    assert refreshed["thumbnail_url"] == ""


def test_relative_images_resolve_against_the_share_page(world: World, pages: responses.RequestsMock) -> None:
    link = world.add(BOX)
    serve(pages, BOX, html_page(og("og:image", "/representation/1.jpg?x=1")))
    assert world.refresh(link["id"])["thumbnail_url"] == "https://app.box.com/representation/1.jpg?x=1"


def test_a_direct_image_link_is_its_own_thumbnail(world: World, pages: responses.RequestsMock) -> None:
    url = "https://acme.app.box.com/shared/static/abc.png"
    link = world.add(url)
    assert link["preview_type"] == "image"
    serve(pages, url, PNG, content_type="image/png")
    refreshed = world.refresh(link["id"])
    assert refreshed["thumbnail_url"] == url and refreshed["preview_type"] == "image"
    assert refreshed["title"] == "" and refreshed["refresh_error"] is None


def test_an_image_content_type_makes_an_image_and_a_thumbnail(world: World, pages: responses.RequestsMock) -> None:
    url = "https://drive.google.com/uc/abc"
    link = world.add(url)
    assert link["preview_type"] == "file"
    serve(pages, url, PNG, content_type="image/jpeg")
    refreshed = world.refresh(link["id"])
    assert refreshed["preview_type"] == "image" and refreshed["thumbnail_url"] == url


@pytest.mark.parametrize(
    ("url", "content_type", "preview_type"),
    [
        ("https://drive.google.com/uc/export", "application/pdf", "pdf"),
        (
            "https://drive.google.com/uc/export",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "spreadsheet",
        ),
        ("https://drive.google.com/uc/export", "application/vnd.ms-powerpoint", "presentation"),
        ("https://drive.google.com/uc/export", "application/msword; charset=binary", "document"),
        ("https://drive.google.com/uc/export", "application/octet-stream", "file"),
        ("https://drive.google.com/uc/export", HTML, "file"),
        # The URL's shape comes first.
        ("https://www.dropbox.com/s/abc/deck.pptx", "application/pdf", "presentation"),
        ("https://www.dropbox.com/sh/abc/def", "application/pdf", "folder"),
        (SHEET, "application/pdf", "spreadsheet"),
    ],
)
def test_the_type_is_refined_by_the_content_type(
    world: World, pages: responses.RequestsMock, url: str, content_type: str, preview_type: str
) -> None:
    link = world.add(url)
    serve(pages, url, b"%PDF-1.7 binary \x00\xff", content_type=content_type)
    refreshed = world.refresh(link["id"])
    assert refreshed["preview_type"] == preview_type and refreshed["refresh_error"] is None
    assert refreshed["thumbnail_url"] == ""


@pytest.mark.parametrize(
    "body", [b"", b"\x00\x01\x02\xff" * 100, b"<html><body>nothing</body></html>", b"\xff\xfe\x00<"]
)
def test_garbage_pages_are_an_empty_card_not_an_error(world: World, pages: responses.RequestsMock, body: bytes) -> None:
    link = world.add(DRIVE)
    serve(pages, DRIVE, body)
    refreshed = world.refresh(link["id"])
    assert card_of(refreshed) == {"title": "", "description": "", "thumbnail_url": ""}
    assert refreshed["refresh_error"] is None and refreshed["preview_type"] == "file"


def test_an_empty_page_never_blanks_a_good_card(world: World, pages: responses.RequestsMock) -> None:
    before = good_card(world, pages)
    serve(pages, SHEET, b"\x00garbage")
    after = world.refresh(before["id"])
    assert card_of(after) == GOOD_CARD and after["refresh_error"] is None


def test_a_new_good_page_replaces_the_card(world: World, pages: responses.RequestsMock) -> None:
    before = good_card(world, pages)
    serve(pages, SHEET, share_page("Renamed", "New words", "https://lh3.googleusercontent.com/new"))
    after = world.refresh(before["id"])
    assert card_of(after) == {
        "title": "Renamed",
        "description": "New words",
        "thumbnail_url": "https://lh3.googleusercontent.com/new",
    }


def test_a_refresh_never_changes_the_custom_title(world: World, pages: responses.RequestsMock) -> None:
    link = world.member.api("POST", world.links_url, json={"url": DRIVE, "custom_title": "Mine"}).get_json()
    serve(pages, DRIVE, GOOD)
    refreshed = world.refresh(link["id"])
    assert refreshed["custom_title"] == "Mine" and refreshed["display_title"] == "Mine"
    assert refreshed["title"] == "Launch checklist"


def test_a_good_refresh_clears_an_earlier_error(world: World, pages: responses.RequestsMock) -> None:
    link = world.add(SHEET)
    serve(pages, SHEET, status=503)
    assert world.refresh(link["id"])["refresh_error"]["code"] == "provider_unreachable"
    pages.reset()
    serve(pages, SHEET, GOOD)
    assert world.refresh(link["id"])["refresh_error"] is None


# --- private files -----------------------------------------------------------------------------

SECRET = share_page("Secret merger plan", "Do not share", "https://lh3.googleusercontent.com/secret")
SIGN_IN = "https://accounts.google.com/ServiceLogin?continue=https://docs.google.com/spreadsheets/d/1XyZ/edit"

GOOGLE_SIGN_IN = """<!doctype html><html lang="en-US" dir="ltr"><head><title>Sign in - Google Accounts</title>
<meta property="og:title" content="Secret merger plan"></head><body>
<form method="post" action="https://accounts.google.com/v3/signin/_/AccountsSignInUi/data/batchexecute">
<input type="email" name="identifier" id="identifierId" autocomplete="username"></form></body></html>"""
MICROSOFT_SIGN_IN = """<html><head><title>Sign in to your account</title></head><body>
<form name="f1" method="post" action="https://login.microsoftonline.com/common/login">
<input type="email" name="loginfmt"><input name="passwd" type="password"></form></body></html>"""
BOX_SIGN_IN = """<html><head><title>Box | Login</title><meta property="og:title" content="Secret merger plan">
</head><body><form action="/login?redirect_url=%2Fs%2F9z8y7x6w" method="post"><input type="text" name="login">
<button>Next</button></form></body></html>"""
DROPBOX_SIGN_IN = """<html><head><title>Log in - Dropbox</title></head><body>
<form action="/ajax_login" method="post"><input type="email" name="login_email"></form></body></html>"""
PASSWORD_LINK = html_page(og("og:title", "Secret merger plan"), body="<input type=PASSWORD name=pw>")
META_REFRESH = html_page(f'<meta http-equiv="refresh" content="0; url={SIGN_IN}">')
TITLE_ONLY = "<html><head><title>Google Drive: Sign-in</title></head><body></body></html>"


def private_answers() -> list[Any]:
    statuses = [pytest.param({"status": s, "location": SIGN_IN}, id=str(s)) for s in (301, 302, 303, 307, 308)]
    statuses += [pytest.param({"status": s}, id=str(s)) for s in (401, 403, 404)]
    walls = {
        "google": GOOGLE_SIGN_IN,
        "microsoft": MICROSOFT_SIGN_IN,
        "box": BOX_SIGN_IN,
        "dropbox": DROPBOX_SIGN_IN,
        "password": PASSWORD_LINK,
        "meta-refresh": META_REFRESH,
        "title": TITLE_ONLY,
    }
    return statuses + [pytest.param({"body": body}, id=f"login-wall-{name}") for name, body in walls.items()]


def serve_private(pages: responses.RequestsMock, url: str, answer: dict[str, Any]) -> None:
    headers = {"Location": answer["location"]} if "location" in answer else {}
    serve(pages, url, answer.get("body", SECRET), status=answer.get("status", 200), **headers)


@pytest.mark.parametrize("answer", private_answers())
def test_a_private_file_shows_the_chip_and_nothing_of_its_contents(
    world: World, pages: responses.RequestsMock, net: NetGuard, answer: dict[str, Any]
) -> None:
    link = world.add(SHEET)
    serve_private(pages, SHEET, answer)
    refreshed = world.refresh(link["id"])
    assert refreshed["refresh_error"]["code"] == "file_not_public"
    assert refreshed["refresh_error"]["detail"] == PRIVATE_DETAIL
    assert card_of(refreshed) == {"title": "", "description": "", "thumbnail_url": ""}
    assert refreshed["preview_type"] == "spreadsheet" and refreshed["fetched_at"] is None
    assert "Secret" not in str(refreshed)
    assert len(pages.calls) == 1 and net.resolver.lookups("accounts.google.com") == 0  # never followed


@pytest.mark.parametrize("answer", private_answers())
def test_a_file_turned_private_keeps_its_last_good_card(
    world: World, pages: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    before = good_card(world, pages)
    serve_private(pages, SHEET, answer)
    after = world.refresh(before["id"])
    assert after["refresh_error"]["code"] == "file_not_public"
    assert card_of(after) == GOOD_CARD
    assert after["preview_type"] == before["preview_type"] and after["fetched_at"] == before["fetched_at"]


@pytest.mark.parametrize(
    "page",
    [
        html_page(
            og("og:title", "Login flow design.pdf"),
            title="Dropbox - Login flow design.pdf - Simplify your life",
            body='<a href="https://www.dropbox.com/login">Log in</a><form action="/search"><input name=q></form>',
        ),
        html_page(
            og("og:title", "Sign in screen.png"),
            title="Sign in screen.png - Google Drive",
            body='<a href="https://accounts.google.com/ServiceLogin">Sign in</a>',
        ),
    ],
)
def test_public_pages_that_mention_signing_in_are_not_login_walls(
    world: World, pages: responses.RequestsMock, page: str
) -> None:
    link = world.add(DROPBOX)
    serve(pages, DROPBOX, page)
    refreshed = world.refresh(link["id"])
    assert refreshed["refresh_error"] is None and refreshed["title"]


# --- failures ----------------------------------------------------------------------------------

TOO_BIG = b"<html><head><title>big</title></head><body>" + b"x" * (MAX_PAGE_BYTES + 1)


def failures() -> list[Any]:
    return [
        pytest.param({"body": requests.exceptions.ReadTimeout("slow")}, "provider_timeout", id="timeout"),
        pytest.param({"body": requests.exceptions.ConnectTimeout("slow")}, "provider_timeout", id="connect-timeout"),
        pytest.param({"body": TOO_BIG}, "provider_bad_response", id="oversize"),
        pytest.param({"body": requests.exceptions.ConnectionError("reset")}, "provider_unreachable", id="reset"),
        pytest.param({"status": 500}, "provider_unreachable", id="500"),
        pytest.param({"status": 503}, "provider_unreachable", id="503"),
        pytest.param({"status": 429}, "provider_rate_limited", id="429"),
        pytest.param({"status": 400}, "provider_bad_response", id="400"),
    ]


@pytest.mark.parametrize(("answer", "code"), failures())
def test_a_failed_refresh_keeps_the_last_good_card(
    world: World, pages: responses.RequestsMock, answer: dict[str, Any], code: str
) -> None:
    before = good_card(world, pages)
    serve(pages, SHEET, answer.get("body", SECRET), status=answer.get("status", 200))
    after = world.refresh(before["id"])
    assert after["refresh_error"]["code"] == code and after["refresh_error"]["at"]
    assert card_of(after) == GOOD_CARD
    assert after["preview_type"] == "spreadsheet" and after["fetched_at"] == before["fetched_at"]


@pytest.mark.parametrize(("answer", "code"), failures())
def test_a_failed_first_refresh_still_shows_the_chip(
    world: World, pages: responses.RequestsMock, answer: dict[str, Any], code: str
) -> None:
    link = world.add("https://www.dropbox.com/scl/fo/abc/def")
    serve(pages, "https://www.dropbox.com/scl/fo/abc/def", answer.get("body", SECRET), status=answer.get("status", 200))
    refreshed = world.refresh(link["id"])
    assert refreshed["refresh_error"]["code"] == code
    assert refreshed["preview_type"] == "folder"
    assert card_of(refreshed) == {"title": "", "description": "", "thumbnail_url": ""}


def test_a_page_just_under_the_cap_is_read(world: World, pages: responses.RequestsMock) -> None:
    page = share_page("Big but fine").encode()
    link = world.add(BOX)
    serve(pages, BOX, page + b" " * (MAX_PAGE_BYTES - len(page)))
    refreshed = world.refresh(link["id"])
    assert refreshed["refresh_error"] is None and refreshed["title"] == "Big but fine"


def test_a_declared_oversize_body_is_refused(world: World, pages: responses.RequestsMock) -> None:
    link = world.add(BOX)
    serve(pages, BOX, TOO_BIG, **{"Content-Length": str(len(TOO_BIG))})
    assert world.refresh(link["id"])["refresh_error"]["code"] == "provider_bad_response"


def test_a_blocked_host_is_refused_before_any_request(
    world: World, pages: responses.RequestsMock, net: NetGuard
) -> None:
    url = f"https://{PRIVATE_NAME}/s/abc"
    link = world.add(url)
    assert link["provider"] == "box"
    serve(pages, url, GOOD)
    refreshed = world.refresh(link["id"])
    assert refreshed["refresh_error"]["code"] == "blocked_host"
    assert PRIVATE_IP not in str(refreshed)
    assert len(pages.calls) == 0 and net.guard.connects == []


def test_a_host_that_turns_private_keeps_the_card(world: World, pages: responses.RequestsMock, net: NetGuard) -> None:
    name = "files.acme.box.com"
    net.resolver.add_sequence(name, [PUBLIC], [PRIVATE_IP])
    before = good_card(world, pages, f"https://{name}/s/abc")
    serve(pages, f"https://{name}/s/abc", GOOD)
    after = world.refresh(before["id"])
    assert after["refresh_error"]["code"] == "blocked_host"
    assert card_of(after) == GOOD_CARD and len(pages.calls) == 0


def test_a_name_that_does_not_resolve_is_unreachable(world: World, pages: responses.RequestsMock) -> None:
    link = world.add("https://nowhere.dropbox.com/s/abc")
    assert world.refresh(link["id"])["refresh_error"]["code"] == "provider_unreachable"


# --- around the card ---------------------------------------------------------------------------


def test_file_links_count_as_unknown_in_the_roll_up(world: World, pages: responses.RequestsMock) -> None:
    good_card(world, pages)
    task = world.member.api("GET", f"/api/v1/projects/{world.project_id}/tasks/{world.task_id}/").get_json()
    assert task["external_link_summary"] == {"count": 1, "worst_status": "unknown"}


def test_the_cached_card_reaches_the_sync_delta(world: World, pages: responses.RequestsMock) -> None:
    link = good_card(world, pages)
    delta = world.member.api("GET", f"/api/v1/projects/{world.project_id}/sync/").get_json()
    synced = next(row for row in delta["task_links"]["updated"] if row["id"] == link["id"])
    assert card_of(synced) == GOOD_CARD and synced["preview_type"] == "spreadsheet"
