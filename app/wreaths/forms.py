"""Forms of the wreath order: moving an entry, editing the groups."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import AnyOf, Length, NumberRange, Optional

from app.contacts.services import KIND_LABELS, ROLE_LABELS
from app.forms import TextField, choices
from app.wreaths.models import WreathSort
from app.wreaths.services import MoveDirection

SORT_LABELS: dict[WreathSort, Any] = {
    WreathSort.PRECEDENCE: _l("diplomatic precedence"),
    WreathSort.OFFICE: _l("order of office"),
    WreathSort.ALPHABETICAL: _l("alphabetical"),
    WreathSort.MANUAL: _l("manual"),
}

MAX_GROUPS = 30


class ActionForm(FlaskForm):
    """A button that changes the order: only the CSRF token."""


class MoveForm(FlaskForm):
    """Move one wreath: up, down, to a position, or back to its group's sort."""

    direction = HiddenField(validators=[AnyOf([d.value for d in MoveDirection])])
    position = IntegerField(_l("To position"), [Optional(), NumberRange(min=1, max=10000)])
    # Not DataRequired: the service refuses an empty reason, with the typed values kept.
    reason = TextField(_l("Reason"), [Length(max=500)])
    # The position the entry had on the page: a move from an outdated page is refused.
    seen = HiddenField()


class GroupRowForm(Form):
    """One group. A row with neither name nor kinds is the empty row for adding one."""

    name_nl = TextField(_l("Name (Dutch)"), [Length(max=200)])
    name_en = TextField(_l("Name (English)"), [Length(max=200)])
    name_ru = TextField(_l("Name (Russian)"), [Length(max=200)])
    sort = SelectField(
        _l("Sort"),
        choices=choices((s.value, label) for s, label in SORT_LABELS.items()),
        default=WreathSort.ALPHABETICAL.value,
        validate_choice=True,
    )
    kinds = SelectMultipleField(
        _l("Organisation kinds"),
        choices=choices((k.value, label) for k, label in KIND_LABELS.items()),
    )
    roles = SelectMultipleField(
        _l("Roles of the addressee (none: any)"),
        choices=choices((r.value, label) for r, label in ROLE_LABELS.items()),
    )
    public_defile = BooleanField(_l("Public defilé"))
    position = IntegerField(_l("Order"), [Optional(), NumberRange(min=1, max=MAX_GROUPS)])
    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        return not (self.name_nl.data or self.name_en.data or self.name_ru.data or self.kinds.data)

    def validate(self, extra_validators: Any = None) -> bool:
        if self.remove.data or self.is_blank():
            return True
        valid: bool = super().validate(extra_validators)
        for name in ("name_nl", "name_en"):
            field = getattr(self, name)
            if not field.data:
                field.errors = [*field.errors, str(_l("Give the group a name."))]
                valid = False
        return valid


class GroupsForm(FlaskForm):
    """Every group of an edition at once, with one empty row to add a group."""

    groups = FieldList(FormField(GroupRowForm), max_entries=MAX_GROUPS + 1)
