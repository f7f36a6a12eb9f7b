"""Bodies from GitLab's own API documentation (gitlab-org/gitlab, `doc/api/`), reduced to the
fields ppm reads plus their neighbours, values as documented. Each constant names its page."""

from __future__ import annotations

from typing import Any

# doc/api/merge_request_approvals.md, "Merge request-level MR approvals" → "Get Configuration".
MR_APPROVALS: dict[str, Any] = {
    "id": 5,
    "iid": 5,
    "project_id": 1,
    "title": "Approvals API",
    "description": "Test",
    "state": "opened",
    "created_at": "2016-06-08T00:19:52.638Z",
    "updated_at": "2016-06-08T21:20:42.470Z",
    "merge_status": "cannot_be_merged",
    "approvals_required": 2,
    "approvals_left": 1,
    "approved_by": [
        {
            "user": {
                "name": "Administrator",
                "username": "root",
                "id": 1,
                "state": "active",
                "avatar_url": "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
                "web_url": "http://localhost:3000/root",
            }
        }
    ],
}
