"""Letter batches in render worker processes: every invitation its own correct PDF, the
printer's PDF in order, failures of a worker as clear errors (never a hang), and the web
rendering one batch at a time."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.models import Organisation, OrganisationKind, Person
from app.documents import jobs
from app.documents.jobs import read_status, render_slot, start_job, wait
from app.documents.letters import Letter, PrinterCopy, chunk_sizes, render_letters
from app.documents.pdf import Chunk, write_chunk
from app.documents.services import renderer
from app.documents.workers import RenderError, RenderPool
from app.extensions import db
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.tokens import invitation_for_token
from tests import pdf_tools

COUNT = 5  # with a chunk of one letter: five chunks over two workers, in any order
NAMES = ["Ådne Øyen", "Мария Иванова", "Jan de Vries", "Nurlan Sarsenbayev", "Zoë Dupont"]


@pytest.fixture
def parallel(app: Flask) -> Flask:
    app.config.update(LETTER_RENDER_WORKERS=2, LETTER_CHUNK_SIZE=1, LETTER_RENDER_NICE=0)
    return app


@pytest.fixture
def many(edition: Callable[..., Ceremony]) -> list[Invitation]:
    ceremony = edition("9-mei", 2031)
    invitations = []
    for number, name in enumerate(NAMES):
        given, _, family = name.rpartition(" ")
        invitations.append(
            Invitation(
                ceremony=ceremony,
                organisation=Organisation(
                    name=f"Organisation {number} {family}",
                    kind=OrganisationKind.EMBASSY,
                    country="KZ",
                ),
                addressee=Person(given_name=given, family_name=family, language="en"),
                language=("nl", "en", "ru")[number % 3],
                rsvp_deadline=date(2031, 4, 25),
            )
        )
    db.session.add_all(invitations)
    db.session.commit()
    return invitations


def flat(pdf: bytes, tmp_path: Path) -> str:
    return " ".join(pdf_tools.text(pdf, tmp_path).split())


def check_letters(files: dict[str, bytes], tmp_path: Path) -> list[str]:
    """Each invitation's file names its own addressee and nobody else's; returns tokens."""
    invitations = list(db.session.scalars(sa.select(Invitation).order_by(Invitation.id)))
    assert len(files) == len(invitations) == COUNT
    tokens = []
    for invitation in invitations:
        (name,) = [n for n in files if n.startswith(f"{invitation.id:05d}-")]
        text = flat(files[name], tmp_path)
        assert invitation.addressee is not None
        own = invitation.addressee.full_name
        assert own in text, (name, text)
        assert not [other for other in NAMES if other != own and other in text]
        assert invitation.organisation.name in text
        assert pdf_tools.info(files[name], tmp_path)["Tagged"] == "yes"
        token = re.search(r"/rsvp/([A-Za-z0-9_-]{43})", text.replace(" ", ""))
        if token is not None:
            assert invitation_for_token(db.session, token.group(1)) == invitation
            tokens.append(token.group(1))
    return tokens


def check_combined(pdf: bytes, tmp_path: Path) -> None:
    """One page per letter, in the invitations' order."""
    assert pdf_tools.info(pdf, tmp_path)["Pages"] == str(COUNT)
    pages = pdf_tools.text(pdf, tmp_path).split("\f")
    for page, name in zip(pages, NAMES, strict=False):
        assert name in " ".join(page.split())


def test_command_renders_in_workers(
    parallel: Flask, runner: FlaskCliRunner, many: list[Invitation], tmp_path: Path
) -> None:
    out = tmp_path / "letters"
    result = runner.invoke(args=["documents", "letters", "2031-9-mei", "--out", str(out), "--send"])
    assert result.exit_code == 0, result.output
    assert f"{COUNT} letters and combined.pdf written" in result.output
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no scraps
    db.session.rollback()
    files = {p.name: p.read_bytes() for p in out.glob("0*.pdf")}
    assert len(set(check_letters(files, tmp_path))) == COUNT
    check_combined((out / "combined.pdf").read_bytes(), tmp_path)


def test_the_real_command_starts_its_workers(
    parallel: Flask, many: list[Invitation], tmp_path: Path
) -> None:
    """Under the `flask` script, as an operator runs it: the workers never re-run it."""
    out = tmp_path / "letters"
    env = {
        **os.environ,
        "FLASK_APP": "app",
        "EREVELD_INSTANCE_PATH": parallel.instance_path,
        "DATABASE_URL": parallel.config["SQLALCHEMY_DATABASE_URI"],
        "EREVELD_LETTER_RENDER_WORKERS": "2",
        "EREVELD_LETTER_CHUNK_SIZE": "2",
    }
    flask = str(Path(sys.executable).with_name("flask"))
    done = subprocess.run(
        [flask, "documents", "letters", "2031-9-mei", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{COUNT} letters and combined.pdf written" in done.stdout
    files = {p.name: p.read_bytes() for p in out.glob("0*.pdf")}
    check_letters(files, tmp_path)
    check_combined((out / "combined.pdf").read_bytes(), tmp_path)


def test_in_this_process_without_workers(
    app: Flask, runner: FlaskCliRunner, many: list[Invitation], tmp_path: Path
) -> None:
    app.config.update(LETTER_RENDER_WORKERS=0, LETTER_CHUNK_SIZE=2)
    out = tmp_path / "letters"
    result = runner.invoke(args=["documents", "letters", "2031-9-mei", "--out", str(out)])
    assert result.exit_code == 0, result.output
    check_letters({p.name: p.read_bytes() for p in out.glob("0*.pdf")}, tmp_path)
    check_combined((out / "combined.pdf").read_bytes(), tmp_path)


def test_workers_print_what_this_process_prints(
    parallel: Flask, many: list[Invitation], tmp_path: Path
) -> None:
    """Same pages, pixel for pixel, from the workers as from the web process, for every
    letter and the printer's PDF."""
    letters = [Letter(invitation, None) for invitation in many]
    with parallel.test_request_context():
        ours = render_letters(letters, "letter", tmp_path / "workers")
        parallel.config["LETTER_RENDER_WORKERS"] = 0
        here = render_letters(letters, "letter", tmp_path / "here")
    for mine, theirs in zip([*ours.each, ours.combined], [*here.each, here.combined], strict=True):
        assert mine.name == theirs.name
        drawn = pdf_tools.raster(mine.read_bytes(), tmp_path)
        assert drawn == pdf_tools.raster(theirs.read_bytes(), tmp_path), mine.name
        assert pdf_tools.fonts(mine.read_bytes(), tmp_path) == pdf_tools.fonts(
            theirs.read_bytes(), tmp_path
        )


def test_web_batch_renders_in_workers(
    parallel: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    many: list[Invitation],
    tmp_path: Path,
) -> None:
    parallel.config["LETTER_JOBS_INLINE"] = False
    login(Role.PLANNER)
    started = client.post(
        "/staff/ceremonies/2031-9-mei/letters", data={"layout": "letter", "action": "send"}
    )
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    status = wait(parallel, job_id)
    assert status is not None
    assert (status.finished, status.error, status.done) == (True, "", COUNT)
    url = f"/staff/letter-jobs/{job_id}/letters.zip"
    with client.get(url) as archive, zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        files = {name: bundle.read(name) for name in bundle.namelist()}
    combined = files.pop("combined.pdf")
    db.session.rollback()
    assert len(set(check_letters(files, tmp_path))) == COUNT
    check_combined(combined, tmp_path)
    with client.get(f"/staff/letter-jobs/{job_id}/combined.pdf") as download:
        assert download.data == combined
    assert not (jobs.jobs_dir(parallel) / job_id / "letters").exists()  # only the ZIP stays


def broken_chunk(tmp_path: Path) -> Chunk:
    """HTML without the letter anchors: the worker cannot split it and says so."""
    return Chunk(
        html="<html><head><meta charset=utf-8></head><body><p>x</p></body></html>",
        title="t",
        lang="nl",
        each=[str(tmp_path / "a.pdf")],
    )


def good_chunks(app: Flask, tmp_path: Path, count: int) -> Iterator[Chunk]:
    html = (
        "<html><head><meta charset=utf-8></head><body>"
        '<section class=letter id=letter-0 lang="nl"><p>Een brief</p></section></body></html>'
    )
    for number in range(count):
        yield Chunk(html, "t", "nl", [str(tmp_path / f"{number}.pdf")])


@pytest.fixture
def pool(app: Flask) -> Iterator[RenderPool]:
    own = RenderPool(Path(str(app.static_folder)), 2, timeout=30)
    yield own
    own.close()


def test_a_worker_exception_fails_the_batch(app: Flask, pool: RenderPool, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="KeyError"):
        pool.run(iter([broken_chunk(tmp_path)]), lambda path: None)
    assert pool.run(good_chunks(app, tmp_path, 3), lambda path: None) == 3  # fresh workers


def test_a_dying_worker_fails_the_batch(app: Flask, pool: RenderPool, tmp_path: Path) -> None:
    def kill_them(path: str) -> None:
        for worker in pool._workers:
            worker.process.kill()

    with pytest.raises(RenderError, match="ended unexpectedly"):
        pool.run(good_chunks(app, tmp_path, 6), kill_them)
    assert pool.run(good_chunks(app, tmp_path, 2), lambda path: None) == 2


def test_a_hanging_worker_fails_the_batch(app: Flask, pool: RenderPool, tmp_path: Path) -> None:
    pool.timeout = 1

    def stop_them(path: str) -> None:
        for worker in pool._workers:
            os.kill(worker.process.pid, signal.SIGSTOP)

    started = time.monotonic()
    with pytest.raises(RenderError, match="no progress for 1 s"):
        pool.run(good_chunks(app, tmp_path, 6), stop_them)
    assert time.monotonic() - started < 20
    assert all(w.process.poll() is not None for w in pool._workers) or not pool._workers


def test_idle_workers_end(app: Flask, tmp_path: Path) -> None:
    pool = RenderPool(Path(str(app.static_folder)), 1, idle_seconds=0.2)
    pool.run(good_chunks(app, tmp_path, 1), lambda path: None)
    (worker,) = pool._workers
    worker.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while pool._workers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool._workers == []


def test_a_failing_web_batch_says_so(
    parallel: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    many: list[Invitation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.documents import letters

    monkeypatch.setattr(letters, "letters_html", lambda *args: "<p>no anchors</p>")
    login(Role.PLANNER)
    started = client.post(
        "/staff/ceremonies/2031-9-mei/letters", data={"layout": "letter", "action": "preview"}
    )
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    status = read_status(parallel, job_id)
    assert status is not None
    assert status.finished
    assert status.error == "RenderError"
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "RenderError" in page
    assert 'role="alert"' in page


def test_the_web_renders_one_batch_at_a_time(
    parallel: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    many: list[Invitation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parallel.config["LETTER_JOBS_INLINE"] = False
    pairs = [(i.id, None) for i in many]
    running = 0
    most = 0
    counting = threading.Lock()
    real = render_letters

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal running, most
        with counting:
            running += 1
            most = max(most, running)
        try:
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with counting:
                running -= 1

    monkeypatch.setattr(jobs, "render_letters", counted)
    with render_slot(parallel):  # a batch of another web worker is rendering
        first = start_job(parallel, pairs, "letter", "2031-9-mei")
        second = start_job(parallel, pairs, "card", "2031-9-mei")
        time.sleep(1)
        for job_id in (first, second):
            status = read_status(parallel, job_id)
            assert status is not None
            assert (status.queued, status.finished, status.done) == (True, False, 0)
        login(Role.VIEWER)
        page = client.get(f"/staff/letter-jobs/{second}").get_data(as_text=True)
        assert 'http-equiv="refresh"' in page
        assert "Wacht tot een andere partij brieven klaar is" in page  # queued, in Dutch
        assert "<progress" not in page
    for job_id in (first, second):
        status = wait(parallel, job_id)
        assert status is not None
        assert (status.finished, status.error, status.queued) == (True, "", False)
    assert most == 1
    db.session.rollback()
    assert set(db.session.scalars(sa.select(Invitation.status))) == {InvitationStatus.DRAFT}


def two_letters_one_long(tmp_path: Path) -> Chunk:
    """A first letter that runs over onto a second page, then a short one."""
    long = "".join(f"<p>Regel {number} van de eerste brief.</p>" for number in range(120))
    html = (
        "<html><head><meta charset=utf-8></head><body>"
        f'<section class=letter id=letter-0 lang="nl">{long}<p>Einde eerste</p></section>'
        '<section class=letter id=letter-1 lang="nl"><p>De tweede brief</p></section>'
        "</body></html>"
    )
    return Chunk(html, "t", "nl", [str(tmp_path / "first.pdf"), str(tmp_path / "second.pdf")])


@pytest.mark.parametrize("where", ["workers", "here"])
def test_a_letter_over_two_pages_keeps_both(
    app: Flask, pool: RenderPool, tmp_path: Path, where: str
) -> None:
    """Its anchor is on both pages: the letter starts on the first of them."""
    chunk = two_letters_one_long(tmp_path)
    written: list[str] = []
    if where == "workers":
        pages = pool.run(iter([chunk]), written.append)
    else:
        with app.test_request_context():
            pages = write_chunk(renderer(), chunk, written.append)
    assert written == chunk.each
    first = (tmp_path / "first.pdf").read_bytes()
    second = (tmp_path / "second.pdf").read_bytes()
    assert pages - 1 > 1  # the first letter really ran over
    assert pdf_tools.info(first, tmp_path)["Pages"] == str(pages - 1)
    text = " ".join(pdf_tools.text(first, tmp_path).split())
    assert "Regel 0 van" in text
    assert "Einde eerste" in text
    assert "tweede" not in text
    # (and the page number of the plain page style)
    assert " ".join(pdf_tools.text(second, tmp_path).split()).startswith("De tweede brief")


def test_chunks_shrink_towards_the_end_of_a_batch() -> None:
    for workers in range(5):
        for total in range(120):
            sizes = chunk_sizes(total, workers, 20)
            assert sum(sizes) == total
            assert all(1 <= size <= 20 for size in sizes)
            assert sizes == sorted(sizes, reverse=True)
    assert chunk_sizes(150, 2, 20) == [20, 20, 20, 20, 18, 13, 10, 8, 6, 4, 3, 3, 3, 2]
    assert chunk_sizes(45, 0, 20) == chunk_sizes(45, 1, 20) == [20, 20, 5]
    assert chunk_sizes(5, 2, 1) == [1] * 5


def one_page_pdf(app: Flask, text: str) -> bytes:
    html = f"<html><head><meta charset=utf-8></head><body><p>{text}</p></body></html>"
    with app.test_request_context():
        return renderer().render_uncached(html, title="t", lang="nl")


@pytest.mark.parametrize("part", [3, 50])
def test_the_printers_copy_follows_the_invitations_not_the_workers(
    app: Flask, tmp_path: Path, part: int
) -> None:
    """Letters finish out of order across workers; the printer's PDF has them in order
    (in one part, or joined from parts), untagged (each letter's own PDF is the tagged
    one), with its title and language."""
    order = [tmp_path / f"{number}.pdf" for number in range(4)]
    for number, path in enumerate(order):
        path.write_bytes(one_page_pdf(app, f"Brief nummer {number}"))
        assert pdf_tools.info(path.read_bytes(), tmp_path)["Tagged"] == "yes"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    printer = PrinterCopy(order, scratch, part)
    for index in (2, 0, 3):
        printer.add(str(order[index]))
    with pytest.raises(RuntimeError, match="lacks letters"):
        printer.save(tmp_path / "early.pdf", title="Invitations", lang="ru")
    printer.add(str(order[1]))
    printer.save(tmp_path / "combined.pdf", title="Invitations", lang="ru")
    combined = (tmp_path / "combined.pdf").read_bytes()
    pages = pdf_tools.pages(combined, tmp_path)
    assert [" ".join(page.split()[:3]) for page in pages] == [f"Brief nummer {n}" for n in range(4)]
    info = pdf_tools.info(combined, tmp_path)
    assert (info["Title"], info["Author"], info["Tagged"]) == (
        "Invitations",
        "Stichting Sovjet Ereveld",
        "no",
    )
    assert b"/StructParents" not in combined  # no page points into a missing tree
    assert b"/Lang (ru)" in combined
    assert not list(tmp_path.glob("*.tmp"))
    assert len(list(scratch.iterdir())) == (2 if part == 3 else 0)
