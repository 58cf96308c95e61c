"""Staff's printed lists of an edition: guest list, security list, wreath run sheet, name
cards and badges.

Every list stands delegations in the edition's protocol order (the wreath groups, each in
its own sort: app.wreaths.services.protocol_order), so a delegation has the same place on
every sheet. Lists are rendered by the shared Renderer (locked-down fetcher, tagged PDF,
cache keyed on the HTML); the HTML carries the moment of the last change to the
invitations instead of the clock, so a list is rendered again only when its data changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from app.ceremonies.models import Ceremony, ItemKind
from app.ceremonies.timing import timetable
from app.contacts.services import role_label
from app.documents.services import renderer
from app.extensions import DbSession
from app.i18n import clock, date_phrase, force_locale, ordinal_commemoration, stamp_phrase
from app.invitations.forms import KIND_LABELS, MEMBER_ROLE_LABELS, STATUS_LABELS, WREATH_LABELS
from app.invitations.models import Invitation, InvitationKind, InvitationStatus
from app.invitations.services import WAITING, delegation_size
from app.wreaths.services import (
    MissionRank,
    WreathEntry,
    addressee_role,
    load_invitations,
    protocol_order,
    wreath_sections,
)

# Staff read nl or en; the run sheet and lists may go to a Russian-speaking guest of
# honour's protocol officer, so ru is offered too (DOMAIN.md: programmes come in all three).
LIST_LANGUAGES = ("nl", "en", "ru")


class ListKind(StrEnum):
    GUESTS = "guests"
    SECURITY = "security"
    WREATHS = "wreaths"
    CARDS = "cards"


class CardLayout(StrEnum):
    BADGES = "badges"  # 8 to an A4 sheet, 90 x 55 mm, for badge holders
    TENTS = "tents"  # folded place cards, 2 to an A4 sheet, the name on both faces


class ListError(ValueError):
    """A list was asked in a language or layout that does not exist."""


def list_language(asked: str | None, default: str) -> str:
    """The list's language: ``asked`` if given (nl, en, ru), else the staff page's."""
    if asked is None or asked == "":
        return default if default in LIST_LANGUAGES else "nl"
    if asked not in LIST_LANGUAGES:
        raise ListError(asked)
    return asked


def card_layout(asked: str | None) -> CardLayout:
    try:
        return CardLayout(asked or CardLayout.BADGES.value)
    except ValueError as error:
        raise ListError(asked) from error


# --- who is on the lists ----------------------------------------------------------------


@dataclass(frozen=True)
class Guest:
    """One person of a delegation as printed."""

    name: str
    other_script: str  # the addressee's name in the other script, when this is the addressee
    function: str
    role: str  # the member's role in the ceremony, translated; "" for a stand-in
    car_plate: str
    named: bool  # False: the addressee, until the delegation names its members


@dataclass(frozen=True)
class Delegation:
    invitation: Invitation
    organisation: str
    guests: list[Guest]
    status: str  # translated
    expected: int  # people expected (0 when the delegation does not come)
    is_dean: bool


@dataclass(frozen=True)
class DelegationGroup:
    name: str
    delegations: list[Delegation]


def _same(a: str, b: str) -> bool:
    return bool(a) and a.casefold().split() == b.casefold().split()


def guests_of(invitation: Invitation, ceremony: Ceremony) -> list[Guest]:
    """The named members; else the addressee, who stands in until members are named."""
    person = invitation.addressee
    if invitation.members:
        guests = []
        for member in invitation.members:
            other = ""
            # Delegations type names in either script; show the addressee's other one so
            # that the gate and the usher can match a passport or a spoken name.
            if person is not None and _same(member.name, person.full_name):
                other = person.native_name
            elif person is not None and _same(member.name, person.native_name):
                other = person.full_name
            guests.append(
                Guest(
                    name=member.name,
                    other_script=other,
                    function=member.function,
                    role=str(MEMBER_ROLE_LABELS[member.role]),
                    car_plate=member.car_plate,
                    named=True,
                )
            )
        return guests
    if person is None:
        return []
    role = addressee_role(invitation, ceremony.local_start.date())
    return [
        Guest(
            name=person.full_name or person.native_name,
            other_script=person.native_name if person.full_name else "",
            function=role_label(role) if role else "",
            role="",
            car_plate="",
            named=False,
        )
    ]


def _status(invitation: Invitation) -> str:
    if invitation.kind == InvitationKind.PROXY:
        return str(KIND_LABELS[InvitationKind.PROXY])
    return str(STATUS_LABELS[invitation.status])


def _delegation(
    invitation: Invitation, ceremony: Ceremony, rank: MissionRank | None, lang: str
) -> Delegation:
    return Delegation(
        invitation=invitation,
        organisation=invitation.organisation.display_name(lang),
        guests=guests_of(invitation, ceremony),
        status=_status(invitation),
        expected=delegation_size(invitation),
        is_dean=rank is not None and rank.is_dean,
    )


def delegation_groups(
    session: DbSession, ceremony: Ceremony, invitations: Sequence[Invitation], lang: str
) -> list[DelegationGroup]:
    """``invitations`` in protocol order, by group; groups nobody falls in are left out."""
    ordered, ranks = protocol_order(session, ceremony, invitations, manual_places=False)
    return [
        DelegationGroup(
            found.group.name(lang),
            [_delegation(i, ceremony, ranks.get(i.id), lang) for i in found.invitations],
        )
        for found in ordered
        if found.invitations
    ]


def attending(invitations: Iterable[Invitation]) -> list[Invitation]:
    """Accepted delegations that come in person: the security list and the name cards.

    Only an explicit acceptance counts: a regrets-only or p.m. invitation that has not
    answered is expected on the guest list, but nobody is let through the gate on it.
    """
    return [
        i
        for i in invitations
        if i.status == InvitationStatus.ACCEPTED and i.kind != InvitationKind.PROXY
    ]


@dataclass(frozen=True)
class Totals:
    invitations: int
    accepted: int
    declined: int
    waiting: int
    drafts: int
    proxy: int
    persons: int


def totals(invitations: Sequence[Invitation]) -> Totals:
    def count(wanted: Iterable[InvitationStatus]) -> int:
        states = set(wanted)
        return sum(i.status in states and i.kind != InvitationKind.PROXY for i in invitations)

    return Totals(
        invitations=len(invitations),
        accepted=count([InvitationStatus.ACCEPTED]),
        declined=count([InvitationStatus.DECLINED]),
        waiting=count(WAITING),
        drafts=count([InvitationStatus.DRAFT]),
        proxy=sum(i.kind == InvitationKind.PROXY for i in invitations),
        persons=sum(delegation_size(i) for i in invitations),
    )


@dataclass(frozen=True)
class Vehicle:
    plate: str
    name: str
    organisation: str


def vehicles(groups: Sequence[DelegationGroup]) -> list[Vehicle]:
    """Every car plate given, sorted as the plates read, for the car park's gate."""
    found = [
        Vehicle(guest.car_plate, guest.name, delegation.organisation)
        for group in groups
        for delegation in group.delegations
        for guest in delegation.guests
        if guest.car_plate
    ]
    return sorted(found, key=lambda v: (v.plate.replace(" ", "").replace("-", ""), v.name))


# --- rendering --------------------------------------------------------------------------


def _as_of(invitations: Sequence[Invitation], ceremony: Ceremony) -> str:
    """The moment of the last change (not the clock: the cache key must follow the data)."""
    moments = [i.updated_at for i in invitations if i.updated_at is not None]
    if not moments:
        return ""
    latest: datetime = max(moments)
    return stamp_phrase(latest.astimezone(ceremony.zone))


def _common(ceremony: Ceremony, lang: str, list_name: str, as_of: str) -> dict[str, Any]:
    start = ceremony.local_start
    return {
        "lang": lang,
        "ceremony": ceremony,
        "list_name": list_name,
        "title": ceremony.title(lang),
        "anniversary": ordinal_commemoration(ceremony.anniversary, lang)
        if ceremony.anniversary
        else "",
        "long_date": date_phrase(start, lang),
        "hours": f"{clock(start)}–{clock(ceremony.local_end)}",
        "venue": ceremony.venue.name,
        "as_of": _("Last change to the invitations: %(moment)s", moment=as_of) if as_of else "",
    }


@dataclass(frozen=True)
class PrintedList:
    pdf: bytes
    file_name: str


def _render(ceremony: Ceremony, kind: str, lang: str, html: str, title: str) -> PrintedList:
    pdf = renderer().render(html, title=title, lang=lang)
    return PrintedList(pdf, f"{ceremony.slug}-{kind}-{lang}.pdf")


def guest_list(session: DbSession, ceremony: Ceremony, lang: str) -> PrintedList:
    """Every invitation by group and organisation: who comes, with whom, and the answer."""
    invitations = load_invitations(session, ceremony)
    with force_locale(lang):
        name = _("Guest list")
        html = render_template(
            "pdf/guest_list.html",
            groups=delegation_groups(session, ceremony, invitations, lang),
            totals=totals(invitations),
            **_common(ceremony, lang, name, _as_of(invitations, ceremony)),
        )
        return _render(ceremony, "guest-list", lang, html, f"{name}: {ceremony.title(lang)}")


def security_list(session: DbSession, ceremony: Ceremony, lang: str) -> PrintedList:
    """Accepted delegations' members with function and car plate, marked confidential."""
    invitations = load_invitations(session, ceremony)
    coming = attending(invitations)
    with force_locale(lang):
        name = _("Security list")
        groups = delegation_groups(session, ceremony, coming, lang)
        html = render_template(
            "pdf/security_list.html",
            groups=groups,
            vehicles=vehicles(groups),
            persons=sum(len(d.guests) for g in groups for d in g.delegations),
            delegations=len(coming),
            confidential=_("Confidential"),
            **_common(ceremony, lang, name, _as_of(invitations, ceremony)),
        )
        return _render(ceremony, "security-list", lang, html, f"{name}: {ceremony.title(lang)}")


@dataclass(frozen=True)
class RunSheetSection:
    name: str
    entries: list[WreathEntry]
    public_defile: bool


def wreath_laying_time(ceremony: Ceremony) -> str:
    """When the wreath laying begins by the programme, or "" if it has no such item."""
    for timed in timetable(ceremony):
        if timed.item.kind == ItemKind.WREATH_LAYING:
            return f"{timed.starts:%H:%M}"
    return ""


def run_sheet(session: DbSession, ceremony: Ceremony, lang: str) -> PrintedList:
    """The wreath order for the master of ceremonies: final order with manual moves."""
    invitations = load_invitations(session, ceremony)
    with force_locale(lang):
        name = _("Wreath laying: run sheet")
        sections = [
            RunSheetSection(s.group.name(lang), s.entries, s.group.public_defile)
            for s in wreath_sections(session, ceremony)
            if s.entries or s.group.public_defile
        ]
        html = render_template(
            "pdf/run_sheet.html",
            sections=sections,
            count=sum(len(s.entries) for s in sections),
            starts=wreath_laying_time(ceremony),
            supplier_labels={k: str(v) for k, v in WREATH_LABELS.items()},
            **_common(ceremony, lang, name, _as_of(invitations, ceremony)),
        )
        return _render(ceremony, "run-sheet", lang, html, f"{name}: {ceremony.title(lang)}")


@dataclass(frozen=True)
class Card:
    name: str
    other_script: str
    function: str
    organisation: str
    size: str  # "long" or "longer": a smaller type so that the name keeps to one line


def _size(name: str, layout: CardLayout) -> str:
    limit = 22 if layout == CardLayout.BADGES else 28
    if len(name) > limit * 1.5:
        return "longer"
    return "long" if len(name) > limit else ""


def cards(
    session: DbSession, ceremony: Ceremony, lang: str, layout: CardLayout = CardLayout.BADGES
) -> PrintedList:
    """A card per person of the accepted delegations, in protocol order."""
    invitations = load_invitations(session, ceremony)
    with force_locale(lang):
        groups = delegation_groups(session, ceremony, attending(invitations), lang)
        made = [
            Card(
                guest.name,
                guest.other_script,
                guest.function,
                delegation.organisation,
                _size(guest.name, layout),
            )
            for group in groups
            for delegation in group.delegations
            for guest in delegation.guests
        ]
        name = _("Name badges") if layout == CardLayout.BADGES else _("Place cards")
        html = cards_html(made, layout, _common(ceremony, lang, name, ""))
        return _render(ceremony, f"{layout.value}", lang, html, f"{name}: {ceremony.title(lang)}")


def cards_html(made: Sequence[Card], layout: CardLayout, common: dict[str, Any]) -> str:
    """The sheets of cards (8 badges or 2 place cards to an A4 sheet) as HTML; the
    benchmark renders it for 300 guests."""
    per_sheet = 8 if layout == CardLayout.BADGES else 2
    return render_template(
        "pdf/cards.html",
        layout=layout.value,
        sheets=[made[i : i + per_sheet] for i in range(0, len(made), per_sheet)],
        **common,
    )


def printed_list(
    session: DbSession,
    ceremony: Ceremony,
    kind: ListKind,
    lang: str,
    layout: CardLayout = CardLayout.BADGES,
) -> PrintedList:
    """One list by its kind (the views and the command share this)."""
    if kind == ListKind.GUESTS:
        return guest_list(session, ceremony, lang)
    if kind == ListKind.SECURITY:
        return security_list(session, ceremony, lang)
    if kind == ListKind.WREATHS:
        return run_sheet(session, ceremony, lang)
    return cards(session, ceremony, lang, layout)
