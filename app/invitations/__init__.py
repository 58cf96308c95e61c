"""Invitations, policies, and the delegation's reply through its personal link."""

from flask import Blueprint

# Staff pages; the delegations' own pages are the ``rsvp`` blueprint (app.invitations.rsvp).
bp = Blueprint("invitations", __name__, url_prefix="/staff")

from app.invitations import views  # noqa: E402,F401  (routes register on import)
