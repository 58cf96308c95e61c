"""Invitation letters and cards: content per language, links, batches, progress."""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, Host
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
)
from app.documents import jobs
from app.documents.jobs import read_status, wait
from app.extensions import db
from app.invitations.models import Invitation, InvitationKind, InvitationStatus
from app.invitations.tokens import invitation_for_token
from tests import pdf_tools

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def invited(edition: Callable[..., Ceremony]) -> list[Invitation]:
    ceremony = edition("9-mei", 2031)
    ceremony.hosts = [
        Host(
            name="A. Smits",
            function_nl="burgemeester van Leusden",
            function_en="Mayor of Leusden",
            function_ru="мэр Лёйсдена",
        ),
        Host(
            function_nl="directeur van de Stichting Sovjet Ereveld",
            function_en="Director of the Soviet Field of Honour Foundation",
            function_ru="директор Фонда «Советское военное кладбище»",
        ),
    ]
    ceremony.dress_code_nl = "Donker kostuum"
    ceremony.dress_code_ru = "Тёмный костюм"
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
        gender=Gender.MALE,
        language="ru",
    )
    leusden = Organisation(
        name="Gemeente Leusden", kind=OrganisationKind.MUNICIPALITY, country="NL"
    )
    mayor = Person(given_name="Anna", family_name="de Vries", gender=Gender.FEMALE, language="nl")
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
        # The address block in the dative, the salutation, no Latin name beside.
        "Его Превосходительству господину Нұрлану Сәрсенбаеву",
        "Чрезвычайному и Полномочному Послу Республики Казахстан",
        "Посольство Республики Казахстан",
        "Уважаемый господин Посол!",
        "День Победы и памяти",
        "86-я годовщина",
        "9 мая 2031",
        "11:00",
        "Мэр Лёйсдена и директор Фонда «Советское военное кладбище» имеют честь",
        "Тёмный костюм",
        "25 апреля 2031",
    ):
        assert words in text, words
    assert "/rsvp/" not in text
    assert "Sarsenbayev" not in text
    dutch = pdf_tools.text(
        client.get(f"/staff/invitations/{invited[1].id}/letter.pdf").data, tmp_path
    )
    assert "De edelachtbare vrouwe Anna de Vries" in dutch
    assert "Geachte mevrouw De Vries," in dutch
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
            str(invited[0].id),
            "--reissue",
            "gemeente leusden",
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
    # A Russian letter prints no native name that is not Cyrillic: staff's own address
    # block carries these scripts here.
    ambassador.address_for_edit("ru").address_block = "Արմեն Սարգսյան · ნინო · Αλέξανδρος"
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


# --- a batch cut short: marked sent only with its letter on disk (issue #12, DS2/DS4) ------

BATCH = 31
SLUG = "2031-9-mei"


@pytest.fixture
def thirty_one(edition: Callable[..., Ceremony]) -> list[Invitation]:
    ceremony = edition("9-mei", 2031)
    invitations = [
        Invitation(
            ceremony=ceremony,
            organisation=Organisation(
                name=f"Organisation {number:02d}", kind=OrganisationKind.EMBASSY, country="KZ"
            ),
            addressee=Person(given_name="Guest", family_name=f"Number {number:02d}"),
            language=("nl", "en", "ru")[number % 3],
            rsvp_deadline=date(2031, 4, 25),
        )
        for number in range(BATCH)
    ]
    db.session.add_all(invitations)
    db.session.commit()
    return invitations


def command_env(app: Flask) -> dict[str, str]:
    """The real `flask` command on this test's database, committing every three letters."""
    return {
        **os.environ,
        "FLASK_APP": "app",
        "EREVELD_INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "EREVELD_LETTER_RENDER_WORKERS": "2",
        "EREVELD_LETTER_CHUNK_SIZE": "2",
        "EREVELD_LETTER_RENDER_NICE": "0",
        "EREVELD_LETTER_COMMIT_EVERY": "3",
    }


FLASK = str(Path(sys.executable).with_name("flask"))
SEND = [FLASK, "documents", "letters", SLUG, "--send", "--out"]


def letters_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("0*.pdf"))


def printed_token(path: Path, tmp_path: Path) -> str:
    text = pdf_tools.text(path.read_bytes(), tmp_path).replace("\n", "")
    found = re.search(r"/rsvp/([A-Za-z0-9_-]{43})", text)
    assert found is not None, path
    return found.group(1)


def children(pid: int) -> list[int]:
    """The process's children, whichever of its threads started them."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def wait_gone(pids: list[int], timeout: float = 30) -> None:
    """Until the processes have ended (a zombie counts as ended)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                break
            if state in ("Z", "X"):
                break
            time.sleep(0.02)


def wait_for_letters(
    folders: Callable[[], Iterable[Path]], count: int, process: subprocess.Popen[Any] | None
) -> None:
    """Until one of the folders holds ``count`` letters; the batch's process (when it runs
    in one of its own) must stay alive meanwhile."""
    deadline = time.monotonic() + 120
    while not any(len(letters_in(folder)) >= count for folder in folders()):
        if process is not None:
            assert process.poll() is None, process.returncode
        assert time.monotonic() < deadline
        time.sleep(0.005)


def check_sent_only_with_letters(out: Path, tmp_path: Path) -> dict[int, str]:
    """Every invitation marked sent has its letter, whose link opens it; no other has a
    live link (a letter written but not yet committed prints a link that opens nothing).
    Returns the token hashes of those sent."""
    db.session.rollback()
    files = {int(p.name[:5]): p for p in letters_in(out)}
    sent: dict[int, str] = {}
    for invitation in db.session.scalars(sa.select(Invitation)):
        path = files.get(invitation.id)
        if invitation.status == InvitationStatus.SENT:
            assert path is not None, invitation.organisation.name
            assert invitation_for_token(db.session, printed_token(path, tmp_path)) == invitation
            assert invitation.token_hash is not None
            sent[invitation.id] = invitation.token_hash
        else:
            assert invitation.status == InvitationStatus.DRAFT
            assert invitation.token_hash is None
            if path is not None:
                assert invitation_for_token(db.session, printed_token(path, tmp_path)) is None
    return sent


def check_rerun_finishes(
    command: list[str], env: dict[str, str], out: Path, before: dict[int, str], tmp_path: Path
) -> None:
    """Running the command again sends the rest; the links sent before stay as they were."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{BATCH - len(before)} letters and combined.pdf written" in done.stdout
    assert check_sent_only_with_letters(out, tmp_path).items() >= before.items()
    assert len(letters_in(out)) == BATCH
    assert [p.name for p in out.iterdir() if p.name.startswith(".") or ".tmp" in p.name] == []


def test_a_killed_send_marks_only_the_letters_on_disk(
    app: Flask, thirty_one: list[Invitation], tmp_path: Path
) -> None:
    """SIGKILL of `flask documents letters --send` after letter 9 of 31: only invitations
    whose letter is on disk count as sent; running it again does the other 22."""
    out = tmp_path / "letters"
    env = command_env(app)
    process = subprocess.Popen([*SEND, str(out)], env=env, stdout=subprocess.DEVNULL)
    wait_for_letters(lambda: [out], 9, process)
    workers = children(process.pid)
    process.kill()
    process.wait()
    wait_gone(workers)  # a worker may finish the letter it was writing
    sent = check_sent_only_with_letters(out, tmp_path)
    assert 0 < len(sent) < BATCH
    check_rerun_finishes([*SEND, str(out)], env, out, sent, tmp_path)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[list[str], Path, Path]]:
    """A tmpfs of its own (in a user and mount namespace, so no root is needed): the
    command prefix that runs there, the mount point as this process reaches it, and as
    the command sees it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    holder = subprocess.Popen(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         'mount -t tmpfs -o size=16m tmpfs "$0" && exec sleep 600', str(mount)],
        stderr=subprocess.PIPE,
    )  # fmt: skip
    seen = Path(f"/proc/{holder.pid}/root") / str(mount).lstrip("/")
    try:
        deadline = time.monotonic() + 10
        while True:
            if holder.poll() is not None:
                pytest.skip(f"no tmpfs in a namespace here: {holder.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                stat = os.statvfs(seen)
                if stat.f_blocks * stat.f_frsize <= 16 * 1024 * 1024:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.02)
        enter = ["nsenter", f"--target={holder.pid}", "--user", "--mount", "--preserve-credentials"]
        yield enter, seen, mount
    finally:
        holder.kill()
        holder.communicate()


def fill(disk: Path) -> Path:
    """Take every free byte of the file system, as another program would."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    return filler


def test_a_full_disk_marks_only_the_letters_on_disk(
    app: Flask,
    thirty_one: list[Invitation],
    small_disk: tuple[list[str], Path, Path],
    tmp_path: Path,
) -> None:
    """The disk fills up after letter 9 of 31: the command says what happened and why,
    exits non-zero, and only invitations whose letter is on disk count as sent."""
    enter, seen, mount = small_disk
    command = [*enter, *SEND, str(mount / "letters")]
    env = command_env(app)
    process = subprocess.Popen(
        command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_for_letters(lambda: [seen / "letters"], 9, process)
    filler = fill(seen)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stdout
    out = seen / "letters"
    sent = check_sent_only_with_letters(out, tmp_path)
    assert 0 < len(sent) < BATCH
    message = " ".join(stderr.split())
    assert (
        f"{len(sent)} of {BATCH} letters written and marked sent; {BATCH - len(sent)} not sent;"
        " cause: No space left on device; run again to finish." in message
    )
    assert [p.name for p in out.iterdir() if p.name.startswith(".") or ".tmp" in p.name] == []
    filler.unlink()
    check_rerun_finishes(command, env, out, sent, tmp_path)


def test_reissue_changes_only_the_chosen_links(
    app: Flask, runner: FlaskCliRunner, thirty_one: list[Invitation], tmp_path: Path
) -> None:
    out = tmp_path / "letters"
    assert (
        runner.invoke(args=["documents", "letters", SLUG, "--send", "--out", str(out)]).exit_code
        == 0
    )
    db.session.rollback()
    before = {i.id: i.token_hash for i in db.session.scalars(sa.select(Invitation))}
    chosen = [thirty_one[4], thirty_one[20]]
    again = tmp_path / "again"
    result = runner.invoke(
        args=["documents", "letters", SLUG, "--send", "--out", str(again),
              "--reissue", str(chosen[0].id), "--reissue", "guest number 20"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 letters and combined.pdf written" in result.output
    db.session.rollback()
    after = {i.id: i.token_hash for i in db.session.scalars(sa.select(Invitation))}
    assert {i for i in before if before[i] != after[i]} == {c.id for c in chosen}
    assert {int(p.name[:5]) for p in letters_in(again)} == {c.id for c in chosen}
    for path in letters_in(again):
        assert invitation_for_token(db.session, printed_token(path, tmp_path)) is not None
    # An invitation that has been answered keeps its link, and the command says so.
    answered = db.session.get(Invitation, thirty_one[7].id)
    assert answered is not None
    answered.status = InvitationStatus.ACCEPTED
    db.session.commit()
    result = runner.invoke(
        args=["documents", "letters", SLUG, "--send", "--out", str(again),
              "--reissue", str(thirty_one[7].id)]
    )  # fmt: skip
    assert "it has been answered; its link stays." in result.output
    assert "No invitation needs a letter." in result.output
    # A name that matches nothing (or several) changes nothing and says so.
    for wrong in ("Nobody", "guest"):
        refused = runner.invoke(
            args=["documents", "letters", SLUG, "--send", "--out", str(again), "--reissue", wrong]
        )
        assert refused.exit_code == 1
        assert wrong in refused.output
    db.session.rollback()
    assert {i.id: i.token_hash for i in db.session.scalars(sa.select(Invitation))} == after


def sent_tokens() -> dict[int, str]:
    db.session.rollback()
    return {
        i.id: i.token_hash
        for i in db.session.scalars(sa.select(Invitation))
        if i.status == InvitationStatus.SENT and i.token_hash is not None
    }


def check_failed_job(
    app: Flask, client: FlaskClient, job_id: str, page: str, tmp_path: Path
) -> dict[int, str]:
    """The page says how many letters went out and why not the rest, offers to start
    again and the letters that count as sent (exactly those); no scraps are left."""
    sent = sent_tokens()
    assert 0 < len(sent) < BATCH
    text = " ".join(page.split())
    assert (
        f"{len(sent)} of {BATCH} letters written and marked sent; {BATCH - len(sent)} not sent;"
        in text
    )
    assert "run again to finish" in text
    assert "Start again" in text
    folder = jobs.jobs_dir(app) / job_id
    scraps = [
        p.name
        for p in folder.rglob("*")
        if p.name.endswith(".tmp") or p.name.startswith(".printer-") or p.name == "letters"
    ]
    assert scraps == []
    with client.get(f"/staff/letter-jobs/{job_id}/letters.zip") as archive:
        assert archive.status_code == 200
        with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
            assert {int(name[:5]) for name in bundle.namelist()} == set(sent)
            for name in bundle.namelist():
                (tmp_path / name).write_bytes(bundle.read(name))
                token = printed_token(tmp_path / name, tmp_path)
                found = invitation_for_token(db.session, token)
                assert found is not None
                assert found.id == int(name[:5])
    return sent


def start_again(app: Flask, client: FlaskClient, page: str, before: dict[int, str]) -> None:
    """The page's button sends the rest; the letters sent before keep their links."""
    assert 'name="action" value="send"' in page
    app.config["LETTER_JOBS_INLINE"] = True
    again = client.post(
        f"/staff/ceremonies/{SLUG}/letters", data={"layout": "letter", "action": "send"}
    )
    assert again.status_code == 302
    status = read_status(app, again.headers["Location"].rsplit("/", 1)[1])
    assert status is not None
    assert status.error == ""
    assert status.total == BATCH - len(before)
    after = sent_tokens()
    assert len(after) == BATCH
    assert after.items() >= before.items()


def render_workers() -> list[int]:
    return [
        pid
        for pid in children(os.getpid())
        if "render_worker.py" in Path(f"/proc/{pid}/cmdline").read_text()
    ]


def test_a_web_send_cut_short_says_what_happened(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    thirty_one: list[Invitation],
    tmp_path: Path,
) -> None:
    """Its render workers are killed after letter 9 of 31: only the invitations whose
    letters were written count as sent, and the page says so."""
    app.config.update(
        LETTER_JOBS_INLINE=False,
        LETTER_RENDER_WORKERS=2,
        LETTER_CHUNK_SIZE=2,
        LETTER_RENDER_NICE=0,
        LETTER_COMMIT_EVERY=3,
    )
    login(Role.PLANNER)
    started = client.post(
        f"/staff/ceremonies/{SLUG}/letters", data={"layout": "letter", "action": "send"}
    )
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    output = jobs.jobs_dir(app) / job_id / "letters"
    wait_for_letters(lambda: [output], 9, None)
    for pid in render_workers():
        os.kill(pid, signal.SIGKILL)
    status = wait(app, job_id)
    assert status is not None
    assert status.error == "RenderError"
    page = client.get(f"/staff/letter-jobs/{job_id}?lang=en").get_data(as_text=True)
    assert "a render worker ended unexpectedly" in page
    before = check_failed_job(app, client, job_id, page, tmp_path)
    start_again(app, client, page, before)


# Runs one sending batch as a web worker's thread would, in a process of its own.
BATCH_PROCESS = """
import sys
import sqlalchemy as sa
from app import create_app
from app.ceremonies.models import Ceremony
from app.documents.jobs import start_job
from app.documents.letters import send_by_letter
from app.extensions import db

app = create_app({"LETTER_JOBS_INLINE": True})
with app.app_context(), app.test_request_context():
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == sys.argv[1]))
    mailing = send_by_letter(db.session, ceremony)
    pairs = [(letter.invitation.id, letter.url) for letter in mailing.letters]
    start_job(app, pairs, "letter", sys.argv[1], nonces=mailing.nonces)
"""


def test_a_batch_whose_process_died_shows_failed(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    thirty_one: list[Invitation],
    tmp_path: Path,
) -> None:
    """The process running a web batch is killed (as a web worker restarted or killed
    by the system): within the render timeout its page shows it failed, with what was
    sent and a button to start again, and nothing of it is left lying about."""
    timeout = 30  # seconds: more than a letter takes on a machine loaded by other suites
    app.config["LETTER_RENDER_TIMEOUT"] = timeout
    env = command_env(app) | {"EREVELD_LETTER_RENDER_TIMEOUT": str(timeout)}
    process = subprocess.Popen(
        [sys.executable, "-c", BATCH_PROCESS, SLUG], env=env, stdout=subprocess.DEVNULL
    )
    root = jobs.jobs_dir(app)
    wait_for_letters(lambda: root.glob("*/letters"), 9, process)
    workers = children(process.pid)
    process.kill()
    process.wait()
    wait_gone(workers)
    killed = time.monotonic()
    (folder,) = [f for f in root.iterdir() if f.is_dir()]
    login(Role.PLANNER)
    address = f"/staff/letter-jobs/{folder.name}?lang=en"
    while 'role="alert"' not in (page := client.get(address).get_data(as_text=True)):
        assert 'role="status"' in page  # still rendering, as far as anyone can tell
        assert time.monotonic() < killed + timeout + 5
        time.sleep(0.2)
    assert "the process making the letters stopped" in page
    before = check_failed_job(app, client, folder.name, page, tmp_path)
    start_again(app, client, page, before)


def test_two_sends_at_once_print_each_link_once(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    invited: list[Invitation],
    tmp_path: Path,
) -> None:
    """Send pressed twice: the second batch, planned before the first had sent anything,
    waits its turn and then prints nothing (a letter of it would carry a dead link)."""
    app.config.update(LETTER_JOBS_INLINE=False, LETTER_JOBS_AT_ONCE=1)
    login(Role.PLANNER)
    jobs_started = [
        client.post(
            "/staff/ceremonies/2031-9-mei/letters", data={"layout": "letter", "action": "send"}
        )
        .headers["Location"]
        .rsplit("/", 1)[1]
        for _ in range(2)
    ]
    statuses = [wait(app, job_id) for job_id in jobs_started]
    assert [(s.error, s.finished) for s in statuses if s is not None] == [("", True)] * 2
    assert sorted(s.total for s in statuses if s is not None) == [0, 2]
    (first,) = [j for j, s in zip(jobs_started, statuses, strict=True) if s and s.total == 2]
    with client.get(f"/staff/letter-jobs/{first}/letters.zip") as archive:
        data = archive.data
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        for name in bundle.namelist():
            if name != "combined.pdf":
                (tmp_path / name).write_bytes(bundle.read(name))
                token = printed_token(tmp_path / name, tmp_path)
                assert invitation_for_token(db.session, token) is not None


def test_the_web_reissues_only_the_chosen_invitations(
    client: FlaskClient, login: Callable[[Role], User], invited: list[Invitation]
) -> None:
    login(Role.PLANNER)
    address = "/staff/ceremonies/2031-9-mei/letters"
    assert client.post(address, data={"action": "send", "layout": "letter"}).status_code == 302
    before = sent_tokens()
    assert len(before) == 2
    refused = client.post(
        address, data={"action": "send", "layout": "letter", "reissue": "Gemeente Leusden\nNobody"}
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Nobody" in page.split("</textarea>")[0].rsplit("<textarea", 1)[1]  # kept
    assert 'aria-invalid="true"' in page
    assert sent_tokens() == before
    again = client.post(
        address, data={"action": "send", "layout": "letter", "reissue": " gemeente leusden \n"}
    )
    assert again.status_code == 302
    after = sent_tokens()
    assert {i for i in before if before[i] != after[i]} == {invited[1].id}
