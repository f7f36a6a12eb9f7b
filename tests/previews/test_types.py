"""Which hosts are cloud-file hosts (SPEC §4, §12 Hosts) and the file-type chip (SPEC §7,
§12 Previews): set from the URL when the link is added, before any refresh."""

from __future__ import annotations

import pytest
import responses

from ppm.integrations.previews import (
    PREVIEW_TYPES,
    preview_type_for,
    preview_type_for_media_type,
    preview_type_for_url,
)
from ppm.integrations.registry import provider_for_host
from tests.previews.conftest import World

CLAIMED = [
    ("drive.google.com", "google_drive"),
    ("docs.google.com", "google_drive"),
    ("a.docs.google.com", "google_drive"),
    ("x.y.drive.google.com", "google_drive"),
    ("DRIVE.Google.COM", "google_drive"),
    ("drive.google.com.", "google_drive"),
    ("dropbox.com", "dropbox"),
    ("www.dropbox.com", "dropbox"),
    ("dl.dropbox.com", "dropbox"),
    ("box.com", "box"),
    ("app.box.com", "box"),
    ("acme.app.box.com", "box"),
    ("acme.box.com", "box"),
    ("onedrive.live.com", "onedrive"),
    ("x.onedrive.live.com", "onedrive"),
    ("1drv.ms", "onedrive"),
    ("a.1drv.ms", "onedrive"),
    ("sharepoint.com", "onedrive"),
    ("x.sharepoint.com", "onedrive"),
    ("acme-my.sharepoint.com", "onedrive"),
]
NOT_CLAIMED = [
    "box.com.evil.example",
    "notdropbox.com",
    "evil-sharepoint.com",
    "dropbox.com.evil.example",
    "mydrive.google.com.evil.example",
    "google.com",
    "www.google.com",
    "sheets.google.com",
    "live.com",
    "1drv.ms.evil.example",
    "x1drv.ms",
    "dl.dropboxusercontent.com",
    "dropboxusercontent.com",
    "boxcdn.net",
    "sharepoint.com.evil.example",
    "evilbox.com",
    "onedrive.com",
]


@pytest.mark.parametrize(("host", "provider"), CLAIMED)
def test_file_hosts_and_their_subdomains_are_claimed(host: str, provider: str) -> None:
    assert provider_for_host(host).id == provider
    assert provider_for_host(host).is_file_host


@pytest.mark.parametrize("host", NOT_CLAIMED)
def test_look_alike_hosts_are_not_claimed(host: str) -> None:
    assert provider_for_host(host).id == "generic"


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://drive.google.com/file/d/abc/view", "google_drive"),
        ("https://a.docs.google.com/document/d/abc/edit", "google_drive"),
        ("https://www.dropbox.com/s/abc/plan.pdf?dl=0", "dropbox"),
        ("https://app.box.com:443/s/abc", "box"),
        ("https://1drv.ms/x/s!abc", "onedrive"),
        ("https://acme.sharepoint.com/:x:/r/doc", "onedrive"),
        ("drive.google.com/drive/folders/abc", "google_drive"),
    ],
)
def test_links_to_file_hosts_are_file_links(world: World, url: str, provider: str) -> None:
    link = world.add(url)
    assert link["provider"] == provider and link["preview_type"] in PREVIEW_TYPES
    assert link["status"] == "unknown" and link["fetched_at"] is None


@pytest.mark.parametrize(
    "url",
    [
        "https://box.com.evil.example/s/abc.pdf",
        "https://notdropbox.com/s/abc.xlsx",
        "https://evil-sharepoint.com/:x:/r/doc.docx",
        "https://dl.dropboxusercontent.com/s/abc/photo.png",
    ],
)
def test_look_alike_links_are_generic_without_a_chip_or_a_fetch(
    world: World, url: str, pages: responses.RequestsMock
) -> None:
    link = world.add(url)
    assert link["provider"] == "generic" and link["preview_type"] == ""
    refreshed = world.refresh(link["id"])
    assert refreshed["refresh_error"] is None and refreshed["preview_type"] == ""
    assert len(pages.calls) == 0


URL_TYPES = [
    # Folders (SPEC §12): /folders/, /folder/, ending in /folder, Dropbox /sh/ and /scl/fo/.
    ("https://drive.google.com/drive/folders/1AbC", "folder"),
    ("https://drive.google.com/drive/u/0/folders/1AbC?usp=sharing", "folder"),
    ("https://app.box.com/folder/123456", "folder"),
    ("https://acme.app.box.com/s/abc/folder", "folder"),
    ("https://www.dropbox.com/sh/abc123/AAD-xyz?dl=0", "folder"),
    ("https://www.dropbox.com/scl/fo/abc123/h?rlkey=x&dl=0", "folder"),
    ("https://www.dropbox.com/sh/abc/def/report.pdf", "folder"),  # the folder rule comes first
    # Google editors.
    ("https://docs.google.com/document/d/1AbC/edit", "document"),
    ("https://docs.google.com/spreadsheets/d/1AbC/edit#gid=0", "spreadsheet"),
    ("https://docs.google.com/presentation/d/1AbC/edit?usp=sharing", "presentation"),
    ("https://docs.google.com/document/u/1/d/1AbC/export?format=pdf", "document"),
    # Extensions, any case, query and fragment ignored.
    ("https://www.dropbox.com/scl/fi/abc/Q3%20Budget.XLSX?rlkey=x&dl=0", "spreadsheet"),
    ("https://www.dropbox.com/s/abc/notes.docx", "document"),
    ("https://www.dropbox.com/s/abc/deck.key", "presentation"),
    ("https://www.dropbox.com/s/abc/photo.jpeg?raw=1", "image"),
    ("https://www.dropbox.com/s/abc/scan.pdf#page=2", "pdf"),
    ("https://www.dropbox.com/s/abc/data.csv", "spreadsheet"),
    ("https://www.dropbox.com/s/abc/archive.zip", "file"),
    ("https://www.dropbox.com/s/abc/README", "file"),
    ("https://www.dropbox.com/s/abc.pdf/view", "file"),  # only the last segment counts
    # Nothing to go on.
    ("https://drive.google.com/file/d/1AbC/view", "file"),
    ("https://app.box.com/s/9z8y7x6w", "file"),
    ("https://onedrive.live.com/?cid=ABC&id=ABC%21104", "file"),
    ("https://1drv.ms/x/s!AkQ3", "file"),
    ("https://docs.google.com/forms/d/1AbC/viewform", "file"),
]


@pytest.mark.parametrize(("url", "preview_type"), URL_TYPES)
def test_the_type_from_the_url(url: str, preview_type: str) -> None:
    assert preview_type_for_url(url) == preview_type


@pytest.mark.parametrize(("url", "preview_type"), URL_TYPES)
def test_the_chip_is_set_when_the_link_is_added(
    world: World, pages: responses.RequestsMock, url: str, preview_type: str
) -> None:
    link = world.add(url)
    assert link["preview_type"] == preview_type
    assert world.get(link["id"])["preview_type"] == preview_type
    assert len(pages.calls) == 0  # from the URL alone, before any refresh


@pytest.mark.parametrize(
    ("content_type", "preview_type"),
    [
        ("application/pdf", "pdf"),
        ("Application/PDF; qs=0.001", "pdf"),
        ("image/png", "image"),
        ("image/svg+xml", "image"),
        ("application/vnd.ms-excel", "spreadsheet"),
        ("text/csv; charset=utf-8", "spreadsheet"),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "presentation"),
        ("application/vnd.oasis.opendocument.text", "document"),
        ("application/vnd.google-apps.folder", "folder"),
        ("text/html; charset=utf-8", ""),
        ("application/octet-stream", ""),
        ("", ""),
        ("garbage;;;=", ""),
    ],
)
def test_the_type_from_the_content_type(content_type: str, preview_type: str) -> None:
    assert preview_type_for_media_type(content_type) == preview_type


def test_the_url_shape_comes_before_the_content_type() -> None:
    assert preview_type_for("https://www.dropbox.com/s/a/deck.pptx", "application/pdf") == "presentation"
    assert preview_type_for("https://drive.google.com/uc/x", "application/pdf") == "pdf"
    assert preview_type_for("https://drive.google.com/uc/x", "text/html") == "file"
    assert preview_type_for_url("https://[bad") == "file"
