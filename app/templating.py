"""Jinja filters and globals: dates in the venue's zone, per the page's locale."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, format_time

from app.auth.forms import ROLE_LABELS
from app.auth.models import Role
from app.ceremonies.forms import ITEM_KIND_LABELS, ORGANISER_ROLE_LABELS
from app.ceremonies.models import ItemKind, OrganiserRole
from app.ceremonies.services import status_label
from app.contacts.addressing import addressed
from app.i18n import current_language, ordinal_commemoration, page_languages


def register(app: Flask) -> None:
    @app.template_filter("longdate")
    def longdate(moment: datetime) -> str:
        # Babel would convert to BABEL_DEFAULT_TIMEZONE; ceremony times are already
        # in their venue's zone, so format the wall clock as it stands.
        return str(format_date(moment.date(), "full"))

    @app.template_filter("hm")
    def hm(moment: datetime) -> str:
        return moment.strftime("%H:%M")

    @app.template_filter("stamp")
    def stamp(moment: datetime) -> str:
        return str(format_datetime(moment, "medium"))

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
        addressed=addressed,
    )


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])
