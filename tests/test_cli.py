"""The commands that scripts rely on, through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from app.auth.models import Role, User
from app.auth.services import authenticate
from app.ceremonies.models import Ceremony, CeremonySeries, CeremonyStatus, Venue
from app.extensions import db
from app.types import local_today


def count(model: type[object]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_seed_is_idempotent(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["ceremonies", "seed"])
    assert result.exit_code == 0, result.output
    assert "Seeded 4 venue(s) and 6 series." in result.output
    again = runner.invoke(args=["ceremonies", "seed"])
    assert "Seeded 0 venue(s) and 0 series." in again.output
    assert (count(Venue), count(CeremonySeries)) == (4, 6)


def test_seed_leaves_staff_edits_alone(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["ceremonies", "seed"])
    nine_may = db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == "9-mei"))
    assert nine_may is not None
    nine_may.title_en = "Day of Memory"
    db.session.commit()
    runner.invoke(args=["ceremonies", "seed"])
    db.session.refresh(nine_may)
    assert nine_may.title_en == "Day of Memory"


def test_schedule(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["ceremonies", "seed"])
    result = runner.invoke(args=["ceremonies", "schedule", "2027", "--publish"])
    assert result.exit_code == 0, result.output
    assert "6 created, 0 published, 0 unchanged." in result.output
    again = runner.invoke(args=["ceremonies", "schedule", "2027", "--publish"])
    assert "0 created, 0 published, 6 unchanged." in again.output
    statuses = set(db.session.scalars(sa.select(Ceremony.status)))
    assert statuses == {CeremonyStatus.PUBLISHED}


def test_schedule_refuses_a_bad_year(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["ceremonies", "schedule", "twenty"])
    assert result.exit_code == 2
    assert "twenty" in result.output
    assert runner.invoke(args=["ceremonies", "schedule", "1066"]).exit_code == 2


def test_schedule_reports_a_series_without_venue(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["ceremonies", "seed"])
    series = db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == "5-mei"))
    assert series is not None
    series.venue = None
    db.session.commit()
    result = runner.invoke(args=["ceremonies", "schedule", "2027"])
    assert result.exit_code == 1
    assert "has no default venue" in result.output
    assert count(Ceremony) == 0  # nothing half-made


def test_list_json(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["ceremonies", "seed"])
    runner.invoke(args=["ceremonies", "schedule", "2031"])
    runner.invoke(args=["ceremonies", "schedule", "2030"])
    result = runner.invoke(args=["ceremonies", "list", "--year", "2031", "--json"])
    assert result.exit_code == 0, result.output
    editions = json.loads(result.output)
    assert [e["slug"] for e in editions] == [
        "2031-koedriest",
        "2031-bloemen-3-mei",
        "2031-4-mei",
        "2031-5-mei",
        "2031-9-mei",
        "2031-lichtjes-24-december",
    ]
    four_may = editions[2]
    assert {
        "slug",
        "series",
        "title",
        "starts_at",
        "ends_at",
        "venue",
        "status",
        "anniversary",
        "warnings",
    } <= four_may.keys()
    assert four_may["series"] == "4-mei"
    assert four_may["title"] == {
        "nl": "Nationale Dodenherdenking",
        "en": "National Remembrance",
        "ru": "Национальный день памяти",
    }
    assert four_may["starts_at"] == "2031-05-04T18:45:00+02:00"
    assert four_may["status"] == "draft"
    assert four_may["anniversary"] == 86
    assert four_may["venue"] == "Sovjet Ereveld"
    assert len(four_may["warnings"]) == 1
    assert "Sunday" in four_may["warnings"][0]
    silence = next(i for i in four_may["programme"] if i["kind"] == "silence")
    assert silence["starts_at"] == "2031-05-04T20:00:00+02:00"
    assert silence["ends_at"] == "2031-05-04T20:02:00+02:00"
    everything = json.loads(runner.invoke(args=["ceremonies", "list", "--json"]).output)
    assert len(everything) == 12


def test_list_text(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["ceremonies", "seed"])
    runner.invoke(args=["ceremonies", "schedule", "2031"])
    output = runner.invoke(args=["ceremonies", "list", "--year", "2031"]).output
    assert "2031-05-04 18:45  draft      2031-4-mei" in output
    assert "[1 warning(s)]" in output


def test_users_create_from_stdin(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "Ada@Example.org", "--role", "admin", "--password-stdin"],
        input="a long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created ada@example.org (admin)." in result.output
    user = authenticate(db.session, "ada@example.org", "a long passphrase")
    assert user is not None
    assert user.role == Role.ADMIN
    assert user.password_hash.startswith("$argon2id$")


def test_users_create_refuses_bad_input(runner: FlaskCliRunner) -> None:
    short = runner.invoke(
        args=["users", "create", "a@example.org", "--role", "viewer", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 1
    assert "at least 8" in short.output
    bad_email = runner.invoke(
        args=["users", "create", "not-an-email", "--role", "viewer", "--password-stdin"],
        input="long enough pw\n",
    )
    assert bad_email.exit_code == 1
    assert "Not a valid email address" in bad_email.output
    bad_role = runner.invoke(
        args=["users", "create", "a@example.org", "--role", "king", "--password-stdin"],
        input="long enough pw\n",
    )
    assert bad_role.exit_code == 2
    runner.invoke(
        args=["users", "create", "a@example.org", "--role", "viewer", "--password-stdin"],
        input="long enough pw\n",
    )
    twice = runner.invoke(
        args=["users", "create", "A@example.org", "--role", "viewer", "--password-stdin"],
        input="long enough pw\n",
    )
    assert twice.exit_code == 1
    assert "exists already" in twice.output
    assert count(User) == 1


def test_dev_login(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["users", "dev-login"])
    assert first.exit_code == 0
    assert first.output.startswith("Log in as admin@example.org with password ")
    password = first.output.split()[-1]
    assert authenticate(db.session, "admin@example.org", password) is not None
    assert (Path(app.instance_path) / "dev-login.txt").stat().st_mode & 0o077 == 0
    assert runner.invoke(args=["users", "dev-login"]).output == first.output
    assert count(User) == 1


def test_dev_login_is_refused_in_production(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["users", "dev-login"])
    assert result.exit_code == 1
    assert count(User) == 0


def test_dev_login_with_existing_accounts(runner: FlaskCliRunner) -> None:
    runner.invoke(
        args=["users", "create", "a@example.org", "--role", "admin", "--password-stdin"],
        input="long enough pw\n",
    )
    result = runner.invoke(args=["users", "dev-login"])
    assert "Log in with your own account" in result.output
    assert count(User) == 1


def test_demo(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    year = local_today().year
    assert f"Demo ready: 12 editions in {year} and {year + 1}." in result.output
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert count(Ceremony) == 12
    statuses = set(db.session.scalars(sa.select(Ceremony.status)))
    assert statuses == {CeremonyStatus.PUBLISHED}


def test_check_reports_development_settings(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "PUBLIC_BASE_URL is not an https:// address" in result.output
    assert "TRUSTED_HOSTS is not set" in result.output
    assert "No SMTP server" in result.output
    assert "No IMAP server" in result.output


def test_check_passes_a_production_configuration(app: Flask, runner: FlaskCliRunner) -> None:
    app.config.update(
        ENV_NAME="production",
        PUBLIC_BASE_URL="https://ereveld.example",
        TRUSTED_HOSTS=["ereveld.example"],
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db.example/ereveld",
        MAIL_SERVER="smtp.example",
        IMAP_SERVER="imap.example",
        REPLY_AUTHSERV_ID="mx.sovjetereveld.nl",
        MAIL_FROM_ADDRESS="info@sovjetereveld.nl",
        MAIL_PROTOCOL_ADDRESS="protocol@sovjetereveld.nl",
        PROXY_FIX_X_FOR=1,
    )
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "ready for production" in result.output
    # Maintenance mode left on after a restore: every visitor gets 503.
    assert runner.invoke(args=["maintenance", "on"]).exit_code == 0
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "Maintenance mode is on" in result.output
    assert runner.invoke(args=["maintenance", "off"]).exit_code == 0


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SESSION_LIFETIME", 31 * 86400),
        ("SESSION_LIFETIME", 0),
        ("SESSION_IDLE_TIMEOUT", 86400),
        ("SESSION_IDLE_TIMEOUT", None),
    ],
)
def test_check_names_staff_sessions_that_last_too_long(
    app: Flask, runner: FlaskCliRunner, setting: str, value: int | None
) -> None:
    """Issue #12, Security 8: sessions lasted 31 days."""
    assert app.config["SESSION_IDLE_TIMEOUT"] == 3 * 3600
    assert app.config["SESSION_LIFETIME"] == 12 * 3600
    assert "SESSION_" not in runner.invoke(args=["check"]).output
    app.config[setting] = value
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert f"- {setting} is" in result.output
