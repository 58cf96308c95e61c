"""Small helpers that every capability's views share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort, flash
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db

if TYPE_CHECKING:
    from app.ceremonies.models import Ceremony


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


def edition_or_404(slug: str) -> Ceremony:
    """The edition with this slug, for a staff page; 404 when there is none."""
    # Imported here: every capability's views import this module, the ceremonies' too.
    from app.ceremonies.services import edition_by_slug

    ceremony = edition_by_slug(db.session, slug)
    if ceremony is None:
        abort(404)
    return ceremony
