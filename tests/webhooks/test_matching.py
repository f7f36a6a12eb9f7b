"""Which object a URL names (host, repository path, kind, number), and provider timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ppm.integrations.providers.base import provider_time
from ppm.webhooks.matching import ObjectKey, object_key, object_number

PR = ObjectKey("github.com", "codertocat/hello-world", "pull", "2")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Codertocat/Hello-World/pull/2",
        "https://github.com/codertocat/hello-world/pull/2/",
        "https://GITHUB.COM/Codertocat/Hello-World/pull/2/files?w=1#diff",
        "http://www.github.com:443/Codertocat/Hello-World/pull/2/commits/abc",
        "https://github.com:443/Codertocat/Hello-World/pull/2",
    ],
)
def test_github_addresses_of_one_pull_request(url: str) -> None:
    assert object_key("github", url) == PR


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Codertocat/Hello-World/issues/2",
        "https://github.com/Codertocat/Hello-World/pull/20",
        "https://github.com:8443/Codertocat/Hello-World/pull/2",
        "https://ghe.example.com/Codertocat/Hello-World/pull/2",
        "https://github.com/Codertocat/Hello-World/pulls/2",
        "https://github.com/Codertocat/pull/2",
        "ftp://github.com/Codertocat/Hello-World/pull/2",
        "https://github.com:99999/Codertocat/Hello-World/pull/2",
        "not a url",
    ],
)
def test_other_github_addresses_are_other_objects_or_none(url: str) -> None:
    assert object_key("github", url) != PR


@pytest.mark.parametrize(
    "url",
    [
        "https://gitlab.com/group/sub/proj/-/issues/23",
        "https://gitlab.com/group/sub/proj/-/work_items/23",
        "https://gitlab.com/group/sub/proj/-/issues/incident/23",
        "https://gitlab.com/Group/Sub/Proj/-/issues/23/designs",
        "https://gitlab.com/group/sub/proj/issues/23",
    ],
)
def test_gitlab_issue_shapes_are_one_issue(url: str) -> None:
    assert object_key("gitlab", url) == ObjectKey("gitlab.com", "group/sub/proj", "issue", "23")


def test_gitlab_group_work_items_and_other_kinds_are_not_project_issues() -> None:
    issue = ObjectKey("gitlab.com", "group/proj", "issue", "3")
    assert object_key("gitlab", "https://gitlab.com/groups/group/-/work_items/3") is None
    assert object_key("gitlab", "https://gitlab.com/group/proj/-/merge_requests/3") != issue
    assert object_key("gitlab", "https://gitlab.com/group/proj/-/commit/3") is None


def test_a_relative_root_is_read_off_before_the_path() -> None:
    root = "https://example.org/gitlab"
    url = "https://example.org/gitlab/group/proj/-/merge_requests/5"
    expected = ObjectKey("example.org", "group/proj", "merge_request", "5")
    assert object_key("gitlab", url, root) == expected
    assert object_key("gitlab", "https://example.org/other/group/proj/-/merge_requests/5", root) is None
    assert object_key("gitlab", "https://example.net/gitlab/group/proj/-/merge_requests/5", root) is None
    ghe = object_key("github", "https://example.org/ghe/acme/api/pull/9", "https://example.org/ghe")
    assert ghe == ObjectKey("example.org", "acme/api", "pull", "9")
    assert object_number("github", "https://example.org/ghe/acme/api/pull/9") == "9"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-05-15T15:20:33Z", datetime(2019, 5, 15, 15, 20, 33, tzinfo=UTC)),
        ("2013-12-03 17:23:34 UTC", datetime(2013, 12, 3, 17, 23, 34, tzinfo=UTC)),
        ("2013-12-03T17:23:34.123Z", datetime(2013, 12, 3, 17, 23, 34, 123000, tzinfo=UTC)),
        ("2024-05-02T12:00:01+02:00", datetime(2024, 5, 2, 10, 0, 1, tzinfo=UTC)),
        ("2024-05-02 12:00:01 +0200", datetime(2024, 5, 2, 10, 0, 1, tzinfo=UTC)),
        ("2024-05-02", datetime(2024, 5, 2, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1557933633, None),
        ("9" * 100, None),
    ],
)
def test_provider_timestamps(value: object, expected: datetime | None) -> None:
    assert provider_time(value) == expected
