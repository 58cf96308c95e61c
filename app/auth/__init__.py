"""Staff accounts: login, roles, user management."""

import time

from flask import Blueprint, current_app, session
from flask_babel import lazy_gettext as _l
from flask_login import logout_user

from app.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.session_protection = "strong"


def _load(token: str) -> object:
    from app.auth.services import load_user

    return load_user(db.session, token)


login_manager.user_loader(_load)


@bp.before_app_request
def _end_stale_sessions() -> None:
    """Staff sessions end after SESSION_IDLE_TIMEOUT without a request and SESSION_LIFETIME
    after the login, checked on every request (issue #12, Security 8). A session that
    carries no login time predates the rule and ends too."""
    if "_user_id" not in session:
        return
    now = time.time()
    config = current_app.config
    auth_at, seen_at = session.get("auth_at"), session.get("seen_at")
    if (
        not isinstance(auth_at, int | float)
        or not isinstance(seen_at, int | float)
        or now - auth_at > float(config["SESSION_LIFETIME"])
        or now - seen_at > float(config["SESSION_IDLE_TIMEOUT"])
    ):
        logout_user()
        session.clear()
        return
    if now - seen_at > 60:  # a new cookie at most once a minute, not on every request
        session["seen_at"] = now


from app.auth import views  # noqa: E402,F401  (routes register on import)
