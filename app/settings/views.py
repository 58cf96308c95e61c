"""Admins change the run-time settings."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.auth.access import admin_required
from app.extensions import db
from app.settings import bp
from app.settings.forms import SettingsForm
from app.settings.services import SETTINGS, get_setting, set_setting
from app.views import flash_saved


@bp.route("/staff/settings", methods=["GET", "POST"])
@admin_required
def settings() -> str | Response | tuple[str, int]:
    form = SettingsForm()
    if request.method == "GET":
        for key in SETTINGS:
            getattr(form, key).data = get_setting(db.session, key)
    elif form.validate_on_submit():
        for key in SETTINGS:
            set_setting(db.session, key, getattr(form, key).data)
        db.session.commit()
        flash_saved(_("Settings saved."))
        return redirect(url_for("settings.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("settings/settings.html", form=form), status
