"""The wreath order: groups, who appears, the sorts, manual moves, the page and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, CeremonySeries
from app.ceremonies.seed import seed
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    Organisation,
    OrganisationKind,
    Person,
)
from app.extensions import db
from app.invitations.models import (
    DelegationMember,
    Invitation,
    InvitationKind,
    InvitationStatus,
    MemberRole,
    WreathChoice,
)
from app.wreaths.defaults import GENERIC_GROUPS, VICTORY_DAY_GROUPS
from app.wreaths.models import WreathGroup, WreathSort
from app.wreaths.services import (
    MoveDirection,
    WreathError,
    arrange,
    collation_key,
    ensure_groups,
    groups_for,
    mission_rank,
    move_entry,
    wreath_order,
    wreath_sections,
)

HAGUE = ZoneInfo("Europe/Amsterdam")
K = OrganisationKind
R = AppointmentRole


# --- building contacts and invitations ---------------------------------------------------


def organisation(name: str, kind: OrganisationKind, **fields: object) -> Organisation:
    found = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
    if found is not None:
        return found
    made = Organisation(name=name, kind=kind, **fields)
    db.session.add(made)
    return made


def appointed(
    family_name: str,
    at: Organisation,
    role: AppointmentRole,
    taken_up: datetime | None = None,
    *,
    valid_from: date | None = None,
    valid_to: date | None = None,
    given_name: str = "",
) -> Person:
    person = Person(family_name=family_name, given_name=given_name)
    db.session.add(person)
    db.session.add(
        Appointment(
            person=person,
            organisation=at,
            role=role,
            taken_up_at=taken_up,
            valid_from=valid_from,
            valid_to=valid_to,
        )
    )
    return person


def invite(
    ceremony: Ceremony,
    at: Organisation,
    addressee: Person | None = None,
    *,
    status: InvitationStatus = InvitationStatus.ACCEPTED,
    wreath: WreathChoice = WreathChoice.OWN,
    kind: InvitationKind = InvitationKind.RSVP,
    members: tuple[tuple[str, MemberRole], ...] = (),
    ribbon_text: str = "",
    ribbon_colours: str = "",
) -> Invitation:
    invitation = Invitation(
        ceremony=ceremony,
        organisation=at,
        addressee=addressee,
        status=status,
        wreath=wreath,
        kind=kind,
        ribbon_text=ribbon_text,
        ribbon_colours=ribbon_colours,
    )
    for number, (name, role) in enumerate(members):
        invitation.members.append(DelegationMember(name=name, role=role, position=number))
    db.session.add(invitation)
    return invitation


def moment(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HAGUE)


def names(entries: list[object]) -> list[str]:
    return [e.organisation.name for e in entries]  # type: ignore[attr-defined]


def order_of(ceremony: Ceremony) -> list[str]:
    db.session.expire_all()
    return names(list(wreath_order(db.session, ceremony)))


@pytest.fixture
def victory(edition: Callable[..., Ceremony]) -> Ceremony:
    """The 9 May 2026 edition (Saturday 9 May 2026, 11:00 at the Field)."""
    return edition("9-mei", 2026)


# The example of DOMAIN.md ("Diplomatic precedence"), invented data.
HEADS = [
    ("I", R.AMBASSADOR, moment(2018, 3, 14)),
    ("D", R.AMBASSADOR, moment(2019, 11, 20)),
    ("A", R.AMBASSADOR, moment(2021, 9, 8)),
    ("C", R.AMBASSADOR, moment(2023, 2, 1, 9, 15)),
    ("B", R.AMBASSADOR, moment(2023, 2, 1, 10, 0)),
    ("E", R.AMBASSADOR, moment(2024, 6, 12)),
    ("H", R.CHARGE_EN_PIED, moment(2020, 5, 4)),
    ("G", R.CHARGE_AD_INTERIM, moment(2024, 10, 3)),
    ("F", R.CHARGE_AD_INTERIM, moment(2025, 1, 15)),
    ("J", R.REPRESENTATIVE, None),
]


@dataclass
class Corps:
    """Invitations of the example, with a few guests of other groups around them."""

    ceremony: Ceremony
    embassies: dict[str, Organisation]


def the_corps(ceremony: Ceremony) -> Corps:
    embassies = {}
    # Created in alphabetical order, so that neither the id nor the name gives the answer.
    for letter, role, taken_up in sorted(HEADS):
        embassy = organisation(f"Embassy {letter}", K.EMBASSY, resident=letter != "D")
        head = appointed(f"Head {letter}", embassy, role, taken_up)
        invite(ceremony, embassy, head)
        embassies[letter] = embassy
    consulate = organisation("Consulate-General Q", K.CONSULATE)
    invite(ceremony, consulate, appointed("Consul Q", consulate, R.CONSUL))
    leusden = organisation("Gemeente Leusden", K.MUNICIPALITY)
    invite(ceremony, leusden, appointed("Mayor", leusden, R.MAYOR))
    defence = organisation("Ministerie van Defensie", K.MINISTRY)
    invite(ceremony, defence, appointed("Official", defence, R.OFFICIAL))
    school = organisation("Basisschool De Ark", K.SCHOOL)
    invite(ceremony, school, appointed("Teacher", school, R.OTHER))
    db.session.commit()
    return Corps(ceremony, embassies)


CORPS_ORDER = [
    "Gemeente Leusden",
    *(f"Embassy {letter}" for letter in "IDACBEHGF"),
    "Embassy J",
    "Consulate-General Q",
    "Ministerie van Defensie",
    "Basisschool De Ark",
]


# --- groups --------------------------------------------------------------------------------


def test_seed_gives_9_may_its_groups_and_keeps_staff_changes(seeded: None) -> None:
    series = db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == "9-mei"))
    assert series is not None
    assert series.default_wreath_groups == VICTORY_DAY_GROUPS
    assert [g["name_en"] for g in series.default_wreath_groups] == [
        "Host authorities",
        "Heads of mission",
        "Other mission representatives",
        "Dutch state bodies and the foundation",
        "Organisations",
        "Public defilé",
    ]
    others = db.session.scalars(sa.select(CeremonySeries).where(CeremonySeries.slug != "9-mei"))
    assert all(s.default_wreath_groups == [] for s in others)

    mine = [{**VICTORY_DAY_GROUPS[4], "name_en": "Everyone"}]
    series.default_wreath_groups = mine
    db.session.commit()
    assert seed(db.session) == (0, 0)
    db.session.commit()
    db.session.expire_all()
    assert series.default_wreath_groups == mine


def test_an_edition_takes_its_series_default_and_looking_stores_nothing(
    victory: Ceremony, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    shown = groups_for(db.session, victory)
    assert [g.name_en for g in shown] == [g["name_en"] for g in VICTORY_DAY_GROUPS]
    assert [g.sort for g in shown] == [
        WreathSort.OFFICE,
        WreathSort.PRECEDENCE,
        WreathSort.PRECEDENCE,
        WreathSort.OFFICE,
        WreathSort.ALPHABETICAL,
        WreathSort.MANUAL,
    ]
    assert shown[-1].public_defile
    login(Role.VIEWER)
    assert client.get(f"/staff/ceremonies/{victory.slug}/wreaths").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WreathGroup)) == 0

    stored = ensure_groups(db.session, victory)
    db.session.commit()
    assert [g.name_nl for g in stored] == [g["name_nl"] for g in VICTORY_DAY_GROUPS]
    assert [g.position for g in stored] == list(range(6))
    assert all(g.id is not None for g in stored)
    # A second call finds them instead of making more.
    assert ensure_groups(db.session, victory) == stored
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WreathGroup)) == 6


@pytest.mark.parametrize("slug", ["4-mei", "koedriest"])
def test_one_offs_and_series_without_groups_get_the_generic_default(
    edition: Callable[..., Ceremony], slug: str
) -> None:
    # A series without groups of its own (4 May), and a one-off (no series at all).
    ceremony = edition(slug, 2026) if slug == "4-mei" else edition(slug, 2026, series=None)
    assert (ceremony.series is None) == (slug == "koedriest")
    stored = ensure_groups(db.session, ceremony)
    assert [g.name_en for g in stored] == [g["name_en"] for g in GENERIC_GROUPS]
    assert stored[0].name_en == "Relatives"  # the national committee's advice


# --- who appears -------------------------------------------------------------------------


def test_the_wreaths_that_come_appear_and_proxies_say_so(victory: Ceremony) -> None:
    """Accepted with a wreath, and every wreath laid by proxy; nothing else."""
    school = organisation("Basisschool De Ark", K.SCHOOL)
    invite(
        victory,
        school,
        appointed("Jansen", school, R.DIRECTOR, given_name="Anna"),
        members=(
            ("Pupil One", MemberRole.WREATH_LAYER),
            ("Pupil Two", MemberRole.WREATH_LAYER),
            ("Pupil Three", MemberRole.WREATH_BEARER),
            ("Teacher", MemberRole.ATTENDEE),
        ),
        ribbon_text="Wij vergeten jullie niet",
        ribbon_colours="rood-wit-blauw",
    )
    museum = organisation("Museum Kamp Amersfoort", K.MUSEUM)
    invite(
        victory,
        museum,
        appointed("Visser", museum, R.DIRECTOR, given_name="Piet"),
        wreath=WreathChoice.ORDER,
    )
    for name, status, wreath in [
        ("No wreath", InvitationStatus.ACCEPTED, WreathChoice.NONE),
        ("Declined", InvitationStatus.DECLINED, WreathChoice.OWN),
        ("Sent", InvitationStatus.SENT, WreathChoice.OWN),
        ("Draft", InvitationStatus.DRAFT, WreathChoice.ORDER),
        ("Silent", InvitationStatus.NO_REPLY, WreathChoice.OWN),
    ]:
        invite(victory, organisation(name, K.OTHER), status=status, wreath=wreath)
    # "Wreath by proxy only" this year: a proxy invitation, never sent, so still a draft.
    embassy = organisation("Embassy P", K.EMBASSY)
    invite(
        victory,
        embassy,
        appointed("Head P", embassy, R.AMBASSADOR, moment(2020, 1, 8)),
        kind=InvitationKind.PROXY,
        status=InvitationStatus.DRAFT,
        wreath=WreathChoice.PROXY,
        ribbon_text="Павшим героям",
    )
    # Cannot attend, but asks staff to lay its wreath, or to order one and lay it.
    veterans = organisation("Veterans V", K.VETERANS)
    invite(victory, veterans, status=InvitationStatus.DECLINED, wreath=WreathChoice.PROXY)
    ordered = organisation("Veterans W", K.VETERANS)
    invite(victory, ordered, status=InvitationStatus.DECLINED, wreath=WreathChoice.ORDER)
    # A proxy invitation without a wreath lays nothing.
    invite(
        victory,
        organisation("Embassy N", K.EMBASSY),
        kind=InvitationKind.PROXY,
        status=InvitationStatus.DRAFT,
        wreath=WreathChoice.NONE,
    )
    db.session.commit()

    entries = wreath_order(db.session, victory)
    assert names(list(entries)) == [
        "Embassy P",
        "Basisschool De Ark",
        "Museum Kamp Amersfoort",
        "Veterans V",
        "Veterans W",
    ]
    assert [e.position for e in entries] == [1, 2, 3, 4, 5]
    by_name = {e.organisation.name: e for e in entries}

    school_entry = by_name["Basisschool De Ark"]
    assert school_entry.laid_by == "Pupil One, Pupil Two"
    assert school_entry.bearers == ("Pupil Three",)
    assert (school_entry.supplier, school_entry.proxy) == (WreathChoice.OWN, False)
    assert (school_entry.ribbon_text, school_entry.colours) == (
        "Wij vergeten jullie niet",
        "rood-wit-blauw",
    )
    # No wreath layer named: the addressee lays it.
    assert by_name["Museum Kamp Amersfoort"].laid_by == "Piet Visser"
    assert by_name["Museum Kamp Amersfoort"].supplier == WreathChoice.ORDER
    assert not by_name["Museum Kamp Amersfoort"].proxy

    proxy = by_name["Embassy P"]
    assert proxy.proxy
    assert proxy.supplier == WreathChoice.PROXY
    assert proxy.laid_by == "Foundation staff, by proxy"  # never the absent ambassador
    assert proxy.ribbon_text == "Павшим героям"
    assert proxy.group.name_en == "Heads of mission"
    for name, supplier in (("Veterans V", WreathChoice.PROXY), ("Veterans W", WreathChoice.ORDER)):
        assert by_name[name].proxy
        assert by_name[name].supplier == supplier
        assert by_name[name].laid_by == "Foundation staff, by proxy"


def test_an_invitation_that_matches_no_group_is_still_listed(victory: Ceremony) -> None:
    family = organisation("Familie Petrov", K.FAMILY)
    invite(victory, family, appointed("Petrov", family, R.RELATIVE))
    db.session.commit()
    groups = ensure_groups(db.session, victory)
    organisations = next(g for g in groups if g.name_en == "Organisations")
    organisations.kinds = [K.SCHOOL.value]
    db.session.commit()

    sections = wreath_sections(db.session, victory)
    last = sections[-1]
    assert last.unassigned
    assert last.group.name_en == "Not in any group"
    assert names(list(last.entries)) == ["Familie Petrov"]
    assert last.entries[0].position == 1


# --- the sorts --------------------------------------------------------------------------


def test_heads_of_mission_follow_precedence_on_the_ceremony_date(victory: Ceremony) -> None:
    the_corps(victory)
    entries = wreath_order(db.session, victory)
    assert names(list(entries)) == CORPS_ORDER
    assert [e.position for e in entries] == list(range(1, len(CORPS_ORDER) + 1))
    groups = [e.group.name_en for e in entries]
    assert groups[0] == "Host authorities"
    assert set(groups[1:10]) == {"Heads of mission"}
    assert groups[10:12] == ["Other mission representatives"] * 2
    assert groups[12:] == ["Dutch state bodies and the foundation", "Organisations"]
    # The longest-serving ambassador is the dean, and only they are.
    deans = [e.organisation.name for e in entries if e.rank and e.rank.is_dean]
    assert deans == ["Embassy I"]


def test_precedence_is_computed_as_of_the_date(edition: Callable[..., Ceremony]) -> None:
    """On 9 May 2024 E had not presented credentials and G, F were not chargés yet."""
    earlier = edition("9-mei", 2024)
    corps = the_corps(earlier)
    g_appointment = db.session.scalar(
        sa.select(Appointment).where(Appointment.organisation == corps.embassies["G"])
    )
    assert g_appointment is not None
    g_appointment.valid_from = date(2024, 10, 1)  # G's embassy had another chargé then
    db.session.commit()

    heads = [e for e in wreath_order(db.session, earlier) if e.group.name_en == "Heads of mission"]
    # E, the ambassador-designate, is not ranked: after those who are. F had not taken up
    # functions either. G's appointment did not exist yet: his embassy is not a head.
    assert names(list(heads)) == [f"Embassy {x}" for x in "IDACBH"] + ["Embassy E", "Embassy F"]
    assert heads[-1].rank is None
    assert heads[-2].rank is None
    others = [
        e.organisation.name
        for e in wreath_order(db.session, earlier)
        if e.group.name_en == "Other mission representatives"
    ]
    assert others == ["Embassy J", "Consulate-General Q", "Embassy G"]


def test_the_own_computation_agrees_with_the_contacts_precedence(victory: Ceremony) -> None:
    the_corps(victory)
    invitations = list(
        db.session.scalars(sa.select(Invitation).where(Invitation.ceremony_id == victory.id))
    )
    on = victory.local_start.date()
    via_contacts = mission_rank(db.session, invitations, on)
    own = mission_rank(db.session, invitations, on, use_contacts=False)
    assert own == via_contacts
    ranked = sorted(via_contacts, key=lambda i: via_contacts[i].rank)
    by_id = {i.id: i.organisation.name for i in invitations}
    assert [by_id[i] for i in ranked] == [f"Embassy {x}" for x in "IDACBEHGFJ"]
    assert [via_contacts[i].class_ for i in ranked] == [1, 1, 1, 1, 1, 1, 3, 4, 4, 5]


def test_a_tie_in_time_goes_to_the_manual_tie_break(victory: Ceremony) -> None:
    corps = the_corps(victory)
    for letter, tie_break in (("C", 2), ("B", 1)):
        appointment = db.session.scalar(
            sa.select(Appointment).where(Appointment.organisation == corps.embassies[letter])
        )
        assert appointment is not None
        appointment.taken_up_at = moment(2023, 2, 1, 9, 15)
        appointment.tie_break = tie_break
    db.session.commit()
    assert order_of(victory)[1:10] == [f"Embassy {x}" for x in "IDABCEHGF"]


def test_office_order(victory: Ceremony) -> None:
    # Alphabetical order would say Amersfoort, Baarn, Leusden, Provincie.
    for name, kind, role in [
        ("Provincie Utrecht", K.PROVINCE, R.KINGS_COMMISSIONER),
        ("Gemeente Baarn", K.MUNICIPALITY, R.DEPUTY_MAYOR),
        ("Gemeente Leusden", K.MUNICIPALITY, R.MAYOR),
        ("Gemeente Amersfoort", K.MUNICIPALITY, R.MAYOR),
        ("Ministerie van VWS", K.MINISTRY, R.OFFICIAL),
        ("Ministerie van Defensie", K.MINISTRY, R.MINISTER),
        ("Defensiestaf", K.ARMED_FORCES, R.DIRECTOR),
        ("Gemeente Amersfoort, wethouder", K.MUNICIPALITY, R.OTHER),
    ]:
        body = organisation(name, kind)
        invite(victory, body, appointed(f"Person {name}", body, role))
    db.session.commit()
    assert order_of(victory) == [
        "Gemeente Amersfoort",
        "Gemeente Leusden",
        "Gemeente Baarn",
        "Provincie Utrecht",
        # Dutch state bodies: minister, director, official, then anyone else.
        "Ministerie van Defensie",
        "Defensiestaf",
        "Ministerie van VWS",
        "Gemeente Amersfoort, wethouder",
    ]


def test_alphabetical_reads_like_a_dictionary_in_latin_and_cyrillic(victory: Ceremony) -> None:
    shuffled = [
        "Қазақ қоғамы",
        "Zeeuwse veteranen",
        "Лесная школа",
        "École de Leusden",
        "Ассоциация ветеранов",
        "Åland museum",
        "Клуб ветеранов",
        "basisschool De Ark",
        "Ёлочка",
        "Ермак",
    ]
    for name in shuffled:
        invite(victory, organisation(name, K.VETERANS))
    db.session.commit()
    assert order_of(victory) == [
        "Åland museum",
        "basisschool De Ark",
        "École de Leusden",
        "Zeeuwse veteranen",
        "Ассоциация ветеранов",
        "Ёлочка",  # Ё sorts with Е
        "Ермак",
        "Клуб ветеранов",
        "Қазақ қоғамы",  # the Kazakh letter follows К, not the whole alphabet
        "Лесная школа",
    ]


def test_collation_key() -> None:
    assert sorted(["Zwolle", "Évian", "eindhoven"], key=collation_key) == [
        "eindhoven",
        "Évian",
        "Zwolle",
    ]
    assert sorted(["Йошкар-Ола", "Иваново", "Казань"], key=collation_key) == [
        "Иваново",
        "Йошкар-Ола",
        "Казань",
    ]
    assert sorted(["Ұлы", "Үй", "Уфа", "Фёдор"], key=collation_key) == ["Уфа", "Ұлы", "Үй", "Фёдор"]


def test_arrange_puts_pins_in_place_and_the_rest_in_sort_order() -> None:
    pins = {"b": 1, "e": 3}
    assert arrange(list("abcde"), pins.get) == list("baecd")
    # Two pins on one place: the first in sort order keeps it, the other takes the next.
    assert arrange(list("abcd"), {"c": 2, "d": 2}.get) == list("acdb")
    # A pin beyond the end is the last place.
    assert arrange(list("abc"), {"a": 9}.get) == list("bca")
    assert arrange(list("abc"), {"a": 9, "b": 9}.get) == list("cab")
    nothing: dict[str, int] = {}
    assert arrange([], nothing.get) == []


def test_a_manual_place_wins_over_the_sort_within_the_group(victory: Ceremony) -> None:
    corps = the_corps(victory)
    f = db.session.scalar(
        sa.select(Invitation).where(Invitation.organisation == corps.embassies["F"])
    )
    assert f is not None
    f.wreath_position = 1
    db.session.commit()
    # First of its group (position 2 overall: the host comes first), the rest unmoved.
    assert order_of(victory)[:11] == [
        "Gemeente Leusden",
        *(f"Embassy {x}" for x in "FIDACBEHG"),
        "Embassy J",
    ]


# --- moving an entry ----------------------------------------------------------------------


def test_a_move_needs_a_reason_and_stays_in_its_group(victory: Ceremony) -> None:
    the_corps(victory)
    e = next(x for x in wreath_order(db.session, victory) if x.organisation.name == "Embassy E")
    for reason in ("", "   "):
        with pytest.raises(WreathError) as refused:
            move_entry(
                db.session,
                victory,
                e.invitation.id,
                MoveDirection.UP,
                reason=reason,
                actor_user_id=None,
            )
        assert refused.value.field == "reason"
    with pytest.raises(WreathError) as outside:
        move_entry(
            db.session,
            victory,
            e.invitation.id,
            MoveDirection.TO,
            to_position=1,
            reason="Host first",
            actor_user_id=None,
        )
    assert outside.value.field == "position"
    assert "from 2 to 10" in str(outside.value)
    db.session.rollback()
    assert order_of(victory) == CORPS_ORDER
    assert wreath_audit() == []


def wreath_audit() -> list[AuditEntry]:
    """The audit entries of this capability (seeding and others write their own)."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.like("wreath%")).order_by(AuditEntry.id)
        )
    )


def audit_moves() -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "wreath_move").order_by(AuditEntry.id)
        )
    )


def test_staff_move_an_entry_with_a_reason_and_it_is_audited(
    victory: Ceremony, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    corps = the_corps(victory)
    planner = login(Role.PLANNER)
    e_id = db.session.scalar(
        sa.select(Invitation.id).where(Invitation.organisation == corps.embassies["E"])
    )
    g_id = db.session.scalar(
        sa.select(Invitation.id).where(Invitation.organisation == corps.embassies["G"])
    )
    db.session.rollback()
    base = f"/staff/ceremonies/{victory.slug}/wreaths"

    response = client.post(
        f"{base}/{e_id}/move",
        data={"direction": "up", "reason": "Leaves the country next week", "seen": "7"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{base}#wreath-{e_id}")
    assert order_of(victory)[1:10] == [f"Embassy {x}" for x in "IDACEBHGF"]
    [entry] = audit_moves()
    assert entry.object_type == "invitation"
    assert entry.object_id == e_id
    assert entry.reason == "Leaves the country next week"
    assert entry.actor_user_id == planner.id
    assert entry.changes["position"] == [7, 6]
    assert entry.changes["group"] == "Heads of mission"

    # To a position; an entry placed before keeps its place among the others.
    response = client.post(
        f"{base}/{g_id}/move",
        data={"direction": "to", "position": "2", "reason": "Laid with the host", "seen": "9"},
    )
    assert response.status_code == 302
    assert order_of(victory)[1:10] == [f"Embassy {x}" for x in "GIDACEBHF"]
    assert [m.changes["position"] for m in audit_moves()] == [[7, 6], [9, 2]]

    # Back to the group's own sort. E keeps the place it was given (now its sixth), which
    # after G's return happens to be where the sort puts it.
    response = client.post(
        f"{base}/{g_id}/move?lang=en",
        data={"direction": "auto", "reason": "Mistake", "seen": "2"},
    )
    assert response.status_code == 302
    assert order_of(victory)[1:10] == [f"Embassy {x}" for x in "IDACBEHGF"]
    assert [e.place for e in wreath_order(db.session, victory) if e.pinned] == [6]
    assert "Moved from position 2 to 9." in client.get(f"{base}?lang=en").get_data(as_text=True)


def test_a_move_without_a_reason_is_refused_and_keeps_what_was_typed(
    victory: Ceremony, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    corps = the_corps(victory)
    login(Role.PLANNER)
    e_id = db.session.scalar(
        sa.select(Invitation.id).where(Invitation.organisation == corps.embassies["E"])
    )
    db.session.rollback()
    url = f"/staff/ceremonies/{victory.slug}/wreaths/{e_id}/move?lang=en"

    response = client.post(url, data={"direction": "to", "position": "3", "reason": " "})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give a reason for the move" in page
    assert re.search(rf'id="position-{e_id}"[^>]*value="3"', page)

    # A reason, but a position outside the group: the reason stays in the field.
    response = client.post(
        url, data={"direction": "to", "position": "1", "reason": "Protocol asked"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "choose a position from 2 to 10" in page
    assert 'value="Protocol asked"' in page

    # A page that shows an outdated order: nothing moves.
    response = client.post(url, data={"direction": "up", "reason": "Late", "seen": "3"})
    assert response.status_code == 409
    assert 'value="Late"' in response.get_data(as_text=True)

    assert client.post(url, data={"direction": "sideways", "reason": "x"}).status_code == 400
    assert order_of(victory) == CORPS_ORDER
    assert audit_moves() == []
    assert all(
        i.wreath_position is None
        for i in db.session.scalars(sa.select(Invitation).where(Invitation.id == e_id))
    )


def test_an_invitation_of_another_edition_or_without_a_wreath_is_not_found(
    victory: Ceremony,
    edition: Callable[..., Ceremony],
    client: FlaskClient,
    login: Callable[[Role], User],
) -> None:
    other = edition("4-mei", 2026)
    school = organisation("Basisschool De Ark", K.SCHOOL)
    elsewhere = invite(other, school)
    without = invite(victory, organisation("No wreath", K.OTHER), wreath=WreathChoice.NONE)
    db.session.commit()
    login(Role.PLANNER)
    for invitation in (elsewhere, without):
        response = client.post(
            f"/staff/ceremonies/{victory.slug}/wreaths/{invitation.id}/move",
            data={"direction": "up", "reason": "Try"},
        )
        assert response.status_code == 404
    assert audit_moves() == []


# --- editing the groups -----------------------------------------------------------------


def group_rows(groups: list[dict[str, object]]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {}
    for index, row in enumerate(groups):
        for key, value in row.items():
            if isinstance(value, bool):
                if value:
                    data[f"groups-{index}-{key}"] = "y"
            elif isinstance(value, list):
                data[f"groups-{index}-{key}"] = [str(v) for v in value]
            else:
                data[f"groups-{index}-{key}"] = str(value)
    return data


def test_staff_edit_the_groups(
    victory: Ceremony, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    the_corps(victory)
    login(Role.PLANNER)
    url = f"/staff/ceremonies/{victory.slug}/wreaths/groups"
    rows: list[dict[str, object]] = [
        {**g, "position": number} for number, g in enumerate(VICTORY_DAY_GROUPS, start=1)
    ]
    rows[0]["position"] = 3  # host authorities after the missions
    rows[1]["position"] = 1
    rows[2]["position"] = 2
    rows[3]["remove"] = True  # no separate group for the state
    rows[4]["kinds"] = [*VICTORY_DAY_GROUPS[4]["kinds"], "ministry"]
    rows[4]["sort"] = "manual"
    rows.append(
        {
            "name_nl": "Nabestaanden",
            "name_en": "Relatives",
            "name_ru": "Родственники",
            "sort": "alphabetical",
            "kinds": ["family"],
            "position": 7,
        }
    )
    rows.append({"name_nl": "", "name_en": "", "name_ru": "", "sort": "alphabetical"})
    response = client.post(url, data=group_rows(rows))
    assert response.status_code == 302, response.get_data(as_text=True)

    db.session.expire_all()
    stored = list(
        db.session.scalars(
            sa.select(WreathGroup)
            .where(WreathGroup.ceremony_id == victory.id)
            .order_by(WreathGroup.position)
        )
    )
    assert [g.name_en for g in stored] == [
        "Heads of mission",
        "Other mission representatives",
        "Host authorities",
        "Organisations",
        "Public defilé",
        "Relatives",
    ]
    assert stored[3].sort == WreathSort.MANUAL
    assert order_of(victory)[:12] == [
        *(f"Embassy {x}" for x in "IDACBEHGF"),
        "Embassy J",
        "Consulate-General Q",
        "Gemeente Leusden",
    ]
    [audit] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "wreath_groups"))
    assert audit.changes["groups"][1][0] == "Heads of mission (precedence)"


def test_a_group_without_a_name_is_refused_and_the_rows_are_kept(
    victory: Ceremony, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    login(Role.PLANNER)
    rows: list[dict[str, object]] = [{**g} for g in VICTORY_DAY_GROUPS]
    rows[1]["name_en"] = ""
    rows[1]["name_nl"] = "Hoofden van missies (gewijzigd)"
    rows.append({"name_nl": "Kwekerij", "name_en": "", "sort": "nonsense", "kinds": ["other"]})
    response = client.post(
        f"/staff/ceremonies/{victory.slug}/wreaths/groups?lang=en", data=group_rows(rows)
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("Give the group a name.") == 2
    assert 'value="Hoofden van missies (gewijzigd)"' in page
    assert 'value="Kwekerij"' in page
    assert "Not a valid choice" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WreathGroup)) == 0

    # Removing every group is refused too.
    removed = [{**g, "remove": True} for g in VICTORY_DAY_GROUPS]
    response = client.post(
        f"/staff/ceremonies/{victory.slug}/wreaths/groups?lang=en", data=group_rows(removed)
    )
    assert response.status_code == 400
    assert "Keep at least one group." in response.get_data(as_text=True)


def test_reset_to_the_series_default_and_save_as_the_series_default(
    victory: Ceremony,
    edition: Callable[..., Ceremony],
    client: FlaskClient,
    login: Callable[[Role], User],
) -> None:
    login(Role.PLANNER)
    groups = ensure_groups(db.session, victory)
    groups[0].name_en = "Hosts"
    db.session.commit()
    base = f"/staff/ceremonies/{victory.slug}/wreaths"

    assert client.post(f"{base}/series-default").status_code == 302
    db.session.expire_all()
    assert victory.series is not None
    assert victory.series.default_wreath_groups[0]["name_en"] == "Hosts"
    next_year = edition("9-mei", 2027)
    assert groups_for(db.session, next_year)[0].name_en == "Hosts"

    db.session.execute(sa.update(WreathGroup).values(name_en="Changed"))
    victory.series.default_wreath_groups = [dict(g) for g in VICTORY_DAY_GROUPS]
    db.session.commit()
    assert client.post(f"{base}/reset").status_code == 302
    db.session.expire_all()
    assert [g.name_en for g in groups_for(db.session, victory)] == [
        g["name_en"] for g in VICTORY_DAY_GROUPS
    ]
    assert [a.action for a in wreath_audit()] == [
        "wreath_groups_series_default",
        "wreath_groups_reset",
    ]

    one_off = edition("koedriest", 2026, series=None)
    response = client.post(f"/staff/ceremonies/{one_off.slug}/wreaths/series-default")
    assert response.status_code == 400


# --- the page and the command ---------------------------------------------------------------


def test_the_printable_page(
    victory: Ceremony, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    the_corps(victory)
    embassy = organisation("Посольство Республики Казахстан", K.EMBASSY)
    invite(
        victory,
        embassy,
        kind=InvitationKind.PROXY,
        ribbon_text="Мәңгілік есте",
        ribbon_colours="көк",
    )
    db.session.commit()
    login(Role.VIEWER)
    response = client.get(f"/staff/ceremonies/{victory.slug}/wreaths?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "css/wreaths.css" in page
    assert "<style" not in page  # the CSP allows no inline style
    assert "<script" not in page
    assert "Heads of mission" in page
    assert "Public defilé" in page
    assert page.index("Embassy I") < page.index("Embassy D") < page.index("Embassy F")
    assert "dean of the diplomatic corps" in page
    assert "Мәңгілік есте" in page
    assert "Посольство Республики Казахстан" in page
    assert "Foundation staff, by proxy" in page
    assert "/move" not in page  # viewers read, they do not move

    with client.get("/static/css/wreaths.css") as sheet:
        assert sheet.status_code == 200
        assert "@media print" in sheet.get_data(as_text=True)

    edition_page = client.get(f"/staff/ceremonies/{victory.slug}?lang=en").get_data(as_text=True)
    assert f"/staff/ceremonies/{victory.slug}/wreaths" in edition_page


def test_planners_see_the_move_and_group_forms(
    victory: Ceremony, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    the_corps(victory)
    login(Role.PLANNER)
    page = client.get(f"/staff/ceremonies/{victory.slug}/wreaths?lang=en").get_data(as_text=True)
    assert page.count('name="reason"') == len(CORPS_ORDER)
    assert "Save the groups" in page
    assert 'name="groups-6-name_nl"' in page  # six groups and the empty row for a new one


@pytest.fixture
def cli_edition(victory: Ceremony) -> Ceremony:
    the_corps(victory)
    return victory


def test_the_command_prints_the_order(runner: FlaskCliRunner, cli_edition: Ceremony) -> None:
    result = runner.invoke(args=["wreaths", "order", cli_edition.slug, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["organisation"] for r in rows] == CORPS_ORDER
    assert [r["position"] for r in rows] == list(range(1, len(CORPS_ORDER) + 1))
    assert rows[1] == {
        "position": 2,
        "group": "Heads of mission",
        "organisation": "Embassy I",
        "laid_by": "Head I",
        "proxy": False,
        "bearers": [],
        "supplier": "own",
        "ribbon_text": "",
        "ribbon_colours": "",
        "manual": False,
    }

    text = runner.invoke(args=["wreaths", "order", cli_edition.slug])
    assert text.exit_code == 0
    assert text.output.splitlines()[1].split()[:4] == ["2", "Heads", "of", "mission"]

    missing = runner.invoke(args=["wreaths", "order", "2026-nowhere"])
    assert missing.exit_code != 0
    assert "No edition with the slug 2026-nowhere." in missing.output
    # Reading the order stores nothing.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WreathGroup)) == 0
