"""Small helpers that every capability's views share."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db


def form_error(form: FlaskForm, field: str | None, message: object) -> None:
    """Show a service's refusal on the field it concerns, or above the form."""
    target = getattr(form, field, None) if field else None
    if target is not None:
        target.errors = (
            [*target.errors, str(message)] if isinstance(target.errors, list) else [str(message)]
        )
    else:
        form.form_errors.append(str(message))


def commit() -> bool:
    """Commit the request's work; False (and nothing saved) when a race was lost.

    A UNIQUE constraint or a version check that another request won first both end up
    here: the caller shows a conflict rather than a 500.
    """
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        return False
    return True


def flash_saved(message: Any) -> None:
    flash(str(message), "success")


def parse_version(raw: object) -> int:
    """The version a form carried; a missing or garbled one counts as stale (-1)."""
    try:
        return int(str(raw))
    except ValueError:
        return -1
