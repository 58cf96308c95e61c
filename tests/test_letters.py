"""Invitation letters and cards: content per language, links, batches, progress."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.models import Appointment, AppointmentRole, Organisation, OrganisationKind, Person
from app.documents.jobs import wait
from app.extensions import db
from app.invitations.models import Invitation, InvitationKind, InvitationStatus
from app.invitations.tokens import invitation_for_token
from tests import pdf_tools

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def invited(edition: Callable[..., Ceremony]) -> list[Invitation]:
    ceremony = edition("9-mei", 2031)
    ceremony.cohosts = "De burgemeester van Leusden en de Stichting Sovjet Ereveld"
    ceremony.dress_code = "Tenue de ville"
    kazakhstan = Organisation(
        name="Embassy of the Republic of Kazakhstan",
        name_ru="Посольство Республики Казахстан",
        kind=OrganisationKind.EMBASSY,
        country="KZ",
        address="Prinsessegracht 1\n2514 AP Den Haag",
    )
    ambassador = Person(
        given_name="Nurlan",
        family_name="Sarsenbayev",
        native_name="Нұрлан Сәрсенбаев",
        honorific_ru="Его Превосходительство",
        honorific_en="H.E.",
        language="ru",
    )
    leusden = Organisation(
        name="Gemeente Leusden", kind=OrganisationKind.MUNICIPALITY, country="NL"
    )
    mayor = Person(given_name="Anna", family_name="de Vries", honorific_nl="Mevrouw", language="nl")
    db.session.add_all(
        [
            kazakhstan,
            ambassador,
            leusden,
            mayor,
            Appointment(
                person=ambassador,
                organisation=kazakhstan,
                role=AppointmentRole.AMBASSADOR,
                taken_up_at=datetime(2024, 3, 6, 10, 0, tzinfo=AMS),
            ),
            Appointment(person=mayor, organisation=leusden, role=AppointmentRole.MAYOR),
        ]
    )
    invitations = [
        Invitation(
            ceremony=ceremony,
            organisation=kazakhstan,
            addressee=ambassador,
            language="ru",
            rsvp_deadline=date(2031, 4, 25),
        ),
        Invitation(
            ceremony=ceremony,
            organisation=leusden,
            addressee=mayor,
            language="nl",
            kind=InvitationKind.REGRETS_ONLY,
            rsvp_deadline=date(2031, 4, 25),
        ),
    ]
    db.session.add_all(invitations)
    db.session.commit()
    return invitations


def test_preview_letter_in_the_invitations_language(
    client: FlaskClient, login: Callable[[Role], User], invited: list[Invitation], tmp_path: Path
) -> None:
    login(Role.VIEWER)
    response = client.get(f"/staff/invitations/{invited[0].id}/letter.pdf")
    assert response.status_code == 200
    text = " ".join(pdf_tools.text(response.data, tmp_path).split())
    for words in (
        "Его Превосходительство",
        "Nurlan Sarsenbayev",
        "Нұрлан Сәрсенбаев",
        "Посольство Республики Казахстан",
        "День Победы и памяти",
        "86-я годовщина",
        "9 мая 2031",
        "11:00",
        "Tenue de ville",
        "25 апреля 2031",
    ):
        assert words in text, words
    assert "/rsvp/" not in text
    dutch = pdf_tools.text(
        client.get(f"/staff/invitations/{invited[1].id}/letter.pdf").data, tmp_path
    )
    assert "Mevrouw" in dutch
    assert "Regrets only" not in dutch  # translated for a Dutch letter
    card = client.get(f"/staff/invitations/{invited[1].id}/letter.pdf?layout=card").data
    assert pdf_tools.info(card, tmp_path)["Page size"].startswith("297.638 x 419.528")  # A6


def test_send_by_command(runner: FlaskCliRunner, invited: list[Invitation], tmp_path: Path) -> None:
    out = tmp_path / "letters"
    result = runner.invoke(args=["documents", "letters", "2031-9-mei", "--out", str(out), "--send"])
    assert result.exit_code == 0, result.output
    assert "2 letters and combined.pdf written" in result.output
    files = sorted(p.name for p in out.iterdir())
    assert files[-1] == "combined.pdf"
    assert len(files) == 3
    assert pdf_tools.info((out / "combined.pdf").read_bytes(), tmp_path)["Pages"] == "2"
    db.session.rollback()
    tokens = []
    for name in files[:-1]:
        text = pdf_tools.text((out / name).read_bytes(), tmp_path)
        token = re.search(r"/rsvp/([A-Za-z0-9_-]{43})", text.replace("\n", ""))
        assert token is not None, text
        tokens.append(token.group(1))
        assert invitation_for_token(db.session, token.group(1)) is not None
    statuses = set(db.session.scalars(sa.select(Invitation.status)))
    assert statuses == {InvitationStatus.SENT}
    again = runner.invoke(args=["documents", "letters", "2031-9-mei", "--out", str(out), "--send"])
    assert "No invitation needs a letter." in again.output
    reissued = runner.invoke(
        args=[
            "documents",
            "letters",
            "2031-9-mei",
            "--out",
            str(tmp_path / "again"),
            "--send",
            "--reissue",
        ]
    )
    assert reissued.exit_code == 0, reissued.output
    db.session.rollback()
    assert all(invitation_for_token(db.session, token) is None for token in tokens)


def test_preview_by_command_changes_nothing(
    runner: FlaskCliRunner, invited: list[Invitation], tmp_path: Path
) -> None:
    result = runner.invoke(
        args=["documents", "letters", "2031-9-mei", "--out", str(tmp_path), "--layout", "card"]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert set(db.session.scalars(sa.select(Invitation.status))) == {InvitationStatus.DRAFT}
    assert (
        runner.invoke(args=["documents", "letters", "nope", "--out", str(tmp_path)]).exit_code == 1
    )


def test_batch_on_the_web(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    invited: list[Invitation],
    tmp_path: Path,
) -> None:
    app.config["LETTER_JOBS_INLINE"] = False  # the real thing: a thread and a progress page
    login(Role.PLANNER)
    page = client.get("/staff/ceremonies/2031-9-mei/letters")
    assert page.status_code == 200
    started = client.post(
        "/staff/ceremonies/2031-9-mei/letters", data={"layout": "letter", "action": "send"}
    )
    assert started.status_code == 302
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    status = wait(app, job_id)
    assert status is not None
    assert status.finished
    assert status.error == ""
    progress = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "letters.zip" in progress
    # Closed as a server closes it: the file is streamed from disk.
    with client.get(f"/staff/letter-jobs/{job_id}/letters.zip") as archive:
        assert archive.headers["Cache-Control"] == "no-store"
        with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
            names = bundle.namelist()
    assert len(names) == 3
    assert "combined.pdf" in names
    assert client.get(f"/staff/letter-jobs/{job_id}/../secret").status_code == 404
    assert client.get("/staff/letter-jobs/" + "x" * 22).status_code == 404
    # The letters that were sent carry live links: each download is audited, and a viewer
    # who was given the address gets nothing.
    db.session.rollback()
    downloads = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "letters.downloaded")
    ).all()
    assert [d.changes["file"] for d in downloads] == ["letters.zip"]
    assert client.post("/logout").status_code == 302
    login(Role.VIEWER)
    assert client.get(f"/staff/letter-jobs/{job_id}/letters.zip").status_code == 403
    assert client.get(f"/staff/letter-jobs/{job_id}/combined.pdf").status_code == 403


def test_viewers_cannot_send(
    client: FlaskClient, login: Callable[[Role], User], invited: list[Invitation]
) -> None:
    login(Role.VIEWER)
    response = client.post(
        "/staff/ceremonies/2031-9-mei/letters", data={"layout": "letter", "action": "send"}
    )
    assert response.status_code == 403


def test_bad_form_keeps_the_page(
    client: FlaskClient, login: Callable[[Role], User], invited: list[Invitation]
) -> None:
    login(Role.PLANNER)
    response = client.post(
        "/staff/ceremonies/2031-9-mei/letters", data={"layout": "poster", "action": "send"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page or "has-error" in page
    assert 'value="poster"' not in page  # refused, not kept as a choice


@pytest.mark.parametrize("layout", ["letter", "card"])
def test_the_qr_code_opens_the_personal_page(
    runner: FlaskCliRunner, invited: list[Invitation], tmp_path: Path, layout: str
) -> None:
    out = tmp_path / "letters"
    result = runner.invoke(
        args=["documents", "letters", "2031-9-mei", "--out", str(out), "--send", "--layout", layout]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()
    for path in sorted(out.glob("0*.pdf")):
        pdf = path.read_bytes()
        assert pdf_tools.info(pdf, tmp_path)["Pages"] == "1"  # the longest texts still fit
        # On one line: a link broken at a hyphen of its token reads as another link.
        printed = re.search(
            r"https?://[a-z0-9.:-]+/rsvp/[A-Za-z0-9_-]{43}", pdf_tools.text(pdf, tmp_path)
        )
        assert printed is not None
        assert pdf_tools.qr_codes(pdf, tmp_path) == [printed.group(0)]
        invitation = invitation_for_token(db.session, printed.group(0).rsplit("/", 1)[1])
        assert invitation is not None
        assert f"{invitation.id:05d}-" in path.name


def test_a_preview_has_no_code(
    client: FlaskClient, login: Callable[[Role], User], invited: list[Invitation], tmp_path: Path
) -> None:
    login(Role.VIEWER)
    pdf = client.get(f"/staff/invitations/{invited[0].id}/letter.pdf").data
    assert pdf_tools.qr_codes(pdf, tmp_path) == []


def test_letters_are_set_in_three_faces_of_one_family(
    client: FlaskClient, login: Callable[[Role], User], invited: list[Invitation], tmp_path: Path
) -> None:
    """Noto Serif LGC (static/fonts/), embedded and subset: regular, bold and italic."""
    login(Role.VIEWER)
    for invitation in invited:
        pdf = client.get(f"/staff/invitations/{invitation.id}/letter.pdf").data
        fonts = pdf_tools.fonts(pdf, tmp_path)
        faces = sorted(row[0].split("+", 1)[1] for row in fonts)
        assert faces == ["Noto-Serif-LGC", "Noto-Serif-LGC-Bold", "Noto-Serif-LGC-Italic"]
        for row in fonts:
            assert row[-5:-2] == ["yes", "yes", "yes"], row  # embedded, subset, unicode


def test_a_name_in_another_script_takes_an_installed_font(
    client: FlaskClient,
    login: Callable[[Role], User],
    invited: list[Invitation],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The letters' fonts hold Latin, Greek and Cyrillic; an Armenian or Georgian name
    takes a serif font of the system that has its letters (fontconfig's choice), embedded
    like the others, and no glyph is missing."""
    ambassador = invited[0].addressee
    assert ambassador is not None
    ambassador.native_name = "Արմեն Սարգսյան · ნინო · Αλέξανδρος"
    db.session.commit()
    login(Role.VIEWER)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = client.get(f"/staff/invitations/{invited[0].id}/letter.pdf").data
    assert not [r for r in caplog.records if "notdef" in r.getMessage()]
    assert "Արմեն Սարգսյան · ნინო · Αλέξανδρος" in " ".join(pdf_tools.text(pdf, tmp_path).split())
    fonts = pdf_tools.fonts(pdf, tmp_path)
    assert len(fonts) > 3  # a face beside the three of the letter
    for row in fonts:
        assert row[-5:-2] == ["yes", "yes", "yes"], row
