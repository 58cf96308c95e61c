"""Downloads of printed documents."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request
from werkzeug.wrappers import Response

from app.auth.access import viewer_required
from app.calendar.services import public_conditions
from app.ceremonies.models import Ceremony
from app.documents import bp
from app.documents.services import PROGRAMME_LANGUAGES, programme_pdf
from app.extensions import db


def _language() -> str:
    lang = request.args.get("lang", "nl")
    return lang if lang in PROGRAMME_LANGUAGES else "nl"


def _pdf(data: bytes, filename: str, *, public: bool) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # Drafts are staff's business: no shared cache may keep them.
    response.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/ceremonies/<slug>/programme.pdf")
def public_programme(slug: str) -> Response:
    """The printed programme of a published edition, for anyone."""
    ceremony = db.session.scalar(
        sa.select(Ceremony).where(Ceremony.slug == slug, *public_conditions())
    )
    if ceremony is None:
        abort(404)
    lang = _language()
    return _pdf(programme_pdf(db.session, ceremony, lang), f"{slug}-{lang}.pdf", public=True)


@bp.get("/staff/ceremonies/<slug>/programme.pdf")
@viewer_required
def staff_programme(slug: str) -> Response:
    """Any edition's programme, drafts included: the preview before publishing."""
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    if ceremony is None:
        abort(404)
    lang = _language()
    return _pdf(programme_pdf(db.session, ceremony, lang), f"{slug}-{lang}.pdf", public=False)
