"""Staff pages of invitations: an edition's overview and policies, one invitation."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask import send_file as flask_send_file
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.auth.access import planner_required, viewer_required
from app.ceremonies.errors import EditConflict
from app.ceremonies.forms import VersionedActionForm
from app.ceremonies.models import Ceremony
from app.contacts.models import ContactGroup, Organisation, OrganisationKind, Person
from app.extensions import db
from app.forms import choices
from app.invitations import bp
from app.invitations.forms import (
    DECISION_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    MEMBER_ROLE_LABELS,
    STATUS_LABELS,
    WREATH_LABELS,
    BulkForm,
    DelegationForm,
    EditInvitationForm,
    NewInvitationForm,
    PolicyForm,
    ReplyForm,
)
from app.invitations.models import (
    Invitation,
    InvitationKind,
    InvitationPolicy,
    InvitationStatus,
    MemberRole,
    PolicyDecision,
    WreathChoice,
)
from app.invitations.services import (
    DOCUMENT_MAX_BYTES,
    Actor,
    DelegationData,
    InvitationChanges,
    InvitationError,
    MemberData,
    PolicyData,
    UploadedDocument,
    addressee_choices,
    counts,
    create_bulk,
    create_invitation,
    decision_for,
    decisions_for,
    default_deadline,
    delegation_size,
    document_path,
    filter_invitations,
    history,
    invitations_of,
    is_overdue,
    mark_sent,
    media_type,
    new_link,
    personal_url,
    policies_of,
    record_reply,
    remove_policy,
    set_policy,
    to_phone,
    update_delegation,
    update_invitation,
    wreath_coming,
)
from app.mail.forms import KIND_LABELS as MESSAGE_KIND_LABELS
from app.mail.forms import PARTSTAT_LABELS, REVIEW_REASON_LABELS
from app.mail.forms import STATUS_LABELS as MESSAGE_STATUS_LABELS
from app.mail.replies import reviews_of
from app.mail.services import messages_about
from app.types import local_today
from app.views import commit, edition_or_404, flash_saved, form_error, parse_version

BLANK_MEMBER_ROWS = 3


@bp.context_processor
def labels() -> dict[str, Any]:
    return {
        "decision_labels": DECISION_LABELS,
        "kind_labels": KIND_LABELS,
        "invitation_status_labels": STATUS_LABELS,
        "wreath_labels": WREATH_LABELS,
        "member_role_labels": MEMBER_ROLE_LABELS,
        "language_labels": LANGUAGE_LABELS,
        "delegation_size": delegation_size,
        "wreath_coming": wreath_coming,
        "is_overdue": is_overdue,
    }


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """An upload over MAX_CONTENT_LENGTH: say so plainly; nothing was saved."""
    db.session.rollback()
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or DOCUMENT_MAX_BYTES
    invitation_id = (request.view_args or {}).get("invitation_id")
    back = url_for("invitations.reply", invitation_id=invitation_id) if invitation_id else None
    return render_template(
        "invitations/too_large.html", limit_mb=max(1, limit // (1024 * 1024)), back=back
    ), 413


# --- helpers ------------------------------------------------------------------------


def _invitation(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


def _actor() -> Actor:
    return Actor(user_id=current_user.id, address=request.remote_addr or "")


def _documents_dir() -> Path:
    return Path(current_app.instance_path) / "documents"


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name)))


def _refused(invitation: Invitation, message: object) -> tuple[str, int]:
    db.session.rollback()
    return render_template("invitations/refused.html", invitation=invitation, message=message), 400


def _stale(invitation: Invitation) -> tuple[str, int]:
    db.session.rollback()
    return render_template("invitations/stale.html", invitation=invitation), 409


def _link_page(invitation: Invitation, token: str) -> Response:
    """The new link, shown once: it is stored only as a hash, so never cached."""
    response = make_response(
        render_template("invitations/link.html", invitation=invitation, url=personal_url(token))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- an edition's invitations -------------------------------------------------------


def _bulk_form() -> BulkForm:
    form = BulkForm(prefix="bulk")
    groups = db.session.scalars(sa.select(ContactGroup).order_by(ContactGroup.name))
    form.groups.choices = choices((g.id, g.name) for g in groups)
    return form


def _overview(ceremony: Ceremony, bulk_form: BulkForm, status: int = 200) -> tuple[str, int]:
    today = local_today()
    everyone = invitations_of(db.session, ceremony)
    wanted = request.args.get("status")
    return render_template(
        "invitations/overview.html",
        ceremony=ceremony,
        invitations=filter_invitations(everyone, wanted, today),
        wanted=wanted,
        counts=counts(everyone, today),
        phone=to_phone(everyone, today),
        decisions=decisions_for(db.session, ceremony, [i.organisation for i in everyone]),
        bulk_form=bulk_form,
        today=today,
        statuses=list(InvitationStatus),
        default_deadline=default_deadline(ceremony),
        can_edit=current_user.can_edit,
    ), status


@bp.get("/ceremonies/<slug>/invitations")
@viewer_required
def overview(slug: str) -> tuple[str, int]:
    """Who is invited, who replied, who comes, which wreaths, whom to phone."""
    return _overview(edition_or_404(slug), _bulk_form())


@bp.post("/ceremonies/<slug>/invitations/bulk")
@planner_required
def bulk_create(slug: str) -> Response | tuple[str, int]:
    """Invite the organisations of some groups and kinds (again: nothing new)."""
    ceremony = edition_or_404(slug)
    form = _bulk_form()
    if form.validate_on_submit():
        groups = [g for g in (db.session.get(ContactGroup, i) for i in form.groups.data) if g]
        kinds = [OrganisationKind(k) for k in form.kinds.data or []]
        try:
            result = create_bulk(db.session, ceremony, _actor(), groups=groups, kinds=kinds)
        except InvitationError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        except IntegrityError:  # another request invited one of them first
            db.session.rollback()
            form_error(form, None, _("Invitations changed meanwhile; try again."))
        else:
            if commit():
                flash_saved(
                    _(
                        "%(created)d invited, %(existing)d invited already, "
                        "%(refused)d not to be invited.",
                        created=len(result.created),
                        existing=len(result.existing),
                        refused=len(result.refused),
                    )
                )
                if result.refused:
                    flash_saved(
                        _(
                            "Not invited (policy): %(names)s",
                            names=", ".join(o.name for o in result.refused),
                        )
                    )
                return redirect(url_for("invitations.overview", slug=slug))
            form_error(form, None, _("Invitations changed meanwhile; try again."))
    return _overview(ceremony, form, 400)


@bp.route("/ceremonies/<slug>/invitations/new", methods=["GET", "POST"])
@planner_required
def new_invitation(slug: str) -> str | Response | tuple[str, int]:
    """Invite one organisation; addressee, language and deadline start from defaults."""
    ceremony = edition_or_404(slug)
    invited = set(
        db.session.scalars(
            sa.select(Invitation.organisation_id).where(Invitation.ceremony_id == ceremony.id)
        )
    )
    candidates = [o for o in _organisations() if o.id not in invited]
    decisions = decisions_for(db.session, ceremony, candidates)
    form = NewInvitationForm()
    form.organisation_id.choices = choices(
        (o.id, _organisation_label(o, decisions[o.id])) for o in candidates
    )
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation_id.data)
        if organisation is None:
            abort(400)
        try:
            invitation = create_invitation(
                db.session,
                ceremony,
                organisation,
                _actor(),
                kind=InvitationKind(form.kind.data),
                rsvp_deadline=form.rsvp_deadline.data,
                cohosts=form.cohosts.data or None,
            )
        except InvitationError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        except IntegrityError:
            db.session.rollback()
            form_error(form, "organisation_id", _("This organisation is invited already."))
        else:
            if commit():
                flash_saved(_("Invitation created."))
                return redirect(url_for("invitations.invitation", invitation_id=invitation.id))
            form_error(form, "organisation_id", _("This organisation is invited already."))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "invitations/new.html",
        form=form,
        ceremony=ceremony,
        default_deadline=default_deadline(ceremony),
    ), status


def _organisation_label(organisation: Organisation, decision: PolicyDecision) -> str:
    if decision == PolicyDecision.INVITE:
        return organisation.name
    return f"{organisation.name} ({DECISION_LABELS[decision]})"


@bp.route("/ceremonies/<slug>/invitations/policies", methods=["GET", "POST"])
@viewer_required
def policies(slug: str) -> str | Response | tuple[str, int]:
    """The edition's policies; staff read them, admins set and remove them."""
    ceremony = edition_or_404(slug)
    if request.method == "POST" and not current_user.is_admin:
        abort(403)
    form = PolicyForm()
    form.organisation_id.choices = [
        SelectChoice(value=0, label="—"),
        *choices((o.id, o.name) for o in _organisations()),
    ]
    if request.method == "POST" and "remove" in request.form:
        return _remove_policy(ceremony)
    if form.validate_on_submit():
        by_organisation = form.target.data == "organisation"
        organisation = db.session.get(Organisation, form.organisation_id.data)
        if by_organisation and organisation is None:
            abort(400)
        data = PolicyData(
            organisation=organisation if by_organisation else None,
            country=None if by_organisation else form.country.data,
            decision=PolicyDecision(form.decision.data),
            reason=form.reason.data or "",
        )
        try:
            result = set_policy(db.session, ceremony, data, current_user, _actor())
        except InvitationError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        except IntegrityError:
            db.session.rollback()
            form_error(form, None, _("Policies changed meanwhile; try again."))
        else:
            if commit():
                flash_saved(_("Policy saved."))
                if result.revoked:
                    flash_saved(
                        _(
                            "The personal links of %(names)s no longer work.",
                            names=", ".join(i.organisation.name for i in result.revoked),
                        )
                    )
                return redirect(url_for("invitations.policies", slug=slug))
            form_error(form, None, _("Policies changed meanwhile; try again."))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "invitations/policies.html",
        ceremony=ceremony,
        form=form,
        policies=policies_of(db.session, ceremony),
        is_admin=current_user.is_admin,
    ), status


def _remove_policy(ceremony: Ceremony) -> Response:
    try:
        policy_id = int(request.form.get("remove", ""))
    except ValueError:
        abort(400)
    policy = db.session.scalar(
        sa.select(InvitationPolicy).where(
            InvitationPolicy.id == policy_id, InvitationPolicy.ceremony_id == ceremony.id
        )
    )
    if policy is None:
        abort(404)
    remove_policy(db.session, policy, current_user, _actor())
    commit()
    flash_saved(_("Policy removed."))
    return redirect(url_for("invitations.policies", slug=ceremony.slug))


# --- one invitation -----------------------------------------------------------------


@bp.get("/invitations/<int:invitation_id>")
@viewer_required
def invitation(invitation_id: int) -> str:
    """An invitation with its delegation, reply, link state and history."""
    found = _invitation(invitation_id)
    return render_template(
        "invitations/invitation.html",
        invitation=found,
        ceremony=found.ceremony,
        decision=decision_for(db.session, found.ceremony, found.organisation),
        history=history(db.session, found),
        messages=messages_about(db.session, found),
        calendar_reviews=reviews_of(db.session, found),
        review_reasons=REVIEW_REASON_LABELS,
        review_partstats=PARTSTAT_LABELS,
        message_kinds=MESSAGE_KIND_LABELS,
        message_statuses=MESSAGE_STATUS_LABELS,
        overdue=is_overdue(found, local_today()),
        action_form=VersionedActionForm(version=found.version),
        can_edit=current_user.can_edit,
    )


def _addressee_choices(found: Invitation) -> list[SelectChoice]:
    people = addressee_choices(found.organisation)
    return [SelectChoice(value=0, label="—"), *choices((p.id, p.full_name) for p in people)]


@bp.route("/invitations/<int:invitation_id>/edit", methods=["GET", "POST"])
@planner_required
def edit(invitation_id: int) -> str | Response | tuple[str, int]:
    """Change anything of an invitation; a stale form is refused with 409."""
    found = _invitation(invitation_id)
    form = EditInvitationForm(obj=found if request.method == "GET" else None)
    form.addressee_id.choices = _addressee_choices(found)
    if request.method == "GET":
        form.addressee_id.data = found.addressee_id or 0
        form.kind.data = found.kind.value
        form.status.data = found.status.value
        form.version.data = str(found.version)
    elif form.validate_on_submit():
        addressee = (
            db.session.get(Person, form.addressee_id.data) if form.addressee_id.data else None
        )
        changes = InvitationChanges(
            addressee=addressee,
            language=form.language.data,
            kind=InvitationKind(form.kind.data),
            rsvp_deadline=form.rsvp_deadline.data,
            cohosts=form.cohosts.data or "",
            status=InvitationStatus(form.status.data),
            accessibility=form.accessibility.data or "",
            remark=form.remark.data or "",
        )
        try:
            update_invitation(
                db.session, found, changes, parse_version(form.version.data), _actor()
            )
        except (EditConflict, StaleDataError):
            return _conflict(found, form, "invitations/edit.html")
        except InvitationError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Saved."))
                return redirect(url_for("invitations.invitation", invitation_id=invitation_id))
            return _conflict(found, form, "invitations/edit.html")
    status = 400 if request.method == "POST" else 200
    return render_template("invitations/edit.html", form=form, invitation=found), status


def _conflict(found: Invitation, form: Any, template: str) -> tuple[str, int]:
    """Keep what was typed, say what happened, carry the new version: saving again wins."""
    db.session.rollback()
    db.session.refresh(found)
    form_error(
        form,
        None,
        _(
            "Someone else changed this invitation while you were editing it. Nothing was "
            "saved. The form shows what you typed; the invitation page shows what is saved "
            "now. Save again to overwrite."
        ),
    )
    form.version.data = str(found.version)
    return render_template(template, form=form, invitation=found, conflict=True), 409


@bp.route("/invitations/<int:invitation_id>/delegation", methods=["GET", "POST"])
@planner_required
def delegation(invitation_id: int) -> str | Response | tuple[str, int]:
    """Staff name the delegation's members and its wreath."""
    found = _invitation(invitation_id)
    if request.method == "GET":
        form = DelegationForm(
            data={
                "members": [
                    {
                        "name": m.name,
                        "function": m.function,
                        "role": m.role.value,
                        "car_plate": m.car_plate,
                    }
                    for m in found.members
                ],
                "wreath": found.wreath.value,
                "ribbon_text": found.ribbon_text,
                "ribbon_colours": found.ribbon_colours,
                "version": str(found.version),
            }
        )
        for _row in range(BLANK_MEMBER_ROWS):
            form.members.append_entry()
    else:
        form = DelegationForm()
    if request.method == "POST" and form.validate_on_submit():
        data = DelegationData(
            members=[
                MemberData(
                    name=entry.form.name.data,
                    function=entry.form.function.data or "",
                    role=MemberRole(entry.form.role.data),
                    car_plate=entry.form.car_plate.data or "",
                )
                for entry in form.members.entries
                if entry.form.name.data
            ],
            wreath=WreathChoice(form.wreath.data),
            ribbon_text=form.ribbon_text.data or "",
            ribbon_colours=form.ribbon_colours.data or "",
        )
        try:
            update_delegation(db.session, found, data, parse_version(form.version.data), _actor())
        except (EditConflict, StaleDataError):
            return _conflict(found, form, "invitations/delegation.html")
        except InvitationError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Delegation saved."))
                return redirect(url_for("invitations.invitation", invitation_id=invitation_id))
            return _conflict(found, form, "invitations/delegation.html")
    status = 400 if request.method == "POST" else 200
    return render_template("invitations/delegation.html", form=form, invitation=found), status


def _uploaded(storage: object) -> UploadedDocument | None:
    if not isinstance(storage, FileStorage) or not storage.filename:
        return None
    # One byte more than allowed is enough to know it is too large.
    content = storage.stream.read(DOCUMENT_MAX_BYTES + 1)
    return UploadedDocument(filename=storage.filename, content=content)


@bp.route("/invitations/<int:invitation_id>/reply", methods=["GET", "POST"])
@planner_required
def reply(invitation_id: int) -> str | Response | tuple[str, int]:
    """Record the delegation's reply on its behalf, with the document it came in."""
    found = _invitation(invitation_id)
    form = ReplyForm()
    if request.method == "GET":
        form.version.data = str(found.version)
        form.note.data = found.reply_note
        if found.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED):
            form.answer.data = found.status.value
    elif form.validate_on_submit():
        try:
            result = record_reply(
                db.session,
                found,
                InvitationStatus(form.answer.data),
                form.note.data or "",
                _uploaded(form.document.data),
                _documents_dir(),
                parse_version(form.version.data),
                _actor(),
            )
        except (EditConflict, StaleDataError):
            return _conflict(found, form, "invitations/reply.html")
        except InvitationError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                if result.replaced is not None and result.replaced != result.stored:
                    result.replaced.unlink(missing_ok=True)
                flash_saved(_("Reply recorded."))
                return redirect(url_for("invitations.invitation", invitation_id=invitation_id))
            if result.stored is not None:
                result.stored.unlink(missing_ok=True)
            return _conflict(found, form, "invitations/reply.html")
    status = 400 if request.method == "POST" else 200
    return render_template("invitations/reply.html", form=form, invitation=found), status


@bp.post("/invitations/<int:invitation_id>/sent")
@planner_required
def sent(invitation_id: int) -> Response | tuple[str, int]:
    """Mark a draft as sent; a first link is shown once."""
    found = _invitation(invitation_id)
    form = VersionedActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        token = mark_sent(db.session, found, parse_version(form.version.data), _actor())
    except (EditConflict, StaleDataError):
        return _stale(found)
    except InvitationError as error:
        return _refused(found, error.message)
    if not commit():
        return _stale(_invitation(invitation_id))
    if token is not None:
        return _link_page(found, token)
    flash_saved(_("Marked as sent."))
    return redirect(url_for("invitations.invitation", invitation_id=invitation_id))


@bp.post("/invitations/<int:invitation_id>/link")
@planner_required
def link(invitation_id: int) -> Response | tuple[str, int]:
    """A new personal link; the old one stops working. Shown once."""
    found = _invitation(invitation_id)
    if not VersionedActionForm().validate_on_submit():
        abort(400)
    try:
        token = new_link(db.session, found, _actor())
    except InvitationError as error:
        return _refused(found, error.message)
    except StaleDataError:
        return _stale(found)
    if not commit():
        return _stale(_invitation(invitation_id))
    return _link_page(found, token)


@bp.get("/invitations/<int:invitation_id>/document")
@viewer_required
def document(invitation_id: int) -> Response:
    """The attached document, to staff only, always as a download."""
    found = _invitation(invitation_id)
    path = document_path(_documents_dir(), found)
    if path is None or not path.is_file():
        abort(404)
    # Read whole (at most a few MB): no file handle outlives the request.
    response = flask_send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=media_type(path.name),
        as_attachment=True,
        download_name=f"invitation-{found.id}{path.suffix}",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
