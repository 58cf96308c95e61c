"""Run-time settings that admins manage."""

from flask import Blueprint

bp = Blueprint("settings", __name__)

from app.settings import views  # noqa: E402,F401  (routes register on import)
