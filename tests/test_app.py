"""Configuration, secret keys and the health check."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import ConfigurationError, create_app, normalise_database_url


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "instance"
    monkeypatch.setenv("EREVELD_INSTANCE_PATH", str(path))
    for name in ("DATABASE_URL", "SECRET_KEY", "EREVELD_ENV_NAME"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_development_key_is_generated_once(instance: Path) -> None:
    first = create_app()
    key = first.config["SECRET_KEY"]
    assert len(key) == 64
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0
    assert create_app().config["SECRET_KEY"] == key
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'ereveld.sqlite'}"


def test_environment_overrides(instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/ereveld")
    monkeypatch.setenv("EREVELD_MAX_CONTENT_LENGTH", "1024")
    app = create_app()
    assert app.config["SECRET_KEY"] == "k" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/ereveld"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024
    assert not (instance / "secret_key").exists()


def test_instance_config_file(instance: Path) -> None:
    instance.mkdir()
    (instance / "config.py").write_text('SECRET_KEY = "from-the-instance-file-0123456789abcd"\n')
    assert create_app().config["SECRET_KEY"] == "from-the-instance-file-0123456789abcd"


@pytest.mark.parametrize("key", [None, "dev", "short-key", "changeme"])
def test_production_refuses_development_keys(instance: Path, key: str | None) -> None:
    config = {"ENV_NAME": "production"} | ({"SECRET_KEY": key} if key else {})
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(config)


def test_production_refuses_the_generated_key(instance: Path) -> None:
    generated = create_app().config["SECRET_KEY"]
    with pytest.raises(ConfigurationError):
        create_app({"ENV_NAME": "production", "SECRET_KEY": generated})


def test_production_accepts_its_own_key(instance: Path) -> None:
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "p" * 48})
    assert app.config["SECRET_KEY"] == "p" * 48


def test_database_url_spellings() -> None:
    assert normalise_database_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_without_database(instance: Path, tmp_path: Path) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db", "TESTING": True}
    )
    with app.app_context():
        response = app.test_client().get("/healthz")
        from app.extensions import db

        db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_healthz_without_the_schema(instance: Path, tmp_path: Path) -> None:
    """A database that answers but holds no tables (a botched restore) is not healthy;
    nor is one whose tables are there but whose revision is not this code's."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.sqlite", "TESTING": True}
    )
    from app.extensions import db

    with app.app_context():
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert "no schema" in response.get_json()["database"]

        db.create_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('0001')")
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert "flask db upgrade" in response.get_json()["database"]

        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE audit_entry")
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert "audit_entry" in response.get_json()["database"]
        db.engine.dispose()


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)
