"""Staff pages of contacts: organisations, people, appointments, groups, merging,
import and export, and the diplomatic corps in order of precedence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import TypeVar

import sqlalchemy as sa
from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.auth.access import planner_required, viewer_required
from app.contacts import bp
from app.contacts.addressing import (
    addressed,
    current_organisation,
    proposed_dative,
    proposed_genitive,
)
from app.contacts.export import to_csv, to_vcards
from app.contacts.forms import (
    ActionForm,
    AppointmentForm,
    FormOfAddressForm,
    GroupForm,
    ImportForm,
    MembershipForm,
    MergeForm,
    OrganisationForm,
    PersonAddressForm,
    PersonForm,
)
from app.contacts.importer import MAX_IMPORT_BYTES, ImportRefused, import_contacts
from app.contacts.models import (
    AddressRole,
    Appointment,
    AppointmentRole,
    ContactGroup,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
)
from app.contacts.precedence import precedence as corps_on
from app.contacts.services import (
    ADDRESS_ROLE_LABELS,
    GENDER_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    ROLE_LABELS,
    AddressData,
    AppointmentData,
    ContactError,
    EditConflict,
    FormOfAddressData,
    OrganisationData,
    PersonData,
    add_appointment,
    all_groups,
    as_local,
    confirm_person_address,
    countries,
    country_name,
    create_group,
    create_organisation,
    create_person,
    delete_appointment,
    form_of_address,
    forms_of_address,
    merge_organisations,
    merge_persons,
    search_organisations,
    search_persons,
    set_membership,
    set_person_address,
    update_appointment,
    update_form_of_address,
    update_organisation,
    update_person,
    version_of,
    wall_time,
)
from app.extensions import db
from app.forms import choices
from app.i18n import current_language, date_phrase
from app.types import local_today
from app.views import commit, flash_saved, form_error


def _organisation(organisation_id: int) -> Organisation:
    found = db.session.get(Organisation, organisation_id)
    if found is None:
        abort(404)
    return found


def _person(person_id: int) -> Person:
    found = db.session.get(Person, person_id)
    if found is None:
        abort(404)
    return found


def _group(group_id: int) -> ContactGroup:
    found = db.session.get(ContactGroup, group_id)
    if found is None:
        abort(404)
    return found


def _appointment(person: Person, appointment_id: int) -> Appointment:
    # Through the parent: another person's appointment id is a 404, not a way in.
    found = db.session.scalar(
        sa.select(Appointment).where(
            Appointment.id == appointment_id, Appointment.person_id == person.id
        )
    )
    if found is None:
        abort(404)
    return found


def _actor() -> int:
    return int(current_user.id)


def _labels() -> dict[str, object]:
    return {
        "kind_labels": KIND_LABELS,
        "role_labels": ROLE_LABELS,
        "language_labels": LANGUAGE_LABELS,
        "gender_labels": GENDER_LABELS,
        "address_role_labels": ADDRESS_ROLE_LABELS,
        "country_name": country_name,
        "as_local": as_local,
    }


def _organisation_choices(exclude: set[int] | None = None) -> list[SelectChoice]:
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    return choices((i, name) for i, name in rows if i not in (exclude or set()))


# --- organisations ------------------------------------------------------------------


@bp.get("/")
@viewer_required
def organisations() -> str:
    """Organisations, searchable by name, email or country, by kind and by group."""
    query = request.args.get("q", "").strip()
    kind_text = request.args.get("kind", "")
    kind: OrganisationKind | None = None
    if kind_text:
        try:
            kind = OrganisationKind(kind_text)
        except ValueError:
            abort(400)
    group_id = request.args.get("group", None, type=int)
    found = search_organisations(db.session, query, kind=kind, group_id=group_id)
    return render_template(
        "contacts/organisations.html",
        organisations=found,
        query=query,
        kind=kind,
        group_id=group_id,
        groups=all_groups(db.session),
        **_labels(),
    )


@bp.get("/organisations/<int:organisation_id>")
@viewer_required
def organisation(organisation_id: int) -> str:
    found = _organisation(organisation_id)
    appointments = sorted(
        found.appointments,
        key=lambda a: (a.valid_to is not None, a.role.value, a.person.family_name),
    )
    return render_template(
        "contacts/organisation.html",
        organisation=found,
        appointments=appointments,
        today=local_today(),
        proposed_genitive=proposed_genitive(found),
        **_labels(),
    )


def _organisation_data(form: OrganisationForm) -> OrganisationData:
    return OrganisationData(
        name=form.name.data or "",
        name_nl=form.name_nl.data or "",
        name_en=form.name_en.data or "",
        name_ru=form.name_ru.data or "",
        country_genitive_ru=form.country_genitive_ru.data or "",
        kind=OrganisationKind(form.kind.data),
        country=form.country.data or "",
        resident=bool(form.resident.data),
        address=form.address.data or "",
        email=form.email.data or "",
        protocol_contact=form.protocol_contact.data or "",
        notes=form.notes.data or "",
    )


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"organisation_id": None})
@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@planner_required
def edit_organisation(organisation_id: int | None) -> str | Response | tuple[str, int]:
    found = _organisation(organisation_id) if organisation_id is not None else None
    form = OrganisationForm(obj=found if request.method == "GET" else None)
    form.country.choices = [
        SelectChoice(value="", label="—"),
        *choices(countries(current_language())),
    ]
    if request.method == "GET" and found is not None:
        # Offered, not stored: saving the form keeps it (or staff's correction).
        form.country_genitive_ru.data = found.country_genitive_ru or proposed_genitive(found)
        form.kind.data = found.kind.value
        form.version.data = version_of(found.updated_at)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        data = _organisation_data(form)
        saved, status = _save(
            form,
            found,
            lambda: (
                create_organisation(db.session, data, actor_user_id=_actor())
                if found is None
                else update_organisation(
                    db.session,
                    found,
                    data,
                    actor_user_id=_actor(),
                    expected_version=form.version.data or "",
                )
            ),
            taken=("name", _("An organisation with this name exists already.")),
        )
        if saved is not None:
            flash_saved(_("Organisation saved."))
            return redirect(url_for("contacts.organisation", organisation_id=saved.id))
    return render_template("contacts/organisation_edit.html", form=form, organisation=found), status


Saved = TypeVar("Saved", Organisation, Person)


def _save(
    form: FlaskForm,
    found: Organisation | Person | None,
    save: Callable[[], Saved],
    *,
    taken: tuple[str | None, str],
) -> tuple[Saved | None, int]:
    """Create or update an organisation or person; (saved record, status) or (None, 4xx).

    A stale form (409) shows the saved version's stamp so a deliberate second save wins;
    a refusal and a race lost at commit (``taken``: the field and message) are 400.
    Either way the form keeps what was typed.
    """
    try:
        saved = save()
    except EditConflict:
        db.session.rollback()
        if found is not None:  # only an edit can be stale
            db.session.refresh(found)
            form.version.data = version_of(found.updated_at)
        form_error(form, None, _conflict_message())
        return None, 409
    except ContactError as error:
        db.session.rollback()
        form_error(form, error.field, error.message)
        return None, 400
    if commit():
        return saved, 302
    form_error(form, taken[0], taken[1])
    return None, 400


def _conflict_message() -> str:
    return str(
        _(
            "Someone else changed this record while you were editing it. The form shows what "
            "you typed; open the record in another tab to see what is saved now. Save again "
            "to overwrite."
        )
    )


def _merge_page(
    form: MergeForm, name: str, back: str, merge: Callable[[], None]
) -> str | Response | tuple[str, int]:
    """The merge form of an organisation or a person: merge, or show why not."""
    if form.validate_on_submit():
        try:
            merge()
        except ContactError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Merged."))
                return redirect(back)
            form_error(form, None, _("The records changed meanwhile; try again."))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "contacts/merge.html",
        form=form,
        title=_("Merge a duplicate into %(name)s", name=name),
        back=back,
    ), status


@bp.route("/organisations/<int:organisation_id>/merge", methods=["GET", "POST"])
@planner_required
def merge_organisation(organisation_id: int) -> str | Response | tuple[str, int]:
    """Fold a duplicate into this organisation; the duplicate is deleted."""
    keep = _organisation(organisation_id)
    form = MergeForm()
    form.other_id.choices = _organisation_choices(exclude={keep.id})
    back = url_for("contacts.organisation", organisation_id=keep.id)

    def merge() -> None:
        duplicate = _organisation(form.other_id.data)
        merge_organisations(db.session, keep, duplicate, actor_user_id=_actor())

    return _merge_page(form, keep.name, back, merge)


# --- people -------------------------------------------------------------------------


@bp.get("/persons")
@viewer_required
def persons() -> str:
    query = request.args.get("q", "").strip()
    return render_template(
        "contacts/persons.html",
        persons=search_persons(db.session, query),
        query=query,
        today=local_today(),
        **_labels(),
    )


@bp.get("/persons/<int:person_id>")
@viewer_required
def person(person_id: int) -> str:
    return _person_page(_person(person_id))


def _person_page(found: Person, typed: tuple[str, PersonAddressForm] | None = None) -> str:
    """The person page; ``typed``: a language's override form as posted, with errors."""
    address_forms = {
        lang: PersonAddressForm(prefix=lang, obj=found.address_in(lang), formdata=None)
        for lang in LANGUAGE_LABELS
    }
    if typed is not None:
        address_forms[typed[0]] = typed[1]
    organisation = current_organisation(found)
    return render_template(
        "contacts/person.html",
        person=found,
        appointments=sorted(found.appointments, key=lambda a: (a.valid_from or date.min, a.id)),
        today=local_today(),
        action_form=ActionForm(),
        forms_of_address={lang: addressed(found, organisation, lang) for lang in LANGUAGE_LABELS},
        address_forms=address_forms,
        proposed_dative=proposed_dative(found),
        **_labels(),
    )


@bp.post("/persons/<int:person_id>/address/<lang>")
@planner_required
def person_address(person_id: int, lang: str) -> Response | tuple[str, int]:
    """Save a person's own forms of address in one language (empty: the defaults)."""
    found = _person(person_id)
    if lang not in LANGUAGE_LABELS:
        abort(404)
    form = PersonAddressForm(prefix=lang)
    if form.validate_on_submit():
        data = AddressData(
            style=form.style.data or "",
            address_block=form.address_block.data or "",
            salutation=form.salutation.data or "",
            mention=form.mention.data or "",
            name_dative=form.name_dative.data or "",
        )
        try:
            set_person_address(db.session, found, lang, data, actor_user_id=_actor())
        except ContactError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Forms of address saved."))
                return redirect(url_for("contacts.person", person_id=found.id) + f"#address-{lang}")
            form_error(form, None, _("The record changed meanwhile; try again."))
    found = _person(person_id)
    return _person_page(found, (lang, form)), 400


@bp.post("/persons/<int:person_id>/address/<lang>/confirm")
@planner_required
def confirm_address(person_id: int, lang: str) -> Response:
    """Staff confirm the forms of address in one language as the page shows them."""
    found = _person(person_id)
    if lang not in LANGUAGE_LABELS or not ActionForm().validate_on_submit():
        abort(400)
    confirm_person_address(db.session, found, lang, actor_user_id=_actor())
    commit()
    flash_saved(_("Forms of address confirmed."))
    return redirect(url_for("contacts.person", person_id=found.id) + f"#address-{lang}")


@bp.get("/forms-of-address")
@viewer_required
def forms_of_address_page() -> str:
    """The table of default forms of address per role, language and gender."""
    return render_template(
        "contacts/forms_of_address.html", rows=forms_of_address(db.session), **_labels()
    )


@bp.route("/forms-of-address/<role>/<lang>/<gender>", methods=["GET", "POST"])
@planner_required
def edit_form_of_address(role: str, lang: str, gender: str) -> str | Response | tuple[str, int]:
    if (
        role not in ADDRESS_ROLE_LABELS
        or lang not in LANGUAGE_LABELS
        or gender not in GENDER_LABELS
    ):
        abort(404)
    key = (AddressRole(role), lang, Gender(gender))
    shown = next(r for r in forms_of_address(db.session) if (r.role, r.language, r.gender) == key)
    form = FormOfAddressForm(obj=shown if request.method == "GET" else None)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        data = FormOfAddressData(
            style=form.style.data or "",
            function_line=form.function_line.data or "",
            salutation=form.salutation.data or "",
            mention=form.mention.data or "",
        )
        try:
            row = form_of_address(db.session, *key)
            update_form_of_address(db.session, row, data, actor_user_id=_actor())
        except ContactError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Forms of address saved."))
                return redirect(url_for("contacts.forms_of_address_page"))
    return render_template(
        "contacts/form_of_address_edit.html", form=form, row=shown, **_labels()
    ), status


def _person_data(form: PersonForm) -> PersonData:
    return PersonData(
        family_name=form.family_name.data or "",
        given_name=form.given_name.data or "",
        native_name=form.native_name.data or "",
        patronymic=form.patronymic.data or "",
        gender=Gender(form.gender.data or "unknown"),
        email=form.email.data or "",
        phone=form.phone.data or "",
        language=form.language.data or "en",
        relation=form.relation.data or "",
        notes=form.notes.data or "",
    )


@bp.route("/persons/new", methods=["GET", "POST"], defaults={"person_id": None})
@bp.route("/persons/<int:person_id>/edit", methods=["GET", "POST"])
@planner_required
def edit_person(person_id: int | None) -> str | Response | tuple[str, int]:
    found = _person(person_id) if person_id is not None else None
    form = PersonForm(obj=found if request.method == "GET" else None)
    if request.method == "GET" and found is not None:
        form.version.data = version_of(found.updated_at)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        data = _person_data(form)
        saved, status = _save(
            form,
            found,
            lambda: (
                create_person(db.session, data, actor_user_id=_actor())
                if found is None
                else update_person(
                    db.session,
                    found,
                    data,
                    actor_user_id=_actor(),
                    expected_version=form.version.data or "",
                )
            ),
            taken=(None, _("The record changed meanwhile; try again.")),
        )
        if saved is not None:
            flash_saved(_("Person saved."))
            return redirect(url_for("contacts.person", person_id=saved.id))
    return render_template("contacts/person_edit.html", form=form, person=found), status


@bp.route("/persons/<int:person_id>/merge", methods=["GET", "POST"])
@planner_required
def merge_person(person_id: int) -> str | Response | tuple[str, int]:
    """Fold a duplicate into this person; the duplicate is deleted."""
    keep = _person(person_id)
    form = MergeForm()
    rows = db.session.scalars(
        sa.select(Person).order_by(Person.family_name, Person.given_name, Person.id)
    )
    form.other_id.choices = choices(
        (p.id, f"{p.family_name}, {p.given_name}" + (f" <{p.email}>" if p.email else ""))
        for p in rows
        if p.id != keep.id
    )
    back = url_for("contacts.person", person_id=keep.id)

    def merge() -> None:
        duplicate = _person(form.other_id.data)
        merge_persons(db.session, keep, duplicate, actor_user_id=_actor())

    return _merge_page(form, keep.full_name, back, merge)


# --- appointments -------------------------------------------------------------------


def _appointment_data(form: AppointmentForm) -> AppointmentData:
    organisation = db.session.get(Organisation, form.organisation_id.data)
    if organisation is None:  # validate_choice checked it; a delete may have raced
        abort(400)
    taken_up = None
    if form.taken_up_on.data is not None:
        try:
            taken_up = wall_time(form.taken_up_on.data, form.taken_up_time.data or time(0))
        except ContactError as error:
            error.field = "taken_up_time"
            raise
    return AppointmentData(
        organisation=organisation,
        role=AppointmentRole(form.role.data),
        taken_up_at=taken_up,
        valid_from=form.valid_from.data,
        valid_to=form.valid_to.data,
        tie_break=form.tie_break.data or 0,
    )


@bp.route(
    "/persons/<int:person_id>/appointments/new",
    methods=["GET", "POST"],
    defaults={"appointment_id": None},
)
@bp.route(
    "/persons/<int:person_id>/appointments/<int:appointment_id>/edit", methods=["GET", "POST"]
)
@planner_required
def edit_appointment(
    person_id: int, appointment_id: int | None
) -> str | Response | tuple[str, int]:
    owner = _person(person_id)
    found = _appointment(owner, appointment_id) if appointment_id is not None else None
    form = AppointmentForm(obj=found if request.method == "GET" else None)
    form.organisation_id.choices = _organisation_choices()
    if request.method == "GET":
        if found is not None:
            form.role.data = found.role.value
            local = as_local(found.taken_up_at)
            if local is not None:
                form.taken_up_on.data = local.date()
                form.taken_up_time.data = local.time()
        elif request.args.get("organisation", type=int):
            form.organisation_id.data = request.args.get("organisation", type=int)
    if form.validate_on_submit():
        try:
            data = _appointment_data(form)
            if found is None:
                add_appointment(db.session, owner, data, actor_user_id=_actor())
            else:
                update_appointment(db.session, found, data, actor_user_id=_actor())
        except ContactError as error:
            db.session.rollback()
            form_error(form, error.field, error.message)
        else:
            if commit():
                flash_saved(_("Appointment saved."))
                return redirect(url_for("contacts.person", person_id=owner.id))
            form_error(form, None, _("The record changed meanwhile; try again."))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "contacts/appointment_edit.html", form=form, person=owner, appointment=found
    ), status


@bp.post("/persons/<int:person_id>/appointments/<int:appointment_id>/delete")
@planner_required
def remove_appointment(person_id: int, appointment_id: int) -> Response:
    owner = _person(person_id)
    found = _appointment(owner, appointment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    delete_appointment(db.session, found, actor_user_id=_actor())
    commit()
    flash_saved(_("Appointment removed."))
    return redirect(url_for("contacts.person", person_id=owner.id))


# --- groups -------------------------------------------------------------------------


@bp.route("/groups", methods=["GET", "POST"])
@viewer_required
def groups() -> str | Response | tuple[str, int]:
    """The groups, and (for planners) a form to make one."""
    form = GroupForm()
    if request.method == "POST":
        if not current_user.can_edit:
            abort(403)
        if form.validate_on_submit():
            try:
                group = create_group(db.session, form.name.data or "", actor_user_id=_actor())
            except ContactError as error:
                db.session.rollback()
                form_error(form, error.field, error.message)
            else:
                if commit():
                    flash_saved(_("Group created."))
                    return redirect(url_for("contacts.group", group_id=group.id))
                form_error(form, "name", _("A group with this name exists already."))
    status = 400 if request.method == "POST" else 200
    return render_template("contacts/groups.html", groups=all_groups(db.session), form=form), status


@bp.get("/groups/<int:group_id>")
@viewer_required
def group(group_id: int) -> str:
    found = _group(group_id)
    form = MembershipForm()
    members = {o.id for o in found.organisations}
    form.organisation_id.choices = _organisation_choices(exclude=members)
    return render_template(
        "contacts/group.html",
        group=found,
        members=sorted(found.organisations, key=lambda o: o.name.casefold()),
        form=form,
        action_form=ActionForm(),
        **_labels(),
    )


@bp.post("/groups/<int:group_id>/add")
@planner_required
def add_member(group_id: int) -> Response:
    found = _group(group_id)
    form = MembershipForm()
    form.organisation_id.choices = _organisation_choices()
    if not form.validate_on_submit():
        abort(400)
    set_membership(
        db.session, found, _organisation(form.organisation_id.data), True, actor_user_id=_actor()
    )
    commit()
    flash_saved(_("Added to the group."))
    return redirect(url_for("contacts.group", group_id=found.id))


@bp.post("/groups/<int:group_id>/remove/<int:organisation_id>")
@planner_required
def remove_member(group_id: int, organisation_id: int) -> Response:
    found = _group(group_id)
    member = _organisation(organisation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    set_membership(db.session, found, member, False, actor_user_id=_actor())
    commit()
    flash_saved(_("Removed from the group."))
    return redirect(url_for("contacts.group", group_id=found.id))


# --- import and export --------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@planner_required
def import_file() -> str | Response | tuple[str, int]:
    """Upload a CSV; all rows are checked before anything is saved."""
    form = ImportForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
    if form.validate_on_submit():
        data = form.file.data.read(MAX_IMPORT_BYTES + 1)
        try:
            result = import_contacts(db.session, data, actor_user_id=_actor())
        except ImportRefused as refused:
            db.session.rollback()
            problems = [str(e) for e in refused.errors]
            form_error(
                form,
                None,
                _(
                    "Nothing was imported: %(n)d problem(s) in the file. Correct them and "
                    "upload the file again.",
                    n=len(problems),
                ),
            )
        else:
            if commit():
                summary = result.summary()
                flash_saved(
                    _(
                        "Imported %(rows)d row(s): %(orgs)d organisation(s), %(persons)d "
                        "person(s) and %(appointments)d appointment(s) new; %(updated)d "
                        "record(s) updated.",
                        rows=summary["rows"],
                        orgs=summary["organisations_created"],
                        persons=summary["persons_created"],
                        appointments=summary["appointments_created"],
                        updated=summary["organisations_updated"]
                        + summary["persons_updated"]
                        + summary["appointments_updated"],
                    )
                )
                return redirect(url_for("contacts.organisations"))
            form_error(form, None, _("The contacts changed meanwhile; upload the file again."))
    return render_template("contacts/import.html", form=form, problems=problems), status


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # personal data: keep no copies
    return response


@bp.get("/export.csv")
@viewer_required
def export_csv() -> Response:
    return _download(to_csv(db.session), "text/csv", f"contacts-{local_today()}.csv")


@bp.get("/export.vcf")
@viewer_required
def export_vcard() -> Response:
    return _download(to_vcards(db.session), "text/vcard", f"contacts-{local_today()}.vcf")


# --- precedence ---------------------------------------------------------------------


@bp.get("/precedence")
@viewer_required
def precedence() -> str | tuple[str, int]:
    """The diplomatic corps in order on a date (today by default), printable."""
    typed = request.args.get("date", "").strip()
    on = local_today()
    error = None
    if typed:
        try:
            on = date.fromisoformat(typed)
        except ValueError:
            error = _("Give the date as YYYY-MM-DD, e.g. 2026-05-09.")
    ranked = [] if error else corps_on(db.session, on)
    return render_template(
        "contacts/precedence.html",
        ranked=ranked,
        on=on,
        on_label=date_phrase(on),
        typed=typed or on.isoformat(),
        error=error,
        **_labels(),
    ), (400 if error else 200)
