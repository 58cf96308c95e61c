"""Staff pages of the ceremony planner: editions, programmes, series and venues."""

from __future__ import annotations

import sqlalchemy as sa
from babel.dates import get_month_names
from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.auth.access import planner_required, viewer_required
from app.ceremonies import bp
from app.ceremonies.checks import flag_note, warnings
from app.ceremonies.errors import CeremonyError, EditConflict
from app.ceremonies.forms import (
    CeremonyForm,
    CopyForm,
    FromSeriesForm,
    OneOffForm,
    ProgrammeItemForm,
    SeriesForm,
    VenueForm,
    VersionedActionForm,
)
from app.ceremonies.guest_texts import LANGUAGE_NAMES, missing_translations
from app.ceremonies.models import (
    Ceremony,
    CeremonySeries,
    CeremonyStatus,
    ItemKind,
    OrganiserRole,
    ProgrammeItem,
    Venue,
)
from app.ceremonies.services import (
    CeremonyData,
    ProgrammeItemData,
    SeriesData,
    add_item,
    copy_to_year,
    create_ceremony,
    create_from_series,
    delete_item,
    editions_in_year,
    move_item,
    place_of,
    save_as_series_default,
    save_series,
    set_status,
    status_label,
    update_ceremony,
    update_item,
    venue_moved,
    years_with_editions,
)
from app.ceremonies.timing import timetable
from app.extensions import db
from app.forms import choices
from app.i18n import current_language
from app.settings.services import get_setting
from app.types import local_today
from app.views import commit, edition_or_404, flash_saved, form_error, parse_version

STATUS_ACTIONS = {
    "publish": CeremonyStatus.PUBLISHED,
    "unpublish": CeremonyStatus.DRAFT,
    "cancel": CeremonyStatus.CANCELLED,
    "reinstate": CeremonyStatus.DRAFT,
    "held": CeremonyStatus.HELD,
}


def _item(ceremony: Ceremony, item_id: int) -> ProgrammeItem:
    # Through the parent: an item id of another edition is a 404, not a way in.
    item = db.session.scalar(
        sa.select(ProgrammeItem).where(
            ProgrammeItem.id == item_id, ProgrammeItem.ceremony_id == ceremony.id
        )
    )
    if item is None:
        abort(404)
    return item


def _venue_choices() -> list[SelectChoice]:
    venues = db.session.scalars(sa.select(Venue).order_by(Venue.name))
    return choices((v.id, v.name) for v in venues)


def _venue(venue_id: int) -> Venue:
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        abort(400)
    return venue


def _ceremony_data(form: CeremonyForm) -> CeremonyData:
    return CeremonyData(
        title_nl=form.title_nl.data or "",
        title_en=form.title_en.data or "",
        title_ru=form.title_ru.data or "",
        day=form.day.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        venue=_venue(form.venue_id.data),
        public=bool(form.public.data),
        base_year=form.base_year.data,
        notes=form.notes.data or "",
    )


# --- editions -----------------------------------------------------------------------


@bp.get("/")
@viewer_required
def index() -> Response:
    return redirect(url_for("ceremonies.editions"))


@bp.get("/ceremonies")
@viewer_required
def editions() -> str:
    """The editions of one year (this year by default), with their warnings."""
    this_year = local_today().year
    year = request.args.get("year", this_year, type=int)
    if year is None or not 1900 <= year <= 2200:
        year = this_year
    shown = editions_in_year(db.session, year)
    years = sorted({*years_with_editions(db.session), this_year, this_year + 1}, reverse=True)
    return render_template(
        "ceremonies/editions.html",
        year=year,
        years=years,
        editions=shown,
        warnings={c.id: warnings(c) for c in shown},
    )


@bp.route("/ceremonies/new", methods=["GET", "POST"])
@planner_required
def new_edition() -> str | Response:
    """Create an edition from a series or as a one-off (two forms on one page)."""
    from_series = FromSeriesForm(prefix="series")
    one_off = OneOffForm(prefix="oneoff")
    series = db.session.scalars(
        sa.select(CeremonySeries).order_by(CeremonySeries.month, CeremonySeries.day)
    ).all()
    from_series.series_id.choices = choices((s.id, s.title(current_language())) for s in series)
    one_off.venue_id.choices = _venue_choices()
    if request.method == "GET":
        from_series.year.data = local_today().year
    chosen = request.form.get("which")
    if chosen == "series" and from_series.validate_on_submit():
        picked = db.session.get(CeremonySeries, from_series.series_id.data)
        if picked is None:  # validate_choice checked it; a delete may have raced
            abort(400)
        try:
            ceremony = create_from_series(db.session, picked, from_series.year.data or 0)
        except CeremonyError as error:
            form_error(from_series, error.field or "year", error.message)
        except IntegrityError:  # made by another request between the check and the insert
            db.session.rollback()
            form_error(from_series, "year", _("This edition exists already."))
        else:
            if commit():
                flash_saved(_("Edition created."))
                return redirect(url_for("ceremonies.edition", slug=ceremony.slug))
            form_error(from_series, "year", _("This edition exists already."))
    elif chosen == "oneoff" and one_off.validate_on_submit():
        try:
            ceremony = create_ceremony(
                db.session, _ceremony_data(one_off), slug=one_off.slug.data or None
            )
        except CeremonyError as error:
            db.session.rollback()
            form_error(one_off, error.field, error.message)
        except IntegrityError:  # made by another request between the check and the insert
            db.session.rollback()
            form_error(one_off, "slug", _("An edition with this slug exists already."))
        else:
            if commit():
                flash_saved(_("Edition created."))
                return redirect(url_for("ceremonies.edition", slug=ceremony.slug))
            form_error(one_off, "slug", _("An edition with this slug exists already."))
    status = 400 if request.method == "POST" else 200
    return render_template(  # type: ignore[return-value]
        "ceremonies/new.html", from_series=from_series, one_off=one_off, chosen=chosen
    ), status


@bp.get("/ceremonies/<slug>")
@viewer_required
def edition(slug: str) -> str:
    """One edition: details, status, warnings, flag note and the timed programme."""
    ceremony = edition_or_404(slug)
    copy_form = CopyForm()
    copy_form.year.data = ceremony.year + 1
    return render_template(
        "ceremonies/edition.html",
        ceremony=ceremony,
        timed=timetable(ceremony),
        warnings=warnings(ceremony),
        missing_texts=missing_translations(ceremony),
        language_names=LANGUAGE_NAMES,
        flag=flag_note(ceremony, get_setting(db.session, "flag_4_may_from")),
        action_form=VersionedActionForm(version=ceremony.version),
        copy_form=copy_form,
        can_edit=current_user.can_edit,
        ItemKind=ItemKind,
    )


@bp.route("/ceremonies/<slug>/edit", methods=["GET", "POST"])
@planner_required
def edit_edition(slug: str) -> str | Response | tuple[str, int]:
    """Edit an edition's details; a stale form gets the conflict page, never a save."""
    ceremony = edition_or_404(slug)
    form = CeremonyForm(obj=ceremony if request.method == "GET" else None)
    form.venue_id.choices = _venue_choices()
    if request.method == "GET":
        form.day.data = ceremony.local_start.date()
        form.start_time.data = ceremony.local_start.time()
        form.end_time.data = ceremony.local_end.time()
        form.version.data = str(ceremony.version)
    elif form.validate_on_submit():
        expected = parse_version(form.version.data)
        sequence = ceremony.sequence
        # Imported here: the mail package builds on the calendar, which builds on this one.
        from app.mail import services as mail

        try:
            update_ceremony(ceremony, _ceremony_data(form), expected)
            if ceremony.sequence != sequence:  # time or place changed
                mail.edition_moved(db.session, ceremony)
        except EditConflict:
            return _conflict(ceremony, form)
        except CeremonyError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Saved."))
                return redirect(url_for("ceremonies.edition", slug=slug))
            return _conflict(edition_or_404(slug), form)
    status = 400 if request.method == "POST" else 200
    return render_template("ceremonies/edit.html", form=form, ceremony=ceremony), status


def _conflict(ceremony: Ceremony, form: CeremonyForm) -> tuple[str, int]:
    """Show what was typed beside what is saved now; saving again is a deliberate act."""
    db.session.rollback()
    db.session.refresh(ceremony)
    form.version.data = str(ceremony.version)
    return render_template("ceremonies/conflict.html", form=form, ceremony=ceremony), 409


@bp.post("/ceremonies/<slug>/status/<action>")
@planner_required
def change_status(slug: str, action: str) -> Response | tuple[str, int]:
    ceremony = edition_or_404(slug)
    status = STATUS_ACTIONS.get(action)
    form = VersionedActionForm()
    if status is None or not form.validate_on_submit():
        abort(400)
    from app.mail import services as mail  # see edit_edition

    try:
        set_status(ceremony, status, parse_version(form.version.data))
        if status == CeremonyStatus.CANCELLED:
            mail.edition_cancelled(db.session, ceremony)
    except EditConflict:
        db.session.rollback()
        return render_template("ceremonies/stale.html", ceremony=ceremony), 409
    except CeremonyError as error:
        db.session.rollback()
        return render_template(
            "ceremonies/refused.html", ceremony=ceremony, message=error.message
        ), 400
    if not commit():
        return render_template("ceremonies/stale.html", ceremony=edition_or_404(slug)), 409
    flash_saved(_("The edition is now %(status)s.", status=status_label(status)))
    return redirect(url_for("ceremonies.edition", slug=slug))


@bp.post("/ceremonies/<slug>/copy")
@planner_required
def copy_edition(slug: str) -> Response | tuple[str, int]:
    """Copy an edition (programme included) into another year, as a draft."""
    ceremony = edition_or_404(slug)
    form = CopyForm()
    message: object = None
    if form.validate_on_submit():
        try:
            copy = copy_to_year(db.session, ceremony, form.year.data or 0)
        except CeremonyError as error:
            message = error.message
        except IntegrityError:  # the same copy made by another request meanwhile
            message = _("That year has this edition already.")
        else:
            if commit():
                flash_saved(_("Copied to %(year)d.", year=copy.year))
                return redirect(url_for("ceremonies.edition", slug=copy.slug))
            message = _("That year has this edition already.")
    db.session.rollback()
    errors = [str(message)] if message else [e for errs in form.errors.values() for e in errs]
    return render_template(
        "ceremonies/refused.html",
        ceremony=ceremony,
        copy_form=form,
        message="; ".join(str(e) for e in errors),
    ), 400


# --- programme ----------------------------------------------------------------------


def _item_data(form: ProgrammeItemForm) -> ProgrammeItemData:
    return ProgrammeItemData(
        kind=ItemKind(form.kind.data),
        start_time=form.start_time.data,
        offset_minutes=form.offset_minutes.data,
        duration_minutes=form.duration_minutes.data or 0,
        performer_nl=form.performer_nl.data or "",
        performer_en=form.performer_en.data or "",
        performer_ru=form.performer_ru.data or "",
        text_nl=form.text_nl.data or "",
        text_en=form.text_en.data or "",
        text_ru=form.text_ru.data or "",
        printable=bool(form.printable.data),
    )


@bp.route("/ceremonies/<slug>/items/new", methods=["GET", "POST"])
@planner_required
def new_item(slug: str) -> str | Response | tuple[str, int]:
    ceremony = edition_or_404(slug)
    form = ProgrammeItemForm()
    if form.validate_on_submit():
        try:
            add_item(ceremony, _item_data(form))
        except CeremonyError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Item added."))
                return redirect(url_for("ceremonies.edition", slug=slug) + "#programme")
            form_error(form, None, _("The programme changed meanwhile; try again."))
    status = 400 if request.method == "POST" else 200
    return render_template("ceremonies/item.html", form=form, ceremony=ceremony, item=None), status


@bp.route("/ceremonies/<slug>/items/<int:item_id>/edit", methods=["GET", "POST"])
@planner_required
def edit_item(slug: str, item_id: int) -> str | Response | tuple[str, int]:
    ceremony = edition_or_404(slug)
    item = _item(ceremony, item_id)
    form = ProgrammeItemForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = item.kind.value
        form.version.data = str(item.version)
    elif form.validate_on_submit():
        try:
            update_item(item, _item_data(form), parse_version(form.version.data))
        except EditConflict:
            db.session.rollback()
            form_error(
                form,
                None,
                _(
                    "Someone else changed this item while you were editing it. The form "
                    "shows what you typed; the programme page shows what is saved now. "
                    "Save again to overwrite."
                ),
            )
            db.session.refresh(item)
            form.version.data = str(item.version)
            return render_template(
                "ceremonies/item.html", form=form, ceremony=ceremony, item=item, conflict=True
            ), 409
        except CeremonyError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Item saved."))
                return redirect(url_for("ceremonies.edition", slug=slug) + "#programme")
            form_error(form, None, _("The item changed meanwhile; try again."))
    status = 400 if request.method == "POST" else 200
    return render_template("ceremonies/item.html", form=form, ceremony=ceremony, item=item), status


@bp.post("/ceremonies/<slug>/items/<int:item_id>/delete")
@planner_required
def remove_item(slug: str, item_id: int) -> Response:
    ceremony = edition_or_404(slug)
    item = _item(ceremony, item_id)
    if not VersionedActionForm().validate_on_submit():
        abort(400)
    delete_item(item)
    commit()
    flash_saved(_("Item removed."))
    return redirect(url_for("ceremonies.edition", slug=slug) + "#programme")


@bp.post("/ceremonies/<slug>/items/<int:item_id>/move/<direction>")
@planner_required
def reorder_item(slug: str, item_id: int, direction: str) -> Response:
    ceremony = edition_or_404(slug)
    item = _item(ceremony, item_id)
    steps = {"up": -1, "down": 1}
    if direction not in steps or not VersionedActionForm().validate_on_submit():
        abort(400)
    move_item(item, steps[direction])
    commit()
    # The id from the address: the item may have been deleted meanwhile by someone else.
    return redirect(url_for("ceremonies.edition", slug=slug) + f"#item-{item_id}")


@bp.post("/ceremonies/<slug>/programme/save-default")
@planner_required
def save_default_programme(slug: str) -> Response | tuple[str, int]:
    ceremony = edition_or_404(slug)
    if not VersionedActionForm().validate_on_submit():
        abort(400)
    try:
        save_as_series_default(ceremony)
    except CeremonyError as error:
        return render_template(
            "ceremonies/refused.html", ceremony=ceremony, message=error.message
        ), 400
    commit()
    flash_saved(_("This programme is now the series' default for new editions."))
    return redirect(url_for("ceremonies.edition", slug=slug))


# --- series -------------------------------------------------------------------------


@bp.get("/series")
@viewer_required
def series_list() -> str:
    rows = db.session.scalars(
        sa.select(CeremonySeries).order_by(CeremonySeries.month, CeremonySeries.day)
    ).all()
    return render_template("ceremonies/series_list.html", series=rows)


def _series_form(series: CeremonySeries | None) -> SeriesForm:
    form = SeriesForm(obj=series if request.method == "GET" else None)
    form.venue_id.choices = [SelectChoice(value=0, label="—"), *_venue_choices()]
    months = get_month_names("wide", context="stand-alone", locale=current_language())
    form.month.choices = choices(months.items())
    if request.method == "GET" and series is not None:
        form.venue_id.data = series.venue_id or 0
        form.organiser_role.data = series.organiser_role.value
    return form


def _series_data(form: SeriesForm) -> SeriesData:
    return SeriesData(
        title_nl=form.title_nl.data or "",
        title_en=form.title_en.data or "",
        title_ru=form.title_ru.data or "",
        month=form.month.data,
        day=form.day.data or 1,
        start_time=form.start_time.data,
        duration_minutes=form.duration_minutes.data or 1,
        venue=db.session.get(Venue, form.venue_id.data) if form.venue_id.data else None,
        base_year=form.base_year.data,
        organiser_role=OrganiserRole(form.organiser_role.data),
        public=bool(form.public.data),
        active=bool(form.active.data),
    )


@bp.route("/series/new", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/series/<slug>/edit", methods=["GET", "POST"])
@planner_required
def edit_series(slug: str | None) -> str | Response | tuple[str, int]:
    series: CeremonySeries | None = None
    if slug is not None:
        series = db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == slug))
        if series is None:
            abort(404)
    form = _series_form(series)
    if series is not None:
        # The slug names the series in feed URLs and edition slugs: it never changes.
        form.slug.data = series.slug
    if form.validate_on_submit():
        try:
            save_series(db.session, series, _series_data(form), slug=form.slug.data or "")
        except CeremonyError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        except IntegrityError:  # the same slug saved by another request meanwhile
            db.session.rollback()
            form_error(form, "slug", _("A series with this slug exists already."))
        else:
            if commit():
                flash_saved(_("Series saved."))
                return redirect(url_for("ceremonies.series_list"))
            form_error(form, "slug", _("A series with this slug exists already."))
    status = 400 if request.method == "POST" else 200
    return render_template("ceremonies/series_edit.html", form=form, series=series), status


# --- venues -------------------------------------------------------------------------


@bp.get("/venues")
@viewer_required
def venue_list() -> str:
    venues = db.session.scalars(sa.select(Venue).order_by(Venue.name)).all()
    return render_template("ceremonies/venue_list.html", venues=venues)


@bp.route("/venues/new", methods=["GET", "POST"], defaults={"venue_id": None})
@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@planner_required
def edit_venue(venue_id: int | None) -> str | Response | tuple[str, int]:
    venue = db.session.get(Venue, venue_id) if venue_id is not None else None
    if venue_id is not None and venue is None:
        abort(404)
    form = VenueForm(obj=venue if request.method == "GET" else None)
    if form.validate_on_submit():
        target = venue or Venue()
        before = place_of(target)
        form.populate_obj(target)
        target.address = target.address or ""
        target.notes = target.notes or ""
        for lang in ("nl", "en", "ru"):
            field = f"access_notes_{lang}"
            setattr(target, field, getattr(target, field) or "")
        db.session.add(target)
        from app.mail import services as mail  # see edit_edition

        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
        else:
            # A new address moves the editions still to come: calendars and accepted
            # delegations hear of it.
            for moved in venue_moved(db.session, target, before):
                mail.edition_moved(db.session, moved)
            if commit():
                flash_saved(_("Venue saved."))
                return redirect(url_for("ceremonies.venue_list"))
        form_error(form, "name", _("A venue with this name exists already."))
    status = 400 if request.method == "POST" else 200
    return render_template("ceremonies/venue_edit.html", form=form, venue=venue), status
