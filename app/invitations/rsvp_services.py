"""What a delegation can do through its personal link: reply, name members, wreath.

Every function checks that the invitation is still open for changes (until the end of
its deadline day in Amsterdam, before the ceremony, not cancelled) and that the caller
saw the version it changes (the version travels in every form), then raises the
invitation's version so that a concurrent change of the same invitation loses cleanly.
Each change is audited under the link's label (never the token) with the caller's
address. Services flush nothing themselves and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import object_session

from app.audit.services import diff, record
from app.calendar.services import FeedData, build_calendar
from app.ceremonies.guest_texts import hosts_phrase, hosts_subject, request_verb, text_in
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind
from app.ceremonies.timing import TimedItem, timetable
from app.extensions import DbSession
from app.invitations.models import (
    DelegationMember,
    Invitation,
    InvitationStatus,
    MemberRole,
    WreathChoice,
)
from app.refusals import Refusal
from app.types import utcnow

# The deadline is a date where the ceremonies happen: replies count until its last minute.
DEADLINE_ZONE = ZoneInfo("Europe/Amsterdam")
MAX_MEMBERS = 30
# What a delegation may choose itself; "proxy" is staff's decision.
DELEGATION_WREATH_CHOICES = (WreathChoice.OWN, WreathChoice.ORDER, WreathChoice.NONE)


class RsvpError(Refusal):
    """A rule of the delegation's page refused the change."""


class RsvpClosed(RsvpError):
    """The deadline has passed (or the ceremony began or was cancelled): read-only."""


class RsvpConflict(Exception):
    """The form was made from an older version of the invitation than the one stored."""


class MemberNotFound(Exception):
    """No member with that id in this invitation (members of others are never found)."""


@dataclass(frozen=True)
class MemberData:
    """A delegation member as typed in a form (already NFC and free of control chars)."""

    name: str
    function: str = ""
    role: MemberRole = MemberRole.ATTENDEE
    car_plate: str = ""


@dataclass(frozen=True)
class DetailsData:
    """The wreath, the delegation's accessibility needs and a remark."""

    wreath: WreathChoice
    ribbon_text: str = ""
    ribbon_colours: str = ""
    accessibility: str = ""
    remark: str = ""


# --- the rules of the link ------------------------------------------------------------


def deadline(invitation: Invitation) -> date | None:
    """The reply deadline: the invitation's own, else its edition's."""
    return invitation.rsvp_deadline or invitation.ceremony.rsvp_deadline


def open_for_changes(invitation: Invitation, now: datetime | None = None) -> bool:
    """Whether the delegation may still change anything through its link."""
    now = now or utcnow()
    ceremony = invitation.ceremony
    if ceremony.status == CeremonyStatus.CANCELLED or now >= ceremony.starts_at:
        return False
    last_day = deadline(invitation)
    return last_day is None or now.astimezone(DEADLINE_ZONE).date() <= last_day


def actor_label(invitation: Invitation) -> str:
    """How the audit log names someone acting through the link (never the token)."""
    return f"delegation link of invitation {invitation.id}"


def _check(invitation: Invitation, expected_version: int, now: datetime) -> None:
    if not open_for_changes(invitation, now):
        raise RsvpClosed(_l("Changes are no longer possible through this page."))
    if invitation.version != expected_version:
        raise RsvpConflict()


def _session(invitation: Invitation) -> DbSession:
    session = object_session(invitation)
    if session is None:
        raise RuntimeError("the invitation is not attached to a session")
    return session


def _changed(
    invitation: Invitation, action: str, changes: dict[str, Any], address: str, now: datetime
) -> None:
    """Raise the version, audit the change and let the delegation know."""
    # Touching the row makes its UPDATE carry "WHERE version = <seen>": of two requests
    # that both passed the version check, the second finds no row and loses.
    invitation.updated_at = now
    record(
        _session(invitation),
        action=action,
        object_type="invitation",
        object_id=invitation.id,
        changes=changes,
        actor_label=actor_label(invitation),
        address=address[:45],
    )
    notify_delegation_changed(invitation)


def notify_delegation_changed(invitation: Invitation) -> None:
    """Confirm a change made through the link by email to the invitation's address: a
    confirmation queued in the outbox in this same transaction, sent after commit."""
    # Imported here: the mail package builds on this module (practical notes).
    from app.mail.services import confirm_reply

    confirm_reply(_session(invitation), invitation)


def _member_fields(member: DelegationMember | MemberData) -> dict[str, Any]:
    return {
        "name": member.name,
        "function": member.function,
        "role": member.role.value,
        "car_plate": member.car_plate,
    }


def _new_member(invitation: Invitation, data: MemberData) -> DelegationMember:
    if len(invitation.members) >= MAX_MEMBERS:
        raise RsvpError(
            _l("A delegation has at most %(count)d members.", count=MAX_MEMBERS), "name"
        )
    position = max((m.position for m in invitation.members), default=-1) + 1
    member = DelegationMember(
        position=position,
        name=data.name,
        function=data.function,
        role=data.role,
        car_plate=data.car_plate,
    )
    invitation.members.append(member)
    return member


def name_head(invitation: Invitation, data: MemberData) -> DelegationMember:
    """Name the head of a delegation that has no member yet (a reply staff recorded from
    a calendar names the one the calendar named); the caller audits it."""
    return _new_member(invitation, data)


# --- what the delegation can do ---------------------------------------------------------


def reply(
    invitation: Invitation,
    accept: bool,
    *,
    expected_version: int,
    address: str,
    head: MemberData | None = None,
    now: datetime | None = None,
) -> Invitation:
    """Accept or decline; accepting without members names the head of delegation.

    Declining keeps the members, so that a delegation that changes its mind again before
    the deadline finds them where it left them.
    """
    now = now or utcnow()
    _check(invitation, expected_version, now)
    before = {"status": invitation.status.value}
    status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    changes: dict[str, Any] = {}
    if accept and not invitation.members:
        if head is None or not head.name:
            raise RsvpError(_l("Name the head of the delegation."), "head_name")
        _new_member(invitation, head)
        changes["head"] = [None, _member_fields(head)]
    invitation.status = status
    invitation.replied_at = now
    invitation.replied_by = "link"
    changes.update(diff(before, {"status": status.value}))
    _changed(invitation, f"rsvp.{status.value}", changes, address, now)
    return invitation


def _accepted(invitation: Invitation) -> None:
    if invitation.status != InvitationStatus.ACCEPTED:
        raise RsvpError(_l("Accept the invitation first."))


def add_member(
    invitation: Invitation,
    data: MemberData,
    *,
    expected_version: int,
    address: str,
    now: datetime | None = None,
) -> DelegationMember:
    """Add someone to an accepted invitation's delegation."""
    now = now or utcnow()
    _check(invitation, expected_version, now)
    _accepted(invitation)
    member = _new_member(invitation, data)
    changes = {"member": [None, _member_fields(data)]}
    _changed(invitation, "rsvp.member_added", changes, address, now)
    return member


def find_member(invitation: Invitation, member_id: int) -> DelegationMember:
    """A member of this invitation; another invitation's member id is not found."""
    for member in invitation.members:
        if member.id == member_id:
            return member
    raise MemberNotFound()


def save_member(
    invitation: Invitation,
    member_id: int,
    data: MemberData,
    *,
    expected_version: int,
    address: str,
    now: datetime | None = None,
) -> DelegationMember:
    """Change a member's name, function, role or car plate."""
    now = now or utcnow()
    member = find_member(invitation, member_id)
    _check(invitation, expected_version, now)
    _accepted(invitation)
    before = _member_fields(member)
    member.name = data.name
    member.function = data.function
    member.role = data.role
    member.car_plate = data.car_plate
    changes = {"member_id": member.id, **diff(before, _member_fields(member))}
    _changed(invitation, "rsvp.member_changed", changes, address, now)
    return member


def remove_member(
    invitation: Invitation,
    member_id: int,
    *,
    expected_version: int,
    address: str,
    now: datetime | None = None,
) -> None:
    """Take someone off the list; an accepted delegation keeps at least its head."""
    now = now or utcnow()
    member = find_member(invitation, member_id)
    _check(invitation, expected_version, now)
    if invitation.status == InvitationStatus.ACCEPTED and len(invitation.members) == 1:
        raise RsvpError(
            _l("A delegation that comes needs at least one member: its head."), "members"
        )
    changes = {"member_id": member.id, "member": [_member_fields(member), None]}
    invitation.members.remove(member)
    _changed(invitation, "rsvp.member_removed", changes, address, now)


def save_details(
    invitation: Invitation,
    data: DetailsData,
    *,
    expected_version: int,
    address: str,
    now: datetime | None = None,
) -> Invitation:
    """Save the wreath (own, order one, none; ribbon text and colours), needs, remark."""
    now = now or utcnow()
    _check(invitation, expected_version, now)
    _accepted(invitation)
    if invitation.wreath == WreathChoice.PROXY:
        raise RsvpError(_l("The foundation lays a wreath on your behalf."), "wreath")
    if data.wreath not in DELEGATION_WREATH_CHOICES:
        raise RsvpError(_l("Choose one of the options."), "wreath")
    fields = ("wreath", "ribbon_text", "ribbon_colours", "accessibility", "remark")
    before = {name: getattr(invitation, name) for name in fields}
    # Without a wreath there is no ribbon: do not keep a text nobody will print.
    ribbon = data.ribbon_text if data.wreath != WreathChoice.NONE else ""
    colours = data.ribbon_colours if data.wreath != WreathChoice.NONE else ""
    invitation.wreath = data.wreath
    invitation.ribbon_text = ribbon
    invitation.ribbon_colours = colours
    invitation.accessibility = data.accessibility
    invitation.remark = data.remark
    after = {name: getattr(invitation, name) for name in fields}
    changes = diff(before, after)
    if changes:
        _changed(invitation, "rsvp.details_saved", changes, address, now)
    return invitation


# --- the delegation's personal calendar feed --------------------------------------------

PRACTICAL = {
    "nl": {"notes": "Parkeren en toegang", "dress": "Kleding", "day": "Praktische informatie"},
    "en": {"notes": "Parking and access", "dress": "Dress", "day": "Practical information"},
    "ru": {"notes": "Парковка и доступ", "dress": "Форма одежды", "day": "Практическая информация"},
}


@dataclass(frozen=True)
class _ShownItem:
    """A programme item as the delegation's feed shows it, at its worked-out minute."""

    id: int
    kind: ItemKind
    start_time: time | None
    offset_minutes: int | None
    duration_minutes: int
    performer_nl: str
    performer_en: str
    performer_ru: str
    printable: bool
    text_nl: str
    text_en: str
    text_ru: str


class _EditionForDelegation:
    """The edition with the delegation's practical notes in place of staff's notes.

    The feed machinery appends an edition's ``notes`` to private feeds; staff's notes
    are internal, so this view of the edition puts the venue's parking and access notes
    there instead. Everything else is the edition itself.
    """

    def __init__(self, ceremony: Ceremony, notes: str) -> None:
        self._ceremony = ceremony
        self.notes = notes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ceremony, name)


def delegation_programme(ceremony: Ceremony) -> list[TimedItem]:
    """What a delegation sees of the programme: the printed items and the assembly
    (arrival time and assembly point), but no internal item."""
    return [
        entry
        for entry in timetable(ceremony)
        if entry.item.printable or entry.item.kind == ItemKind.ASSEMBLY
    ]


def delegation_items(ceremony: Ceremony) -> list[_ShownItem]:
    """The delegation's programme as feed items, each at its worked-out minute.

    Every shown item carries its start as an offset, so leaving internal items out of
    the feed never moves the ones after them.
    """
    start = ceremony.local_start
    shown = []
    for entry in delegation_programme(ceremony):
        item = entry.item
        offset = int((entry.starts - start).total_seconds() // 60)
        shown.append(
            _ShownItem(
                id=item.id,
                kind=item.kind,
                start_time=None,
                offset_minutes=offset,
                duration_minutes=item.duration_minutes,
                performer_nl=item.performer_nl,
                performer_en=item.performer_en,
                performer_ru=item.performer_ru,
                printable=True,
                text_nl=item.text_nl,
                text_en=item.text_en,
                text_ru=item.text_ru,
            )
        )
    return shown


def practical_notes(ceremony: Ceremony, lang: str) -> str:
    """The venue's access and parking notes, the dress and the notes of the day, in
    ``lang`` only: a text missing in ``lang`` is left out (staff see it as a warning)."""
    words = PRACTICAL.get(lang, PRACTICAL["en"])
    lines = []
    for label, obj, field in (
        ("notes", ceremony.venue, "access_notes"),
        ("dress", ceremony, "dress_code"),
        ("day", ceremony, "practical_notes"),
    ):
        value = text_in(obj, field, lang)
        if value:
            lines.append(f"{words[label]}: {value}")
    return "\n".join(lines)


def invitation_hosts(invitation: Invitation, lang: str) -> tuple[str, str]:
    """Who invites, in ``lang``: within a sentence, and as the sentence's opening with
    the verb agreeing ("... request the honour of your presence at").

    Staff may name the co-hosts of one invitation in its own language (the invitation's
    ``cohosts``); that text names more than one host. Otherwise the edition's hosts.
    """
    if invitation.cohosts:
        own = invitation.cohosts.strip()
        return own, f"{own[:1].upper()}{own[1:]} {request_verb(lang, 2)}"
    hosts = invitation.ceremony.hosts
    return hosts_subject(hosts, lang, start=False), hosts_phrase(hosts, lang)


def delegation_calendar(invitation: Invitation, lang: str, public_url: str | None) -> bytes:
    """The delegation's feed of its edition, with the practical details it may see.

    No secret link goes in: a feed gets shared and forwarded. ``public_url`` is the
    edition's public page, for public editions only.
    """
    ceremony = invitation.ceremony
    items: Sequence[Any] = delegation_items(ceremony)
    edition = cast(Ceremony, _EditionForDelegation(ceremony, practical_notes(ceremony, lang)))
    year = ceremony.local_start.year
    return build_calendar(
        FeedData([edition], {ceremony.id: list(items)}),
        lang=lang,
        name=ceremony.title(lang),
        source_url=None,
        private=True,
        page_url=lambda c: public_url,
        years=(year, year),
    )
