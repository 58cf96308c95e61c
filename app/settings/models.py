"""Settings that admins change at run time (not deployment configuration)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base


class Setting(Base):
    """One named setting; the known names and defaults live in services.SETTINGS."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    # Text: a letter body per invitation kind and language is a setting too.
    value: Mapped[str] = mapped_column(sa.Text)
