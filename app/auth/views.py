"""Log in and out, one's own password, and (admins) the staff accounts."""

from __future__ import annotations

import math
import time
from datetime import timedelta

import segno
import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.auth import bp, throttle
from app.auth.access import admin_required, signed_in, viewer_required
from app.auth.forms import CodeForm, LoginForm, NewUserForm, PasswordChangeForm, UserForm
from app.auth.models import Role, User
from app.auth.services import (
    AccountError,
    authenticate,
    change_password,
    create_user,
    device_of,
    end_pending_logins,
    end_sessions,
    find_by_email,
    find_pending_login,
    new_device_token,
    start_pending_login,
    update_user,
    verify_password,
)
from app.auth.totp import (
    check_code,
    disable,
    enable,
    new_setup_nonce,
    provisioning_uri,
    setup_secret,
)
from app.calendar.services import staff_feed_link
from app.extensions import db
from app.security import redirect_target
from app.settings.services import get_setting
from app.views import commit, flash_saved, form_error


def _address() -> str:
    return request.remote_addr or ""


def _device(user: User | None) -> str | None:
    """This browser's lane key for ``user`` if it carries their device cookie."""
    device = device_of(request.cookies.get(current_app.config["LOGIN_DEVICE_COOKIE"]), user)
    return None if device is None or user is None else throttle.device_key(user.id, device)


def _too_many(form: FlaskForm, field: str | None, wait: float) -> None:
    form_error(
        form,
        field,
        _(
            "Too many attempts. Please wait %(wait)s and try again.",
            wait=format_timedelta(timedelta(seconds=max(wait, 1)), threshold=1.1),
        ),
    )


def _throttled(template: str, form: FlaskForm, wait: float, **context: object) -> Response:
    """The 429 answer: the form again, saying how long to wait, before any hashing."""
    response = make_response(render_template(template, form=form, **context), 429)
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(redirect_target(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        address = _address()
        lanes = throttle.password_lanes(email, address, _device(find_by_email(db.session, email)))
        wait = throttle.reserve(db.session, lanes)
        if wait:
            # Counted and refused before any hashing; the same for unknown accounts.
            _too_many(form, None, wait)
            return _throttled("auth/login.html", form, wait)
        user = authenticate(db.session, email, form.password.data or "")
        if user is not None:
            throttle.refund(db.session, lanes)
            target = redirect_target(request.args.get("next"))
            if user.totp_secret:
                # Password right; the second factor decides. Nothing is logged in yet, and
                # the code's own failures stay counted (issue #12, Security 3).
                token = start_pending_login(db.session, user, target)
                db.session.commit()
                session.clear()  # no state carried over from before the login
                session[PENDING] = token
                return redirect(url_for("auth.second_factor"))
            db.session.commit()
            session.clear()
            return _complete_login(user, target)
        db.session.commit()
        # One message for unknown address and wrong password alike.
        form_error(form, None, _("Unknown email address or wrong password."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


PENDING = "pending_login"


def _complete_login(user: User, target: str) -> Response:
    """Both factors right: the session starts, and this account's lanes are forgotten."""
    device = device_of(request.cookies.get(current_app.config["LOGIN_DEVICE_COOKIE"]), user)
    keys = [throttle.pair_key(user.email, _address()), throttle.code_key(user.id)]
    if device is not None:
        keys.append(throttle.device_key(user.id, device))
    throttle.clear(db.session, keys)
    login_user(user)
    now = time.time()
    session["auth_at"] = now
    session["seen_at"] = now
    if user.language in ("nl", "en"):
        session["lang"] = user.language
    if user.totp_secret is None and get_setting(db.session, "require_totp") == "yes":
        flash(_("An authenticator app is required for staff: please set one up now."), "success")
        response = redirect(url_for("auth.two_factor"))
    else:
        response = redirect(target)
    if device is None:
        config = current_app.config
        response.set_cookie(
            config["LOGIN_DEVICE_COOKIE"],
            new_device_token(user),
            max_age=int(config["LOGIN_DEVICE_DAYS"]) * 86400,
            path="/",
            secure=bool(config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int]:
    """The second step of a login with an authenticator app."""
    pending = find_pending_login(db.session, session.get(PENDING))
    user = db.session.get(User, pending.user_id) if pending is not None else None
    if pending is None or user is None:
        session.pop(PENDING, None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        wait = throttle.reserve(db.session, [(throttle.CODE, throttle.code_key(user.id))])
        if wait:
            _too_many(form, "code", wait)
            return _throttled("auth/code.html", form, wait)
        if check_code(user, form.code.data or ""):
            target = pending.next
            end_pending_logins(db.session, user)
            db.session.commit()
            session.clear()
            return _complete_login(user, target)
        db.session.commit()
        form_error(form, "code", _("This code is not right (or was used already)."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/code.html", form=form), status


@bp.route("/staff/account/two-factor", methods=["GET", "POST"])
@signed_in
def two_factor() -> str | Response | tuple[str, int]:
    """Set up or switch off the authenticator app for one's own account."""
    form = CodeForm()
    nonce = session.get("totp_setup")
    if not isinstance(nonce, str) or request.method == "GET":
        nonce = new_setup_nonce()
        session["totp_setup"] = nonce
    secret = setup_secret(current_user, nonce)
    if form.validate_on_submit():
        if request.form.get("action") == "disable" and current_user.totp_secret:
            # Re-authentication, throttled like the login's second step (Security 9).
            lane = (throttle.CODE, throttle.code_key(current_user.id))
            wait = throttle.reserve(db.session, [lane])
            if wait:
                _too_many(form, "code", wait)
                return _throttled("auth/two_factor.html", form, wait, **_setup(secret))
            if check_code(current_user, form.code.data or ""):
                disable(current_user)
                db.session.commit()
                flash(_("The authenticator app is switched off."), "success")
                return redirect(url_for("auth.account"))
            form_error(form, "code", _("This code is not right (or was used already)."))
        elif enable(current_user, secret, form.code.data or ""):
            db.session.commit()
            session.pop("totp_setup", None)
            flash(_("The authenticator app is set up: logins now ask for a code."), "success")
            return redirect(url_for("auth.account"))
        else:
            form_error(form, "code", _("This code is not right (or was used already)."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/two_factor.html", form=form, **_setup(secret)), status


def _setup(secret: str) -> dict[str, object]:
    uri = provisioning_uri(current_user, secret)
    # segno draws the SVG from the code's bits; no typed text reaches the markup.
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    return {"secret": secret, "qr": Markup(svg)}  # noqa: S704  # nosec B704


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        end_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/staff/account", methods=["GET", "POST"])
@viewer_required
def account() -> str | Response | tuple[str, int]:
    form = PasswordChangeForm()
    has_feed = staff_feed_link(db.session, current_user) is not None
    if form.validate_on_submit():
        # Re-authentication goes through the login's lanes (issue #12, Security 9): a
        # stolen session must not become unlimited password guesses.
        lanes = throttle.password_lanes(current_user.email, _address(), _device(current_user))
        wait = throttle.reserve(db.session, lanes)
        if wait:
            _too_many(form, "current", wait)
            return _throttled("auth/account.html", form, wait, has_feed=has_feed)
        if not verify_password(current_user, form.current.data or ""):
            form_error(form, "current", _("This is not your current password."))
        else:
            # The right password gives its attempt back before this session writes: the
            # lanes' own connection would otherwise wait on this session's SQLite lock.
            throttle.refund(db.session, lanes)
            try:
                change_password(current_user, form.password.data or "")
                end_pending_logins(db.session, current_user)  # the old password's too
            except AccountError as error:
                form_error(form, error.field, error.message)
            else:
                db.session.commit()
                login_user(current_user)  # this browser keeps its session, others lose it
                flash_saved(_("Password changed; other sessions are logged out."))
                return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/account.html", form=form, has_feed=has_feed), status


@bp.get("/staff/users")
@admin_required
def users() -> str:
    rows = db.session.scalars(sa.select(User).order_by(User.email)).all()
    return render_template("auth/users.html", users=rows)


@bp.route("/staff/users/new", methods=["GET", "POST"])
@admin_required
def new_user() -> str | Response | tuple[str, int]:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            create_user(
                db.session,
                form.email.data or "",
                form.password.data or "",
                Role(form.role.data),
                name=form.name.data or "",
                language=form.language.data or "nl",
            )
        except AccountError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Account created."))
                return redirect(url_for("auth.users"))
            form_error(form, "email", _("An account with this email exists already."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/user_edit.html", form=form, user=None), status


@bp.route("/staff/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = UserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = user.role.value
    elif form.validate_on_submit():
        try:
            update_user(
                db.session,
                user,
                name=form.name.data or "",
                role=Role(form.role.data),
                active=bool(form.active.data),
                language=form.language.data or "nl",
                acting=current_user,
            )
        except AccountError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            db.session.commit()
            flash_saved(_("Account saved."))
            return redirect(url_for("auth.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/user_edit.html", form=form, user=user), status
