"""Downloads of printed documents."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.services import record
from app.auth.access import planner_required, viewer_required
from app.calendar.services import public_conditions
from app.ceremonies.models import Ceremony
from app.contacts.addressing import addressed
from app.documents import bp
from app.documents.forms import LettersForm, ProgrammeForm
from app.documents.jobs import carries_links, read_status, result_path, start_job
from app.documents.letters import (
    LAYOUTS,
    Letter,
    chosen_invitations,
    file_name,
    labels_pdf,
    render_letter,
    send_by_letter,
)
from app.documents.lists import (
    CardLayout,
    ListError,
    ListKind,
    card_layout,
    list_language,
    printed_list,
)
from app.documents.services import PROGRAMME_LANGUAGES, programme_pdf
from app.extensions import db
from app.i18n import current_language
from app.invitations.models import Invitation, InvitationKind
from app.invitations.services import Actor, InvitationError, invitations_of
from app.views import edition_or_404


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
def staff_programme(slug: str) -> Response | tuple[str, int]:
    """Any edition's programme, drafts included: the preview before publishing, in the
    chosen languages, as pages or as an A5 booklet imposed for printing."""
    ceremony = edition_or_404(slug)
    asked = request.args.copy()
    if "language" not in asked and "lang" in asked:
        asked["language"] = asked["lang"]  # links made before the form
    form = ProgrammeForm(formdata=asked)
    if not form.validate():
        return render_template("documents/programme.html", ceremony=ceremony, form=form), 400
    lang = form.language.data or "nl"
    booklet = form.layout.data == "booklet"
    pdf = programme_pdf(db.session, ceremony, lang, booklet=booklet)
    name = f"{slug}-{lang}-booklet.pdf" if booklet else f"{slug}-{lang}.pdf"
    return _pdf(pdf, name, public=False)


@bp.app_template_global()
def programme_form() -> ProgrammeForm:
    """The programme's download choices, for the edition page (which ceremonies renders)."""
    return ProgrammeForm(formdata=None)


# --- invitation letters -------------------------------------------------------------


def app_object() -> Flask:
    """The real app behind the proxy: the letter thread outlives the request."""
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _actor() -> Actor:
    return Actor(user_id=current_user.id, address=request.remote_addr or "")


def _layout() -> str:
    layout = request.values.get("layout", "letter")
    return layout if layout in LAYOUTS else "letter"


@bp.get("/staff/invitations/<int:invitation_id>/letter.pdf")
@viewer_required
def letter_preview(invitation_id: int) -> Response:
    """One invitation's letter or card as it will look, without its personal link."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        abort(404)
    layout = _layout()
    letter = Letter(invitation, None)
    return _pdf(render_letter(letter, layout), file_name(letter, layout), public=False)


@bp.get("/staff/ceremonies/<slug>/labels.pdf")
@viewer_required
def envelope_labels(slug: str) -> Response:
    """Address labels for the envelopes of an edition's letters (A4, 3 x 8)."""
    ceremony = edition_or_404(slug)
    return _pdf(labels_pdf(db.session, ceremony), f"{slug}-labels.pdf", public=False)


def _letters_page(ceremony: Ceremony, form: LettersForm) -> str:
    """The letters page with, per recipient, the address block and salutation the letter
    will print and whether staff confirmed them (item 7 of issue #13: review first)."""
    day = ceremony.local_start.date()
    recipients = [
        (
            invitation,
            addressed(invitation.addressee, invitation.organisation, invitation.language, day),
        )
        for invitation in invitations_of(db.session, ceremony)
        if invitation.kind != InvitationKind.PROXY
    ]
    return render_template(
        "documents/letters.html", ceremony=ceremony, form=form, recipients=recipients
    )


@bp.route("/staff/ceremonies/<slug>/letters", methods=["GET", "POST"])
@viewer_required
def letters(slug: str) -> str | Response | tuple[str, int]:
    """Print an edition's letters: a preview of all, or send (links issued, marked sent)."""
    ceremony = edition_or_404(slug)
    form = LettersForm()
    if request.method == "POST":
        if not current_user.can_edit:
            abort(403)
        if not form.validate_on_submit():
            return _letters_page(ceremony, form), 400
        nonces: dict[int, str] | None = None
        versions: dict[int, int] = {}
        if form.action.data == "send":
            # Nothing is marked sent here: the batch marks each invitation as its letter
            # is written (SendLedger), so a batch that fails half-way sent only half.
            try:
                chosen = chosen_invitations(db.session, ceremony, form.reissue_names())
            except InvitationError as error:
                form.reissue.errors = [*form.reissue.errors, str(error.message)]
                return _letters_page(ceremony, form), 400
            mailing = send_by_letter(db.session, ceremony, reissue=chosen)
            nonces, versions = mailing.nonces, mailing.versions
            pairs = [(letter.invitation.id, letter.url) for letter in mailing.letters]
            for invitation, reason in mailing.skipped:
                flash(
                    _(
                        "No letter for %(organisation)s: %(reason)s",
                        organisation=invitation.organisation.name,
                        reason=reason,
                    ),
                    "success",
                )
        else:
            pairs = [
                (i.id, None)
                for i in invitations_of(db.session, ceremony)
                if i.kind != InvitationKind.PROXY
            ]
        if not pairs:
            flash(_("No invitation needs a letter now."), "success")
            return redirect(url_for("documents.letters", slug=slug))
        job = start_job(
            app_object(),
            pairs,
            form.layout.data or "letter",
            slug,
            nonces=nonces,
            versions=versions,
            actor=_actor(),
        )
        return redirect(url_for("documents.letter_job", job_id=job))
    return _letters_page(ceremony, form)


@bp.get("/staff/letter-jobs/<job_id>")
@viewer_required
def letter_job(job_id: str) -> str:
    status = read_status(app_object(), job_id)
    if status is None:
        abort(404)
    return render_template(
        "documents/job.html", job_id=job_id, status=status, again=LettersForm(formdata=None)
    )


def _edition_of(job_id: str) -> str:
    status = read_status(app_object(), job_id)
    return status.edition if status is not None else ""


@bp.get("/staff/letter-jobs/<job_id>/<name>")
@viewer_required
def letter_job_file(job_id: str, name: str) -> Response:
    path = result_path(app_object(), job_id, name)
    if path is None:
        abort(404)
    if carries_links(app_object(), job_id):
        # A letter that was sent holds the delegation's live link: planners only, audited.
        if not current_user.can_edit:
            abort(403)
        record(
            db.session,
            action="letters.downloaded",
            object_type="ceremony",
            object_id=None,
            changes={"job": job_id, "file": name, "edition": _edition_of(job_id)},
            actor_user_id=current_user.id,
            address=request.remote_addr or "",
        )
        db.session.commit()
    # Streamed from disk: a batch of 500 letters is a ZIP of over ten megabytes, which a web
    # worker should not hold; the file is closed when the response is.
    response = send_file(path, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"  # personal links inside
    return response


# --- staff's lists -----------------------------------------------------------------------


def _list(slug: str, kind: ListKind, layout: CardLayout = CardLayout.BADGES) -> Response:
    """A list in ``?lang=`` (nl, en, ru) or the page's language; unknown ones are 404."""
    ceremony = edition_or_404(slug)
    try:
        lang = list_language(request.args.get("lang"), current_language())
    except ListError:
        abort(404)
    printed = printed_list(db.session, ceremony, kind, lang, layout)
    return _pdf(printed.pdf, printed.file_name, public=False)


@bp.get("/staff/ceremonies/<slug>/guest-list.pdf")
@viewer_required
def guest_list(slug: str) -> Response:
    """Every invitation by group and organisation, with its members and answer."""
    return _list(slug, ListKind.GUESTS)


@bp.get("/staff/ceremonies/<slug>/security-list.pdf")
@planner_required
def security_list(slug: str) -> Response:
    """Accepted delegations' members with car plates, for the gate; marked confidential.

    Planners and admins only: viewers may read a delegation on screen, but this is every
    guest's name and car plate in one document made to be handed to people outside the
    foundation (security staff, police), so printing it is a planner's decision.
    """
    return _list(slug, ListKind.SECURITY)


@bp.get("/staff/ceremonies/<slug>/wreath-run-sheet.pdf")
@viewer_required
def run_sheet(slug: str) -> Response:
    """The final wreath order for the master of ceremonies."""
    return _list(slug, ListKind.WREATHS)


@bp.get("/staff/ceremonies/<slug>/name-cards.pdf")
@viewer_required
def name_cards(slug: str) -> Response:
    """Name badges (``?layout=badges``, 8 to a sheet) or folded place cards (``tents``)."""
    try:
        layout = card_layout(request.args.get("layout"))
    except ListError:
        abort(404)
    return _list(slug, ListKind.CARDS, layout)
