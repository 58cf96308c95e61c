"""Default wreath groups: the 9 May list (DOMAIN.md) and a generic one for the rest.

Group names are data in three languages, like series titles; staff change them per
edition or per series, so they are not run through gettext.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.ceremonies.models import CeremonySeries
from app.contacts.models import AppointmentRole as R
from app.contacts.models import OrganisationKind as K
from app.extensions import DbSession
from app.wreaths.models import WreathGroupTemplate, WreathSort

VICTORY_DAY_SERIES = "9-mei"

HEADS_OF_MISSION_ROLES = [R.AMBASSADOR, R.ENVOY, R.CHARGE_EN_PIED, R.CHARGE_AD_INTERIM]


def group(
    nl: str,
    en: str,
    ru: str,
    sort: WreathSort,
    kinds: list[K],
    roles: list[R] | None = None,
    *,
    public_defile: bool = False,
) -> WreathGroupTemplate:
    """A default group as stored in a series' JSON column."""
    return WreathGroupTemplate(
        name_nl=nl,
        name_en=en,
        name_ru=ru,
        sort=sort.value,
        kinds=[k.value for k in kinds],
        roles=[r.value for r in roles or []],
        public_defile=public_defile,
    )


# The first group that matches takes an invitation: heads of mission come before the
# catch-all for other embassy staff, the host's mayors before the province's officials.
VICTORY_DAY_GROUPS: list[WreathGroupTemplate] = [
    group(
        "Gastheren: gemeenten en provincie",
        "Host authorities",
        "Принимающая сторона",
        WreathSort.OFFICE,
        [K.MUNICIPALITY, K.PROVINCE],
        [R.MAYOR, R.DEPUTY_MAYOR, R.KINGS_COMMISSIONER],
    ),
    group(
        "Hoofden van diplomatieke missies",
        "Heads of mission",
        "Главы дипломатических представительств",
        WreathSort.PRECEDENCE,
        [K.EMBASSY],
        HEADS_OF_MISSION_ROLES,
    ),
    group(
        "Andere vertegenwoordigers van missies",
        "Other mission representatives",
        "Другие представители дипломатических миссий",
        WreathSort.PRECEDENCE,
        [K.EMBASSY, K.CONSULATE],
    ),
    group(
        "Nederlandse overheid en de stichting",
        "Dutch state bodies and the foundation",
        "Государственные органы Нидерландов и фонд",
        WreathSort.OFFICE,
        # A municipality or province sent by someone other than its mayor or
        # commissioner (an alderman, an official) lands here rather than nowhere.
        [K.MINISTRY, K.ARMED_FORCES, K.PROVINCE, K.MUNICIPALITY, K.FOUNDATION],
    ),
    group(
        "Organisaties",
        "Organisations",
        "Организации",
        WreathSort.ALPHABETICAL,
        [K.SCHOOL, K.VETERANS, K.MUSEUM, K.OTHER, K.FAMILY],
    ),
    group(
        "Defilé van het publiek",
        "Public defilé",
        "Возложение цветов всеми желающими",
        WreathSort.MANUAL,
        [],
        public_defile=True,
    ),
]

# One-offs and series without a default of their own: the national committee's advice
# (relatives first, then authorities, then organisations, then the public), with the
# diplomatic missions between authorities and organisations.
GENERIC_GROUPS: list[WreathGroupTemplate] = [
    group("Nabestaanden", "Relatives", "Родственники", WreathSort.ALPHABETICAL, [K.FAMILY]),
    group(
        "Autoriteiten",
        "Authorities",
        "Официальные лица",
        WreathSort.OFFICE,
        [K.MUNICIPALITY, K.PROVINCE, K.MINISTRY, K.ARMED_FORCES],
    ),
    group(
        "Diplomatieke missies",
        "Diplomatic missions",
        "Дипломатические представительства",
        WreathSort.PRECEDENCE,
        [K.EMBASSY, K.CONSULATE],
    ),
    group(
        "Organisaties",
        "Organisations",
        "Организации",
        WreathSort.ALPHABETICAL,
        [K.FOUNDATION, K.SCHOOL, K.VETERANS, K.MUSEUM, K.OTHER],
    ),
    group(
        "Defilé van het publiek",
        "Public defilé",
        "Возложение цветов всеми желающими",
        WreathSort.MANUAL,
        [],
        public_defile=True,
    ),
]


def fill_series_defaults(session: DbSession) -> int:
    """Give the 9 May series its default wreath groups if it has none; returns 0 or 1.

    Called by ``flask ceremonies seed``: a list staff have edited is never replaced.
    """
    series = session.scalar(
        sa.select(CeremonySeries).where(CeremonySeries.slug == VICTORY_DAY_SERIES)
    )
    if series is None or series.default_wreath_groups:
        return 0
    series.default_wreath_groups = [dict(g) for g in VICTORY_DAY_GROUPS]
    session.flush()
    return 1
