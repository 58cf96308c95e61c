"""Diplomatic precedence (Vienna Convention arts. 13, 14, 16, 19; DOMAIN.md).

Computed as of a date from the appointments valid on it, never typed in. Other
capabilities (the default addressee of an invitation, the wreath order) call
``precedence(session, on)`` and read the ``RankedHead`` rows in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.contacts.models import PRECEDENCE_CLASS, Appointment, AppointmentRole
from app.contacts.services import ZONE
from app.extensions import DbSession

AMBASSADOR_CLASS = PRECEDENCE_CLASS[AppointmentRole.AMBASSADOR]
REPRESENTATIVE_CLASS = PRECEDENCE_CLASS[AppointmentRole.REPRESENTATIVE]


@dataclass(frozen=True)
class RankedHead:
    """One mission's place in the diplomatic corps on a date.

    ``rank`` counts from 1 without gaps; ``class_`` is 1 (ambassador) to 5 (representative
    on behalf of the head of mission); ``appointment.person`` and ``.organisation`` are
    loaded. ``is_dean`` marks the first ambassador (the doyen), on no other row.
    """

    rank: int
    appointment: Appointment
    class_: int
    is_dean: bool


def precedence(session: DbSession, on: date) -> list[RankedHead]:
    """The diplomatic corps on ``on``, in order of precedence.

    Counts appointments valid on ``on`` with a ranked role (ambassador, envoy, chargé en
    pied, chargé a.i., representative). Order: class, then the moment functions were taken
    up (credentials accepted; for a chargé a.i. the notified date), then the manual
    tie-break, then the organisation's name. A head of mission (classes 1-4) without that
    moment, or whose functions start after ``on`` (an ambassador-designate), is not ranked;
    nor is a representative whose ``taken_up_at`` lies after ``on``. Resident and
    non-resident missions rank alike. Each organisation appears once, with its best-ranked
    appointment: a representative of a mission whose head is ranked is not listed again.
    """
    rows = session.scalars(
        sa.select(Appointment)
        .options(joinedload(Appointment.person), joinedload(Appointment.organisation))
        .where(
            Appointment.role.in_(list(PRECEDENCE_CLASS)),
            sa.or_(Appointment.valid_from.is_(None), Appointment.valid_from <= on),
            sa.or_(Appointment.valid_to.is_(None), Appointment.valid_to >= on),
        )
    ).all()

    best: dict[int, tuple[tuple[object, ...], Appointment]] = {}
    for appointment in rows:
        if not _has_taken_up(appointment, on):
            continue
        key = _sort_key(appointment)
        current = best.get(appointment.organisation_id)
        if current is None or key < current[0]:
            best[appointment.organisation_id] = (key, appointment)

    ordered = [appointment for _, appointment in sorted(best.values(), key=lambda kv: kv[0])]
    ranked: list[RankedHead] = []
    dean_found = False
    for rank, appointment in enumerate(ordered, start=1):
        class_ = PRECEDENCE_CLASS[appointment.role]
        is_dean = class_ == AMBASSADOR_CLASS and not dean_found
        dean_found = dean_found or is_dean
        ranked.append(RankedHead(rank, appointment, class_, is_dean))
    return ranked


def _has_taken_up(appointment: Appointment, on: date) -> bool:
    taken_up = appointment.taken_up_at
    if taken_up is None:
        return PRECEDENCE_CLASS[appointment.role] == REPRESENTATIVE_CLASS
    return taken_up.astimezone(ZONE).date() <= on


# Representatives often have no moment of their own: they go after those that have one.
_NEVER = datetime.max.replace(tzinfo=UTC)


def _sort_key(appointment: Appointment) -> tuple[object, ...]:
    return (
        PRECEDENCE_CLASS[appointment.role],
        appointment.taken_up_at or _NEVER,
        appointment.tie_break,
        appointment.organisation.name.casefold(),
        appointment.id,
    )
