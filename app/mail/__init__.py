"""Mail: a reviewed outbox, calendar invitations (iTIP over iMIP), reminders, replies."""

from flask import Blueprint

bp = Blueprint("mail", __name__, url_prefix="/staff")

from app.mail import views  # noqa: E402,F401  (routes register on import)
from app.mail.services import connect_signals  # noqa: E402

connect_signals()
