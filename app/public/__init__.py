"""The public pages: upcoming ceremonies and one edition's page."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from app.public import views  # noqa: E402,F401  (routes register on import)
