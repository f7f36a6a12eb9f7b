"""ppm: a self-hostable project-portfolio app. `create_app` is the only way in."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config_for_environment


class ConfigurationError(RuntimeError):
    """The app cannot start safely with this configuration."""


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    overrides = dict(config or {})
    # The instance folder holds the SQLite file and generated secrets; movable for tests and ops.
    instance = overrides.get("INSTANCE_PATH") or os.environ.get("PPM_INSTANCE_PATH")
    app = Flask(__name__, instance_path=os.path.abspath(instance) if instance else None, instance_relative_config=True)
    # /api/v1/projects and /api/v1/projects/ are the same route; `//` is not silently merged.
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.config.from_object(config_for_environment(overrides.get("PPM_ENV")))
    app.config.update(overrides)
    if int(app.config.get("PROXY_HOPS") or 0) > 0:
        hops = int(app.config["PROXY_HOPS"])  # the client address limits are keyed on
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    _normalize_config(app)
    _ensure_secrets(app)
    _ensure_database_uri(app)
    from ppm.operability import init_operability, prepare_config

    prepare_config(app)
    _init_extensions(app)
    _register_blueprints(app)
    _subscribe_listeners()
    _register_cli(app)
    from ppm.templating import init_templating

    init_templating(app)
    _register_handlers(app)
    from ppm.webperf import init_web_performance

    init_web_performance(app)  # gzip and long-lived versioned static files (issue #15)
    init_operability(app)  # last: its middleware wraps the whole app, gzip too
    logging.getLogger("ppm").setLevel(logging.INFO)
    return app


def _normalize_config(app: Flask) -> None:
    for key in ("INTEGRATION_ALLOWED_HOSTS", "EGRESS_ALLOWLISTED_HOSTS", "NOTIFY_ALLOWLISTED_HOSTS"):
        value = app.config.get(key) or []
        if isinstance(value, str):
            value = value.split(",")
        app.config[key] = [str(h).strip().lower().rstrip(".") for h in value if str(h).strip()]


def _instance_secret(app: Flask, filename: str, make: Any) -> str:
    """Read a secret from the instance folder, generating it once with mode 0600."""
    path = Path(app.instance_path) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def _ensure_secrets(app: Flask) -> None:
    production = app.config["ENV_NAME"] == "production"
    missing = [k for k in ("SECRET_KEY", "INTEGRATION_ENCRYPTION_KEY") if not app.config.get(k)]
    if production and missing:
        raise ConfigurationError(
            "ppm refuses to start in production without "
            + " and ".join(missing)
            + ". Set them in the environment (see README: Configuration)."
        )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app, "secret_key", lambda: os.urandom(32).hex())
    if not app.config.get("INTEGRATION_ENCRYPTION_KEY"):
        app.config["INTEGRATION_ENCRYPTION_KEY"] = _instance_secret(
            app, "integration_encryption_key", lambda: Fernet.generate_key().decode()
        )


def _ensure_database_uri(app: Flask) -> None:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = "sqlite:///" + str(Path(app.instance_path) / "ppm.sqlite3")
    elif uri.startswith("postgres://") or uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.split("://", 1)[1]  # psycopg 3 is our driver
    app.config["SQLALCHEMY_DATABASE_URI"] = uri


def _init_extensions(app: Flask) -> None:
    # Every model module, so metadata (create_all, migrations) always knows the whole schema.
    import ppm.auth.models
    import ppm.automations.models
    import ppm.integrations.models
    import ppm.links.models
    import ppm.notifications.models
    import ppm.projects.models
    import ppm.webhooks.models  # noqa: F401
    from ppm.projects import numbering

    numbering.install()
    from ppm.auth.guard import init_auth
    from ppm.extensions import csrf, db, limiter, migrate

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    init_auth(app)  # before the limiter: who is asking is settled first (401 before 429)
    limiter.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_pragmas(app)


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    from ppm import sqlite_locking
    from ppm.extensions import db

    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        sqlite_locking.install(app, db.engine)


def _register_blueprints(app: Flask) -> None:
    from ppm.auth.views import bp as auth_bp
    from ppm.automations.api import bp as automations_api
    from ppm.automations.views import bp as automations_bp
    from ppm.integrations.api import bp as integrations_api
    from ppm.integrations.views import bp as integrations_bp
    from ppm.jobs.api import bp as jobs_api
    from ppm.jobs.views import bp as jobs_bp
    from ppm.links.api import bp as links_api
    from ppm.links.views import bp as links_bp
    from ppm.notifications.api import bp as notifications_api
    from ppm.notifications.views import bp as notifications_bp
    from ppm.portfolio.api import bp as portfolio_api
    from ppm.portfolio.views import bp as portfolio_bp
    from ppm.projects.api import bp as projects_api
    from ppm.projects.views import bp as projects_bp
    from ppm.schedule.api import bp as tasks_api
    from ppm.schedule.views import bp as schedule_bp
    from ppm.sync.api import bp as sync_api
    from ppm.webhooks.api import bp as webhooks_api
    from ppm.webhooks.views import bp as webhooks_bp

    for blueprint in (
        auth_bp,
        projects_bp,
        projects_api,
        schedule_bp,
        integrations_bp,
        integrations_api,
        links_api,
        links_bp,
        tasks_api,
        sync_api,
        jobs_api,
        jobs_bp,
        webhooks_api,
        webhooks_bp,
        automations_api,
        automations_bp,
        notifications_api,
        notifications_bp,
        portfolio_bp,
        portfolio_api,
    ):
        app.register_blueprint(blueprint)
    from ppm.automations.services import init_automations

    init_automations()  # listens for links' "link changed" (SPEC §21)


def _subscribe_listeners() -> None:
    """The rooms above links and projects hear their events (ppm.events) from app start."""
    from ppm.notifications.listeners import subscribe as notifications

    notifications()


def _register_cli(app: Flask) -> None:
    from ppm.cli import ppm_cli

    app.cli.add_command(ppm_cli)


def _register_handlers(app: Flask) -> None:
    from ppm.errors import register_error_handlers

    register_error_handlers(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["ENV_NAME"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.status_code == 429 and "Retry-After" not in headers:
            headers["Retry-After"] = "60"
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response
