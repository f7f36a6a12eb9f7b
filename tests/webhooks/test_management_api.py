"""Receivers through the JSON API (SPEC §13): admin and above, the secret only in the create and
rotate answers, encrypted at rest with the credential keys."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from ppm import create_app
from ppm.extensions import db
from ppm.webhooks.models import WebhookReceiver
from tests.conftest import base_config
from tests.projects.helpers import assert_iso_z
from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example

ROW_KEYS = {"id", "provider", "url", "created_at", "last_delivery_at", "last_delivery_result", "deliveries"}


def test_create_answers_201_with_the_row_and_the_secret_once(hooks: Hooks) -> None:
    response = hooks.admin.api("POST", hooks.api, json={"provider": "gitlab"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == ROW_KEYS | {"secret"}
    assert body["provider"] == "gitlab" and body["deliveries"] == 0
    assert body["last_delivery_at"] is None and body["last_delivery_result"] is None
    assert body["url"] == f"http://localhost/hooks/gitlab/{body['id']}"
    assert_iso_z(body["created_at"])
    assert len(body["secret"]) >= 43  # 32 random bytes, URL-safe base64
    listed = hooks.admin.api("GET", hooks.api).get_json()
    assert listed == [{k: v for k, v in body.items() if k != "secret"}]
    assert body["secret"] not in hooks.admin.api("GET", hooks.api).get_data(as_text=True)


def test_secrets_are_random_and_stored_encrypted_with_the_credential_keys(hooks: Hooks) -> None:
    from ppm import crypto

    first, second = hooks.create(), hooks.create()
    assert first.secret != second.secret
    row = db.session.get(WebhookReceiver, first.id)
    assert first.secret not in row.secret_ciphertext
    assert crypto.decrypt(row.secret_ciphertext) == first.secret
    assert first.secret not in repr(row)


def test_rotate_gives_a_new_secret_and_the_old_one_stops_at_once(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    response = hooks.admin.api("POST", f"{hooks.api}{hook.id}/rotate-secret/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == ROW_KEYS | {"secret"} and body["id"] == hook.id
    assert body["secret"] != hook.secret
    assert hooks.sender.github(hook, "pull_request", github_example("pull_request.closed")).status_code == 401
    assert hooks.get_link(link)["status"] == "unknown"
    ok = hooks.sender.github(hook, "pull_request", github_example("pull_request.closed"), secret=body["secret"])
    assert ok.status_code == 200 and hooks.get_link(link)["status"] == "closed"


def test_delete_answers_204_and_the_url_then_answers_404(hooks: Hooks) -> None:
    hook = hooks.create()
    assert hooks.admin.api("DELETE", f"{hooks.api}{hook.id}/").status_code == 204
    assert hooks.admin.api("GET", hooks.api).get_json() == []
    assert hooks.sender.github(hook, "ping", github_example("ping")).status_code == 404
    assert hooks.admin.api("DELETE", f"{hooks.api}{hook.id}/").status_code == 404
    assert hooks.admin.api("POST", f"{hooks.api}{hook.id}/rotate-secret/").status_code == 404


def test_roles_admin_and_above_manage_others_are_refused(hooks: Hooks) -> None:
    hook = hooks.create()
    for client in (hooks.owner, hooks.admin):
        assert client.api("GET", hooks.api).status_code == 200
    for client in (hooks.member, hooks.viewer):
        for method, url, body in (
            ("GET", hooks.api, None),
            ("POST", hooks.api, {"provider": "github"}),
            ("POST", f"{hooks.api}{hook.id}/rotate-secret/", None),
            ("DELETE", f"{hooks.api}{hook.id}/", None),
        ):
            response = client.api(method, url, json=body)
            assert response.status_code == 403 and response.get_json()["code"] == "forbidden", (method, url)
            assert "secret" not in response.get_json()
    for method, url in (("GET", hooks.api), ("POST", hooks.api), ("DELETE", f"{hooks.api}{hook.id}/")):
        assert hooks.stranger.api(method, url, json={"provider": "github"}).status_code == 404
    assert hooks.sender.client.get(hooks.api).status_code == 401


def test_a_receiver_of_another_project_is_not_found_here(hooks: Hooks) -> None:
    elsewhere = hooks.create(project_id=hooks.other_project_id)
    assert hooks.admin.api("DELETE", f"{hooks.api}{elsewhere.id}/").status_code == 404
    assert hooks.admin.api("POST", f"{hooks.api}{elsewhere.id}/rotate-secret/").status_code == 404
    assert hooks.admin.api("GET", hooks.api).get_json() == []


@pytest.mark.parametrize("body", [{}, {"provider": "bitbucket"}, {"provider": "GitHub"}, {"provider": None}, [], "x"])
def test_an_unknown_provider_is_a_validation_error(hooks: Hooks, body: Any) -> None:
    response = hooks.admin.api("POST", hooks.api, json=body)
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"
    assert db.session.scalar(select(WebhookReceiver)) is None


def test_an_archived_project_refuses_writes_but_lists(hooks: Hooks) -> None:
    hook = hooks.create()
    hooks.admin.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/")
    for method, url in (
        ("POST", hooks.api),
        ("POST", f"{hooks.api}{hook.id}/rotate-secret/"),
        ("DELETE", f"{hooks.api}{hook.id}/"),
    ):
        response = hooks.admin.api(method, url, json={"provider": "github"})
        assert response.status_code == 403 and response.get_json()["code"] == "project_archived"
    assert len(hooks.admin.api("GET", hooks.api).get_json()) == 1


def test_session_writes_need_the_csrf_token(hooks: Hooks, app: Any) -> None:
    from tests.conftest import SessionClient

    browser = SessionClient(app.test_client(), hooks.admin.user).login()
    response = browser.client.post(hooks.api, json={"provider": "github"})
    assert response.status_code == 400 and response.get_json()["code"] == "csrf_failed"
    assert browser.api("POST", hooks.api, json={"provider": "github"}).status_code == 201


def test_ppm_base_url_makes_the_payload_url(tmp_path: Any, make: Any) -> None:
    app = create_app({**base_config(tmp_path), "PPM_BASE_URL": "https://ppm.example.org/"})
    with app.app_context():
        db.create_all()
        owner = make.user()
        project_id = make.project(owner)
        from tests.conftest import client_for

        body = client_for(app, owner).api(
            "POST", f"/api/v1/projects/{project_id}/webhooks/", json={"provider": "github"}
        )
        assert body.get_json()["url"] == f"https://ppm.example.org/hooks/github/{body.get_json()['id']}"


def test_deliveries_count_accepted_ones_and_keep_the_last_outcome(hooks: Hooks) -> None:
    hook = hooks.create()
    send = hooks.sender.github
    send(hook, "ping", github_example("ping"))
    send(hook, "pull_request", github_example("pull_request.opened"))
    send(hook, "push", {"ref": "refs/heads/main"})
    send(hook, "pull_request", github_example("pull_request.opened"), secret="wrong")
    row = hooks.receiver(hook)
    assert row["deliveries"] == 3
    assert row["last_delivery_result"] == "bad_signature"
    assert_iso_z(row["last_delivery_at"])
    send(hook, "pull_request", github_example("pull_request.closed"))
    row = hooks.receiver(hook)
    assert row["deliveries"] == 4 and row["last_delivery_result"] == "ok"


def test_rotate_credentials_re_encrypts_webhook_secrets(hooks: Hooks, app: Any) -> None:
    hook = hooks.create()
    old_key = app.config["INTEGRATION_ENCRYPTION_KEY"]
    new_key = Fernet.generate_key().decode()
    app.config["INTEGRATION_ENCRYPTION_KEY"] = f"{new_key},{old_key}"
    result = app.test_cli_runner().invoke(args=["ppm", "rotate-credentials"])
    assert result.exit_code == 0, result.output
    assert "1 webhook secret(s)" in result.output
    assert hook.secret not in result.output
    app.config["INTEGRATION_ENCRYPTION_KEY"] = new_key  # the old key is gone: the new one must read it
    db.session.expire_all()
    response = hooks.sender.github(hook, "ping", github_example("ping"))
    assert response.status_code == 200


def test_an_unreadable_secret_refuses_deliveries_and_fails_rotation(hooks: Hooks, app: Any) -> None:
    hook = hooks.create()
    app.config["INTEGRATION_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    response = hooks.sender.github(hook, "ping", github_example("ping"))
    assert response.status_code == 401
    result = app.test_cli_runner().invoke(args=["ppm", "rotate-credentials"])
    assert result.exit_code == 1
    # Rotating the secret from the API heals the receiver.
    fresh = hooks.admin.api("POST", f"{hooks.api}{hook.id}/rotate-secret/").get_json()["secret"]
    assert hooks.sender.github(hook, "ping", github_example("ping"), secret=fresh).status_code == 200
