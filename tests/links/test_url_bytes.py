"""SPEC §19: a link URL is at most 2048 bytes once UTF-8 encoded (its normalised key too); more
→ 400 on `url`. Before, 1,500 CJK characters (4,500 bytes, under 2,048 characters) answered 500
on PostgreSQL: the unique index row was too large. Runs on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ppm.errors import ValidationError
from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.links.services import URL_MAX, normalize_url
from tests.links.conftest import World, add
from tests.projects.helpers import assert_error

PREFIX = "https://example.com/"


def _url(total_bytes: int, char: str) -> str:
    """A URL of exactly `total_bytes` UTF-8 bytes, padded with `char` (and ASCII to fit)."""
    room = total_bytes - len(PREFIX)
    width = len(char.encode())
    url = PREFIX + char * (room // width) + "a" * (room % width)
    assert len(url.encode()) == total_bytes
    return url


@pytest.mark.parametrize("char", ["a", "é", "中", "😀"])
def test_a_url_of_exactly_2048_bytes_is_stored(world: World, char: str) -> None:
    url = _url(URL_MAX, char)
    response = add(world.owner, world, url)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["url"] == url
    stored = db.session.scalar(select(TaskLink.url_key).where(TaskLink.id == response.get_json()["id"]))
    assert stored is not None and len(stored.encode()) <= URL_MAX
    # The unique index still holds at that size: the same URL again is a duplicate, not a 500.
    assert_error(add(world.owner, world, url), 409, "duplicate_link")


@pytest.mark.parametrize("char", ["a", "é", "中", "😀"])
def test_one_byte_more_is_400_on_url(world: World, char: str) -> None:
    body = assert_error(add(world.owner, world, _url(URL_MAX + 1, char) + ""), 400, "validation_error", "url")
    assert "2048 bytes" in body["fields"]["url"][0]


def test_1500_cjk_characters_are_400_not_500(world: World) -> None:
    url = PREFIX + "中" * 1500
    assert len(url) < URL_MAX < len(url.encode())
    assert_error(add(world.owner, world, url), 400, "validation_error", "url")
    assert db.session.scalar(select(TaskLink.id).where(TaskLink.url.like("%中%"))) is None


def test_a_key_longer_in_bytes_than_the_url_is_refused() -> None:
    """Lower-casing can lengthen a host ('İ' is 2 bytes, its lower case 3): the key is
    measured as well as the URL."""
    host = "İ" * 600
    url = f"https://{host}.example/" + "a" * (URL_MAX - len(f"https://{host}.example/".encode()))
    assert len(url.encode()) == URL_MAX
    with pytest.raises(ValidationError) as refused:
        normalize_url(url)
    assert refused.value.fields["url"]
