"""Encryption keys rotate without downtime; unreadable rows never cause a 500; the secret never
leaves in any response, page or log line; writes are rate-limited; racing connects keep one row."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import responses
from cryptography.fernet import Fernet
from sqlalchemy import select

from ppm import crypto
from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.conftest import SessionClient
from tests.integrations.conftest import github_user
from tests.support.settings import TEST_DATABASE_URL

URL = "/api/v1/me/credentials/"
SECRET = "ghp_" + "S3cr3tV4lue" * 3


def test_rotate_credentials_reencrypts_under_the_first_key(
    app: Any, session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    session_client.api("POST", f"{URL}github/", json={"token": SECRET})
    session_client.api("POST", f"{URL}generic/", json={"token": "generic-secret"})
    old_key = app.config["INTEGRATION_ENCRYPTION_KEY"]
    new_key = Fernet.generate_key().decode()
    app.config["INTEGRATION_ENCRYPTION_KEY"] = f"{new_key},{old_key}"
    result = app.test_cli_runner().invoke(args=["ppm", "rotate-credentials"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2" in result.output and "0 could not be read" in result.output
    app.config["INTEGRATION_ENCRYPTION_KEY"] = new_key  # the old key can now be dropped
    db.session.expire_all()
    tokens = sorted(crypto.decrypt(c.ciphertext) for c in db.session.scalars(select(Credential)))
    assert tokens == sorted([SECRET, "generic-secret"])


def test_unreadable_rows_need_reconnect_and_never_500(
    app: Any, session_client: SessionClient, provider_mock: responses.RequestsMock
) -> None:
    github_user(provider_mock)
    session_client.api("POST", f"{URL}github/", json={"token": SECRET})
    app.config["INTEGRATION_ENCRYPTION_KEY"] = Fernet.generate_key().decode()  # the key was lost
    listing = session_client.api("GET", URL)
    assert listing.status_code == 200
    assert [r["exists"] for r in listing.get_json()] == [False, False, True, False]
    page = session_client.get("/me/settings/connected-accounts")
    assert page.status_code == 200 and "Needs reconnect" in page.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["ppm", "rotate-credentials"])
    assert result.exit_code == 1 and "1 could not be read" in result.output
    # Reconnecting replaces the unreadable row.
    assert session_client.api("POST", f"{URL}github/", json={"token": SECRET}).status_code == 200
    page = session_client.get("/me/settings/connected-accounts")
    assert "Needs reconnect" not in page.get_data(as_text=True)


def test_secret_never_leaves_in_responses_pages_or_logs(
    session_client: SessionClient, provider_mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    github_user(provider_mock)
    bodies: list[str] = []

    def keep(response: Any) -> Any:
        bodies.append(response.get_data(as_text=True))
        bodies.append(str(response.headers))
        return response

    keep(session_client.api("POST", f"{URL}github/", json={"token": SECRET}))
    keep(session_client.api("POST", f"{URL}github/", json={"token": SECRET + "b"}))  # rotate
    keep(session_client.api("GET", URL))
    keep(session_client.api("GET", f"{URL}github/"))
    keep(session_client.get("/me/settings/connected-accounts"))
    keep(session_client.get("/me/settings/connected-accounts/github/connect"))
    keep(
        session_client.form(
            "/me/settings/connected-accounts/github", {"token": SECRET + "c"}, headers={"HX-Request": "true"}
        )
    )
    provider_mock.replace(responses.GET, "https://api.github.com/user", status=401, json={})
    keep(session_client.api("POST", f"{URL}github/", json={"token": SECRET + "d"}))  # refused
    keep(
        session_client.form(
            "/me/settings/connected-accounts/github", {"token": SECRET + "e"}, headers={"HX-Request": "true"}
        )
    )
    keep(session_client.api("DELETE", f"{URL}github/"))
    ciphertexts = [c.ciphertext for c in db.session.scalars(select(Credential))]
    everything = "\n".join(bodies) + "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert SECRET[4:] not in everything
    for ciphertext in ciphertexts:
        assert ciphertext not in everything


@pytest.mark.postgres
@pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="racing transactions need the PostgreSQL server that scripts/test.sh starts"
)
def test_racing_connects_leave_one_row(app: Any, session_client: SessionClient) -> None:
    from ppm.auth.models import User
    from ppm.integrations import services

    user_id = session_client.user.id
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                barrier.wait(timeout=10)
                services.connect(user, "generic", {"token": f"generic-{n}"})
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    db.session.expire_all()
    assert len(list(db.session.scalars(select(Credential)))) == 1
