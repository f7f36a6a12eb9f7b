"""Every delivery ppm refuses changes nothing but the receiver's last outcome (SPEC §13)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from typing import Any

import pytest

from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example

ONE_MIB = 1024 * 1024


def assert_untouched(hooks: Hooks, link: dict[str, Any], cursor: int) -> None:
    after = hooks.get_link(link)
    assert after["status"] == "unknown" and after["fetched_at"] is None
    assert hooks.sync(cursor)["task_links"]["updated"] == []


@pytest.fixture
def setup(hooks: Hooks) -> tuple[Any, dict[str, Any], int]:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    return hook, link, hooks.sync()["cursor"]


def closed() -> dict[str, Any]:
    return github_example("pull_request.closed")


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "sha256=" + "0" * 64,
        "sha1=4f0c2f8a8f6e9d1b1b0e3d3a9b4c1f2e5d6a7b8c",
        "sha256=",
        "not a signature",
        "sha256=ünïcödé",
    ],
)
def test_a_missing_or_wrong_signature_is_refused(hooks: Hooks, setup: Any, signature: str) -> None:
    hook, link, cursor = setup
    response = hooks.sender.github(hook, "pull_request", closed(), signature=signature)
    assert response.status_code == 401
    assert response.get_json()["code"] == "bad_signature"
    assert_untouched(hooks, link, cursor)
    row = hooks.receiver(hook)
    assert row["last_delivery_result"] == "bad_signature" and row["deliveries"] == 0


def test_a_body_changed_after_signing_is_refused(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    good = hooks.sender.github
    signed = json.dumps(github_example("pull_request.opened")).encode()
    signature = "sha256=" + hmac.new(hook.secret.encode(), signed, hashlib.sha256).hexdigest()
    tampered = signed.replace(b'"open"', b'"closed"', 1)
    response = good(hook, "pull_request", None, body=tampered, signature=signature)
    assert response.status_code == 401
    assert_untouched(hooks, link, cursor)


def test_another_receivers_secret_is_refused(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    other = hooks.create()
    elsewhere = hooks.create(project_id=hooks.other_project_id)
    for secret in (other.secret, elsewhere.secret):
        assert hooks.sender.github(hook, "pull_request", closed(), secret=secret).status_code == 401
    assert_untouched(hooks, link, cursor)


def test_a_form_body_with_a_bad_signature_is_refused(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    response = hooks.sender.github(hook, "pull_request", closed(), form=True, secret="not-the-secret")
    assert response.status_code == 401 and response.get_json()["code"] == "bad_signature"
    assert_untouched(hooks, link, cursor)


def test_the_other_providers_path_unknown_and_deleted_receivers_answer_404(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    gitlab = hooks.create("gitlab")
    send = hooks.sender.github
    for path in (
        f"/hooks/gitlab/{hook.id}",
        "/hooks/github/0123456789abcdef0123456789abcdef",
        f"/hooks/github/{gitlab.id}",
        f"/hooks/bitbucket/{hook.id}",
        f"/hooks/github/{hook.id}%00",
    ):
        response = send(hook, "pull_request", closed(), path=path)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == "not_found"
    assert hooks.admin.api("DELETE", f"{hooks.api}{hook.id}/").status_code == 204
    response = send(hook, "pull_request", closed())
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert_untouched(hooks, link, cursor)


def test_a_wrong_method_is_a_json_405(hooks: Hooks, setup: Any) -> None:
    hook, _, _ = setup
    response = hooks.sender.client.get(hook.path)
    assert response.status_code == 405 and response.get_json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "form"),
    [
        (b"this is not json", False),
        (b"[1, 2, 3]", False),
        (b'"a string"', False),
        (b"", False),
        (b"{" * 5000 + b"}" * 5000, False),
        (b"\xff\xfe\x00garbage", False),
        (b"payload=not-json", True),
        (b"other=1", True),
        (b"payload=%7B%7D&payload=%7B%7D", True),
        (b"payload=%5B%5D", True),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(hooks: Hooks, setup: Any, body: bytes, form: bool) -> None:
    hook, link, cursor = setup
    response = hooks.sender.github(hook, "pull_request", None, body=body, form=form)
    assert response.status_code == 400
    assert response.get_json()["code"] == "bad_payload"
    assert_untouched(hooks, link, cursor)
    assert hooks.receiver(hook)["last_delivery_result"] == "bad_payload"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p.pop("pull_request"),
        lambda p: p.update(pull_request="closed"),
        lambda p: p["pull_request"].pop("state"),
        lambda p: p["pull_request"].update(state="exploded"),
        lambda p: p["pull_request"].pop("html_url"),
        lambda p: p["pull_request"].update(html_url=7),
    ],
)
def test_a_payload_without_what_the_event_promises_is_400(hooks: Hooks, setup: Any, mangle: Any) -> None:
    hook, link, cursor = setup
    payload = closed()
    mangle(payload)
    response = hooks.sender.github(hook, "pull_request", payload)
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"
    assert_untouched(hooks, link, cursor)


def test_a_body_over_one_mib_is_413(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    payload = closed()
    payload["pull_request"]["body"] = "x" * ONE_MIB
    response = hooks.sender.github(hook, "pull_request", payload)
    assert response.status_code == 413 and response.get_json()["code"] == "too_large"
    assert_untouched(hooks, link, cursor)
    assert hooks.receiver(hook)["last_delivery_result"] == "too_large"


def test_a_body_of_exactly_one_mib_is_read(hooks: Hooks, setup: Any) -> None:
    hook, link, _ = setup
    raw = json.dumps(closed()).encode()
    body = raw + b" " * (ONE_MIB - len(raw))
    assert len(body) == ONE_MIB
    response = hooks.sender.github(hook, "pull_request", None, body=body)
    assert response.status_code == 200 and response.get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "closed"


class CountingStream(io.BytesIO):
    """A request body that tells how far it was read (by any of read, readinto, readline)."""

    @property
    def consumed(self) -> int:
        return self.tell()


def _post_stream(hooks: Hooks, hook: Any, stream: CountingStream, environ: dict[str, Any]) -> Any:
    return hooks.sender.client.post(
        hook.path,
        headers={"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": "sha256=" + "0" * 64},
        content_type="application/json",
        environ_overrides={"wsgi.input": stream, **environ},
    )


def test_a_lying_content_length_cannot_make_it_read_more(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    stream = CountingStream(b"{" + b" " * (3 * ONE_MIB) + b"}")
    response = _post_stream(hooks, hook, stream, {"CONTENT_LENGTH": "100"})
    assert response.status_code == 401  # the first 100 bytes, which the signature does not cover
    assert stream.consumed <= 100
    assert_untouched(hooks, link, cursor)


def test_a_body_without_content_length_is_cut_at_one_mib(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    stream = CountingStream(b"{" + b" " * (3 * ONE_MIB) + b"}")
    # A chunked request: the server says the stream ends by itself, and no length is given.
    response = _post_stream(hooks, hook, stream, {"CONTENT_LENGTH": "", "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert stream.consumed <= ONE_MIB + 64 * 1024
    assert_untouched(hooks, link, cursor)


def test_a_declared_length_over_one_mib_is_refused_before_reading(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    stream = CountingStream(b"{}")
    response = _post_stream(hooks, hook, stream, {"CONTENT_LENGTH": str(5 * ONE_MIB)})
    assert response.status_code == 413 and stream.consumed == 0
    assert_untouched(hooks, link, cursor)


def test_a_replayed_delivery_is_200_duplicate_and_changes_nothing(hooks: Hooks, setup: Any) -> None:
    hook, link, _ = setup
    first = hooks.sender.github(hook, "pull_request", closed(), delivery="d-1")
    assert first.get_json() == {"matched": 1, "linked": 0}
    settled = hooks.get_link(link)
    cursor = hooks.sync()["cursor"]
    reopened = github_example("pull_request.reopened")
    reopened["pull_request"]["updated_at"] = "2019-05-16T00:00:00Z"
    for payload in (closed(), reopened):
        response = hooks.sender.github(hook, "pull_request", payload, delivery="d-1")
        assert response.status_code == 200 and response.get_json() == {"duplicate": True}
    assert hooks.get_link(link) == settled
    assert hooks.sync(cursor)["task_links"]["updated"] == []
    row = hooks.receiver(hook)
    assert row["last_delivery_result"] == "duplicate" and row["deliveries"] == 3
    # Another receiver has its own memory of ids.
    other = hooks.create()
    assert hooks.sender.github(other, "pull_request", reopened, delivery="d-1").get_json() == {
        "matched": 1,
        "linked": 0,
    }


def test_an_archived_project_answers_202_and_changes_nothing(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    assert hooks.admin.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/").status_code == 200
    response = hooks.sender.github(hook, "pull_request", closed())
    assert response.status_code == 202 and response.get_json() == {"ignored": "archived"}
    assert_untouched(hooks, link, cursor)
    assert hooks.receiver(hook)["last_delivery_result"] == "archived"


def test_a_payload_for_a_repository_on_another_host_matches_nothing(hooks: Hooks, setup: Any) -> None:
    hook, link, cursor = setup
    payload = closed()
    payload["pull_request"]["html_url"] = "https://github.example.net/Codertocat/Hello-World/pull/2"
    response = hooks.sender.github(hook, "pull_request", payload)
    assert response.status_code == 200 and response.get_json() == {"matched": 0, "linked": 0}
    assert_untouched(hooks, link, cursor)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "", "https://", "https://github.com/Codertocat", "🙂"])
def test_an_object_address_that_names_no_object_matches_nothing(hooks: Hooks, setup: Any, url: str) -> None:
    hook, link, cursor = setup
    payload = closed()
    payload["pull_request"]["html_url"] = url
    response = hooks.sender.github(hook, "pull_request", payload)
    assert response.status_code in (200, 400)
    assert_untouched(hooks, link, cursor)


def test_control_characters_in_a_title_are_dropped_not_stored(hooks: Hooks, setup: Any) -> None:
    hook, link, _ = setup
    payload = closed()
    payload["pull_request"]["title"] = "Fix\x00 the \ud800README\u202e"
    response = hooks.sender.github(hook, "pull_request", payload)
    assert response.status_code == 200
    assert hooks.get_link(link)["title"] == "Fix the README"


def test_delivery_ids_are_kept_a_week_then_pruned(hooks: Hooks, setup: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from ppm.extensions import db
    from ppm.models_base import utcnow
    from ppm.webhooks.models import WebhookDelivery
    from ppm.webhooks.services import _delivery_key

    hook, _, _ = setup
    for delivery, age in (("six-days", 6), ("eight-days", 8)):
        db.session.add(
            WebhookDelivery(
                receiver_id=hook.id,
                delivery_key=_delivery_key("github", "ping", delivery),
                received_at=utcnow() - timedelta(days=age),
            )
        )
    db.session.commit()
    assert hooks.sender.github(hook, "ping", {}, delivery="fresh").get_json() == {"ping": True}
    kept = set(db.session.scalars(select(WebhookDelivery.delivery_key).where(WebhookDelivery.receiver_id == hook.id)))
    assert kept == {_delivery_key("github", "ping", "six-days"), _delivery_key("github", "ping", "fresh")}
    assert hooks.sender.github(hook, "ping", {}, delivery="six-days").get_json() == {"duplicate": True}
    assert hooks.sender.github(hook, "ping", {}, delivery="eight-days").get_json() == {"ping": True}
