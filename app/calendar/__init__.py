"""Calendar feeds, the subscribe page and the JSON API for the foundation's website."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from app.calendar import views  # noqa: E402,F401  (routes register on import)
