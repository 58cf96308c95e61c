"""The audit log for admins: filter by kind of object, object, person and date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import render_template, request

from app.audit import bp
from app.audit.models import AuditEntry
from app.auth.access import admin_required
from app.auth.models import User
from app.extensions import db

PAGE = 100
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None  # an impossible date filters nothing rather than failing


@bp.get("/staff/audit")
@admin_required
def log() -> str:
    args = request.args
    query = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if object_type := args.get("object_type"):
        query = query.where(AuditEntry.object_type == object_type)
    object_id = args.get("object_id", type=int)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    actor = args.get("actor", type=int)
    if actor is not None:
        query = query.where(AuditEntry.actor_user_id == actor)
    if since := _day(args.get("since")):
        query = query.where(
            AuditEntry.at >= datetime.combine(since, datetime.min.time(), AMSTERDAM)
        )
    if until := _day(args.get("until")):
        end = datetime.combine(until, datetime.min.time(), AMSTERDAM) + timedelta(days=1)
        query = query.where(AuditEntry.at < end)
    page = max(args.get("page", 1, type=int) or 1, 1)
    entries = db.session.scalars(query.limit(PAGE + 1).offset((page - 1) * PAGE)).all()
    types = db.session.scalars(
        sa.select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
    ).all()
    users = {u.id: u for u in db.session.scalars(sa.select(User))}
    return render_template(
        "audit/log.html",
        entries=entries[:PAGE],
        more=len(entries) > PAGE,
        page=page,
        types=types,
        users=users,
    )
