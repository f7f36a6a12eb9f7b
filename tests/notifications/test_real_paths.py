"""Events reach the outbox through the real write paths, not only through emitted events: a
person's state change through the JSON API, and a signed GitHub delivery that merges a pull
request (SPEC §25 with §13 and §21). Signatures are checked with `standardwebhooks`."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from tests.notifications.conftest import World, drain, url_of
from tests.support.receiver import Receiver

PULL = "https://github.com/acme/website/pull/120"


def test_a_persons_state_change_is_delivered(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver), events=["task.state_changed"])
    task = f"/api/v1/projects/{world.project_id}/tasks/{world.task_id}/"
    assert world.member.api("PATCH", task, json={"state": "in_progress"}).status_code == 200
    assert drain() == 1
    payload = Webhook(created["secret"]).verify(receiver.received[0].body, receiver.received[0].headers)
    assert payload["type"] == "task.state_changed"
    assert (payload["data"]["previous"], payload["data"]["current"]) == ({"state": "todo"}, {"state": "in_progress"})


def test_a_signed_merge_delivery_notifies_the_link_change(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver), events=["link.status_changed"])
    links = f"/api/v1/projects/{world.project_id}/tasks/{world.task_id}/links/"
    assert world.member.api("POST", links, json={"url": PULL}).status_code == 201
    hook = world.admin.api("POST", f"/api/v1/projects/{world.project_id}/webhooks/", json={"provider": "github"})
    assert hook.status_code == 201, hook.get_json()
    body = json.dumps(
        {
            "action": "closed",
            "pull_request": {
                "html_url": PULL,
                "state": "closed",
                "merged": True,
                "draft": False,
                "title": "Button and link components",
                "updated_at": "2026-12-02T12:00:00Z",
                "head": {"ref": "buttons", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            },
        }
    ).encode()
    signature = hmac.new(hook.get_json()["secret"].encode(), body, hashlib.sha256).hexdigest()
    answer = world.app.test_client().post(
        urlsplit(hook.get_json()["url"]).path,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-Hub-Signature-256": f"sha256={signature}",
        },
    )
    assert answer.status_code == 200 and answer.get_json()["matched"] == 1
    assert drain() == 1
    payload = Webhook(created["secret"]).verify(receiver.received[0].body, receiver.received[0].headers)
    assert payload["type"] == "link.status_changed"
    assert payload["data"]["link"]["url"] == PULL and payload["data"]["link"]["status"] == "merged"
    assert payload["data"]["previous"]["status"] == "unknown" and payload["data"]["current"]["status"] == "merged"
