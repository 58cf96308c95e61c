"""The delegation's RSVP page, reached by its personal link (no account).

Rules from shared/design/SECURITY.md, "Personal links (RSVP)":

- Unknown, malformed, revoked and expired tokens get one and the same 404.
- GET and HEAD never change anything (mail scanners open every link first); every
  change is a POST with a CSRF token and the version its form was made from.
- The token stays out of logs (a filter masks it in every record of the request
  loggers), out of the Referer of outgoing links (Referrer-Policy ``same-origin``, not
  ``no-referrer``, which breaks Flask-WTF's check over HTTPS) and out of the feed.
- Requests are rate-limited per address: ``RSVP_RATE_LIMIT`` (default 60) per
  ``RSVP_RATE_WINDOW`` seconds (default 60). With ``REDIS_URL`` set (and the ``redis``
  package installed) the count lives in Redis, shared by every worker; without it, in
  the process, which multiplies the limit by the number of workers.

The page speaks the invitation's language unless ``?lang=`` chose another, which is
remembered for the visitor's later RSVP pages.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, Protocol

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.calendar.services import is_public, rendered
from app.calendar.views import serve
from app.extensions import db
from app.i18n import current_language, date_phrase, force_locale
from app.invitations.models import Invitation, InvitationStatus, MemberRole, WreathChoice
from app.invitations.rsvp_forms import (
    MEMBER_ROLE_LABELS,
    WREATH_LABELS,
    DetailsForm,
    MemberForm,
    ReplyForm,
    VersionedForm,
)
from app.invitations.rsvp_services import (
    DetailsData,
    MemberData,
    MemberNotFound,
    RsvpClosed,
    RsvpConflict,
    RsvpError,
    add_member,
    deadline,
    delegation_calendar,
    delegation_programme,
    find_member,
    open_for_changes,
    remove_member,
    reply,
    save_details,
    save_member,
)
from app.invitations.tokens import invitation_for_token
from app.views import commit, form_error, parse_version

bp = Blueprint("rsvp", __name__)

LANGUAGE_KEY = "rsvp_lang"
FEED_LANGUAGES = ("nl", "en", "ru")

# The token stays out of logs: app.logs masks it on every logger that prints paths.

# --- rate limit -------------------------------------------------------------------------


class RateLimiter(Protocol):
    def allow(self, key: str, limit: int, window: int) -> bool: ...


class MemoryLimiter:
    """Fixed-window counts in this process: enough for one worker and for tests."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: int) -> bool:
        slot = int(time.time() // window)
        with self._lock:
            if len(self._counts) > 10_000:  # old windows of many addresses
                self._counts = {k: v for k, v in self._counts.items() if k[1] == slot}
            count = self._counts.get((key, slot), 0) + 1
            self._counts[(key, slot)] = count
        return count <= limit


class RedisLimiter:
    """Fixed-window counts in Redis, which every worker sees."""

    def __init__(self, url: str) -> None:
        # Imported only when configured: the package is optional.
        redis: Any = importlib.import_module("redis")
        self._client: Any = redis.Redis.from_url(url)

    def allow(self, key: str, limit: int, window: int) -> bool:
        name = f"ereveld:rsvp-rate:{key}:{int(time.time() // window)}"
        try:
            pipe = self._client.pipeline()
            pipe.incr(name)
            pipe.expire(name, window * 2)
            count = int(pipe.execute()[0])
        except Exception:  # Redis down: let the delegation in rather than lock it out
            current_app.logger.warning("RSVP rate limit not applied: Redis unavailable")
            return True
        return count <= limit


def make_limiter(app: App) -> RateLimiter:
    url = app.config.get("REDIS_URL")
    return RedisLimiter(str(url)) if url else MemoryLimiter()


@bp.record_once
def _on_register(state: BlueprintSetupState) -> None:
    state.app.extensions["rsvp_limiter"] = make_limiter(state.app)


@bp.before_request
def _rate_limit() -> None:
    limiter: RateLimiter = current_app.extensions["rsvp_limiter"]
    limit = int(current_app.config.get("RSVP_RATE_LIMIT", 60))
    window = int(current_app.config.get("RSVP_RATE_WINDOW", 60))
    if not limiter.allow(request.remote_addr or "-", limit, window):
        abort(429)


@bp.after_request
def _private_headers(response: Response) -> Response:
    """A personal page: no cache keeps it, no search engine lists it, no link leaks it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# --- finding the invitation and its language ---------------------------------------------


def page_language(invitation: Invitation) -> str:
    """?lang= (remembered), else the visitor's earlier choice, else the invitation's."""
    allowed = tuple(current_app.config["LANGUAGES"])
    asked = request.args.get("lang")
    if asked in allowed:
        session[LANGUAGE_KEY] = asked
        return str(asked)
    remembered = session.get(LANGUAGE_KEY)
    if remembered in allowed:
        return str(remembered)
    return invitation.language if invitation.language in allowed else "en"


@contextmanager
def _speaking(invitation: Invitation) -> Iterator[None]:
    with force_locale(page_language(invitation)):
        yield


ViewResult = Response | str | tuple[str, int]


def link_view(view: Callable[..., ViewResult]) -> Callable[..., ViewResult]:
    """Resolve the token to its invitation (else the one 404) and speak its language."""

    @wraps(view)
    def wrapped(token: str, **kwargs: Any) -> ViewResult:
        invitation = invitation_for_token(db.session, token)
        if invitation is None:
            abort(404)
        with _speaking(invitation):
            return view(invitation, token, **kwargs)

    return wrapped


def _address() -> str:
    return request.remote_addr or ""


# --- the page -------------------------------------------------------------------------------


def _status_label(status: InvitationStatus) -> str:
    if status == InvitationStatus.ACCEPTED:
        return str(_("You have accepted the invitation."))
    if status == InvitationStatus.DECLINED:
        return str(_("You have declined the invitation."))
    return str(_("You have not replied yet."))


def _details_form(invitation: Invitation) -> DetailsForm:
    form = DetailsForm(formdata=None, obj=invitation)
    shown = invitation.wreath if invitation.wreath != WreathChoice.PROXY else WreathChoice.NONE
    form.wreath.data = shown.value
    return form


def _page(
    invitation: Invitation,
    token: str,
    *,
    reply_form: ReplyForm | None = None,
    member_form: MemberForm | None = None,
    details_form: DetailsForm | None = None,
    notice: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The page, with the forms the delegation may use now (or none when read-only)."""
    ceremony = invitation.ceremony
    if reply_form is None:
        reply_form = ReplyForm(formdata=None)
        if invitation.addressee is not None:
            reply_form.head_name.data = invitation.addressee.full_name
    last_day = deadline(invitation)
    return render_template(
        "rsvp/page.html",
        invitation=invitation,
        ceremony=ceremony,
        token=token,
        lang=current_language(),
        timed=delegation_programme(ceremony),
        deadline=date_phrase(last_day) if last_day else None,
        editable=open_for_changes(invitation),
        accepted=invitation.status == InvitationStatus.ACCEPTED,
        reply_label=_status_label(invitation.status),
        reply_form=reply_form,
        member_form=member_form or MemberForm(formdata=None),
        details_form=details_form or _details_form(invitation),
        role_labels=MEMBER_ROLE_LABELS,
        wreath_labels=WREATH_LABELS,
        notice=notice,
    ), status


def _conflict(invitation: Invitation, token: str) -> tuple[str, int]:
    """Someone else changed the invitation first (another tab, a colleague): show the
    current state, save nothing."""
    db.session.rollback()
    notice = _(
        "Someone else changed this reply after you opened the page, perhaps a colleague "
        "with the same link. Nothing was saved: look at the page again and repeat your "
        "change if it still applies."
    )
    return _page(invitation, token, notice=notice, status=409)


def _closed(invitation: Invitation, token: str) -> tuple[str, int]:
    db.session.rollback()
    return _page(invitation, token, status=403)


def _done(token: str, message: str, anchor: str | None = None) -> Response:
    flash(message, "success")
    return redirect(url_for("rsvp.page", token=token, _anchor=anchor))


def _change(
    invitation: Invitation,
    token: str,
    change: Callable[[], object],
    refused: Callable[[RsvpError], ViewResult],
    done: Callable[[], Response],
) -> ViewResult:
    """One change by the link holder, answered the same way everywhere: a stale form gets
    the conflict page, a closed invitation the closed page, a refusal the form again; the
    change commits once, and a race lost at commit is a conflict too."""
    try:
        change()
    except RsvpConflict:
        return _conflict(invitation, token)
    except RsvpClosed:
        return _closed(invitation, token)
    except RsvpError as error:
        db.session.rollback()
        return refused(error)
    if not commit():
        return _conflict(invitation, token)
    return done()


@bp.get("/rsvp/<token>")
@link_view
def page(invitation: Invitation, token: str) -> ViewResult:
    """The ceremony, the practical details, the reply and the delegation; reads only."""
    return _page(invitation, token)


@bp.post("/rsvp/<token>/reply")
@link_view
def answer(invitation: Invitation, token: str) -> ViewResult:
    """Accept (naming the head of the delegation if nobody is named yet) or decline."""
    form = ReplyForm()
    choice = form.answer.data
    if not form.validate_on_submit() or choice not in ("accept", "decline"):
        db.session.rollback()
        if choice not in ("accept", "decline"):
            form_error(form, None, _("Choose to accept or to decline."))
        return _page(invitation, token, reply_form=form, status=400)
    head = None
    if form.head_name.data:
        head = MemberData(name=form.head_name.data, function=form.head_function.data or "")

    def refused(error: RsvpError) -> ViewResult:
        form_error(form, error.field, error.message)
        return _page(invitation, token, reply_form=form, status=400)

    def done() -> Response:
        if choice == "accept":
            return _done(token, _("Thank you: we look forward to welcoming you."), "delegation")
        return _done(token, _("Thank you for letting us know."))

    return _change(
        invitation,
        token,
        lambda: reply(
            invitation,
            choice == "accept",
            expected_version=parse_version(form.version.data),
            address=_address(),
            head=head,
        ),
        refused,
        done,
    )


def _member_data(form: MemberForm) -> MemberData:
    return MemberData(
        name=form.name.data or "",
        function=form.function.data or "",
        role=MemberRole(form.role.data),
        car_plate=form.car_plate.data or "",  # upper-cased by the form, before its checks
    )


@bp.post("/rsvp/<token>/members")
@link_view
def new_member(invitation: Invitation, token: str) -> ViewResult:
    form = MemberForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _page(invitation, token, member_form=form, status=400)

    def refused(error: RsvpError) -> ViewResult:
        form_error(form, error.field, error.message)
        return _page(invitation, token, member_form=form, status=400)

    return _change(
        invitation,
        token,
        lambda: add_member(
            invitation,
            _member_data(form),
            expected_version=parse_version(form.version.data),
            address=_address(),
        ),
        refused,
        lambda: _done(token, _("%(name)s was added.", name=form.name.data), "delegation"),
    )


@bp.route("/rsvp/<token>/members/<int:member_id>", methods=["GET", "POST"])
@link_view
def member(invitation: Invitation, token: str, member_id: int) -> ViewResult:
    """One member's details: shown, and changed until the deadline."""
    try:
        found = find_member(invitation, member_id)
    except MemberNotFound:
        abort(404)
    editable = open_for_changes(invitation)
    if request.method == "GET":
        form = MemberForm(formdata=None, obj=found)
        form.role.data = found.role.value
        form.version.data = str(invitation.version)
        return render_template(
            "rsvp/member.html", invitation=invitation, token=token, form=form, editable=editable
        )
    form = MemberForm()

    def refused(error: RsvpError | None = None) -> ViewResult:
        db.session.rollback()
        if error is not None:
            form_error(form, error.field, error.message)
        return render_template(
            "rsvp/member.html", invitation=invitation, token=token, form=form, editable=editable
        ), 400

    if not form.validate_on_submit():
        return refused()
    return _change(
        invitation,
        token,
        lambda: save_member(
            invitation,
            member_id,
            _member_data(form),
            expected_version=parse_version(form.version.data),
            address=_address(),
        ),
        refused,
        lambda: _done(token, _("Saved."), "delegation"),
    )


@bp.post("/rsvp/<token>/members/<int:member_id>/remove")
@link_view
def delete_member(invitation: Invitation, token: str, member_id: int) -> ViewResult:
    form = VersionedForm()
    if not form.validate_on_submit():
        abort(400)

    def remove() -> None:
        try:
            remove_member(
                invitation,
                member_id,
                expected_version=parse_version(form.version.data),
                address=_address(),
            )
        except MemberNotFound:
            abort(404)

    return _change(
        invitation,
        token,
        remove,
        lambda error: _page(invitation, token, notice=str(error.message), status=400),
        lambda: _done(token, _("Removed from the delegation."), "delegation"),
    )


@bp.post("/rsvp/<token>/details")
@link_view
def details(invitation: Invitation, token: str) -> ViewResult:
    """The wreath, accessibility needs and a remark."""
    form = DetailsForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _page(invitation, token, details_form=form, status=400)
    data = DetailsData(
        wreath=WreathChoice(form.wreath.data),
        ribbon_text=form.ribbon_text.data or "",
        ribbon_colours=form.ribbon_colours.data or "",
        accessibility=form.accessibility.data or "",
        remark=form.remark.data or "",
    )

    def refused(error: RsvpError) -> ViewResult:
        form_error(form, error.field, error.message)
        return _page(invitation, token, details_form=form, status=400)

    return _change(
        invitation,
        token,
        lambda: save_details(
            invitation, data, expected_version=parse_version(form.version.data), address=_address()
        ),
        refused,
        lambda: _done(token, _("Saved."), "wreath"),
    )


# --- the delegation's personal feed --------------------------------------------------------


@bp.get("/rsvp/<token>/calendar.ics")
@link_view
def feed(invitation: Invitation, token: str) -> ViewResult:
    """The delegation's edition with its practical details, for its calendar."""
    asked = request.args.get("lang")
    lang = asked if asked in FEED_LANGUAGES else invitation.language
    if lang not in FEED_LANGUAGES:
        lang = "en"
    ceremony = invitation.ceremony
    public_url = None
    if is_public(ceremony):
        base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
        public_url = str(base).rstrip("/") + url_for("public.edition", slug=ceremony.slug)
    body = delegation_calendar(invitation, str(lang), public_url)
    # Last-Modified is this edition's own latest change, not that of every feed. Not
    # make_conditional: it adds a Date header, and the server adds another.
    changed = ceremony.calendar_changed_at or ceremony.updated_at.replace(microsecond=0)
    headers = [
        ("Content-Type", "text/calendar; charset=utf-8"),
        ("Content-Disposition", f'inline; filename="{ceremony.slug}.ics"'),
    ]
    return serve(rendered(body, changed, headers))
