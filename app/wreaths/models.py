"""The wreath-laying order of an edition: ordered groups, each with its own sort."""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base, enum_column
from app.i18n import pick


class WreathSort(StrEnum):
    PRECEDENCE = "precedence"  # diplomatic precedence as of the ceremony date
    OFFICE = "office"  # order of office (mayor before deputy...), then name
    ALPHABETICAL = "alphabetical"
    MANUAL = "manual"  # staff's order only


class WreathGroupTemplate(TypedDict):
    """A series' default group, as stored in its JSON column."""

    name_nl: str
    name_en: str
    name_ru: str
    sort: str
    kinds: list[str]  # organisation kinds that fall in this group
    roles: list[str]  # addressee appointment roles that fall in it ([] = any)
    public_defile: bool


class WreathGroup(Base):
    """A group in an edition's wreath order ("heads of mission", "public defilé").

    Which accepted invitations fall in a group: organisation kind in ``kinds`` and, if
    ``roles`` is not empty, the addressee's appointment role in ``roles``; the first group
    (by position) that matches takes the invitation.
    """

    __tablename__ = "wreath_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ceremony.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name_nl: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    name_ru: Mapped[str] = mapped_column(sa.String(200), default="")
    sort: Mapped[WreathSort] = mapped_column(enum_column(WreathSort))
    kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    public_defile: Mapped[bool] = mapped_column(default=False)

    def name(self, lang: str) -> str:
        return pick(self, "name", lang)
