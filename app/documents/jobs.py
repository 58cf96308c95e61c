"""Letter batches rendered in the background, with progress a page can show.

A batch of 150 letters takes seconds; the request that starts it returns at once and the
status page refreshes itself (a meta refresh: the pages run no script). Jobs live under
instance/letter-jobs/<random id>/ with their PDFs (which hold personal links, so the
folder is private to the process) and are removed after JOB_HOURS.

A batch keeps the render workers on every core busy, so only LETTER_JOBS_AT_ONCE
batches render at a time across all the web workers of an instance (file locks in
letter-jobs/, which the system releases even if a process dies); the others show as
queued until a slot is free.
"""

from __future__ import annotations

import fcntl
import json
import secrets
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import selectinload

from app.documents.letters import render_letters
from app.extensions import db
from app.invitations.models import Invitation

JOB_HOURS = 6
WITH_LINKS = "with-links"  # a marker file: the letters carry live personal links
JOB_ID_LENGTH = 22


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

    @property
    def percent(self) -> int:
        return 100 if self.finished else int(100 * self.done / max(self.total, 1))


def _write_status(folder: Path, **state: Any) -> None:
    temporary = folder / "status.tmp"
    temporary.write_text(json.dumps(state))
    temporary.replace(folder / "status.json")


def read_status(app: Flask, job_id: str) -> JobStatus | None:
    if len(job_id) != JOB_ID_LENGTH or not job_id.replace("-", "").replace("_", "").isalnum():
        return None
    path = jobs_dir(app) / job_id / "status.json"
    if not path.exists():
        return None
    return JobStatus(**json.loads(path.read_text()))


def result_path(app: Flask, job_id: str, name: str) -> Path | None:
    if read_status(app, job_id) is None or name not in ("letters.zip", "combined.pdf"):
        return None
    path = jobs_dir(app) / job_id / name
    return path if path.exists() else None


def carries_links(app: Flask, job_id: str) -> bool:
    """Whether the job's letters hold live personal links (only planners may fetch them)."""
    return read_status(app, job_id) is not None and (jobs_dir(app) / job_id / WITH_LINKS).exists()


def _clean_old(app: Flask) -> None:
    root = jobs_dir(app)
    if not root.exists():
        return
    limit = time.time() - JOB_HOURS * 3600
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)


def start_job(
    app: Flask, letters: Sequence[tuple[int, str | None]], layout: str, edition: str
) -> str:
    """Render (invitation id, url) letters in a thread; returns the job's id."""
    _clean_old(app)
    job_id = secrets.token_urlsafe(16)
    folder = jobs_dir(app) / job_id
    folder.mkdir(parents=True, mode=0o700)
    if any(url for _, url in letters):  # letters that were sent: live personal links inside
        (folder / WITH_LINKS).touch()
    _write_status(
        folder, total=len(letters), done=0, finished=False, error="", edition=edition, queued=True
    )
    if app.config.get("LETTER_JOBS_INLINE"):
        # Tests and single-process debugging: render before answering.
        _run(app, folder, list(letters), layout, edition)
        return job_id
    worker = threading.Thread(
        target=_run,
        args=(app, folder, list(letters), layout, edition),
        name=f"letters-{job_id[:6]}",
        daemon=True,
    )
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


def _run(
    app: Flask, folder: Path, letters: list[tuple[int, str | None]], layout: str, edition: str
) -> None:
    from app.documents.letters import Letter

    total = len(letters)
    with app.app_context(), app.test_request_context():
        try:
            with render_slot(app):
                _write_status(
                    folder, total=total, done=0, finished=False, error="", edition=edition
                )
                # One query with what a letter prints, not four per letter.
                found = {
                    invitation.id: invitation
                    for invitation in db.session.scalars(
                        sa.select(Invitation)
                        .where(Invitation.id.in_([i for i, _ in letters]))
                        .options(
                            selectinload(Invitation.organisation),
                            selectinload(Invitation.addressee),
                        )
                    )
                }
                loaded = [Letter(found[i], url) for i, url in letters if i in found]

                def progress(done: int) -> None:
                    _write_status(
                        folder, total=total, done=done, finished=False, error="", edition=edition
                    )

                output = folder / "letters"
                batch = render_letters(loaded, layout, output, progress)
                # Zipped from disk, a file at a time: a batch never sits in memory whole.
                with zipfile.ZipFile(folder / "letters.tmp", "w", zipfile.ZIP_DEFLATED) as bundle:
                    for path in [*batch.each, batch.combined]:
                        bundle.write(path, arcname=path.name)
                (folder / "letters.tmp").replace(folder / "letters.zip")
                batch.combined.replace(folder / "combined.pdf")
                shutil.rmtree(output)
            _write_status(folder, total=total, done=total, finished=True, error="", edition=edition)
        except Exception as error:  # reported on the status page, never lost in a thread
            app.logger.exception("letter batch failed")
            _write_status(
                folder,
                total=total,
                done=0,
                finished=True,
                error=type(error).__name__,
                edition=edition,
            )
        finally:
            db.session.remove()


def wait(app: Flask, job_id: str, timeout: float = 120) -> JobStatus | None:
    """For commands and tests: block until the job has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(app, job_id)
        if status is None or status.finished:
            return status
        time.sleep(0.1)
    return read_status(app, job_id)
