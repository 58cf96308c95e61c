"""The privacy statement for delegations and the public; export and erasure for admins."""

from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.auth.access import admin_required
from app.contacts.models import Person
from app.documents.services import renderer
from app.extensions import db
from app.privacy import bp
from app.privacy.services import erase_person, export_person


@bp.get("/privacy")
def statement() -> str:
    return render_template(
        "privacy/statement.html",
        months=current_app.config["RETENTION_MONTHS"],
        contact=current_app.config.get("PRIVACY_CONTACT") or "",
    )


def _person(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    return person


@bp.get("/staff/privacy/persons/<int:person_id>/export.json")
@admin_required
def export(person_id: int) -> Response:
    data = export_person(db.session, _person(person_id))
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="person-{person_id}.json"'
    return response


@bp.post("/staff/privacy/persons/<int:person_id>/erase")
@admin_required
def erase(person_id: int) -> Response:
    report = erase_person(db.session, _person(person_id))
    db.session.commit()
    renderer().forget()  # letters and lists may have printed the name
    flash(
        _(
            "Erased: %(members)d delegation entries deleted, %(invitations)d invitations "
            "cleared, %(audit)d audit entries redacted.",
            members=report.members_deleted,
            invitations=report.invitations_cleared,
            audit=report.audit_redacted,
        ),
        "success",
    )
    return redirect(url_for("ceremonies.editions"))
