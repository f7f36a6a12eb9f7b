"""Configuration, instance secrets, security headers and cookies (SPEC §11, issue 2)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ppm import ConfigurationError, create_app
from tests.conftest import SessionClient


def test_production_refuses_to_start_without_keys(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("PPM_ENV", "production")
    with pytest.raises(ConfigurationError) as error:
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                "SECRET_KEY": None,
                "INTEGRATION_ENCRYPTION_KEY": None,
            }
        )
    message = str(error.value)
    assert "SECRET_KEY" in message and "INTEGRATION_ENCRYPTION_KEY" in message


def test_production_refuses_without_encryption_key_only(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("PPM_ENV", "production")
    with pytest.raises(ConfigurationError, match="INTEGRATION_ENCRYPTION_KEY"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                "SECRET_KEY": "set",
                "INTEGRATION_ENCRYPTION_KEY": None,
            }
        )


def test_production_with_keys_sets_secure_cookies(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("PPM_ENV", "production")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "s", "INTEGRATION_ENCRYPTION_KEY": "k"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_development_generates_secrets_once_with_mode_0600(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.delenv("PPM_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("INTEGRATION_ENCRYPTION_KEY", raising=False)

    def build() -> Flask:
        return create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "SECRET_KEY": None,
                "INTEGRATION_ENCRYPTION_KEY": None,
            }
        )

    first = build()
    second = build()
    for name in ("secret_key", "integration_encryption_key"):
        path = tmp_path / "instance" / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] and first.config["SECRET_KEY"]
    assert first.config["INTEGRATION_ENCRYPTION_KEY"] == second.config["INTEGRATION_ENCRYPTION_KEY"]


def test_default_database_is_sqlite_in_instance_folder(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": None,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "s",
            "INTEGRATION_ENCRYPTION_KEY": "k",
        }
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/instance/ppm.sqlite3"


def test_host_lists_accept_comma_separated_strings(tmp_path: Path) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "SECRET_KEY": "s",
            "INTEGRATION_ENCRYPTION_KEY": "k",
            "INTEGRATION_ALLOWED_HOSTS": "GitLab.Example.org, ghe.example.com",
            "EGRESS_ALLOWLISTED_HOSTS": ["Internal.Example."],
        }
    )
    assert app.config["INTEGRATION_ALLOWED_HOSTS"] == ["gitlab.example.org", "ghe.example.com"]
    assert app.config["EGRESS_ALLOWLISTED_HOSTS"] == ["internal.example"]


@pytest.mark.parametrize("path", ["/login", "/api/v1/projects/", "/static/css/app.css", "/nowhere"])
def test_security_headers_on_every_response(client: Any, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "style-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_pages_have_no_inline_script_or_style(session_client: SessionClient, make: Any) -> None:
    project_id = make.project(session_client.user)
    for path in [
        "/projects/",
        f"/projects/{project_id}/schedule",
        f"/projects/{project_id}/members",
        f"/projects/{project_id}/integrations",
        "/me/settings/api-tokens",
    ]:
        html = session_client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script " not in html.replace('<script src="', "")
        assert "style=" not in html and "<style" not in html
        assert 'name="csrf-token"' in html
        assert "hx-headers" in html and "X-CSRFToken" in html


def test_htmx_is_vendored_with_its_version_in_the_file_name(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert "/static/vendor/htmx-2.0." in html
    response = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert response.status_code == 200 and b"htmx" in response.data
    response.close()


def test_base_layout_landmarks(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert 'id="live-region"' in html and 'aria-live="polite"' in html
    assert 'id="alert-region"' in html and 'role="alert"' in html
