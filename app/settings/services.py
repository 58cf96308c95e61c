"""Run-time settings with their defaults and allowed values."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.extensions import DbSession
from app.settings.models import Setting


@dataclass(frozen=True)
class SettingSpec:
    default: str
    choices: tuple[tuple[str, object], ...]
    label: object


SETTINGS: dict[str, SettingSpec] = {
    # The government rule is half-mast from 18:00; the national committee has advised
    # half-mast all day since 2020. The foundation chooses.
    "flag_4_may_from": SettingSpec(
        "18:00",
        (
            ("18:00", _l("from 18:00 (government rule)")),
            ("sunrise", _l("from sunrise (national committee's advice)")),
        ),
        _l("Flag at half-mast on 4 May"),
    ),
    "require_totp": SettingSpec(
        "no",
        (("no", _l("optional for each staff member")), ("yes", _l("required for all staff"))),
        _l("Second factor (authenticator app) at login"),
    ),
    "programme_paper": SettingSpec(
        "a5",
        (("a5", _l("A5 (folded booklet)")), ("a4", _l("A4"))),
        _l("Paper size of printed programmes"),
    ),
}


def get_setting(session: DbSession, key: str) -> str:
    spec = SETTINGS[key]
    row = session.get(Setting, key)
    if row is None or row.value not in {value for value, _ in spec.choices}:
        return spec.default
    return row.value


def set_setting(session: DbSession, key: str, value: str) -> None:
    spec = SETTINGS[key]
    if value not in {v for v, _ in spec.choices}:
        raise ValueError(f"{value!r} is not allowed for {key}")
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
