"""After a whole create / rotate / deliver / delete cycle, no secret appears in any later
response, page, sync row, database row or log line (SPEC §13)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

from ppm.extensions import db
from tests.conftest import SessionClient
from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example, gitlab_merge_request


def _everything(response: Any) -> str:
    return response.get_data(as_text=True) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


def test_no_secret_survives_its_one_time_reveal(hooks: Hooks, app: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin = SessionClient(app.test_client(), hooks.admin.user).login()
    member = SessionClient(app.test_client(), hooks.member.user).login()
    page = f"/projects/{hooks.project_id}/integrations"
    link = hooks.link(EXAMPLE_PR)
    secrets: list[str] = []
    later: list[str] = []

    # Create from the page (htmx and without JavaScript) and from the API.
    for headers in ({"HX-Request": "true"}, {}):
        created = admin.form(f"{page}/webhooks", {"provider": "github"}, headers=headers)
        assert created.status_code == 200
        body = created.get_data(as_text=True)
        secret = body.split('id="webhook-secret" type="text" readonly value="', 1)[1].split('"', 1)[0]
        assert len(secret) >= 43
        assert created.headers["Cache-Control"] == "no-store"
        secrets.append(secret)
    api_hook = hooks.create("gitlab")
    secrets.append(api_hook.secret)
    github_hook = hooks.create()
    secrets.append(github_hook.secret)

    # Rotate (page and API): both the old and the new secret are then known only to the sender.
    receivers = hooks.admin.api("GET", hooks.api).get_json()
    first = receivers[0]["id"]
    rotated = admin.form(f"{page}/webhooks/{first}/rotate", headers={"HX-Request": "true"})
    secrets.append(rotated.get_data(as_text=True).split('readonly value="', 2)[2].split('"', 1)[0])
    rotated_api = hooks.admin.api("POST", f"{hooks.api}{github_hook.id}/rotate-secret/").get_json()
    github_hook.secret = rotated_api["secret"]
    secrets.append(rotated_api["secret"])
    assert len(set(secrets)) == len(secrets) == 6

    # Deliveries: good, bad and form-encoded; GitLab's token is the secret itself.
    send = hooks.sender
    later.append(_everything(send.github(github_hook, "pull_request", github_example("pull_request.opened"))))
    later.append(
        _everything(send.github(github_hook, "pull_request", github_example("pull_request.closed"), form=True))
    )
    later.append(
        _everything(send.github(github_hook, "pull_request", github_example("pull_request.closed"), secret=secrets[3]))
    )
    later.append(_everything(send.gitlab(api_hook, "Merge Request Hook", gitlab_merge_request())))
    later.append(_everything(send.gitlab(api_hook, "Merge Request Hook", gitlab_merge_request(), token=secrets[0])))
    later.append(
        _everything(send.gitlab(api_hook, "Merge Request Hook", gitlab_merge_request(), token=api_hook.secret + "x"))
    )
    assert hooks.get_link(link)["status"] == "closed"

    # Every page and answer a person or a script can see afterwards.
    for client in (admin, member):
        later.append(_everything(client.get(page)))
        later.append(_everything(client.get(f"{page}/webhooks", headers={"HX-Request": "true"})))
        later.append(_everything(client.get(f"{page}/webhooks/{first}/rotate", headers={"HX-Request": "true"})))
    later.append(_everything(hooks.admin.api("GET", hooks.api)))
    later.append(_everything(hooks.viewer.api("GET", f"/api/v1/projects/{hooks.project_id}/sync/?since=0")))
    later.append(_everything(hooks.viewer.api("GET", f"/api/v1/projects/{hooks.project_id}/tasks/")))
    later.append(_everything(admin.get(f"/projects/{hooks.project_id}/schedule?task={hooks.task_id}")))

    # Delete everything, then look again.
    for receiver in hooks.admin.api("GET", hooks.api).get_json():
        later.append(
            _everything(admin.form(f"{page}/webhooks/{receiver['id']}/delete", headers={"HX-Request": "true"}))
        )
    later.append(_everything(admin.get(page)))
    later.append(_everything(hooks.admin.api("GET", hooks.api)))

    rows: list[str] = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            rows.extend(repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table.name}")))
    logs = caplog.text
    assert logs  # the cycle did log (creations, deliveries), so the scan below can fail
    for secret in secrets:
        for index, seen in enumerate(later):
            assert secret not in seen, f"secret found in later answer #{index}"
        assert secret not in logs
        assert not any(secret in row for row in rows)
