"""Public pages in nl, en and ru: no login, no personal data."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template
from sqlalchemy.orm import selectinload

from app.calendar.services import public_conditions
from app.ceremonies.models import Ceremony
from app.ceremonies.timing import timetable
from app.extensions import db
from app.public import bp
from app.types import utcnow


@bp.get("/")
def index() -> str:
    """The coming public ceremonies."""
    coming = db.session.scalars(
        sa.select(Ceremony)
        .where(*public_conditions(), Ceremony.ends_at >= utcnow())
        .options(selectinload(Ceremony.venue))
        .order_by(Ceremony.starts_at)
        .limit(20)
    ).all()
    return render_template("public/index.html", editions=coming)


@bp.get("/ceremonies/<slug>")
def edition(slug: str) -> str:
    """An edition's public page: when, where, the printed programme, add to calendar."""
    ceremony = db.session.scalar(
        sa.select(Ceremony).where(Ceremony.slug == slug, *public_conditions())
    )
    if ceremony is None:
        abort(404)
    printable = [entry for entry in timetable(ceremony) if entry.item.printable]
    return render_template("public/edition.html", ceremony=ceremony, timed=printable)
