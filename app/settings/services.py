"""Run-time settings with their defaults and allowed values."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.extensions import DbSession
from app.files import write_atomically
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


# --- the letterhead and the reply contact --------------------------------------------
# Free text, unlike the choices above: what the foundation prints on its letters and
# cards. Defaults are empty where only the foundation knows the answer (its telephone),
# so nothing invented is ever printed; a letter leaves out a line that is empty.

TEXT_SETTINGS: dict[str, SettingSpec] = {
    "letterhead_address": SettingSpec(
        "Dodeweg 31\n3832 RB Leusden", (), _l("Postal address (letterhead)")
    ),
    "letterhead_phone": SettingSpec("", (), _l("Telephone (letterhead)")),
    "letterhead_email": SettingSpec("", (), _l("Email (letterhead)")),
    "protocol_phone": SettingSpec("", (), _l("Protocol telephone for replies")),
    "protocol_email": SettingSpec("", (), _l("Protocol email for replies")),
    "seated_minutes": SettingSpec(
        "15", (), _l("Guests are seated this many minutes before the start")
    ),
}
LOGO_FILE = "letterhead-logo"  # in the instance folder; the setting names its type
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
LOGO_MAX_BYTES = 2 * 1024 * 1024


def get_text_setting(session: DbSession, key: str) -> str:
    """A free-text setting, or its default when none is stored."""
    row = session.get(Setting, key)
    return TEXT_SETTINGS[key].default if row is None else row.value


def set_text_setting(session: DbSession, key: str, value: str) -> None:
    TEXT_SETTINGS[key]  # a typo in a key fails here, not silently
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


class LogoError(ValueError):
    """An uploaded logo that is not a PNG or JPEG image (or too large)."""


def logo_type(data: bytes) -> str:
    """The MIME type of an uploaded logo; raises LogoError unless it is a whole PNG or
    JPEG image (the file's own bytes decide, never its name)."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > LOGO_MAX_BYTES:
        raise LogoError(_l("The logo may be at most 2 MB."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            found = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise LogoError(_l("The logo must be a PNG or JPEG image.")) from error
    if found not in LOGO_TYPES:
        raise LogoError(_l("The logo must be a PNG or JPEG image."))
    return LOGO_TYPES[found]


def save_logo(session: DbSession, instance: Path, data: bytes) -> None:
    """Keep an uploaded logo on disk in the instance folder (letters read it from
    there, never over HTTP); raises LogoError, saving nothing, for anything else."""
    mime = logo_type(data)
    write_atomically(instance / LOGO_FILE, data)
    row = session.get(Setting, "letterhead_logo")
    if row is None:
        session.add(Setting(key="letterhead_logo", value=mime))
    else:
        row.value = mime


def remove_logo(session: DbSession, instance: Path) -> None:
    row = session.get(Setting, "letterhead_logo")
    if row is not None:
        session.delete(row)
    (instance / LOGO_FILE).unlink(missing_ok=True)


def logo_data_uri(session: DbSession, instance: Path) -> str | None:
    """The logo as a data: URI for WeasyPrint, or None when there is none."""
    row = session.get(Setting, "letterhead_logo")
    path = instance / LOGO_FILE
    if row is None or not path.is_file():
        return None
    return f"data:{row.value};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@dataclass(frozen=True)
class Letterhead:
    """What heads a letter and whom guests reply to."""

    address: str
    phone: str
    email: str
    protocol_phone: str
    protocol_email: str
    seated_minutes: int
    logo: str | None


def letterhead(session: DbSession, instance: Path) -> Letterhead:
    try:
        seated = int(get_text_setting(session, "seated_minutes"))
    except ValueError:
        seated = int(TEXT_SETTINGS["seated_minutes"].default)
    return Letterhead(
        address=get_text_setting(session, "letterhead_address").strip(),
        phone=get_text_setting(session, "letterhead_phone").strip(),
        email=get_text_setting(session, "letterhead_email").strip(),
        protocol_phone=get_text_setting(session, "protocol_phone").strip(),
        protocol_email=get_text_setting(session, "protocol_email").strip(),
        seated_minutes=seated,
        logo=logo_data_uri(session, instance),
    )
