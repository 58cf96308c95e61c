"""Admins change the run-time settings."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app.auth.access import admin_required
from app.extensions import db
from app.settings import bp
from app.settings.forms import SettingsForm
from app.settings.services import (
    SETTINGS,
    TEXT_SETTINGS,
    LogoError,
    get_setting,
    get_text_setting,
    logo_data_uri,
    remove_logo,
    save_logo,
    set_setting,
    set_text_setting,
)
from app.views import flash_saved


@bp.route("/staff/settings", methods=["GET", "POST"])
@admin_required
def settings() -> str | Response | tuple[str, int]:
    form = SettingsForm()
    instance = Path(current_app.instance_path)
    if request.method == "GET":
        for key in SETTINGS:
            getattr(form, key).data = get_setting(db.session, key)
        for key in TEXT_SETTINGS:
            getattr(form, key).data = get_text_setting(db.session, key)
    elif form.validate_on_submit():
        upload = form.logo.data
        try:
            if isinstance(upload, FileStorage) and upload.filename:
                save_logo(db.session, instance, upload.read())
            elif form.remove_logo.data:
                remove_logo(db.session, instance)
        except LogoError as error:
            form.logo.errors = [str(error.args[0])]
            db.session.rollback()
        else:
            for key in SETTINGS:
                set_setting(db.session, key, getattr(form, key).data)
            for key in TEXT_SETTINGS:
                set_text_setting(db.session, key, str(getattr(form, key).data).strip())
            db.session.commit()
            flash_saved(_("Settings saved."))
            return redirect(url_for("settings.settings"))
    status = 400 if request.method == "POST" else 200
    logo = logo_data_uri(db.session, instance)
    return render_template("settings/settings.html", form=form, logo=logo), status
