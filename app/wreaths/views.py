"""Staff pages of the wreath order: the printable list, moves, groups."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.access import planner_required, viewer_required
from app.ceremonies.models import Ceremony
from app.extensions import db
from app.views import commit, edition_or_404, flash_saved, form_error
from app.wreaths import bp
from app.wreaths.forms import SORT_LABELS, ActionForm, GroupsForm, MoveForm
from app.wreaths.models import WreathGroupTemplate, WreathSort
from app.wreaths.services import (
    MoveDirection,
    StaleOrder,
    WreathError,
    groups_for,
    has_own_groups,
    move_entry,
    reset_groups,
    save_groups,
    template_of,
    use_as_series_default,
    wreath_sections,
)


def _groups_form(ceremony: Ceremony) -> GroupsForm:
    """The groups as they are, plus an empty row for a new one."""
    rows: list[dict[str, Any]] = [
        {**template_of(group), "position": number}
        for number, group in enumerate(groups_for(db.session, ceremony), start=1)
    ]
    rows.append({"sort": WreathSort.ALPHABETICAL.value})
    return GroupsForm(formdata=None, data={"groups": rows})


def _page(
    ceremony: Ceremony,
    *,
    move_form: MoveForm | None = None,
    move_for: int | None = None,
    groups_form: GroupsForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "wreaths/order.html",
        ceremony=ceremony,
        sections=wreath_sections(db.session, ceremony),
        own_groups=has_own_groups(db.session, ceremony),
        move_form=move_form,
        move_for=move_for,
        groups_form=groups_form or _groups_form(ceremony),
        sort_labels=SORT_LABELS,
        can_edit=current_user.can_edit,
    ), status


@bp.get("/ceremonies/<slug>/wreaths")
@viewer_required
def order(slug: str) -> tuple[str, int]:
    """The wreath order, group by group; prints as a clean list."""
    return _page(edition_or_404(slug))


@bp.post("/ceremonies/<slug>/wreaths/<int:invitation_id>/move")
@planner_required
def move(slug: str, invitation_id: int) -> Response | tuple[str, int]:
    """Move one wreath within its group; without a reason nothing moves (400)."""
    ceremony = edition_or_404(slug)
    form = MoveForm()
    if form.validate_on_submit():
        seen = form.seen.data
        try:
            result = move_entry(
                db.session,
                ceremony,
                invitation_id,
                MoveDirection(form.direction.data),
                reason=form.reason.data or "",
                to_position=form.position.data,
                seen_position=int(seen) if seen and seen.isdigit() else None,
                actor_user_id=current_user.id,
            )
        except LookupError:
            db.session.rollback()
            abort(404)
        except StaleOrder as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
            return _page(ceremony, move_form=form, move_for=invitation_id, status=409)
        except WreathError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(
                    _(
                        "Moved from position %(before)d to %(after)d.",
                        before=result.before,
                        after=result.after,
                    )
                )
                return redirect(url_for("wreaths.order", slug=slug) + f"#wreath-{invitation_id}")
            form_error(form, None, _("The order changed meanwhile; look again and repeat."))
            return _page(edition_or_404(slug), move_form=form, move_for=invitation_id, status=409)
    return _page(ceremony, move_form=form, move_for=invitation_id, status=400)


def _templates(form: GroupsForm) -> list[WreathGroupTemplate]:
    """The rows kept (not removed, not blank), in the order staff numbered them."""
    kept = [
        (row.form.position.data or index + 1, index, row.form)
        for index, row in enumerate(form.groups)
        if not row.form.remove.data and not row.form.is_blank()
    ]
    return [
        WreathGroupTemplate(
            name_nl=row.name_nl.data or "",
            name_en=row.name_en.data or "",
            name_ru=row.name_ru.data or "",
            sort=row.sort.data,
            kinds=list(row.kinds.data or []),
            roles=list(row.roles.data or []),
            public_defile=bool(row.public_defile.data),
        )
        for _number, _index, row in sorted(kept, key=lambda kept_row: kept_row[:2])
    ]


@bp.post("/ceremonies/<slug>/wreaths/groups")
@planner_required
def save_group_list(slug: str) -> Response | tuple[str, int]:
    """Save the groups: names, sorts, kinds and roles, order; add and remove."""
    ceremony = edition_or_404(slug)
    form = GroupsForm()
    if form.validate_on_submit():
        try:
            save_groups(db.session, ceremony, _templates(form), actor_user_id=current_user.id)
        except WreathError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Groups saved."))
                return redirect(url_for("wreaths.order", slug=slug) + "#groups")
            form_error(form, None, _("The groups changed meanwhile; look again and repeat."))
    return _page(ceremony, groups_form=form, status=400)


@bp.post("/ceremonies/<slug>/wreaths/reset")
@planner_required
def reset(slug: str) -> Response:
    """Back to the series' default groups (manual places are kept)."""
    ceremony = edition_or_404(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    reset_groups(db.session, ceremony, actor_user_id=current_user.id)
    commit()
    flash_saved(_("The groups are the series' default again."))
    return redirect(url_for("wreaths.order", slug=slug) + "#groups")


@bp.post("/ceremonies/<slug>/wreaths/series-default")
@planner_required
def series_default(slug: str) -> Response | tuple[str, int]:
    """Make this edition's groups the default of its series."""
    ceremony = edition_or_404(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        use_as_series_default(db.session, ceremony, actor_user_id=current_user.id)
    except WreathError as error:
        db.session.rollback()
        return render_template(
            "ceremonies/refused.html", ceremony=ceremony, message=error.message
        ), 400
    commit()
    flash_saved(_("These groups are now the series' default for new editions."))
    return redirect(url_for("wreaths.order", slug=slug) + "#groups")
