"""The loopback GitHub stand-in serves lists page by page exactly as GitHub documents it (SPEC
§26: `per_page`, default 30, at most 100; a `Link` header naming the next and last pages), and a
refresh through ppm's egress guard reads every page of it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from ppm.integrations.providers.base import github_next_page
from tests.jobs.conftest import add_link, give_credential
from tests.links.conftest import World
from tests.support.netguard import NetGuard
from tests.support.provider_standin import ProviderStandIn, running_standin


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "INTEGRATION_ALLOWED_HOSTS": [*app_config["INTEGRATION_ALLOWED_HOSTS"], "localhost"],
        "EGRESS_ALLOWLISTED_HOSTS": ["localhost"],
        "INTEGRATION_ALLOW_HTTP": True,
    }


@pytest.fixture
def standin() -> Iterator[ProviderStandIn]:
    with running_standin(delay=0.0, reviews=130, last_review="CHANGES_REQUESTED") as server:
        yield server


def _get(url: str) -> tuple[list[Any], dict[str, str]]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read()), dict(answer.headers.items())


def test_the_standin_pages_reviews_with_github_s_link_header(standin: ProviderStandIn) -> None:
    reviews = f"http://127.0.0.1:{standin.server_address[1]}/api/v3/repos/acme/api/pulls/1/reviews"
    first, headers = _get(reviews)
    assert len(first) == 30  # GitHub's default page size
    assert headers["Link"] == (f'<{reviews}?page=2>; rel="next", <{reviews}?page=5>; rel="last"')
    page, headers = _get(f"{reviews}?per_page=100")
    following = github_next_page(f"{reviews}?per_page=100", headers)
    assert len(page) == 100 and following == f"{reviews}?per_page=100&page=2"
    last, headers = _get(following)
    assert len(last) == 30 and last[-1]["state"] == "CHANGES_REQUESTED"
    assert 'rel="next"' not in headers["Link"] and 'rel="prev"' in headers["Link"]


def test_a_refresh_reads_every_page_of_the_standin(world: World, standin: ProviderStandIn, net: NetGuard) -> None:
    net.resolver.add("localhost", "127.0.0.1")
    give_credential(world.member.user, "github", base_url=standin.base_url)
    link = add_link(world.member, world, f"{standin.base_url}/acme/api/pull/1")
    body = world.member.api("POST", world.links_url() + f"{link['id']}/refresh/").get_json()
    assert body["review"] == "changes_requested"  # the 130th review, on the second page
    assert standin.by_path["/api/v3/repos/acme/api/pulls/1/reviews?per_page=100&page=2"] == 1
