"""The wreath-laying order of an edition: its groups, who falls where, and manual moves.

Services flush but never commit. Reading the order never writes: an edition whose groups
were never saved shows its series' default (or the generic one) until staff change
something, and ``ensure_groups`` stores them at that moment.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.audit.services import record
from app.ceremonies.models import Ceremony
from app.contacts.models import (
    PRECEDENCE_CLASS,
    Appointment,
    AppointmentRole,
    Organisation,
    Person,
)
from app.extensions import DbSession
from app.invitations.models import Invitation, InvitationKind, MemberRole, WreathChoice
from app.invitations.services import delegation_size, wreath_coming
from app.refusals import Refusal
from app.wreaths.defaults import GENERIC_GROUPS
from app.wreaths.models import WreathGroup, WreathGroupTemplate, WreathSort

# Heads of mission take up functions in The Hague: their moments are Amsterdam's.
HAGUE = ZoneInfo("Europe/Amsterdam")
# Alphabetical order is read in the host's language, whatever language a page is in,
# so that a position number means the same thing to every reader.
SORT_LANGUAGE = "nl"

OFFICE_ORDER: list[AppointmentRole] = [
    AppointmentRole.MAYOR,
    AppointmentRole.DEPUTY_MAYOR,
    AppointmentRole.KINGS_COMMISSIONER,
    AppointmentRole.MINISTER,
    AppointmentRole.DIRECTOR,
    AppointmentRole.OFFICIAL,
    AppointmentRole.OTHER,
]

# Entries that match no group are still listed (a wreath must never vanish from the
# list because a group was removed), in this trailing pseudo-group.
UNASSIGNED_NAMES = {
    "name_nl": "Niet in een groep",
    "name_en": "Not in any group",
    "name_ru": "Вне групп",
}


class WreathError(Refusal):
    """A rule about the wreath order refused the change."""


class StaleOrder(WreathError):
    """The move was asked from an order that has changed since the page was shown."""


class MoveDirection(StrEnum):
    UP = "up"
    DOWN = "down"
    TO = "to"  # to an overall position, within the entry's group
    AUTO = "auto"  # back to the group's own sort


# --- collation --------------------------------------------------------------------------

# Letters that are letters of their own (Russian Й, Kazakh Қ...), sorted right after
# their base letter instead of with it or after the whole alphabet.
_OWN_LETTERS = {
    "й": "и\U0010fff0",
    "ә": "а\U0010fff0",
    "ғ": "г\U0010fff0",
    "қ": "к\U0010fff0",
    "ң": "н\U0010fff0",
    "ө": "о\U0010fff0",
    "ұ": "у\U0010fff0",  # Kazakh: У, Ұ, Ү
    "ү": "у\U0010fff1",
    "һ": "х\U0010fff0",
    "і": "ы\U0010fff0",
}


def collation_key(text: str) -> tuple[str, str]:
    """A sort key that reads like a dictionary: É with E, Ё with Е, Қ after К.

    Python's default order puts "École" after "Zeeland" and "Қазақ" after "Я".
    """
    folded = unicodedata.normalize("NFC", text).casefold()
    primary = []
    for char in folded:
        if char in _OWN_LETTERS:
            primary.append(_OWN_LETTERS[char])
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        primary.append(base or char)
    return "".join(primary), folded


def organisation_key(organisation: Organisation) -> tuple[str, str]:
    return collation_key(organisation.display_name(SORT_LANGUAGE))


# --- diplomatic precedence --------------------------------------------------------------


class RankedHeadLike(Protocol):
    """What app.contacts.precedence.RankedHead offers (read-only)."""

    @property
    def rank(self) -> int: ...

    @property
    def appointment(self) -> Appointment: ...

    @property
    def class_(self) -> int: ...

    @property
    def is_dean(self) -> bool: ...


Corps = Callable[[DbSession, date], Sequence[RankedHeadLike]]


@dataclass(frozen=True)
class MissionRank:
    """An invitation's place among the given invitations by diplomatic precedence."""

    rank: int  # 1 = first among the given invitations
    class_: int
    is_dean: bool


def _corps_function() -> Corps | None:
    """The contacts capability's ``precedence``, if it is installed."""
    try:
        module = importlib.import_module("app.contacts.precedence")
    except ModuleNotFoundError as error:
        if error.name != "app.contacts.precedence":
            raise  # a broken import inside the module must not pass as "absent"
        return None
    found: Corps | None = getattr(module, "precedence", None)
    return found


_NEVER = datetime.max.replace(tzinfo=UTC)
_REPRESENTATIVE_CLASS = PRECEDENCE_CLASS[AppointmentRole.REPRESENTATIVE]


def _has_taken_up(appointment: Appointment, on: date) -> bool:
    """An ambassador-designate (no credentials yet) is not ranked as head of mission."""
    if appointment.taken_up_at is None:
        return PRECEDENCE_CLASS[appointment.role] == _REPRESENTATIVE_CLASS
    return appointment.taken_up_at.astimezone(HAGUE).date() <= on


def _precedence_key(appointment: Appointment) -> tuple[Any, ...]:
    return (
        PRECEDENCE_CLASS[appointment.role],
        appointment.taken_up_at or _NEVER,
        appointment.tie_break,
        appointment.organisation.name.casefold(),
        appointment.id,
    )


def _addressee_appointments(invitation: Invitation, on: date) -> list[Appointment]:
    """The addressee's appointments at the invited organisation valid on ``on``."""
    if invitation.addressee is None:
        return []
    return [
        a
        for a in invitation.addressee.appointments
        if a.organisation_id == invitation.organisation_id and a.valid_on(on)
    ]


def _ranked_appointment(invitation: Invitation, on: date) -> Appointment | None:
    ranked = [
        a
        for a in _addressee_appointments(invitation, on)
        if a.role in PRECEDENCE_CLASS and _has_taken_up(a, on)
    ]
    return min(ranked, key=_precedence_key) if ranked else None


def _own_dean(session: DbSession, on: date) -> int | None:
    """The appointment id of the longest-serving ambassador on ``on`` (the doyen)."""
    rows = session.scalars(
        sa.select(Appointment)
        .options(selectinload(Appointment.organisation))
        .where(
            Appointment.role == AppointmentRole.AMBASSADOR,
            Appointment.taken_up_at.is_not(None),
            sa.or_(Appointment.valid_from.is_(None), Appointment.valid_from <= on),
            sa.or_(Appointment.valid_to.is_(None), Appointment.valid_to >= on),
        )
    ).all()
    serving = [a for a in rows if _has_taken_up(a, on)]
    return min(serving, key=_precedence_key).id if serving else None


def mission_rank(
    session: DbSession,
    invitations: Iterable[Invitation],
    on: date,
    *,
    use_contacts: bool = True,
) -> dict[int, MissionRank]:
    """Rank invitations by the precedence of their addressee on ``on`` (invitation id ->).

    The class comes from the addressee's appointment at the invited organisation valid on
    that date; then the moment functions were taken up, the manual tie-break and the name.
    Uses app.contacts.precedence when present (its rank decides within a class); an
    addressee it does not list (a representative of a mission whose head it ranks) follows
    that class's listed ones. Without it (or with ``use_contacts=False``) the same order
    is computed here. Invitations without a ranked addressee are left out.
    """
    candidates = [
        (invitation, appointment)
        for invitation in invitations
        if (appointment := _ranked_appointment(invitation, on)) is not None
    ]
    corps = _corps_function() if use_contacts else None
    keys: dict[int, tuple[Any, ...]] = {}
    deans: set[int] = set()
    if corps is not None:
        heads = {head.appointment.id: head for head in corps(session, on)}
        for invitation, appointment in candidates:
            head = heads.get(appointment.id)
            keys[invitation.id] = (
                PRECEDENCE_CLASS[appointment.role],
                head.rank if head is not None else float("inf"),
                _precedence_key(appointment),
            )
            if head is not None and head.is_dean:
                deans.add(invitation.id)
    else:
        dean = _own_dean(session, on)
        for invitation, appointment in candidates:
            keys[invitation.id] = (0, 0, _precedence_key(appointment))
            if appointment.id == dean:
                deans.add(invitation.id)
    ordered = sorted(candidates, key=lambda pair: (keys[pair[0].id], pair[0].id))
    return {
        invitation.id: MissionRank(
            rank=number,
            class_=PRECEDENCE_CLASS[appointment.role],
            is_dean=invitation.id in deans,
        )
        for number, (invitation, appointment) in enumerate(ordered, start=1)
    }


# --- groups -----------------------------------------------------------------------------


def default_groups(ceremony: Ceremony) -> list[WreathGroupTemplate]:
    """The series' default groups, or the generic list for one-offs and bare series."""
    if ceremony.series is not None and ceremony.series.default_wreath_groups:
        return [as_template(raw) for raw in ceremony.series.default_wreath_groups]
    return [WreathGroupTemplate(**g) for g in GENERIC_GROUPS]


def as_template(raw: dict[str, Any] | WreathGroupTemplate) -> WreathGroupTemplate:
    """A stored group dict, checked and completed (JSON written by hand may lack keys)."""
    sort = str(raw.get("sort", WreathSort.MANUAL.value))
    return WreathGroupTemplate(
        name_nl=str(raw.get("name_nl") or raw.get("name_en") or ""),
        name_en=str(raw.get("name_en") or raw.get("name_nl") or ""),
        name_ru=str(raw.get("name_ru") or ""),
        sort=sort if sort in {s.value for s in WreathSort} else WreathSort.MANUAL.value,
        kinds=[str(k) for k in raw.get("kinds") or []],
        roles=[str(r) for r in raw.get("roles") or []],
        public_defile=bool(raw.get("public_defile", False)),
    )


def _group_from(ceremony: Ceremony, position: int, template: WreathGroupTemplate) -> WreathGroup:
    return WreathGroup(
        ceremony_id=ceremony.id,
        position=position,
        name_nl=template["name_nl"],
        name_en=template["name_en"],
        name_ru=template["name_ru"],
        sort=WreathSort(template["sort"]),
        kinds=list(template["kinds"]),
        roles=list(template["roles"]),
        public_defile=template["public_defile"],
    )


def template_of(group: WreathGroup) -> WreathGroupTemplate:
    return WreathGroupTemplate(
        name_nl=group.name_nl,
        name_en=group.name_en,
        name_ru=group.name_ru,
        sort=WreathSort(group.sort).value,
        kinds=list(group.kinds),
        roles=list(group.roles),
        public_defile=group.public_defile,
    )


def _stored_groups(session: DbSession, ceremony: Ceremony) -> list[WreathGroup]:
    return list(
        session.scalars(
            sa.select(WreathGroup)
            .where(WreathGroup.ceremony_id == ceremony.id)
            .order_by(WreathGroup.position, WreathGroup.id)
        )
    )


def groups_for(session: DbSession, ceremony: Ceremony) -> list[WreathGroup]:
    """The edition's groups in order; unsaved copies of the default if it has none yet.

    The copies are never added to the session: looking at the order changes nothing.
    """
    stored = _stored_groups(session, ceremony)
    if stored:
        return stored
    return [_group_from(ceremony, i, t) for i, t in enumerate(default_groups(ceremony))]


def has_own_groups(session: DbSession, ceremony: Ceremony) -> bool:
    """Whether the edition's groups were saved (else it follows its default)."""
    return bool(_stored_groups(session, ceremony))


def ensure_groups(session: DbSession, ceremony: Ceremony) -> list[WreathGroup]:
    """The edition's stored groups, made from its default when it has none yet."""
    stored = _stored_groups(session, ceremony)
    if stored:
        return stored
    made = [_group_from(ceremony, i, t) for i, t in enumerate(default_groups(ceremony))]
    session.add_all(made)
    session.flush()
    return made


def _summary(templates: Iterable[WreathGroupTemplate]) -> list[str]:
    return [f"{t['name_en']} ({t['sort']})" for t in templates]


def save_groups(
    session: DbSession,
    ceremony: Ceremony,
    templates: Sequence[WreathGroupTemplate],
    *,
    actor_user_id: int | None,
    action: str = "wreath_groups",
    reason: str = "",
) -> list[WreathGroup]:
    """Replace the edition's groups (added, removed, reordered, re-sorted) and audit it.

    Manual places of entries are kept: they count within whatever group takes the entry.
    """
    if not templates:
        raise WreathError(_("Keep at least one group."))
    before = [template_of(g) for g in groups_for(session, ceremony)]
    for old in _stored_groups(session, ceremony):
        session.delete(old)
    session.flush()
    made = [_group_from(ceremony, i, as_template(t)) for i, t in enumerate(templates)]
    session.add_all(made)
    session.flush()
    record(
        session,
        action=action,
        object_type="ceremony",
        object_id=ceremony.id,
        changes={"groups": [_summary(before), _summary(template_of(g) for g in made)]},
        actor_user_id=actor_user_id,
        reason=reason,
    )
    return made


def reset_groups(
    session: DbSession, ceremony: Ceremony, *, actor_user_id: int | None
) -> list[WreathGroup]:
    """Back to the series' default groups (or the generic ones for a one-off)."""
    return save_groups(
        session,
        ceremony,
        default_groups(ceremony),
        actor_user_id=actor_user_id,
        action="wreath_groups_reset",
    )


def use_as_series_default(
    session: DbSession, ceremony: Ceremony, *, actor_user_id: int | None
) -> None:
    """Copy the edition's groups into its series: new editions start from them."""
    series = ceremony.series
    if series is None:
        raise WreathError(_("A one-off edition has no series to take its groups."))
    groups = [dict(template_of(g)) for g in ensure_groups(session, ceremony)]
    before = list(series.default_wreath_groups or [])
    series.default_wreath_groups = groups
    record(
        session,
        action="wreath_groups_series_default",
        object_type="ceremony_series",
        object_id=series.id,
        changes={
            "groups": [
                _summary(as_template(g) for g in before),
                _summary(as_template(g) for g in groups),
            ]
        },
        actor_user_id=actor_user_id,
    )
    session.flush()


# --- who lays a wreath, and where -------------------------------------------------------


def lays_wreath(invitation: Invitation) -> bool:
    """Whether the invitation's wreath is laid: the invitations' own rule, so that the
    order lists exactly the wreaths their overview counts (an accepted delegation's own or
    ordered wreath, a proxy invitation's, the ordered or proxy wreath of one that declined).
    """
    return wreath_coming(invitation)


def is_proxy(invitation: Invitation) -> bool:
    """Laid by staff: a proxy invitation or wreath, or nobody of the delegation comes."""
    return (
        invitation.kind == InvitationKind.PROXY
        or invitation.wreath == WreathChoice.PROXY
        or delegation_size(invitation) == 0
    )


def addressee_role(invitation: Invitation, on: date) -> AppointmentRole | None:
    """The addressee's role at the invited organisation on ``on`` (the senior one)."""
    appointments = _addressee_appointments(invitation, on)
    if not appointments:
        return None
    return min(appointments, key=lambda a: _role_seniority(a.role)).role


def _role_seniority(role: AppointmentRole) -> tuple[int, int]:
    office = OFFICE_ORDER.index(role) if role in OFFICE_ORDER else len(OFFICE_ORDER)
    return PRECEDENCE_CLASS.get(role, len(PRECEDENCE_CLASS) + 1), office


def matches(group: WreathGroup, invitation: Invitation, role: AppointmentRole | None) -> bool:
    """Whether ``group`` takes ``invitation`` (kind, and role when the group names roles)."""
    if invitation.organisation.kind.value not in group.kinds:
        return False
    return not group.roles or (role is not None and role.value in group.roles)


@dataclass(frozen=True)
class WreathEntry:
    """One wreath in the order."""

    position: int  # 1..n over the whole order
    place: int  # 1..k within its group
    group: WreathGroup
    invitation: Invitation
    layers: tuple[str, ...]  # delegation members laying it; else the addressee
    bearers: tuple[str, ...]
    supplier: WreathChoice  # own, order (by the foundation) or proxy
    proxy: bool  # laid by staff on the organisation's behalf
    pinned: bool  # staff placed it by hand (wreath_position)
    rank: MissionRank | None = None

    @property
    def organisation(self) -> Organisation:
        return self.invitation.organisation

    @property
    def ribbon_text(self) -> str:
        return self.invitation.ribbon_text

    @property
    def colours(self) -> str:
        return self.invitation.ribbon_colours

    @property
    def laid_by(self) -> str:
        """Who lays it, as printed: names, or staff for a proxy wreath."""
        if self.layers:
            return ", ".join(self.layers)
        if self.proxy:
            return str(_("Foundation staff, by proxy"))
        return ""


@dataclass(frozen=True)
class WreathSection:
    """A group with its entries (possibly none: the public defilé is a line of its own)."""

    group: WreathGroup
    entries: list[WreathEntry]
    unassigned: bool = False


T = TypeVar("T")


def arrange(items: Sequence[T], pin: Callable[[T], int | None]) -> list[T]:
    """Items in their sorted order, except that pinned ones take their own place.

    A pin beyond the end counts as the last place. Pinned items never swap: of two pins
    on one place the first in sorted order keeps it and the other takes the next one.
    """
    count = len(items)
    pinned = sorted(
        (i for i, item in enumerate(items) if pin(item) is not None),
        key=lambda i: (pin(items[i]), i),
    )
    wanted: list[int] = []
    for index in pinned:
        place = min(max(pin(items[index]) or 1, 1), count) - 1
        wanted.append(max(place, wanted[-1] + 1) if wanted else place)
    limit = count - 1
    for k in reversed(range(len(wanted))):  # pull pins past the end back, in order
        wanted[k] = min(wanted[k], limit)
        limit = wanted[k] - 1
    slots: list[T | None] = [None] * count
    for index, slot in zip(pinned, wanted, strict=True):
        slots[slot] = items[index]
    rest = iter(item for item in items if pin(item) is None)
    return [slot if slot is not None else next(rest) for slot in slots]


def _manual_place(invitation: Invitation) -> int | None:
    return invitation.wreath_position


def _load_invitations(session: DbSession, ceremony: Ceremony) -> list[Invitation]:
    return [i for i in load_invitations(session, ceremony) if lays_wreath(i)]


def _sort_key(
    sort: WreathSort,
    invitation: Invitation,
    role: AppointmentRole | None,
    ranks: dict[int, MissionRank],
) -> tuple[Any, ...]:
    name = organisation_key(invitation.organisation)
    if sort == WreathSort.PRECEDENCE:
        found = ranks.get(invitation.id)
        return (0, found.rank, name) if found else (1, 0, name)
    if sort == WreathSort.OFFICE:
        office = OFFICE_ORDER.index(role) if role in OFFICE_ORDER else len(OFFICE_ORDER)
        return (office, name)
    # Alphabetical; in a manual group the order of entries nobody has placed yet.
    return (name,)


def _entry(
    group: WreathGroup,
    invitation: Invitation,
    position: int,
    place: int,
    ranks: dict[int, MissionRank],
) -> WreathEntry:
    layers = tuple(m.name for m in invitation.members if m.role == MemberRole.WREATH_LAYER)
    proxy = is_proxy(invitation)
    if not layers and not proxy and invitation.addressee is not None:
        layers = (invitation.addressee.full_name,)
    # DOMAIN.md's three suppliers: their own, ordered by the foundation, laid by proxy.
    # A delegation that declined may still have one ordered: ordered, and laid by proxy.
    supplier = invitation.wreath
    return WreathEntry(
        position=position,
        place=place,
        group=group,
        invitation=invitation,
        layers=layers,
        bearers=tuple(m.name for m in invitation.members if m.role == MemberRole.WREATH_BEARER),
        supplier=supplier,
        proxy=proxy,
        pinned=invitation.wreath_position is not None,
        rank=ranks.get(invitation.id),
    )


@dataclass(frozen=True)
class ProtocolGroup:
    """A group with the invitations it takes, in the group's order."""

    group: WreathGroup
    invitations: list[Invitation]
    unassigned: bool = False


def protocol_order(
    session: DbSession,
    ceremony: Ceremony,
    invitations: Sequence[Invitation],
    *,
    manual_places: bool = True,
) -> tuple[list[ProtocolGroup], dict[int, MissionRank]]:
    """``invitations`` in the edition's groups, each group in its own sort, with ranks.

    The wreath order and the printed guest lists share this, so that a delegation stands
    in the same place on every list. ``manual_places=False`` ignores staff's moves of
    wreaths (a guest list follows protocol, not the laying). Every group is returned,
    empty ones too; the trailing "not in any group" only when it takes someone.
    """
    on = ceremony.local_start.date()
    groups = groups_for(session, ceremony)
    roles = {i.id: addressee_role(i, on) for i in invitations}
    members: dict[int, list[Invitation]] = {id(g): [] for g in groups}
    unassigned = WreathGroup(
        ceremony_id=ceremony.id,
        position=len(groups),
        sort=WreathSort.ALPHABETICAL,
        kinds=[],
        roles=[],
        public_defile=False,
        **UNASSIGNED_NAMES,
    )
    members[id(unassigned)] = []
    for invitation in invitations:
        taker = next((g for g in groups if matches(g, invitation, roles[invitation.id])), None)
        members[id(taker or unassigned)].append(invitation)
    ranks = mission_rank(session, invitations, on)

    ordered: list[ProtocolGroup] = []
    for group in [*groups, unassigned]:
        found = members[id(group)]
        if group is unassigned and not found:
            continue
        sort = WreathSort(group.sort)

        def key(invitation: Invitation, sort: WreathSort = sort) -> tuple[Any, ...]:
            return (*_sort_key(sort, invitation, roles[invitation.id], ranks), invitation.id)

        by_sort = sorted(found, key=key)
        placed = arrange(by_sort, _manual_place) if manual_places else by_sort
        ordered.append(ProtocolGroup(group, placed, unassigned=group is unassigned))
    return ordered, ranks


def load_invitations(session: DbSession, ceremony: Ceremony) -> list[Invitation]:
    """Every invitation of the edition with what ordering and printing read, loaded."""
    return list(
        session.scalars(
            sa.select(Invitation)
            .where(Invitation.ceremony_id == ceremony.id)
            .options(
                selectinload(Invitation.organisation),
                selectinload(Invitation.members),
                selectinload(Invitation.addressee)
                .selectinload(Person.appointments)
                .selectinload(Appointment.organisation),
            )
            .order_by(Invitation.id)
        )
    )


def wreath_sections(session: DbSession, ceremony: Ceremony) -> list[WreathSection]:
    """The order group by group, as printed (groups without entries included)."""
    invitations = _load_invitations(session, ceremony)
    groups, ranks = protocol_order(session, ceremony, invitations)
    sections: list[WreathSection] = []
    position = 0
    for found in groups:
        entries = []
        for place, invitation in enumerate(found.invitations, start=1):
            position += 1
            entries.append(_entry(found.group, invitation, position, place, ranks))
        sections.append(WreathSection(found.group, entries, unassigned=found.unassigned))
    return sections


def wreath_order(session: DbSession, ceremony: Ceremony) -> list[WreathEntry]:
    """Every wreath of the edition in laying order, numbered 1..n."""
    return [entry for section in wreath_sections(session, ceremony) for entry in section.entries]


# --- moving an entry --------------------------------------------------------------------


@dataclass(frozen=True)
class MoveResult:
    before: int
    after: int
    entry: WreathEntry


def move_entry(
    session: DbSession,
    ceremony: Ceremony,
    invitation_id: int,
    direction: MoveDirection,
    *,
    reason: str,
    to_position: int | None = None,
    seen_position: int | None = None,
    actor_user_id: int | None,
) -> MoveResult:
    """Move one wreath within its group; the reason is required and audited.

    ``seen_position`` is the position the entry had on the page the move came from: if
    it has moved since, nothing changes (``StaleOrder``). An entry never leaves its group:
    the group follows from the organisation and the addressee's role.
    """
    reason = reason.strip()
    if not reason:
        raise WreathError(_("Give a reason for the move: it is kept in the audit log."), "reason")
    ensure_groups(session, ceremony)
    sections = wreath_sections(session, ceremony)
    found = next(
        (
            (section, entry)
            for section in sections
            for entry in section.entries
            if entry.invitation.id == invitation_id
        ),
        None,
    )
    if found is None:
        raise LookupError(invitation_id)
    section, entry = found
    if seen_position is not None and seen_position != entry.position:
        raise StaleOrder(
            _("The order changed since the page was shown; look again and repeat the move.")
        )
    in_group = section.entries
    first, last = in_group[0].position, in_group[-1].position
    if direction == MoveDirection.AUTO:
        if not entry.pinned:
            raise WreathError(_("This wreath follows the group's order already."), "position")
        entry.invitation.wreath_position = None
    else:
        if direction == MoveDirection.UP:
            target = entry.position - 1
        elif direction == MoveDirection.DOWN:
            target = entry.position + 1
        elif to_position is None:
            raise WreathError(_("Give the position to move to."), "position")
        else:
            target = to_position
        if not first <= target <= last:
            raise WreathError(
                _(
                    "A wreath stays in its group: choose a position from %(first)d to %(last)d.",
                    first=first,
                    last=last,
                ),
                "position",
            )
        if target == entry.position:
            raise WreathError(
                _("The wreath is at position %(position)d already.", position=target),
                "position",
            )
        reordered = [e for e in in_group if e is not entry]
        reordered.insert(target - first, entry)
        # Re-pin every pinned entry at the place it now shows, so that the order after
        # the move is exactly the one staff saw; unpinned entries keep following the sort.
        for place, item in enumerate(reordered, start=1):
            if item is entry or item.pinned:
                item.invitation.wreath_position = place
    session.flush()
    after = next(e for e in wreath_order(session, ceremony) if e.invitation.id == invitation_id)
    record(
        session,
        action="wreath_move",
        object_type="invitation",
        object_id=invitation_id,
        changes={
            "position": [entry.position, after.position],
            "direction": direction.value,
            "group": section.group.name_en,
            "organisation": entry.organisation.name,
        },
        actor_user_id=actor_user_id,
        reason=reason,
    )
    session.flush()
    return MoveResult(before=entry.position, after=after.position, entry=after)
