"""Staff accounts: login, roles, user management."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.session_protection = "strong"


def _load(token: str) -> object:
    from app.auth.services import load_user

    return load_user(db.session, token)


login_manager.user_loader(_load)


from app.auth import views  # noqa: E402,F401  (routes register on import)
