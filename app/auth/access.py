"""Who may open what: a decorator per role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, redirect, url_for
from flask_login import current_user

from app.auth.models import Role
from app.extensions import login_manager

P = ParamSpec("P")
R = TypeVar("R")


def role_required(role: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Staff with at least ``role``; anonymous visitors go to the login page."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()  # type: ignore[no-any-return]
            if not current_user.can(role):
                abort(403)
            if current_user.totp_secret is None and totp_required():
                return redirect(url_for("auth.two_factor"))  # type: ignore[return-value]
            return view(*args, **kwargs)

        return wrapped

    return decorate


def signed_in(view: Callable[P, R]) -> Callable[P, R]:
    """Any logged-in staff member, even one who still has to set up a second factor."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()  # type: ignore[no-any-return]
        return view(*args, **kwargs)

    return wrapped


def totp_required() -> bool:
    from app.extensions import db
    from app.settings.services import get_setting

    return get_setting(db.session, "require_totp") == "yes"


viewer_required = role_required(Role.VIEWER)
planner_required = role_required(Role.PLANNER)
admin_required = role_required(Role.ADMIN)
