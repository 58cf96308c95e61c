"""Printed documents: programmes, letters, lists (WeasyPrint)."""

from flask import Blueprint

bp = Blueprint("documents", __name__)

from app.documents import views  # noqa: E402,F401  (routes register on import)
