"""Log in and out, one's own password, and (admins) the staff accounts."""

from __future__ import annotations

import time

import segno
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.access import admin_required, signed_in, viewer_required
from app.auth.forms import CodeForm, LoginForm, NewUserForm, PasswordChangeForm, UserForm
from app.auth.models import Role, User
from app.auth.services import (
    AccountError,
    authenticate,
    change_password,
    create_user,
    end_sessions,
    load_user,
    update_user,
    verify_password,
)
from app.auth.throttle import clear_failures, is_throttled, record_failure
from app.auth.totp import check_code, disable, enable, new_secret, provisioning_uri
from app.calendar.services import staff_feed_link
from app.extensions import db
from app.security import redirect_target
from app.settings.services import get_setting
from app.views import commit, flash_saved, form_error


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(redirect_target(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        address = request.remote_addr or ""
        if is_throttled(db.session, email, address):
            # Before any hashing; the same answer whether the account exists or not.
            form_error(
                form,
                None,
                _("Too many failed attempts. Please wait a quarter of an hour and try again."),
            )
            return render_template("auth/login.html", form=form), 429
        user = authenticate(db.session, email, form.password.data or "")
        if user is not None:
            clear_failures(db.session, email)
            db.session.commit()
            session.clear()  # no state carried over from before the login
            target = redirect_target(request.args.get("next"))
            if user.totp_secret:
                # Password right; the second factor decides. Nothing is logged in yet.
                session[PENDING] = {"token": user.session_token, "at": time.time(), "next": target}
                return redirect(url_for("auth.second_factor"))
            return _complete_login(user, target)
        record_failure(db.session, email, address)
        db.session.commit()
        # One message for unknown address and wrong password alike.
        form_error(form, None, _("Unknown email address or wrong password."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


PENDING = "pending_login"
PENDING_SECONDS = 300


def _complete_login(user: User, target: str) -> Response:
    login_user(user)
    if user.language in ("nl", "en"):
        session["lang"] = user.language
    if user.totp_secret is None and get_setting(db.session, "require_totp") == "yes":
        flash(_("An authenticator app is required for staff: please set one up now."), "success")
        return redirect(url_for("auth.two_factor"))
    return redirect(target)


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int]:
    """The second step of a login with an authenticator app."""
    pending = session.get(PENDING)
    user = load_user(db.session, pending["token"]) if isinstance(pending, dict) else None
    if user is None or time.time() - float(pending["at"]) > PENDING_SECONDS:  # type: ignore[index]
        session.pop(PENDING, None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        address = request.remote_addr or ""
        if is_throttled(db.session, user.email, address):
            form_error(
                form,
                None,
                _("Too many failed attempts. Please wait a quarter of an hour and try again."),
            )
            return render_template("auth/code.html", form=form), 429
        if check_code(user, form.code.data or ""):
            clear_failures(db.session, user.email)
            db.session.commit()
            target = str(pending["next"])  # type: ignore[index]
            session.clear()
            return _complete_login(user, target)
        record_failure(db.session, user.email, address)
        db.session.commit()
        form_error(form, "code", _("This code is not right (or was used already)."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/code.html", form=form), status


@bp.route("/staff/account/two-factor", methods=["GET", "POST"])
@signed_in
def two_factor() -> str | Response | tuple[str, int]:
    """Set up or switch off the authenticator app for one's own account."""
    form = CodeForm()
    secret = session.get("totp_setup")
    if not isinstance(secret, str) or request.method == "GET":
        secret = new_secret()
        session["totp_setup"] = secret
    if form.validate_on_submit():
        if request.form.get("action") == "disable" and current_user.totp_secret:
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
    uri = provisioning_uri(current_user, secret)
    # segno draws the SVG from the code's bits; no typed text reaches the markup.
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    qr = Markup(svg)  # noqa: S704  # nosec B704
    status = 400 if request.method == "POST" else 200
    return render_template("auth/two_factor.html", form=form, secret=secret, qr=qr), status


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
    if form.validate_on_submit():
        if not verify_password(current_user, form.current.data or ""):
            form_error(form, "current", _("This is not your current password."))
        else:
            try:
                change_password(current_user, form.password.data or "")
            except AccountError as error:
                form_error(form, error.field, error.message)
            else:
                db.session.commit()
                login_user(current_user)  # this browser keeps its session, others lose it
                flash_saved(_("Password changed; other sessions are logged out."))
                return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    has_feed = staff_feed_link(db.session, current_user) is not None
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
