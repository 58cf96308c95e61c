"""Contacts: organisations, people, appointments, groups, diplomatic precedence."""

from flask import Blueprint

bp = Blueprint("contacts", __name__, url_prefix="/staff/contacts")

from app.contacts import views  # noqa: E402,F401  (routes register on import)
