"""Letter batches rendered in the background, with progress a page can show.

A batch of 150 letters takes seconds; the request that starts it returns at once and the
status page refreshes itself (a meta refresh: the pages run no script). Jobs live under
instance/letter-jobs/<random id>/ with their PDFs (which hold personal links, so the
folder is private to the process) and are removed after JOB_HOURS.
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from app.documents.letters import render_letters
from app.extensions import db
from app.invitations.models import Invitation

JOB_HOURS = 6
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
    _write_status(folder, total=len(letters), done=0, finished=False, error="", edition=edition)
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


def _run(
    app: Flask, folder: Path, letters: list[tuple[int, str | None]], layout: str, edition: str
) -> None:
    from app.documents.letters import Letter

    total = len(letters)
    with app.app_context(), app.test_request_context():
        try:
            loaded = []
            for invitation_id, url in letters:
                invitation = db.session.get(Invitation, invitation_id)
                if invitation is not None:
                    loaded.append(Letter(invitation, url))

            def progress(done: int) -> None:
                _write_status(
                    folder, total=total, done=done, finished=False, error="", edition=edition
                )

            batch = render_letters(loaded, layout, progress)
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
                for name, pdf in batch.each:
                    bundle.writestr(name, pdf)
                bundle.writestr("combined.pdf", batch.combined)
            (folder / "letters.zip").write_bytes(archive.getvalue())
            (folder / "combined.pdf").write_bytes(batch.combined)
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
