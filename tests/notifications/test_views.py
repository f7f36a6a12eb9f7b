"""The Notifications section without JavaScript (plain forms and links, post-redirect-get) and
with htmx fragments: create shows the secret once, test, the log, disable and re-enable; CSRF
is required; members get 403."""

from __future__ import annotations

from flask import Flask

from ppm.extensions import db
from ppm.notifications.models import NotificationEvent, NotificationSubscription
from tests.conftest import Factory, SessionClient
from tests.notifications.conftest import drain, url_of
from tests.support.receiver import Receiver


def _admin(app: Flask, make: Factory) -> tuple[SessionClient, str]:
    owner = make.user(email="olga@example.com", name="Olga Owner")
    project_id = make.project(owner, "Apollo")
    return SessionClient(app.test_client(), owner).login(), project_id


def test_without_javascript(app: Flask, make: Factory, receiver: Receiver) -> None:
    client, project_id = _admin(app, make)
    base = f"/projects/{project_id}/integrations/notifications"
    page = client.get(f"/projects/{project_id}/integrations").get_data(as_text=True)
    assert 'id="notifications"' in page and "No subscriptions yet." in page

    bad = client.form(base, {"url": "https://127.0.0.1/x", "format": "standard", "events": ["task.state_changed"]})
    assert bad.status_code == 422
    assert "There is a problem" in bad.get_data(as_text=True) and 'aria-invalid="true"' in bad.get_data(as_text=True)

    created = client.form(
        base, {"url": url_of(receiver), "format": "standard", "events": ["task.state_changed", "link.status_changed"]}
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    text = created.get_data(as_text=True)
    row = db.session.scalars(db.select(NotificationSubscription)).one()
    assert row.events == ["link.status_changed", "task.state_changed"]
    assert 'id="notification-secret"' in text and "whsec_" in text
    again = client.get(f"/projects/{project_id}/integrations").get_data(as_text=True)
    assert "whsec_" not in again and url_of(receiver) in again  # shown once

    tested = client.form(f"{base}/{row.id}/test")
    assert tested.status_code == 303
    assert db.session.scalars(db.select(NotificationEvent)).one().type == "ping"
    drain()
    log = client.get(f"{base}/{row.id}/deliveries")
    assert log.status_code == 200 and "Delivered: HTTP 200" in log.get_data(as_text=True)

    confirm = client.get(f"{base}/{row.id}/disable").get_data(as_text=True)
    assert "Disable this subscription?" in confirm
    assert client.form(f"{base}/{row.id}/disable").status_code == 303
    db.session.expire_all()
    assert db.session.get(NotificationSubscription, row.id).enabled is False  # type: ignore[union-attr]
    assert client.form(f"{base}/{row.id}/enable").status_code == 303
    db.session.expire_all()
    assert db.session.get(NotificationSubscription, row.id).enabled is True  # type: ignore[union-attr]
    assert client.form(f"{base}/{row.id}/delete").status_code == 303
    assert db.session.scalars(db.select(NotificationSubscription)).all() == []


def test_htmx_fragments_announce(app: Flask, make: Factory, receiver: Receiver) -> None:
    client, project_id = _admin(app, make)
    base = f"/projects/{project_id}/integrations/notifications"
    hx = {"HX-Request": "true"}
    created = client.form(
        base, {"url": url_of(receiver), "format": "slack", "events": ["task.state_changed"]}, headers=hx
    )
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and 'id="notifications"' in text
    assert "Slack subscription created." in text and "<html" not in text
    row = db.session.scalars(db.select(NotificationSubscription)).one()
    disabled = client.form(f"{base}/{row.id}/disable", headers=hx).get_data(as_text=True)
    assert "Subscription disabled" in disabled and "Re-enable" in disabled


def test_csrf_and_roles(app: Flask, make: Factory, receiver: Receiver) -> None:
    client, project_id = _admin(app, make)
    base = f"/projects/{project_id}/integrations/notifications"
    no_token = client.client.post(base, data={"url": url_of(receiver), "events": ["task.state_changed"]})
    assert no_token.status_code in (400, 403)
    assert db.session.scalars(db.select(NotificationSubscription)).all() == []
    member = make.member(client.user, project_id, "member")
    member_client = SessionClient(app.test_client(), member).login()
    assert member_client.form(base, {"url": url_of(receiver), "events": ["task.state_changed"]}).status_code == 403
    page = member_client.get(f"/projects/{project_id}/integrations").get_data(as_text=True)
    assert 'id="notifications"' not in page
