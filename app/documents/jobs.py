"""Letter batches rendered in the background, with progress a page can show.

A batch of 150 letters takes seconds; the request that starts it returns at once and the
status page refreshes itself (a meta refresh: the pages run no script). Jobs live under
instance/letter-jobs/<random id>/ with their PDFs (which hold personal links, so the
folder is private to the process) and are removed after JOB_HOURS.

A batch keeps the render workers on every core busy, so only LETTER_JOBS_AT_ONCE
batches render at a time across all the web workers of an instance (file locks in
letter-jobs/, which the system releases even if a process dies); the others show as
queued until a slot is free.

A sending batch marks each invitation sent as its letter is written (SendLedger). A batch
touches its heartbeat file while its process lives; one whose heartbeat is older than
LETTER_RENDER_TIMEOUT (its web worker was killed or restarted) shows as failed. A failed
batch keeps the letters that were marked sent (letters.zip) and nothing else: no letters
folder, no printer's scratch, no temporary files; the next batch sweeps up after any job
whose process died.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import selectinload

from app.documents.letters import (
    Letter,
    Mailing,
    SendLedger,
    commit_keeping_loaded,
    failure_cause,
    file_name,
    render_letters,
)
from app.extensions import db
from app.invitations.models import Invitation
from app.invitations.services import Actor

JOB_HOURS = 6
WITH_LINKS = "with-links"  # a marker file: the letters carry live personal links
HEARTBEAT = "heartbeat"  # touched while the batch's process lives
SENT = "sent.txt"  # names of the letters committed as sent, a line each
JOB_ID_LENGTH = 22
INTERRUPTED = "Interrupted"


def jobs_dir(app: Flask) -> Path:
    return Path(app.instance_path) / "letter-jobs"


@dataclass
class JobStatus:
    total: int
    done: int
    finished: bool
    error: str
    edition: str
    queued: bool = False  # waiting for another batch to finish
    sending: bool = False  # its letters are sent (links issued) as they are written
    layout: str = "letter"
    sent: int = 0  # letters written and committed as sent
    cause: str = ""  # why it failed, in the system's words

    @property
    def percent(self) -> int:
        return 100 if self.finished else int(100 * self.done / max(self.total, 1))


def _write_status(folder: Path, **state: Any) -> None:
    # Named per writer: the job's thread and a request that finds the job dead never
    # share a temporary file.
    temporary = folder / f"status.{os.getpid()}.{threading.get_ident()}.tmp"
    temporary.write_text(json.dumps(state))
    temporary.replace(folder / "status.json")


def _valid_id(job_id: str) -> bool:
    return len(job_id) == JOB_ID_LENGTH and job_id.replace("-", "").replace("_", "").isalnum()


def _render_timeout(app: Flask) -> float:
    return float(app.config.get("LETTER_RENDER_TIMEOUT", 120))


def _stale(app: Flask, folder: Path) -> bool:
    """Whether an unfinished job's process is gone: its heartbeat is older than the render
    timeout (a living batch touches it several times within that, and a living batch
    whose worker hangs fails itself after that long)."""
    beat = folder / HEARTBEAT
    if not beat.exists():
        beat = folder / "status.json"
    try:
        age = time.time() - beat.stat().st_mtime
    except FileNotFoundError:
        return False
    return age > _render_timeout(app)


def read_status(app: Flask, job_id: str) -> JobStatus | None:
    if not _valid_id(job_id):
        return None
    folder = jobs_dir(app) / job_id
    path = folder / "status.json"
    if not path.exists():
        return None
    status = JobStatus(**json.loads(path.read_text()))
    if not status.finished and _stale(app, folder):
        status = _fail_dead(folder, status)
    return status


def _fail_dead(folder: Path, status: JobStatus) -> JobStatus:
    """A job whose process died (a killed or restarted web worker): failed, its scraps
    gone, and the letters that were marked sent kept for download. Under a lock: two
    pages that find it dead at once must not zip and remove the letters together."""
    with (folder / "salvage.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        status = JobStatus(**json.loads((folder / "status.json").read_text()))
        if status.finished:  # the other page did it
            return status
        status.sent = len(_sent_names(folder))
        status.finished, status.queued = True, False
        status.error, status.cause = INTERRUPTED, ""
        _salvage(folder)
        _write_status(folder, **asdict(status))
    return status


def _sent_names(folder: Path) -> list[str]:
    path = folder / SENT
    return path.read_text().split() if path.exists() else []


def _salvage(folder: Path) -> None:
    """After a failure: the letters committed as sent into letters.zip (their invitations
    count as sent, so the planner needs them), then no scraps: the letters folder, the
    printer's scratch and every temporary file go."""
    output = folder / "letters"
    names = [n for n in _sent_names(folder) if (output / n).is_file()]
    try:
        if names:
            with zipfile.ZipFile(folder / "letters.tmp", "w", zipfile.ZIP_DEFLATED) as bundle:
                for name in names:
                    bundle.write(output / name, arcname=name)
            (folder / "letters.tmp").replace(folder / "letters.zip")
    except OSError:
        logging.getLogger(__name__).exception("the sent letters of a failed batch were not zipped")
    finally:
        shutil.rmtree(output, ignore_errors=True)
        for path in folder.glob("*.tmp"):
            path.unlink(missing_ok=True)


def result_path(app: Flask, job_id: str, name: str) -> Path | None:
    if read_status(app, job_id) is None or name not in ("letters.zip", "combined.pdf"):
        return None
    path = jobs_dir(app) / job_id / name
    return path if path.exists() else None


def carries_links(app: Flask, job_id: str) -> bool:
    """Whether the job's letters hold live personal links (only planners may fetch them)."""
    return read_status(app, job_id) is not None and (jobs_dir(app) / job_id / WITH_LINKS).exists()


def _sweep(app: Flask) -> None:
    """Before a batch starts: old jobs go; a job whose process died is failed and cleared
    of its scraps (read_status does it)."""
    root = jobs_dir(app)
    if not root.exists():
        return
    limit = time.time() - JOB_HOURS * 3600
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        if folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            read_status(app, folder.name)


def start_job(
    app: Flask,
    letters: Sequence[tuple[int, str | None]],
    layout: str,
    edition: str,
    *,
    nonces: dict[int, str] | None = None,
    versions: dict[int, int] | None = None,
    actor: Actor | None = None,
) -> str:
    """Render (invitation id, url) letters in a thread; returns the job's id.

    With ``nonces`` (from letters.send_by_letter) the batch sends: each invitation is
    marked sent, with its letter's link, once its letter is written (SendLedger). An
    invitation changed since ``versions`` were read (another batch sent it while this
    one waited its turn) gets no letter.
    """
    _sweep(app)
    job_id = secrets.token_urlsafe(16)
    folder = jobs_dir(app) / job_id
    folder.mkdir(parents=True, mode=0o700)
    if any(url for _, url in letters):  # letters that were sent: live personal links inside
        (folder / WITH_LINKS).touch()
    (folder / HEARTBEAT).touch()
    job = _Job(
        app,
        folder,
        list(letters),
        layout,
        JobStatus(
            total=len(letters),
            done=0,
            finished=False,
            error="",
            edition=edition,
            queued=True,
            sending=nonces is not None,
            layout=layout,
        ),
        nonces,
        versions or {},
        actor or Actor(label="web"),
    )
    job.save()
    if app.config.get("LETTER_JOBS_INLINE"):
        # Tests and single-process debugging: render before answering.
        job.run()
        return job_id
    worker = threading.Thread(target=job.run, name=f"letters-{job_id[:6]}", daemon=True)
    worker.start()
    return job_id


@contextmanager
def render_slot(app: Flask) -> Iterator[None]:
    """Wait for one of the instance's LETTER_JOBS_AT_ONCE slots and hold it.

    flock locks belong to an open file, so they exclude other threads of this process as
    well as other processes, and vanish with a process that dies holding one.
    """
    slots = max(int(app.config.get("LETTER_JOBS_AT_ONCE", 1)), 1)
    root = jobs_dir(app)
    root.mkdir(parents=True, exist_ok=True)
    while True:
        for number in range(slots):
            handle = (root / f"slot-{number}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        time.sleep(0.2)


@contextmanager
def heartbeat(folder: Path, interval: float) -> Iterator[None]:
    """Touch the job's heartbeat every ``interval`` seconds while the block runs: pages
    tell a batch that waits or renders from one whose process is gone."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                (folder / HEARTBEAT).touch()
            except OSError:
                return

    thread = threading.Thread(target=beat, name="letters-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@dataclass
class _Job:
    app: Flask
    folder: Path
    letters: list[tuple[int, str | None]]
    layout: str
    status: JobStatus
    nonces: dict[int, str] | None
    versions: dict[int, int]
    actor: Actor

    def save(self) -> None:
        _write_status(self.folder, **asdict(self.status))

    def run(self) -> None:
        app = self.app
        interval = max(min(_render_timeout(app) / 4, 5.0), 0.05)
        with app.app_context(), app.test_request_context(), heartbeat(self.folder, interval):
            ledger: SendLedger | None = None
            try:
                with render_slot(app):
                    self.status.queued = False
                    self.save()
                    loaded = self._load()
                    output = self.folder / "letters"
                    if self.nonces is not None:
                        output.mkdir(parents=True, exist_ok=True)
                        ledger = SendLedger(
                            db.session,
                            Mailing(loaded, [], self.nonces),
                            self.actor,
                            output,
                            commit_keeping_loaded(db.session),
                            every=int(app.config.get("LETTER_COMMIT_EVERY", 20)),
                            committed=lambda done: self._committed(loaded, done),
                        )
                    batch = render_letters(loaded, self.layout, output, self._progress, sink=ledger)
                    # Zipped from disk, a file at a time: a batch never sits in memory whole.
                    with zipfile.ZipFile(
                        self.folder / "letters.tmp", "w", zipfile.ZIP_DEFLATED
                    ) as bundle:
                        for path in [*batch.each, batch.combined]:
                            bundle.write(path, arcname=path.name)
                    (self.folder / "letters.tmp").replace(self.folder / "letters.zip")
                    batch.combined.replace(self.folder / "combined.pdf")
                    shutil.rmtree(output)
                self.status.done = self.status.total
                self.status.finished = True
                self.save()
            except Exception as error:  # reported on the status page, never lost in a thread
                app.logger.exception("letter batch failed")
                if ledger is not None:
                    ledger.close()
                self.status.finished, self.status.queued = True, False
                self.status.error = type(error).__name__
                self.status.cause = failure_cause(error)
                self.status.sent = len(_sent_names(self.folder))
                self.save()
                _salvage(self.folder)
            finally:
                db.session.remove()

    def _load(self) -> list[Letter]:
        # One query with what a letter prints, not four per letter.
        found = {
            invitation.id: invitation
            for invitation in db.session.scalars(
                sa.select(Invitation)
                .where(Invitation.id.in_([i for i, _ in self.letters]))
                .options(
                    selectinload(Invitation.organisation),
                    selectinload(Invitation.addressee),
                )
            )
        }
        loaded = [
            Letter(found[i], url)
            for i, url in self.letters
            if i in found and self.versions.get(i, found[i].version) == found[i].version
        ]
        if len(loaded) != self.status.total:
            self.status.total = len(loaded)
            self.save()
        return loaded

    def _progress(self, done: int) -> None:
        self.status.done = done
        self.save()

    def _committed(self, loaded: list[Letter], done: list[int]) -> None:
        """Remember which letters count as sent: a failed batch offers them for download."""
        with (self.folder / SENT).open("a") as sent:
            for index in done:
                sent.write(file_name(loaded[index], self.layout) + "\n")
        self.status.sent += len(done)
        self.save()


def wait(app: Flask, job_id: str, timeout: float = 120) -> JobStatus | None:
    """For commands and tests: block until the job has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(app, job_id)
        if status is None or status.finished:
            return status
        time.sleep(0.1)
    return read_status(app, job_id)
