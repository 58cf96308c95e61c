"""What staff do with invitations: policies, create (one or in bulk), edit, send, reply.

Services flush but never commit: the view or command that calls them commits once.
Every change is written to the audit log; an invitation's history is its audit entries.

Decisions where the brief is silent (kept here so that code and explanation stay together):

- **Policy.** An organisation's own policy beats its country's; without either the
  organisation is invited. "Do not invite" refuses every way out: single create, bulk
  create (skipped and reported), marking sent, a new link, a reply; setting it revokes the
  live links of that edition's invitations it now covers. "Wreath by proxy only" makes
  an invitation of kind proxy with a proxy wreath, which is never sent and has no link.
- **Addressee.** The person of the organisation's appointment valid on the ceremony day
  with the best role: heads of mission by Vienna class, then mayor, King's commissioner,
  minister, deputy mayor, director, consul, official, relative, other; within one role the
  earliest ``taken_up_at``, then the manual tie-break. The language is the addressee's
  (nl, en or ru); without an addressee nl for Dutch organisations, else en.
- **Deadline.** The edition's ``rsvp_deadline``, else the ceremony day minus the series'
  ``rsvp_days_before`` (14 days for one-offs); always before the ceremony day.
  R.S.V.P. invitations need one; regrets-only and p.m. may have one; proxy ones have none.
- **Sending.** "Mark as sent" (mail comes later) moves a draft to sent and issues a link
  if it has none. Staff may also set any status in the edit form (e.g. "no reply").
- **No reply** is a flag computed for sent or viewed R.S.V.P. invitations past their
  deadline, or the status staff set. The list to phone: sent, viewed or no-reply
  R.S.V.P. invitations whose deadline is within seven days or past.
- **Who comes.** ``delegation_size`` is the number of people expected: for an accepted
  invitation (or a sent p.m. one, or a sent regrets-only one without regrets) its named
  members, at least one (the addressee); else 0.
- **Wreaths coming**: a proxy invitation's wreath, the wreath of a delegation that comes,
  and an ordered or proxy wreath of a delegation that declined to attend.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEntry
from app.audit.services import diff, record
from app.audit.tracking import HIDDEN
from app.auth.models import User
from app.ceremonies.errors import EditConflict
from app.ceremonies.models import Ceremony
from app.contacts.models import (
    PRECEDENCE_CLASS,
    Appointment,
    AppointmentRole,
    ContactGroup,
    Organisation,
    OrganisationKind,
    Person,
)
from app.extensions import DbSession
from app.invitations.models import (
    DelegationMember,
    Invitation,
    InvitationKind,
    InvitationPolicy,
    InvitationStatus,
    MemberRole,
    PolicyDecision,
    WreathChoice,
)
from app.invitations.tokens import issue_token, revoke_token
from app.refusals import Refusal
from app.types import utcnow

LANGUAGES = ("nl", "en", "ru")
DEFAULT_DAYS_BEFORE = 14
PHONE_WINDOW = timedelta(days=7)
# Below MAX_CONTENT_LENGTH (4 MiB), so a slightly large file gets a form error, not a 413.
DOCUMENT_MAX_BYTES = 3 * 1024 * 1024
DOCUMENT_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
DOCUMENT_NAME = re.compile(r"^[0-9a-f]{32}\.(pdf|png|jpg|jpeg)$")
DOCUMENT_MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}

# The order in which an organisation's appointments address its invitation.
ADDRESSEE_ROLES: tuple[AppointmentRole, ...] = (
    *sorted(PRECEDENCE_CLASS, key=lambda role: PRECEDENCE_CLASS[role]),
    AppointmentRole.MAYOR,
    AppointmentRole.KINGS_COMMISSIONER,
    AppointmentRole.MINISTER,
    AppointmentRole.DEPUTY_MAYOR,
    AppointmentRole.DIRECTOR,
    AppointmentRole.CONSUL,
    AppointmentRole.OFFICIAL,
    AppointmentRole.RELATIVE,
    AppointmentRole.OTHER,
)
DUTCH_KINDS = frozenset(
    {OrganisationKind.MUNICIPALITY, OrganisationKind.PROVINCE, OrganisationKind.MINISTRY}
)
WAITING = frozenset({InvitationStatus.SENT, InvitationStatus.VIEWED, InvitationStatus.NO_REPLY})
REPLIED = frozenset({InvitationStatus.ACCEPTED, InvitationStatus.DECLINED})
# Personal data is logged as changed, never copied into the log (it outlives erasure).
PERSONAL_FIELDS = frozenset(
    {c.key for c in Invitation.__table__.columns if "personal" in c.info} | {"members"}
)


class InvitationError(Refusal):
    """A rule about invitations refused the change."""


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for the audit log: a staff member, or a command."""

    user_id: int | None = None
    label: str = ""
    address: str = ""


def _audit(
    session: DbSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    record(
        session,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=changes,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        reason=reason,
        address=actor.address,
    )


def audit_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The changed fields, with personal data shown as changed but not copied."""
    changes = diff(before, after)
    for key in PERSONAL_FIELDS & changes.keys():
        changes[key] = [HIDDEN if value not in (None, "") else value for value in changes[key]]
    return changes


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise EditConflict()


def ceremony_day(ceremony: Ceremony) -> date:
    """The ceremony's date where it is held."""
    return ceremony.local_start.date()


# --- personal links -----------------------------------------------------------------


def personal_url(token: str) -> str:
    """The delegation's personal address for ``token``.

    The RSVP page's own route when it is registered, else ``/rsvp/<token>``; on
    PUBLIC_BASE_URL when set, else this request's host (http://localhost from a command).
    """
    path = "/rsvp/" + token
    if "rsvp.page" in current_app.view_functions:
        path = current_app.url_map.bind("localhost").build("rsvp.page", {"token": token})
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        base = str(configured).rstrip("/")
    elif has_request_context():
        base = request.host_url.rstrip("/")
    else:
        base = "http://localhost"
    return base + path


# --- policies -----------------------------------------------------------------------


def policy_for(
    session: DbSession, ceremony: Ceremony, organisation: Organisation
) -> InvitationPolicy | None:
    """The policy that applies: the organisation's own, else its country's, else None."""
    own = session.scalar(
        sa.select(InvitationPolicy).where(
            InvitationPolicy.ceremony_id == ceremony.id,
            InvitationPolicy.organisation_id == organisation.id,
        )
    )
    if own is not None or not organisation.country:
        return own
    return session.scalar(
        sa.select(InvitationPolicy).where(
            InvitationPolicy.ceremony_id == ceremony.id,
            InvitationPolicy.country == organisation.country,
        )
    )


def decision_for(
    session: DbSession, ceremony: Ceremony, organisation: Organisation
) -> PolicyDecision:
    policy = policy_for(session, ceremony, organisation)
    return policy.decision if policy is not None else PolicyDecision.INVITE


def decisions_for(
    session: DbSession, ceremony: Ceremony, organisations: Iterable[Organisation]
) -> dict[int, PolicyDecision]:
    """The decision for each organisation (by id), with one query for the edition."""
    by_organisation: dict[int, PolicyDecision] = {}
    by_country: dict[str, PolicyDecision] = {}
    for policy in session.scalars(
        sa.select(InvitationPolicy).where(InvitationPolicy.ceremony_id == ceremony.id)
    ):
        if policy.organisation_id is not None:
            by_organisation[policy.organisation_id] = policy.decision
        elif policy.country:
            by_country[policy.country] = policy.decision
    return {
        o.id: by_organisation.get(o.id, by_country.get(o.country, PolicyDecision.INVITE))
        for o in organisations
    }


def policies_of(session: DbSession, ceremony: Ceremony) -> list[InvitationPolicy]:
    """An edition's policies: countries first (by code), then organisations (by name)."""
    rows = session.scalars(
        sa.select(InvitationPolicy)
        .where(InvitationPolicy.ceremony_id == ceremony.id)
        .options(
            selectinload(InvitationPolicy.organisation),
            selectinload(InvitationPolicy.approved_by),
        )
    ).all()
    return sorted(
        rows,
        key=lambda p: (p.organisation is not None, p.country or "", _org_name(p.organisation)),
    )


def _org_name(organisation: Organisation | None) -> str:
    return organisation.name.casefold() if organisation is not None else ""


@dataclass
class PolicyData:
    """One organisation or one country (exactly one), the decision and its reason."""

    organisation: Organisation | None
    country: str | None
    decision: PolicyDecision
    reason: str


@dataclass
class PolicyResult:
    policy: InvitationPolicy
    revoked: list[Invitation]  # live links that the policy stopped


def set_policy(
    session: DbSession, ceremony: Ceremony, data: PolicyData, approver: User, actor: Actor
) -> PolicyResult:
    """Set (or change) the policy for an organisation or a country; the admin approves.

    A do-not-invite policy also revokes the live links of the invitations it now covers.
    """
    if not approver.is_admin:
        raise InvitationError(_l("Only an administrator can approve an invitation policy."))
    if (data.organisation is None) == (data.country is None):
        raise InvitationError(_l("Choose an organisation or a country."), field="target")
    if not data.reason.strip():
        raise InvitationError(_l("Give the reason for this policy."), field="reason")
    target = (
        InvitationPolicy.organisation_id == data.organisation.id
        if data.organisation is not None
        else InvitationPolicy.country == data.country
    )
    policy = session.scalar(
        sa.select(InvitationPolicy).where(InvitationPolicy.ceremony_id == ceremony.id, target)
    )
    before: dict[str, Any] = {}
    if policy is None:
        policy = InvitationPolicy(
            ceremony_id=ceremony.id,
            organisation=data.organisation,
            country=data.country,
            created_at=utcnow(),
        )
        session.add(policy)
    else:
        before = _policy_state(policy)
    policy.decision = data.decision
    policy.reason = data.reason
    policy.approved_by = approver
    session.flush()
    _audit(
        session,
        actor,
        "policy.set",
        "invitation_policy",
        policy.id,
        diff(before, _policy_state(policy)),
    )
    revoked: list[Invitation] = []
    if data.decision == PolicyDecision.DO_NOT_INVITE:
        for invitation in invitations_of(session, ceremony):
            live = invitation.token_hash is not None
            if live and decision_for(session, ceremony, invitation.organisation) == (
                PolicyDecision.DO_NOT_INVITE
            ):
                revoke_token(invitation)
                revoked.append(invitation)
                _audit(
                    session,
                    actor,
                    "invitation.link_revoked",
                    "invitation",
                    invitation.id,
                    reason="do-not-invite policy",
                )
        session.flush()
    return PolicyResult(policy, revoked)


def _policy_state(policy: InvitationPolicy) -> dict[str, Any]:
    return {
        "ceremony_id": policy.ceremony_id,
        "organisation_id": policy.organisation_id,
        "country": policy.country,
        "decision": policy.decision.value if policy.decision else None,
        "reason": policy.reason,
        "approved_by_id": policy.approved_by.id if policy.approved_by else None,
    }


def remove_policy(
    session: DbSession, policy: InvitationPolicy, approver: User, actor: Actor
) -> None:
    """Drop a policy: its organisation or country is invited again like any other."""
    if not approver.is_admin:
        raise InvitationError(_l("Only an administrator can approve an invitation policy."))
    _audit(
        session,
        actor,
        "policy.remove",
        "invitation_policy",
        policy.id,
        diff(_policy_state(policy), {}),
    )
    session.delete(policy)
    session.flush()


# --- defaults -----------------------------------------------------------------------


def default_addressee(organisation: Organisation, day: date) -> Person | None:
    """The person of the best current appointment (see the module docstring)."""
    current = [a for a in organisation.appointments if a.valid_on(day)]
    if not current:
        return None
    return min(current, key=_appointment_rank).person


def _appointment_rank(appointment: Appointment) -> tuple[int, bool, Any, int, int]:
    role_index = ADDRESSEE_ROLES.index(appointment.role)
    taken = appointment.taken_up_at
    return (role_index, taken is None, taken or 0, appointment.tie_break, appointment.person_id)


def default_language(organisation: Organisation, addressee: Person | None) -> str:
    if addressee is not None and addressee.language in LANGUAGES:
        return addressee.language
    if organisation.country == "NL" or (
        not organisation.country and organisation.kind in DUTCH_KINDS
    ):
        return "nl"
    return "en"


def default_deadline(ceremony: Ceremony) -> date:
    """The edition's RSVP deadline, else the series' days before (14 for one-offs)."""
    if ceremony.rsvp_deadline is not None:
        return ceremony.rsvp_deadline
    days = ceremony.series.rsvp_days_before if ceremony.series else DEFAULT_DAYS_BEFORE
    return ceremony_day(ceremony) - timedelta(days=max(days, 1))


def check_deadline(ceremony: Ceremony, deadline: date | None, kind: InvitationKind) -> None:
    """An R.S.V.P. needs a deadline; any deadline falls before the ceremony day."""
    if deadline is None:
        if kind == InvitationKind.RSVP:
            raise InvitationError(
                _l("An R.S.V.P. invitation needs a reply deadline."), field="rsvp_deadline"
            )
        return
    if deadline >= ceremony_day(ceremony):
        raise InvitationError(
            _l(
                "The reply deadline must fall before the ceremony (%(day)s).",
                day=ceremony_day(ceremony).isoformat(),
            ),
            field="rsvp_deadline",
        )


# --- creating -----------------------------------------------------------------------


def existing_invitation(
    session: DbSession, ceremony: Ceremony, organisation: Organisation
) -> Invitation | None:
    return session.scalar(
        sa.select(Invitation).where(
            Invitation.ceremony_id == ceremony.id,
            Invitation.organisation_id == organisation.id,
        )
    )


def create_invitation(
    session: DbSession,
    ceremony: Ceremony,
    organisation: Organisation,
    actor: Actor,
    *,
    kind: InvitationKind = InvitationKind.RSVP,
    rsvp_deadline: date | None = None,
    cohosts: str | None = None,
) -> Invitation:
    """A draft invitation with the default addressee, language and deadline.

    Refused for a do-not-invite organisation or one invited already; a proxy-only
    policy makes a proxy invitation whatever kind was asked.
    """
    decision = decision_for(session, ceremony, organisation)
    if decision == PolicyDecision.DO_NOT_INVITE:
        raise InvitationError(
            _l("%(name)s is not to be invited to this edition.", name=organisation.name),
            field="organisation_id",
        )
    if existing_invitation(session, ceremony, organisation) is not None:
        raise InvitationError(
            _l("%(name)s is invited to this edition already.", name=organisation.name),
            field="organisation_id",
        )
    if decision == PolicyDecision.PROXY_ONLY:
        kind = InvitationKind.PROXY
    if kind == InvitationKind.PROXY:
        rsvp_deadline = None
    elif rsvp_deadline is None:
        rsvp_deadline = default_deadline(ceremony)
    check_deadline(ceremony, rsvp_deadline, kind)
    addressee = default_addressee(organisation, ceremony_day(ceremony))
    now = utcnow()
    invitation = Invitation(
        ceremony=ceremony,
        organisation=organisation,
        addressee=addressee,
        language=default_language(organisation, addressee),
        kind=kind,
        rsvp_deadline=rsvp_deadline,
        # Empty: the edition's hosts, in the letter's language, with the verb agreeing.
        cohosts=cohosts or "",
        status=InvitationStatus.DRAFT,
        wreath=WreathChoice.PROXY if kind == InvitationKind.PROXY else WreathChoice.NONE,
        created_at=now,
        updated_at=now,
    )
    session.add(invitation)
    session.flush()
    _audit(
        session,
        actor,
        "invitation.create",
        "invitation",
        invitation.id,
        audit_diff({}, _state(invitation)),
    )
    return invitation


def resolve_groups(session: DbSession, names: Iterable[str]) -> list[ContactGroup]:
    """The groups of these names; an unknown name is refused (naming it)."""
    found: list[ContactGroup] = []
    for name in names:
        group = session.scalar(sa.select(ContactGroup).where(ContactGroup.name == name))
        if group is None:
            raise InvitationError(_l("There is no group named %(name)s.", name=name), "groups")
        found.append(group)
    return found


@dataclass
class BulkResult:
    created: list[Invitation] = field(default_factory=list)
    existing: list[Organisation] = field(default_factory=list)  # invited already
    refused: list[Organisation] = field(default_factory=list)  # do not invite


def create_bulk(
    session: DbSession,
    ceremony: Ceremony,
    actor: Actor,
    *,
    groups: Sequence[ContactGroup] = (),
    kinds: Sequence[OrganisationKind] = (),
) -> BulkResult:
    """Invite every organisation of these groups and kinds; a second run adds nothing.

    Organisations invited already are left as they are; do-not-invite ones are skipped
    and reported.
    """
    if not groups and not kinds:
        raise InvitationError(_l("Choose at least one group or kind."), field="groups")
    chosen: dict[int, Organisation] = {}
    for group in groups:
        chosen.update((o.id, o) for o in group.organisations)
    if kinds:
        rows = session.scalars(sa.select(Organisation).where(Organisation.kind.in_(list(kinds))))
        chosen.update((o.id, o) for o in rows)
    result = BulkResult()
    for organisation in sorted(chosen.values(), key=lambda o: o.name.casefold()):
        if existing_invitation(session, ceremony, organisation) is not None:
            result.existing.append(organisation)
        elif decision_for(session, ceremony, organisation) == PolicyDecision.DO_NOT_INVITE:
            result.refused.append(organisation)
        else:
            result.created.append(create_invitation(session, ceremony, organisation, actor))
    return result


# --- changing -----------------------------------------------------------------------


def _state(invitation: Invitation) -> dict[str, Any]:
    """What the audit log compares (never the token)."""
    return {
        "organisation_id": invitation.organisation_id,
        "addressee_id": invitation.addressee.id if invitation.addressee else None,
        "language": invitation.language,
        "kind": invitation.kind.value,
        "rsvp_deadline": invitation.rsvp_deadline,
        "cohosts": invitation.cohosts,
        "status": invitation.status.value,
        "wreath": invitation.wreath.value,
        "ribbon_text": invitation.ribbon_text,
        "ribbon_colours": invitation.ribbon_colours,
        "accessibility": invitation.accessibility,
        "remark": invitation.remark,
        "reply_note": invitation.reply_note,
        "document_name": invitation.document_name,
    }


def addressee_choices(organisation: Organisation) -> list[Person]:
    """The people who hold (or held) an appointment at the organisation, by name."""
    people = {a.person.id: a.person for a in organisation.appointments}
    return sorted(people.values(), key=lambda p: (p.family_name.casefold(), p.id))


@dataclass
class InvitationChanges:
    """What staff enter in an invitation's edit form."""

    addressee: Person | None
    language: str
    kind: InvitationKind
    rsvp_deadline: date | None
    cohosts: str
    status: InvitationStatus
    accessibility: str
    remark: str


def _check_policy_allows(
    session: DbSession, invitation: Invitation, status: InvitationStatus, kind: InvitationKind
) -> None:
    decision = decision_for(session, invitation.ceremony, invitation.organisation)
    if decision == PolicyDecision.DO_NOT_INVITE and status != InvitationStatus.DRAFT:
        raise InvitationError(
            _l(
                "%(name)s is not to be invited to this edition: the invitation stays a draft.",
                name=invitation.organisation.name,
            ),
            field="status",
        )
    if decision == PolicyDecision.PROXY_ONLY and kind != InvitationKind.PROXY:
        raise InvitationError(
            _l("The policy for this edition allows only a wreath by proxy."), field="kind"
        )
    if kind == InvitationKind.PROXY and status in WAITING:
        raise InvitationError(
            _l("A wreath by proxy is not sent: there is no letter and no link."),
            field="status",
        )


def update_invitation(
    session: DbSession,
    invitation: Invitation,
    changes: InvitationChanges,
    expected_version: int,
    actor: Actor,
) -> Invitation:
    """Save an edited invitation unless it changed since the form was opened."""
    check_version(invitation.version, expected_version)
    if changes.language not in LANGUAGES:
        raise InvitationError(_l("Choose Dutch, English or Russian."), field="language")
    if changes.addressee is not None and changes.addressee.id not in {
        p.id for p in addressee_choices(invitation.organisation)
    }:
        raise InvitationError(
            _l("The addressee must hold an appointment at the organisation."),
            field="addressee_id",
        )
    check_deadline(invitation.ceremony, changes.rsvp_deadline, changes.kind)
    _check_policy_allows(session, invitation, changes.status, changes.kind)
    if changes.kind == InvitationKind.PROXY and invitation.members:
        raise InvitationError(
            _l("Remove the delegation's members first: nobody comes for a proxy wreath."),
            field="kind",
        )
    before = _state(invitation)
    invitation.addressee = changes.addressee
    invitation.language = changes.language
    invitation.kind = changes.kind
    invitation.rsvp_deadline = changes.rsvp_deadline
    invitation.cohosts = changes.cohosts
    invitation.accessibility = changes.accessibility
    invitation.remark = changes.remark
    if changes.kind == InvitationKind.PROXY:
        invitation.wreath = WreathChoice.PROXY
        revoke_token(invitation)
    if changes.status != invitation.status:
        now = utcnow()
        if changes.status != InvitationStatus.DRAFT and invitation.sent_at is None:
            invitation.sent_at = now
        if changes.status in REPLIED:
            invitation.replied_at = now
            invitation.replied_by = "staff"
        invitation.status = changes.status
    return _changed(session, invitation, before, actor, "invitation.update")


def _changed(
    session: DbSession,
    invitation: Invitation,
    before: dict[str, Any],
    actor: Actor,
    action: str,
    reason: str = "",
) -> Invitation:
    changes = audit_diff(before, _state(invitation))
    if changes or reason:
        invitation.updated_at = utcnow()
        _audit(session, actor, action, "invitation", invitation.id, changes, reason)
    session.flush()
    return invitation


def _check_may_go_out(session: DbSession, invitation: Invitation) -> None:
    if decision_for(session, invitation.ceremony, invitation.organisation) == (
        PolicyDecision.DO_NOT_INVITE
    ):
        raise InvitationError(
            _l(
                "%(name)s is not to be invited to this edition: nothing may be sent.",
                name=invitation.organisation.name,
            )
        )
    if invitation.kind == InvitationKind.PROXY:
        raise InvitationError(_l("A wreath by proxy is not sent: there is no letter and no link."))


def check_may_go_out(session: DbSession, invitation: Invitation) -> None:
    """Raises InvitationError unless the invitation may be sent (or, sent, get a new link)
    now: what mark_sent and new_link check, without changing anything."""
    _check_may_go_out(session, invitation)
    if invitation.status == InvitationStatus.DRAFT:
        check_deadline(invitation.ceremony, invitation.rsvp_deadline, invitation.kind)


def mark_sent(
    session: DbSession,
    invitation: Invitation,
    expected_version: int | None,
    actor: Actor,
    *,
    nonce: str | None = None,
) -> str | None:
    """A draft goes out: status sent, and a personal link if it had none (returned), or
    the link of ``nonce`` (tokens.new_nonce) in place of any it had."""
    check_version(invitation.version, expected_version)
    _check_may_go_out(session, invitation)
    if invitation.status != InvitationStatus.DRAFT:
        raise InvitationError(_l("Only a draft can be marked as sent."))
    check_deadline(invitation.ceremony, invitation.rsvp_deadline, invitation.kind)
    before = _state(invitation)
    invitation.status = InvitationStatus.SENT
    invitation.sent_at = utcnow()
    token = (
        issue_token(invitation, nonce)
        if invitation.token_hash is None or nonce is not None
        else None
    )
    _changed(session, invitation, before, actor, "invitation.sent")
    if token is not None:
        _audit(session, actor, "invitation.link", "invitation", invitation.id)
    return token


def new_link(
    session: DbSession,
    invitation: Invitation,
    actor: Actor,
    *,
    nonce: str | None = None,
    flush: bool = True,
) -> str:
    """A new personal link (from ``nonce`` when given); the old one stops working at once.

    ``flush=False`` leaves the flush to a caller that changes many invitations at once.
    """
    _check_may_go_out(session, invitation)
    token = issue_token(invitation, nonce)
    invitation.updated_at = utcnow()
    _audit(session, actor, "invitation.link", "invitation", invitation.id)
    if flush:
        session.flush()
    return token


@dataclass
class UploadedDocument:
    """A file staff attach to a reply (a note verbale, a scanned letter)."""

    filename: str
    content: bytes


def document_suffix(document: UploadedDocument) -> str:
    """The stored suffix of an acceptable document; refuses other types and sizes."""
    if not document.content:
        raise InvitationError(_l("The file is empty."), field="document")
    if len(document.content) > DOCUMENT_MAX_BYTES:
        raise InvitationError(
            _l(
                "The file is larger than %(mb)d MB; attach a smaller scan.",
                mb=DOCUMENT_MAX_BYTES // (1024 * 1024),
            ),
            field="document",
        )
    suffix = Path(document.filename).suffix.lower()
    signatures = DOCUMENT_TYPES.get(suffix)
    if signatures is None or not document.content.startswith(signatures):
        raise InvitationError(_l("Attach a PDF, PNG or JPEG file."), field="document")
    return suffix


def document_path(documents_dir: Path, invitation: Invitation) -> Path | None:
    """Where the invitation's document lies, if it has one with a name we made."""
    name = invitation.document_name
    if not name or not DOCUMENT_NAME.match(name):
        return None
    return documents_dir / str(invitation.id) / name


def media_type(name: str) -> str:
    return DOCUMENT_MEDIA_TYPES[name.rsplit(".", 1)[-1]]


@dataclass
class ReplyResult:
    stored: Path | None  # the new file (to remove if the commit fails)
    replaced: Path | None  # the previous file (to remove once the commit succeeded)


def record_reply(
    session: DbSession,
    invitation: Invitation,
    answer: InvitationStatus,
    note: str,
    document: UploadedDocument | None,
    documents_dir: Path,
    expected_version: int,
    actor: Actor,
) -> ReplyResult:
    """Staff record a delegation's answer (phone call, note verbale) with its document.

    The file is stored under ``documents_dir/<invitation id>/`` with a generated name;
    the uploaded name is not kept (it may name a person).
    """
    check_version(invitation.version, expected_version)
    if answer not in REPLIED:
        raise InvitationError(_l("Choose accepted or declined."), field="answer")
    _check_may_go_out(session, invitation)
    suffix = document_suffix(document) if document is not None else None
    before = _state(invitation)
    result = ReplyResult(None, None)
    if document is not None and suffix is not None:
        result.replaced = document_path(documents_dir, invitation)
        result.stored = documents_dir / str(invitation.id) / (secrets.token_hex(16) + suffix)
        invitation.document_name = result.stored.name
    invitation.status = answer
    invitation.replied_at = utcnow()
    invitation.replied_by = "staff"
    invitation.reply_note = note
    if invitation.sent_at is None:
        invitation.sent_at = invitation.replied_at
    _changed(session, invitation, before, actor, "invitation.reply", reason="on behalf")
    # Written only once the row flushed: a lost race leaves no file behind.
    if document is not None and result.stored is not None:
        result.stored.parent.mkdir(parents=True, exist_ok=True)
        result.stored.write_bytes(document.content)
    return result


@dataclass
class MemberData:
    name: str
    function: str = ""
    role: MemberRole = MemberRole.ATTENDEE
    car_plate: str = ""


@dataclass
class DelegationData:
    members: list[MemberData]
    wreath: WreathChoice
    ribbon_text: str
    ribbon_colours: str


def update_delegation(
    session: DbSession,
    invitation: Invitation,
    data: DelegationData,
    expected_version: int,
    actor: Actor,
) -> Invitation:
    """Staff set the delegation's members (in order), its wreath and ribbon."""
    check_version(invitation.version, expected_version)
    if invitation.kind == InvitationKind.PROXY:
        if data.members:
            raise InvitationError(
                _l("Nobody comes for a wreath by proxy: leave the members empty."),
                field="members",
            )
        if data.wreath not in (WreathChoice.PROXY, WreathChoice.NONE):
            raise InvitationError(
                _l("A proxy invitation's wreath is laid by proxy (or not at all)."),
                field="wreath",
            )
    before = {**_state(invitation), "members": _members_state(invitation.members)}
    invitation.members.clear()
    session.flush()
    for position, member in enumerate(data.members):
        invitation.members.append(
            DelegationMember(
                position=position,
                name=member.name,
                function=member.function,
                role=member.role,
                car_plate=member.car_plate,
            )
        )
    invitation.wreath = data.wreath
    invitation.ribbon_text = data.ribbon_text
    invitation.ribbon_colours = data.ribbon_colours
    after = {**_state(invitation), "members": _members_state(invitation.members)}
    changes = audit_diff(before, after)
    # The version guards the invitation row: members alone would not raise it.
    invitation.updated_at = utcnow()
    if changes:
        _audit(session, actor, "invitation.delegation", "invitation", invitation.id, changes)
    session.flush()
    return invitation


def _members_state(members: Iterable[DelegationMember]) -> str:
    return "; ".join(
        f"{m.name} ({m.function}, {m.role.value}{', ' + m.car_plate if m.car_plate else ''})"
        for m in members
    )


# --- reading ------------------------------------------------------------------------


def invitations_of(session: DbSession, ceremony: Ceremony) -> list[Invitation]:
    """An edition's invitations by organisation name, with what the lists show."""
    rows = session.scalars(
        sa.select(Invitation)
        .where(Invitation.ceremony_id == ceremony.id)
        .options(
            selectinload(Invitation.organisation),
            selectinload(Invitation.addressee),
            selectinload(Invitation.members),
        )
    ).all()
    return sorted(rows, key=lambda i: (i.organisation.name.casefold(), i.id))


def is_overdue(invitation: Invitation, today: date) -> bool:
    """No reply: set by staff, or a sent/viewed R.S.V.P. past its deadline."""
    if invitation.status == InvitationStatus.NO_REPLY:
        return True
    return (
        invitation.kind == InvitationKind.RSVP
        and invitation.status in (InvitationStatus.SENT, InvitationStatus.VIEWED)
        and invitation.rsvp_deadline is not None
        and invitation.rsvp_deadline < today
    )


def to_phone(invitations: Iterable[Invitation], today: date) -> list[Invitation]:
    """R.S.V.P.s still waiting whose deadline is within a week or past, earliest first."""
    due = [
        i
        for i in invitations
        if i.kind == InvitationKind.RSVP
        and i.status in WAITING
        and (i.rsvp_deadline is None or i.rsvp_deadline <= today + PHONE_WINDOW)
    ]
    return sorted(due, key=lambda i: (i.rsvp_deadline or today, i.organisation.name.casefold()))


def delegation_size(invitation: Invitation) -> int:
    """How many people are expected (see the module docstring)."""
    comes = invitation.status == InvitationStatus.ACCEPTED or (
        invitation.kind in (InvitationKind.PM, InvitationKind.REGRETS_ONLY)
        and invitation.status in WAITING
    )
    return max(len(invitation.members), 1) if comes else 0


def wreath_coming(invitation: Invitation) -> bool:
    if invitation.wreath == WreathChoice.NONE:
        return False
    if invitation.kind == InvitationKind.PROXY or delegation_size(invitation) > 0:
        return True
    return invitation.status == InvitationStatus.DECLINED and invitation.wreath in (
        WreathChoice.ORDER,
        WreathChoice.PROXY,
    )


@dataclass
class Counts:
    """The figures on an edition's invitation overview."""

    invitations: int = 0
    drafts: int = 0
    invited: int = 0  # sent, in whatever state since
    replied: int = 0
    accepted: int = 0
    declined: int = 0
    no_reply: int = 0
    persons: int = 0  # people expected
    wreaths: int = 0
    proxy: int = 0


def counts(invitations: Iterable[Invitation], today: date) -> Counts:
    result = Counts()
    for invitation in invitations:
        result.invitations += 1
        if invitation.kind == InvitationKind.PROXY:
            result.proxy += 1
        elif invitation.status == InvitationStatus.DRAFT:
            result.drafts += 1
        else:
            result.invited += 1
        result.replied += invitation.status in REPLIED
        result.accepted += invitation.status == InvitationStatus.ACCEPTED
        result.declined += invitation.status == InvitationStatus.DECLINED
        result.no_reply += is_overdue(invitation, today)
        result.persons += delegation_size(invitation)
        result.wreaths += wreath_coming(invitation)
    return result


def filter_invitations(
    invitations: Iterable[Invitation], wanted: str | None, today: date
) -> list[Invitation]:
    """Only one status ("no_reply" includes the overdue flag); unknown filters show all."""
    rows = list(invitations)
    if wanted == InvitationStatus.NO_REPLY.value:
        return [i for i in rows if is_overdue(i, today)]
    if wanted in {s.value for s in InvitationStatus}:
        return [i for i in rows if i.status.value == wanted]
    return rows


def history(session: DbSession, invitation: Invitation) -> list[tuple[AuditEntry, User | None]]:
    """The invitation's audit entries, oldest first, with the staff member of each."""
    rows = session.execute(
        sa.select(AuditEntry, User)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .where(AuditEntry.object_type == "invitation", AuditEntry.object_id == invitation.id)
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    return [(entry, user) for entry, user in rows]
