"""Ereveld: the commemoration planner of the Soviet Field of Honour Foundation."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.extensions import babel, csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Keys a developer might paste from a tutorial; production refuses them.
DEVELOPMENT_KEYS = frozenset({"dev", "development", "secret", "changeme", "test"})


class ConfigurationError(RuntimeError):
    """The configuration cannot run safely; the message says what to change."""


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, commands, error pages."""
    # An absolute instance path: an installed package would otherwise look beside itself.
    instance_path = Path(os.environ.get("EREVELD_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=str(instance_path.resolve()),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _load_config(app, test_config)

    from app import models  # noqa: F401  (every table in the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    from app.i18n import select_locale

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "translations"),
    )

    from app import database

    database.install_sqlite_pragmas()

    from app.calendar.services import install_change_tracking

    install_change_tracking()

    from app.audit import tracking

    tracking.install()

    from app.auth import bp as auth_bp
    from app.calendar import bp as calendar_bp
    from app.ceremonies import bp as ceremonies_bp
    from app.contacts import bp as contacts_bp
    from app.main import bp as main_bp
    from app.public import bp as public_bp
    from app.settings import bp as settings_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(ceremonies_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(contacts_bp)

    from app.documents import bp as documents_bp

    app.register_blueprint(documents_bp)

    from app.audit import bp as audit_bp
    from app.privacy import bp as privacy_bp

    app.register_blueprint(audit_bp)
    app.register_blueprint(privacy_bp)

    from app.invitations.rsvp import bp as rsvp_bp

    app.register_blueprint(rsvp_bp)

    from app.invitations import bp as invitations_bp

    app.register_blueprint(invitations_bp)

    from app.mail import bp as mail_bp

    app.register_blueprint(mail_bp)

    from app.wreaths import bp as wreaths_bp

    app.register_blueprint(wreaths_bp)

    from app import cli, errors, maintenance, security, templating

    maintenance.register(app)
    security.register(app)

    from app import logs

    logs.configure(app)

    cli.register(app)
    errors.register(app)
    templating.register(app)
    return app


def _load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_object("app.config.Config")
    app.config.from_pyfile("config.py", silent=True)
    if "DATABASE_URL" in os.environ:
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if "SECRET_KEY" in os.environ:
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config.from_prefixed_env("EREVELD")
    if test_config is not None:
        app.config.from_mapping(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or (
        f"sqlite:///{Path(app.instance_path) / 'ereveld.sqlite'}"
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    _connection_timeouts(app)
    _ensure_secret_key(app)
    if app.config["ENV_NAME"] == "production":
        # Production is served over HTTPS (behind the proxy): cookies never travel in clear.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        # __Host- cookies: a browser keeps them only when Secure, for Path=/ and without
        # Domain, so no sibling subdomain can set or overwrite them (issue #12, Sec 11).
        for name in ("SESSION_COOKIE_NAME", "REMEMBER_COOKIE_NAME", "LOGIN_DEVICE_COOKIE"):
            value = str(app.config.get(name) or "remember_token")
            if not value.startswith("__Host-"):
                app.config[name] = "__Host-" + value
        app.config["SESSION_COOKIE_PATH"] = "/"
        app.config["SESSION_COOKIE_DOMAIN"] = None
        app.config["REMEMBER_COOKIE_PATH"] = "/"
        app.config["REMEMBER_COOKIE_DOMAIN"] = None
        if "EREVELD_LOG_FORMAT" not in os.environ:
            app.config["LOG_FORMAT"] = "json"


def _connection_timeouts(app: Flask) -> None:
    """A locked SQLite file or an unreachable PostgreSQL waits a bounded time, then fails
    (a friendly 503, app/errors.py) instead of holding the worker."""
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args") or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # The sqlite3 module's timeout is SQLite's busy_timeout.
        connect_args.setdefault("timeout", float(app.config["SQLITE_BUSY_TIMEOUT"]))
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        connect_args.setdefault("connect_timeout", int(app.config["DATABASE_CONNECT_TIMEOUT"]))
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever spelling the host gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _ensure_secret_key(app: Flask) -> None:
    """Use the configured key; in development generate one into instance/ once.

    Production refuses to start without a strong key of its own, so that sessions are
    never signed with a key that sits in a developer's checkout.
    """
    key_file = Path(app.instance_path) / "secret_key"
    key = app.config.get("SECRET_KEY")
    if app.config["ENV_NAME"] == "production":
        generated = key_file.read_text().strip() if key_file.exists() else None
        if not key or key in DEVELOPMENT_KEYS or len(key) < 32 or key == generated:
            raise ConfigurationError(
                "Production needs its own SECRET_KEY (at least 32 characters, not a "
                "development key): set the SECRET_KEY environment variable."
            )
        return
    if key:
        return
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()
