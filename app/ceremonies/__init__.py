"""The ceremony planner: series, editions, programmes, venues."""

from flask import Blueprint

bp = Blueprint("ceremonies", __name__, url_prefix="/staff")

from app.ceremonies import views  # noqa: E402,F401  (routes register on import)
