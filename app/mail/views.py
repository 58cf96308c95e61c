"""The outbox pages: an edition's messages and their fate, review and release of drafts,
one message as its recipient will see it, staff's mail texts, calendar replies dropped
by hand."""

from __future__ import annotations

from dataclasses import asdict
from email.policy import SMTP

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from app.audit.services import record
from app.auth.access import planner_required, viewer_required
from app.auth.models import Role
from app.ceremonies.errors import EditConflict
from app.ceremonies.forms import VersionedActionForm
from app.ceremonies.models import Ceremony, HostTemplate
from app.extensions import db
from app.i18n import current_language
from app.invitations.forms import KIND_LABELS as INVITATION_KIND_LABELS
from app.invitations.models import Invitation, InvitationKind
from app.invitations.services import Actor, personal_url
from app.invitations.tokens import current_token
from app.mail import bp
from app.mail.compose import build
from app.mail.forms import (
    KIND_LABELS,
    PARTSTAT_LABELS,
    REVIEW_REASON_LABELS,
    REVIEW_STATUS_LABELS,
    STATUS_LABELS,
    CalendarReplyForm,
    ConfirmReplyForm,
    LetterBodyForm,
    MailSettingsForm,
    MessageTextForm,
    TextForm,
)
from app.mail.models import MessageKind, MessageStatus, OutboxMessage, ReplyReview, ReviewReason
from app.mail.replies import (
    CalendarReply,
    FoundReply,
    ReplyRefused,
    Sender,
    UnreadableMessage,
    apply_review,
    calendar_replies,
    discard_review,
    doubt,
    edition_for,
    invitation_for,
    parse_message,
    pending_count,
    pending_reviews,
    record_for_staff,
)
from app.mail.sender import outgoing, start_background_send, stuck_messages
from app.mail.services import (
    MailError,
    MailSettings,
    counts_by_status,
    draft_invitations,
    draft_reminders,
    edit_message,
    messages_of,
    release,
    requeue,
    reset_text,
    save_settings,
    save_text,
    withdraw,
)
from app.mail.texts import (
    LANGUAGES,
    LETTER_BODIES,
    PLACEHOLDERS,
    letter_body,
    reset_letter_body,
    save_letter_body,
    text_for,
)
from app.types import local_today
from app.views import commit, edition_or_404, flash_saved, form_error, parse_version

MAX_EML_BYTES = 2 * 1024 * 1024


def _message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


def _actor() -> Actor:
    return Actor(user_id=current_user.id, address=request.remote_addr or "")


def _can_edit() -> bool:
    return bool(current_user.is_authenticated and current_user.role != Role.VIEWER)


def _refused(ceremony: Ceremony, message: object, status: int = 400) -> tuple[str, int]:
    db.session.rollback()
    return render_template("mail/refused.html", ceremony=ceremony, message=message), status


def _stale(ceremony: Ceremony) -> tuple[str, int]:
    return _refused(
        ceremony,
        _("Someone changed this message meanwhile. Look at it again before you act."),
        409,
    )


def _after_release() -> None:
    if current_app.config.get("MAIL_SEND_IN_BACKGROUND"):
        start_background_send(current_app._get_current_object())  # type: ignore[attr-defined]


# --- an edition's outbox -------------------------------------------------------------


@bp.get("/ceremonies/<slug>/mail")
@viewer_required
def outbox(slug: str) -> str:
    ceremony = edition_or_404(slug)
    messages = messages_of(db.session, ceremony)
    drafts_by_kind: dict[MessageKind, int] = {}
    for message in messages:
        if message.status == MessageStatus.DRAFT:
            drafts_by_kind[message.kind] = drafts_by_kind.get(message.kind, 0) + 1
    return render_template(
        "mail/outbox.html",
        ceremony=ceremony,
        messages=messages,
        counts=counts_by_status(messages),
        drafts_by_kind=drafts_by_kind,
        stuck=set(stuck_messages()),
        to_review=pending_count(db.session, ceremony),
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        can_edit=_can_edit(),
        action=VersionedActionForm(),
    )


@bp.post("/ceremonies/<slug>/mail/draft")
@planner_required
def draft(slug: str) -> Response | tuple[str, int]:
    """Write the invitation emails of every invitation still in draft, for review."""
    ceremony = edition_or_404(slug)
    if not VersionedActionForm().validate_on_submit():
        abort(400)
    result = draft_invitations(db.session, ceremony)
    if not commit():
        return _stale(ceremony)
    flash_saved(_("Invitation emails ready for review: %(count)d.", count=len(result.written)))
    if result.without_address:
        names = ", ".join(i.organisation.name for i in result.without_address)
        flash_saved(_("No email address (send a letter instead): %(names)s", names=names))
    return redirect(url_for("mail.outbox", slug=slug))


@bp.post("/ceremonies/<slug>/mail/reminders")
@planner_required
def reminders(slug: str) -> Response | tuple[str, int]:
    """Write the reminders that are due now (the daily `flask mail remind` does too)."""
    ceremony = edition_or_404(slug)
    if not VersionedActionForm().validate_on_submit():
        abort(400)
    written = draft_reminders(db.session, ceremony, local_today())
    if not commit():
        return _stale(ceremony)
    flash_saved(_("Reminders ready for review: %(count)d.", count=len(written)))
    return redirect(url_for("mail.outbox", slug=slug))


@bp.post("/ceremonies/<slug>/mail/release")
@planner_required
def release_all(slug: str) -> Response | tuple[str, int]:
    """Release the drafts of one kind (or all) to the queue."""
    ceremony = edition_or_404(slug)
    if not VersionedActionForm().validate_on_submit():
        abort(400)
    kind = request.form.get("kind", "")
    drafts = [
        m
        for m in messages_of(db.session, ceremony)
        if m.status == MessageStatus.DRAFT and (not kind or m.kind.value == kind)
    ]
    try:
        released = release(db.session, drafts, _actor())
    except StaleDataError:
        return _stale(ceremony)
    if not commit():
        return _stale(ceremony)
    _after_release()
    flash_saved(_("Messages queued for sending: %(count)d.", count=len(released)))
    return redirect(url_for("mail.outbox", slug=slug))


@bp.route("/ceremonies/<slug>/mail/settings", methods=["GET", "POST"])
@planner_required
def settings(slug: str) -> str | Response | tuple[str, int]:
    ceremony = edition_or_404(slug)
    form = MailSettingsForm(obj=ceremony if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(ceremony.version)
    elif form.validate_on_submit():
        data = MailSettings(
            rsvp_deadline=form.rsvp_deadline.data,
            reminder_days=form.reminder_days.data,
            practical_days=form.practical_days.data,
            hosts=[
                HostTemplate(
                    name=row.form.name.data or "",
                    function_nl=row.form.function_nl.data or "",
                    function_en=row.form.function_en.data or "",
                    function_ru=row.form.function_ru.data or "",
                )
                for row in form.hosts
            ],
            dress_code={
                lang: getattr(form, f"dress_code_{lang}").data or "" for lang in ("nl", "en", "ru")
            },
            practical_notes={
                lang: getattr(form, f"practical_notes_{lang}").data or ""
                for lang in ("nl", "en", "ru")
            },
        )
        try:
            save_settings(db.session, ceremony, data, parse_version(form.version.data))
        except EditConflict:
            db.session.rollback()
            db.session.refresh(ceremony)
            form.version.data = str(ceremony.version)
            form.form_errors.append(
                _("Someone saved these settings meanwhile; check them and save again.")
            )
            return render_template("mail/settings.html", form=form, ceremony=ceremony), 409
        except MailError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Saved."))
                return redirect(url_for("mail.outbox", slug=slug))
            return _stale(ceremony)
    status = 400 if request.method == "POST" else 200
    return render_template("mail/settings.html", form=form, ceremony=ceremony), status


# --- one message ---------------------------------------------------------------------


def _preview_link() -> str:
    """What previews show for the personal link: the live link is for the recipient, and
    a viewer who saw it could act as the delegation."""
    return str(_("[the delegation's personal link, filled in when the message is sent]"))


@bp.route("/mail/<int:message_id>", methods=["GET", "POST"])
@viewer_required
def message(message_id: int) -> str | Response | tuple[str, int]:
    """The message as its recipient will see it; a draft can be edited here."""
    found = _message(message_id)
    form = MessageTextForm(obj=found if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(found.version)
    elif not _can_edit():
        abort(403)
    elif form.validate_on_submit():
        try:
            edit_message(
                found,
                form.subject.data or "",
                form.body.data or "",
                parse_version(form.version.data),
            )
        except EditConflict:
            return _stale(found.ceremony)
        except MailError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Saved."))
                return redirect(url_for("mail.message", message_id=message_id))
            return _stale(found.ceremony)
    preview = outgoing_preview(found)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "mail/message.html",
        message=found,
        form=form,
        preview=preview,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        placeholders=PLACEHOLDERS,
        can_edit=_can_edit(),
        action=VersionedActionForm(),
    ), status


def outgoing_preview(message: OutboxMessage) -> dict[str, str]:
    shown = outgoing(message, _preview_link(), with_letter=False)
    return {"subject": shown.subject, "body": shown.body}


@bp.get("/mail/<int:message_id>/message.eml")
@planner_required
def eml(message_id: int) -> Response:
    """The whole message as it would leave (letter left out), to open in a mail client:
    with the live personal link when there is one, so for planners only, and audited."""
    found = _message(message_id)
    token = current_token(found.invitation) if found.invitation is not None else None
    link = personal_url(token) if token else _preview_link()
    email = build(outgoing(found, link, with_letter=False))
    record(
        db.session,
        action="mail.eml_downloaded",
        object_type="invitation" if found.invitation_id else "ceremony",
        object_id=found.invitation_id or found.ceremony_id,
        changes={"message": found.id, "with_link": token is not None},
        actor_user_id=current_user.id,
        address=request.remote_addr or "",
    )
    db.session.commit()
    response = Response(email.as_bytes(policy=SMTP), mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="message-{found.id}.eml"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _message_action(message_id: int, act: str) -> Response | tuple[str, int]:
    found = _message(message_id)
    form = VersionedActionForm()
    if not form.validate_on_submit():
        abort(400)
    expected = parse_version(form.version.data)
    try:
        if act == "release":
            if expected != found.version:
                raise EditConflict()
            release(db.session, [found], _actor())
        elif act == "withdraw":
            withdraw(found, expected)
        else:
            requeue(found, expected)
    except (EditConflict, StaleDataError):
        return _stale(found.ceremony)
    except MailError as error:
        return _refused(found.ceremony, error.message)
    if not commit():
        return _stale(found.ceremony)
    if act != "withdraw":
        _after_release()
    return redirect(url_for("mail.message", message_id=message_id))


@bp.post("/mail/<int:message_id>/release")
@planner_required
def release_one(message_id: int) -> Response | tuple[str, int]:
    return _message_action(message_id, "release")


@bp.post("/mail/<int:message_id>/withdraw")
@planner_required
def withdraw_one(message_id: int) -> Response | tuple[str, int]:
    return _message_action(message_id, "withdraw")


@bp.post("/mail/<int:message_id>/requeue")
@planner_required
def requeue_one(message_id: int) -> Response | tuple[str, int]:
    """Send a failed message again, or one a stopped sender left behind."""
    return _message_action(message_id, "requeue")


# --- texts ---------------------------------------------------------------------------


def _kind(kind: str) -> MessageKind:
    try:
        return MessageKind(kind)
    except ValueError:
        abort(404)


@bp.get("/mail/texts")
@viewer_required
def texts() -> str:
    rows = [
        (kind, lang, text_for(db.session, kind, lang)) for kind in MessageKind for lang in LANGUAGES
    ]
    letter_rows = [(kind, lang) for kind in LETTER_BODIES for lang in LANGUAGES]
    return render_template(
        "mail/texts.html",
        rows=rows,
        kind_labels=KIND_LABELS,
        letter_rows=letter_rows,
        invitation_kind_labels={k.value: v for k, v in INVITATION_KIND_LABELS.items()},
    )


@bp.route("/mail/texts/<kind>/<lang>", methods=["GET", "POST"])
@planner_required
def edit_text(kind: str, lang: str) -> str | Response | tuple[str, int]:
    """Staff's own text for a kind and language, with plain placeholders."""
    found = _kind(kind)
    if lang not in LANGUAGES:
        abort(404)
    form = TextForm()
    if request.method == "GET":
        current = text_for(db.session, found, lang)
        form.subject.data, form.body.data = current.subject, current.body
    elif form.validate_on_submit():
        try:
            save_text(
                db.session, found, lang, form.subject.data or "", form.body.data or "", _actor()
            )
        except MailError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Saved."))
                return redirect(url_for("mail.texts"))
            form.form_errors.append(_("Someone saved this text meanwhile; save again."))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "mail/text_edit.html",
        form=form,
        kind=found,
        lang=lang,
        kind_labels=KIND_LABELS,
        placeholders=PLACEHOLDERS,
    ), status


@bp.post("/mail/texts/<kind>/<lang>/reset")
@planner_required
def reset(kind: str, lang: str) -> Response:
    found = _kind(kind)
    if lang not in LANGUAGES or not VersionedActionForm().validate_on_submit():
        abort(404 if lang not in LANGUAGES else 400)
    reset_text(db.session, found, lang)
    commit()
    flash_saved(_("Back to the built-in text."))
    return redirect(url_for("mail.texts"))


# --- calendar replies to review ----------------------------------------------------


@bp.get("/ceremonies/<slug>/mail/replies")
@viewer_required
def replies(slug: str) -> str:
    """Calendar replies that were not applied on their own, with the reason; planners
    apply or discard them, viewers see them."""
    ceremony = edition_or_404(slug)
    return render_template(
        "mail/replies.html",
        ceremony=ceremony,
        reviews=pending_reviews(db.session, ceremony),
        reason_labels=REVIEW_REASON_LABELS,
        partstat_labels=PARTSTAT_LABELS,
        review_status_labels=REVIEW_STATUS_LABELS,
        can_edit=_can_edit(),
    )


def _review(review_id: int) -> ReplyReview:
    review = db.session.get(ReplyReview, review_id)
    if review is None:
        abort(404)
    return review


def _decide_review(review_id: int, act: str) -> Response | tuple[str, int]:
    review = _review(review_id)
    ceremony = review.ceremony
    form = VersionedActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if act == "apply":
            apply_review(db.session, review, parse_version(form.version.data), _actor())
        else:
            discard_review(db.session, review, parse_version(form.version.data), _actor())
    except (EditConflict, StaleDataError):
        return _stale(ceremony)
    except ReplyRefused as error:
        return _refused(ceremony, error.message)
    if not commit():
        return _stale(ceremony)
    flash_saved(_("The reply was applied.") if act == "apply" else _("The reply was discarded."))
    return redirect(url_for("mail.replies", slug=ceremony.slug))


@bp.post("/mail/replies/<int:review_id>/apply")
@planner_required
def apply_reply(review_id: int) -> Response | tuple[str, int]:
    return _decide_review(review_id, "apply")


@bp.post("/mail/replies/<int:review_id>/discard")
@planner_required
def discard_reply(review_id: int) -> Response | tuple[str, int]:
    return _decide_review(review_id, "discard")


# --- a calendar reply dropped by hand ------------------------------------------------

CONFIRM_SALT = "ereveld calendar reply to confirm"
CONFIRM_MAX_AGE = 3600  # a confirm page left open for longer reads the file again


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt=CONFIRM_SALT)


def _for_invitation(invitation: Invitation, found: FoundReply) -> str | None:
    """Why a reply in a dropped file does not answer this invitation, or None."""
    answer = found.reply
    ceremony = edition_for(db.session, answer.uid)
    if ceremony is None:
        return str(_("It answers no edition of ours (UID %(uid)s).", uid=answer.uid))
    other = invitation_for(db.session, ceremony, answer.attendee)
    if ceremony.id != invitation.ceremony_id or (other is not None and other.id != invitation.id):
        whom = other.organisation.name if other is not None else answer.attendee
        return str(
            _(
                "It answers another invitation (%(whom)s, %(edition)s): drop it on that "
                "invitation's page.",
                whom=whom,
                edition=ceremony.title(current_language()),
            )
        )
    if other is None:
        return str(
            _(
                "Its attendee %(address)s was not sent this invitation: record the answer "
                "by hand if it is theirs.",
                address=answer.attendee,
            )
        )
    return None


def _read_dropped(form: CalendarReplyForm, invitation: Invitation) -> list[FoundReply] | None:
    """The replies in the dropped file, all for this invitation; None (and a form error)
    otherwise. Nothing is saved here."""
    upload = form.message.data
    raw = upload.read(MAX_EML_BYTES + 1) if upload else b""
    if not raw:
        form.message.errors = [_("Choose the .eml file of the reply.")]
        return None
    if len(raw) > MAX_EML_BYTES:
        form.message.errors = [_("The file is larger than 2 MB; this is no calendar reply.")]
        return None
    try:
        message = parse_message(raw)
    except UnreadableMessage as error:
        form.message.errors = [
            _("This email cannot be read safely (%(reason)s).", reason=error.reason.value)
        ]
        return None
    found = calendar_replies(message, authserv_id=current_app.config.get("REPLY_AUTHSERV_ID"))
    if not found:
        form.message.errors = [_("This email holds no calendar reply.")]
        return None
    problems = [p for p in (_for_invitation(invitation, f) for f in found) if p]
    if problems:
        form.message.errors = problems
        return None
    return found


@bp.route("/invitations/<int:invitation_id>/calendar-reply", methods=["GET", "POST"])
@planner_required
def calendar_reply(invitation_id: int) -> str | tuple[str, int]:
    """Read a calendar REPLY someone forwarded as an .eml (Accept/Decline in Outlook) and
    show who sent and who forwarded it before it is applied."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        abort(404)
    form = CalendarReplyForm()
    if form.validate_on_submit():
        found = _read_dropped(form, invitation)
        if found is not None:
            doubts = [doubt(invitation.ceremony, invitation, f, trust_sender=True) for f in found]
            payload = [{**asdict(f.reply), **{"sender": asdict(f.sender)}} for f in found]
            confirm = ConfirmReplyForm(reply=_signer().dumps([invitation.id, payload]))
            return render_template(
                "mail/calendar_reply_confirm.html",
                invitation=invitation,
                found=list(zip(found, doubts, strict=True)),
                form=confirm,
                can_apply=all(d is None or d[0] in CONFIRMABLE for d in doubts),
                reason_labels=REVIEW_REASON_LABELS,
                partstat_labels=PARTSTAT_LABELS,
            )
    status = 400 if request.method == "POST" else 200
    return render_template("mail/calendar_reply.html", form=form, invitation=invitation), status


# Doubts staff may overrule after looking at the reply; the others leave nothing to apply.
CONFIRMABLE = (
    ReviewReason.OLDER_SEQUENCE,
    ReviewReason.NEWER_SEQUENCE,
    ReviewReason.DEADLINE_PASSED,
)


@bp.post("/invitations/<int:invitation_id>/calendar-reply/confirm")
@planner_required
def confirm_calendar_reply(invitation_id: int) -> Response | tuple[str, int]:
    """Apply the reply read from a dropped .eml, once staff have seen who sent it."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        abort(404)
    form = ConfirmReplyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        signed_for, payload = _signer().loads(form.reply.data or "", max_age=CONFIRM_MAX_AGE)
        answers = [
            (
                CalendarReply(**{k: v for k, v in item.items() if k != "sender"}),
                Sender(**item["sender"]),
            )
            for item in payload
        ]
    except (BadData, TypeError, KeyError, ValueError):
        return _refused(invitation.ceremony, _("Drop the file again: this form is too old."))
    if signed_for != invitation.id:  # made for another invitation's page
        abort(400)
    try:
        for answer, sender in answers:
            record_for_staff(
                db.session,
                invitation,
                answer,
                _actor(),
                how="forwarded .eml",
                sender=sender,
            )
    except ReplyRefused as error:
        return _refused(invitation.ceremony, error.message)
    except StaleDataError:
        return _stale(invitation.ceremony)
    if not commit():
        return _stale(invitation.ceremony)
    flash_saved(_("The calendar reply was applied."))
    return redirect(url_for("invitations.invitation", invitation_id=invitation_id))


# --- the invitation letter's body ----------------------------------------------------


def _letter_kind(invitation_kind: str, lang: str) -> str:
    if invitation_kind not in LETTER_BODIES or lang not in LANGUAGES:
        abort(404)
    return invitation_kind


@bp.route("/mail/letter-texts/<invitation_kind>/<lang>", methods=["GET", "POST"])
@planner_required
def edit_letter_body(invitation_kind: str, lang: str) -> str | Response | tuple[str, int]:
    """Staff's own body of the invitation letter for an invitation kind and language."""
    kind = _letter_kind(invitation_kind, lang)
    form = LetterBodyForm()
    if request.method == "GET":
        form.body.data = letter_body(db.session, kind, lang)
    elif form.validate_on_submit():
        try:
            save_letter_body(db.session, kind, lang, form.body.data or "")
        except ValueError as error:
            db.session.rollback()
            form_error(form, "body", error.args[0])
        else:
            db.session.commit()
            flash_saved(_("Saved."))
            return redirect(url_for("mail.texts"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "mail/letter_body_edit.html",
        form=form,
        kind=kind,
        lang=lang,
        kind_label=INVITATION_KIND_LABELS[InvitationKind(kind)],
        placeholders=PLACEHOLDERS,
    ), status


@bp.post("/mail/letter-texts/<invitation_kind>/<lang>/reset")
@planner_required
def reset_letter(invitation_kind: str, lang: str) -> Response:
    kind = _letter_kind(invitation_kind, lang)
    if not VersionedActionForm().validate_on_submit():
        abort(400)
    reset_letter_body(db.session, kind, lang)
    db.session.commit()
    flash_saved(_("Back to the built-in text."))
    return redirect(url_for("mail.texts"))
