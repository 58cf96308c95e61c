"""The audit log: who changed what, when and from where."""

from flask import Blueprint

bp = Blueprint("audit", __name__)

from app.audit import views  # noqa: E402,F401  (routes register on import)
