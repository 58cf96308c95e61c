"""Jinja filters and globals: dates in the venue's zone, per the page's locale."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_decimal, format_time

from app.auth.forms import ROLE_LABELS
from app.auth.models import Role
from app.ceremonies.forms import ITEM_KIND_LABELS, ORGANISER_ROLE_LABELS
from app.ceremonies.models import ItemKind, OrganiserRole
from app.ceremonies.services import status_label
from app.contacts.addressing import addressed
from app.i18n import (
    clock,
    current_language,
    date_phrase,
    date_time_phrase,
    ordinal_commemoration,
    page_languages,
    stamp_phrase,
    time_phrase,
)


def register(app: Flask) -> None:
    @app.template_filter("longdate")
    def longdate(moment: datetime) -> str:
        # Babel would convert to BABEL_DEFAULT_TIMEZONE; ceremony times are already
        # in their venue's zone, so format the wall clock as it stands.
        return date_phrase(moment)

    @app.template_filter("hm")
    def hm(moment: datetime) -> str:
        return clock(moment)

    @app.template_filter("stamp")
    def stamp(moment: datetime) -> str:
        # Stored moments are UTC; the reader's clock is the venue's (Europe/Amsterdam).
        zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
        return stamp_phrase(moment.astimezone(zone) if moment.tzinfo else moment)

    @app.template_filter("kind")
    def kind(value: ItemKind) -> str:
        return str(ITEM_KIND_LABELS[value])

    @app.template_filter("organiser")
    def organiser(value: OrganiserRole) -> str:
        return str(ORGANISER_ROLE_LABELS[value])

    def coordinate(value: float) -> str:
        return str(format_decimal(value, format="#0.0000"))

    app.jinja_env.globals.update(
        coordinate=coordinate,
        role_label=role_label,
        status_label=status_label,
        current_language=current_language,
        page_languages=page_languages,
        ordinal_commemoration=ordinal_commemoration,
        format_time=format_time,
        date_phrase=date_phrase,
        time_phrase=time_phrase,
        date_time_phrase=date_time_phrase,
        addressed=addressed,
    )


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])
