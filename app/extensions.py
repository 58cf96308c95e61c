"""Extensions, created here and bound to the app in create_app (no circular imports)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypeAlias

import sqlalchemy as sa
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session, registry, scoped_session

from app.types import UTCDateTime

# Named constraints make migrations reproducible and let batch mode on SQLite find them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Typed declarative base for every model.

    The type map sits on an explicit registry: Flask-SQLAlchemy 3.1 refuses it as a class
    attribute of the base.
    """

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


# Column tags for the GDPR (see app/privacy): the category says who the data belongs to.
# "person": a contact (exported and erased with them); "delegation": what a delegation
# told us (exported and erased with the person it names, purged after the retention
# period); "staff": a staff account; "mail": a message in the outbox (exported and erased
# with the person it was addressed to, purged with the delegation details).
PERSON_DATA = {"personal": "person"}
DELEGATION_DATA = {"personal": "delegation"}
STAFF_DATA = {"personal": "staff"}
MAIL_DATA = {"personal": "mail"}

db = SQLAlchemy(model_class=Base)

# What services accept: a plain Session (scripts, tests) or Flask-SQLAlchemy's scoped one.
DbSession: TypeAlias = Session | scoped_session[Any]
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def enum_column(enum: type[StrEnum], length: int = 20) -> sa.Enum:
    """Store a StrEnum by value as a checked VARCHAR: portable and readable in SQL."""
    return sa.Enum(
        enum,
        native_enum=False,
        length=length,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
        name=enum.__name__.lower(),
        validate_strings=True,
    )
