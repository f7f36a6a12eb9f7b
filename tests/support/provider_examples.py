"""The providers' own published answers, for tests that stand in for GitHub and GitLab.

GitHub: the JSON files in `github_openapi/` are `components/examples` of GitHub's official REST
description, npm package `@octokit/openapi` 23.0.2 (`generated/api.github.com.json`), copied
unchanged: `pull-request`, `issue`, `commit` and `private-user-response-with-public-and-private-
profile-information` (as `private-user.json`). MIT License, Copyright (c) 2020 Octokit
contributors; the notice is `github_openapi/LICENSE`. The rate-limit reset value is the example
of that description's `x-rate-limit-reset` header.

GitLab: example responses of GitLab's API documentation (gitlab-org/gitlab `doc/api/*.md`, named
on each body), abridged to the fields around the ones ppm reads, values unchanged; error bodies
as GitLab's API guard (`lib/api/api_guard.rb`, through rack-oauth2) and its helpers
(`bad_request!`, the catch-all `404 Not Found` route) write them.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

_GITHUB_DIR = Path(__file__).with_name("github_openapi")


@cache
def _github_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_GITHUB_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def github(name: str, **changes: Any) -> dict[str, Any]:
    """A fresh copy of a GitHub OpenAPI example (`pull-request`, `issue`, `commit`,
    `private-user`), with `changes` applied on top; a change to None removes the key."""
    body = copy.deepcopy(_github_file(name))
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


# `x-rate-limit-reset` example of GitHub's OpenAPI description: 2020-05-28 21:38:08 UTC.
GITHUB_RATE_LIMIT_RESET = 1590701888


def gitlab(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A fresh copy of a GitLab example below, with `changes` (None removes a key)."""
    fresh = copy.deepcopy(body)
    for key, value in changes.items():
        if value is None:
            fresh.pop(key, None)
        else:
            fresh[key] = value
    return fresh


# doc/api/users.md, "Get the current user" (`GET /user`), abridged.
GITLAB_USER = {
    "id": 1,
    "username": "john_smith",
    "email": "john@example.com",
    "name": "John Smith",
    "state": "active",
    "locked": False,
    "avatar_url": "http://localhost:3000/uploads/user/avatar/1/index.jpg",
    "web_url": "http://localhost:3000/john_smith",
    "created_at": "2012-05-23T08:00:58Z",
}

# doc/api/personal_access_tokens.md, "Get details on a personal access token" (`GET
# /personal_access_tokens/self`), GitLab 15.5 and later.
GITLAB_TOKEN_SELF = {
    "id": 4,
    "name": "Test Token",
    "revoked": False,
    "created_at": "2020-07-23T14:31:47.729Z",
    "scopes": ["api"],
    "user_id": 24,
    "last_used_at": "2021-10-06T17:58:37.550Z",
    "active": True,
    "expires_at": None,
}

# doc/api/merge_requests.md, "Get single MR", abridged.
GITLAB_MERGE_REQUEST = {
    "id": 1,
    "iid": 1,
    "project_id": 3,
    "title": "test1",
    "description": "fixed login page css paddings",
    "state": "merged",
    "created_at": "2017-04-29T08:46:00Z",
    "updated_at": "2017-04-29T08:46:00Z",
    "target_branch": "main",
    "source_branch": "test1",
    "draft": False,
    "work_in_progress": False,
    "merge_when_pipeline_succeeds": True,
    "merge_status": "can_be_merged",
    "detailed_merge_status": "not_open",
    "sha": "8888888888888888888888888888888888888888",
    "web_url": "http://gitlab.example.com/my-group/my-project/merge_requests/1",
}

# doc/api/issues.md, "Single project issue", abridged.
GITLAB_ISSUE = {
    "id": 41,
    "iid": 1,
    "project_id": 4,
    "title": "Ut commodi ullam eos dolores perferendis nihil sunt.",
    "description": "Omnis vero earum sunt corporis dolor et placeat.",
    "state": "closed",
    "created_at": "2016-01-04T15:31:46.176Z",
    "updated_at": "2016-01-04T15:31:46.176Z",
    "closed_at": None,
    "type": "ISSUE",
    "issue_type": "issue",
    "severity": "UNKNOWN",
    "confidential": False,
    "web_url": "http://gitlab.example.com/my-group/my-project/issues/1",
}

# doc/api/commits.md, "Get a single commit", abridged.
GITLAB_COMMIT = {
    "id": "6104942438c14ec7bd21c6cd5bd995272b3faff6",
    "short_id": "6104942438c",
    "title": "Sanitize for network graph",
    "author_name": "randx",
    "author_email": "user@example.com",
    "committer_name": "Dmitriy",
    "committer_email": "dmitriy.zaporozhets@gmail.com",
    "created_at": "2021-09-20T09:06:12.300+03:00",
    "message": "Sanitize for network graph\nCc: John Doe <johndoe@gitlab.com>\nCc: Jane Doe <janedoe@gitlab.com>",
    "parent_ids": ["ae1d9fb46aa2b07ee9836d49862ec4e2c46fbbba"],
    "status": "running",
    "web_url": "https://gitlab.example.com/janedoe/gitlab-foss/-/commit/6104942438c14ec7bd21c6cd5bd995272b3faff6",
}

# The API guard's answers (lib/api/api_guard.rb): an expired token (401, with the same words in
# a `WWW-Authenticate: Bearer` challenge), and a token without the endpoint's scope (403; its
# `scope` lists the scopes that would do).
GITLAB_TOKEN_EXPIRED = {
    "error": "invalid_token",
    "error_description": "Token is expired. You can either do re-authorization or token refresh.",
}
GITLAB_TOKEN_EXPIRED_CHALLENGE = (
    'Bearer realm="The API", error="invalid_token", '
    'error_description="Token is expired. You can either do re-authorization or token refresh."'
)
GITLAB_TOKEN_REVOKED = {
    "error": "invalid_token",
    "error_description": "Token was revoked. You have to re-authorize from the user.",
}
GITLAB_INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the access token.",
    "scope": "api read_api",
}
# A plain unauthorized answer (no token, or one GitLab does not know).
GITLAB_UNAUTHORIZED = {"message": "401 Unauthorized"}
# lib/api/personal_access_tokens/self_information.rb: any token that is not a personal access
# token (`bad_request!` writes "400 Bad request - …").
GITLAB_NOT_A_PERSONAL_TOKEN = {
    "message": "400 Bad request - This endpoint requires token type to be a personal access token"
}
# What a GitLab older than 15.5 answers for a route it does not have (lib/api/api.rb catch-all).
GITLAB_NO_SUCH_ROUTE = {"error": "404 Not Found"}
# doc/security/rate_limits.md, doc/user/admin_area/settings/user_and_ip_rate_limits.md: the
# headers of a throttled answer (429, body "Retry later").
GITLAB_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "60",
    "RateLimit-Observed": "67",
    "RateLimit-Remaining": "0",
    "RateLimit-Reset": "1609844400",
    "RateLimit-ResetTime": "Tue, 05 Jan 2021 11:00:00 GMT",
    "Retry-After": "30",
}
