"""The GDPR: privacy statement, export and erasure per person, retention."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from app.privacy import views  # noqa: E402,F401  (routes register on import)
