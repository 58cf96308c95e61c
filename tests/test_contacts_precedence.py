"""Diplomatic precedence: computed as of a date, by DOMAIN.md (Vienna Convention)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from app.contacts.models import AppointmentRole as R
from app.contacts.precedence import precedence
from app.contacts.services import ContactError, local_moment
from app.extensions import db
from tests.contacts_data import appoint


def order(on: str) -> list[str]:
    return [
        h.appointment.person.family_name for h in precedence(db.session, date.fromisoformat(on))
    ]


def domain_example() -> None:
    """DOMAIN.md's example, entered in a scrambled order."""
    appoint("Embassy E", "E", R.AMBASSADOR, "2024-06-12")
    appoint("Embassy F", "F", R.CHARGE_AD_INTERIM, "2025-01-15")
    appoint("Embassy B", "B", R.AMBASSADOR, "2023-02-01T10:00")
    appoint("Embassy J", "J", R.REPRESENTATIVE)
    appoint("Embassy H", "H", R.CHARGE_EN_PIED, "2020-05-01")
    appoint("Embassy A", "A", R.AMBASSADOR, "2021-09-08")
    appoint("Embassy G", "G", R.CHARGE_AD_INTERIM, "2024-10-03")
    appoint("Embassy C", "C", R.AMBASSADOR, "2023-02-01T09:15")
    appoint("Embassy D", "D", R.AMBASSADOR, "2019-11-20", resident=False)
    appoint("Embassy I", "I", R.AMBASSADOR, "2018-03-14")
    db.session.commit()


def test_the_example_of_the_domain(app: Flask) -> None:
    domain_example()
    ranked = precedence(db.session, date(2025, 5, 9))
    assert [h.appointment.person.family_name for h in ranked] == list("IDACBEHGFJ")
    assert [h.rank for h in ranked] == list(range(1, 11))
    assert [h.class_ for h in ranked] == [1, 1, 1, 1, 1, 1, 3, 4, 4, 5]
    assert [h.is_dean for h in ranked] == [True] + [False] * 9
    assert ranked[0].appointment.organisation.name == "Embassy I"


def test_same_day_credentials_are_ordered_by_time(app: Flask) -> None:
    # Entered latest first, names in reverse alphabetical order: only the time decides.
    appoint("Embassy of Aland", "Zeta", R.AMBASSADOR, "2023-02-01T11:30")
    appoint("Embassy of Bergen", "Yota", R.AMBASSADOR, "2023-02-01T10:00")
    appoint("Embassy of Corvo", "Xi", R.AMBASSADOR, "2023-02-01T09:15")
    appoint("Embassy of Delos", "Omega", R.AMBASSADOR, "2023-02-01")  # a date: 00:00
    db.session.commit()
    assert order("2023-06-01") == ["Omega", "Xi", "Yota", "Zeta"]


def test_the_manual_tie_break_decides_between_equal_moments(app: Flask) -> None:
    appoint("Embassy of Aland", "First", R.AMBASSADOR, "2023-02-01T10:00", tie_break=5)
    appoint("Embassy of Bergen", "Second", R.AMBASSADOR, "2023-02-01T10:00", tie_break=-1)
    db.session.commit()
    assert order("2023-06-01") == ["Second", "First"]


def test_every_class_follows_the_one_before_whatever_the_dates(app: Flask) -> None:
    appoint("Embassy 1", "NewAmbassador", R.AMBASSADOR, "2025-03-01T10:00")
    appoint("Embassy 2", "OldEnvoy", R.ENVOY, "2001-01-01")
    appoint("Embassy 3", "OldChargeEnPied", R.CHARGE_EN_PIED, "2000-01-01")
    appoint("Embassy 4", "OldChargeAI", R.CHARGE_AD_INTERIM, "1999-01-01")
    appoint("Embassy 5", "OldRepresentative", R.REPRESENTATIVE, "1990-01-01")
    appoint("Embassy 6", "AnotherAmbassador", R.AMBASSADOR, "2025-04-01")
    db.session.commit()
    assert order("2025-05-09") == [
        "NewAmbassador",
        "AnotherAmbassador",
        "OldEnvoy",
        "OldChargeEnPied",
        "OldChargeAI",
        "OldRepresentative",
    ]


def test_appointments_not_valid_on_the_date_do_not_count(app: Flask) -> None:
    appoint("Embassy Past", "Gone", R.AMBASSADOR, "2015-01-01", valid_to="2025-05-08")
    appoint("Embassy Last", "LastDay", R.AMBASSADOR, "2016-01-01", valid_to="2025-05-09")
    appoint("Embassy Future", "Coming", R.AMBASSADOR, "2014-01-01", valid_from="2025-05-10")
    appoint("Embassy Now", "Here", R.AMBASSADOR, "2020-01-01", valid_from="2025-05-09")
    db.session.commit()
    assert order("2025-05-09") == ["LastDay", "Here"]
    assert order("2025-05-10") == ["Coming", "Here"]
    assert order("2025-05-08") == ["Gone", "LastDay"]


def test_an_ambassador_designate_is_not_ranked_as_head_of_mission(app: Flask) -> None:
    # Valid from today, but the King accepts the credentials only next week.
    appoint("Embassy X", "Designate", R.AMBASSADOR, "2025-05-14T10:00", valid_from="2025-05-01")
    # Until then the chargé a.i. heads the mission.
    appoint("Embassy X", "Interim", R.CHARGE_AD_INTERIM, "2025-03-01", valid_to="2025-05-14")
    appoint("Embassy Y", "NoCredentials", R.AMBASSADOR, None, valid_from="2025-05-01")
    appoint("Embassy Z", "Sitting", R.AMBASSADOR, "2022-01-01")
    db.session.commit()
    ranked = precedence(db.session, date(2025, 5, 9))
    assert [h.appointment.person.family_name for h in ranked] == ["Sitting", "Interim"]
    assert [h.class_ for h in ranked] == [1, 4]
    # On the day of the credentials the new ambassador ranks, and the embassy once.
    assert order("2025-05-14") == ["Sitting", "Designate"]


def test_non_resident_ambassadors_rank_the_same(app: Flask) -> None:
    appoint("Embassy Brussels 1", "Brussels1", R.AMBASSADOR, "2019-01-01", resident=False)
    appoint("Embassy Hague 1", "Hague1", R.AMBASSADOR, "2020-01-01")
    appoint("Embassy Brussels 2", "Brussels2", R.AMBASSADOR, "2021-01-01", resident=False)
    appoint("Embassy Hague 2", "Hague2", R.AMBASSADOR, "2018-01-01")
    db.session.commit()
    ranked = precedence(db.session, date(2025, 5, 9))
    assert [h.appointment.person.family_name for h in ranked] == [
        "Hague2",
        "Brussels1",
        "Hague1",
        "Brussels2",
    ]
    assert [h.appointment.organisation.resident for h in ranked] == [True, False, True, False]


def test_a_non_resident_ambassador_can_be_the_dean(app: Flask) -> None:
    appoint("Embassy Brussels", "Doyen", R.AMBASSADOR, "2010-01-01", resident=False)
    appoint("Embassy Hague", "Younger", R.AMBASSADOR, "2020-01-01")
    db.session.commit()
    ranked = precedence(db.session, date(2025, 5, 9))
    assert [(h.appointment.person.family_name, h.is_dean) for h in ranked] == [
        ("Doyen", True),
        ("Younger", False),
    ]


def test_the_dean_is_the_first_ambassador_and_changes_when_they_leave(app: Flask) -> None:
    appoint("Embassy Old", "Longest", R.AMBASSADOR, "2010-01-01", valid_to="2025-06-30")
    appoint("Embassy New", "Next", R.AMBASSADOR, "2012-01-01")
    db.session.commit()
    assert [h.is_dean for h in precedence(db.session, date(2025, 6, 30))] == [True, False]
    after = precedence(db.session, date(2025, 7, 1))
    assert [(h.appointment.person.family_name, h.is_dean) for h in after] == [("Next", True)]


def test_without_an_ambassador_there_is_no_dean(app: Flask) -> None:
    appoint("Embassy 1", "Envoy", R.ENVOY, "2010-01-01")
    appoint("Embassy 2", "Interim", R.CHARGE_AD_INTERIM, "2011-01-01")
    db.session.commit()
    assert [h.is_dean for h in precedence(db.session, date(2025, 5, 9))] == [False, False]


def test_other_roles_are_not_in_the_corps(app: Flask) -> None:
    appoint("Embassy 1", "Consul", R.CONSUL, "2010-01-01")
    appoint("Gemeente Leusden", "Mayor", R.MAYOR, "2010-01-01")
    appoint("Embassy 2", "Ambassador", R.AMBASSADOR, "2015-01-01")
    db.session.commit()
    assert order("2025-05-09") == ["Ambassador"]


def test_a_mission_is_ranked_once_by_its_best_appointment(app: Flask) -> None:
    appoint("Embassy 1", "Attache", R.REPRESENTATIVE, "2024-01-01")
    appoint("Embassy 1", "Head", R.AMBASSADOR, "2023-01-01")
    appoint("Embassy 2", "OtherAttache", R.REPRESENTATIVE)
    db.session.commit()
    assert order("2025-05-09") == ["Head", "OtherAttache"]


def test_a_date_alone_is_midnight_in_amsterdam(app: Flask) -> None:
    # 00:00 in Amsterdam on 9 May is 22:00 UTC on 8 May: the date must not slip.
    appoint("Embassy 1", "Midnight", R.AMBASSADOR, "2025-05-09")
    db.session.commit()
    ranked = precedence(db.session, date(2025, 5, 9))
    assert ranked[0].appointment.taken_up_at == datetime(2025, 5, 8, 22, 0, tzinfo=UTC)
    assert order("2025-05-08") == []


def test_local_times_the_clock_skips_or_repeats_are_refused() -> None:
    with pytest.raises(ContactError, match="does not exist"):
        local_moment("2026-03-29T02:30")
    with pytest.raises(ContactError, match="happens twice"):
        local_moment("2026-10-25T02:30")
    with pytest.raises(ContactError, match="not an ISO 8601"):
        local_moment("2025-02-30")
    assert local_moment("2026-03-29T03:00") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert local_moment("2026-01-15T10:00:00+03:00") == datetime(2026, 1, 15, 7, tzinfo=UTC)


# --- the command --------------------------------------------------------------------


def test_precedence_command_json(runner: FlaskCliRunner) -> None:
    domain_example()
    result = runner.invoke(args=["contacts", "precedence", "--date", "2025-05-09", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["person"] for r in rows] == list("IDACBEHGFJ")
    first = rows[0]
    assert {"rank", "organisation", "country", "person", "role", "taken_up_at"} <= set(first)
    assert (first["rank"], first["role"], first["dean"]) == (1, "ambassador", True)
    assert first["taken_up_at"] == "2018-03-14T00:00:00+01:00"
    assert rows[3]["taken_up_at"] == "2023-02-01T09:15:00+01:00"
    assert rows[-1]["taken_up_at"] is None
    assert [r["rank"] for r in rows] == list(range(1, 11))


def test_precedence_command_text_and_bad_date(runner: FlaskCliRunner) -> None:
    domain_example()
    result = runner.invoke(args=["contacts", "precedence", "--date", "2025-05-09"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "10 mission(s)" in lines[0]
    assert "(dean)" in lines[1]
    assert " I - Embassy I" in lines[1]
    assert "(dean)" not in result.output.split("\n", 2)[2]
    bad = runner.invoke(args=["contacts", "precedence", "--date", "2025-02-30"])
    assert bad.exit_code == 2
    assert "2025-02-30" in bad.output
