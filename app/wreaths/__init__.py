"""The wreath-laying order."""

from flask import Blueprint

bp = Blueprint("wreaths", __name__, url_prefix="/staff")

from app.wreaths import views  # noqa: E402,F401  (routes register on import)
