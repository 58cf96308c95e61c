"""The texts guests read, per language: hosts, dress, notes, performers.

Rule (DOMAIN.md): a guest-facing text missing in the guest's language is left out, never
replaced by another language's; staff see every such gap as a warning on the edition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.ceremonies.models import Ceremony, Host, HostTemplate

LANGUAGES = ("nl", "en", "ru")

# The word that joins the last two hosts, and the verb phrase after them, singular and
# plural. Protocol wording fixed by DOMAIN.md, kept here beside the rule that picks it
# (as the anniversary ordinals are in app.i18n), not in the interface catalogues.
_AND = {"nl": "en", "en": "and", "ru": "и"}
_REQUEST = {
    "en": ("requests the honour of your presence at", "request the honour of your presence at"),
    "nl": ("heeft de eer u uit te nodigen voor", "hebben de eer u uit te nodigen voor"),
    "ru": ("имеет честь пригласить Вас на", "имеют честь пригласить Вас на"),
}


class HostLike(Protocol):
    """A host of an edition, or one of a series' default hosts."""

    @property
    def name(self) -> str: ...
    @property
    def function_nl(self) -> str: ...
    @property
    def function_en(self) -> str: ...
    @property
    def function_ru(self) -> str: ...


def text_in(obj: object, field: str, lang: str) -> str:
    """``field`` in ``lang`` exactly: no other language stands in for a missing one."""
    if lang not in LANGUAGES:
        return ""
    return str(getattr(obj, f"{field}_{lang}", "") or "").strip()


def foundation_name(lang: str) -> str:
    """The foundation as it names itself in ``lang`` (the host when no host is given)."""
    with force_locale(lang):
        return str(_("The Soviet Field of Honour Foundation"))


def _with_article(function: str, lang: str) -> str:
    """A function as the subject of the sentence: "the Mayor of Leusden", "de
    burgemeester van Leusden"; Russian has no article. An article typed already stays."""
    lowered = function.lower()
    if lang == "en" and not lowered.startswith("the "):
        return f"the {function}"
    if lang == "nl" and not lowered.startswith(("de ", "het ")):
        return f"de {function}"
    return function


def host_subject(host: HostLike, lang: str) -> str:
    """One host as named in the invitation's sentence: the function in ``lang`` (the
    office invites), or the name when no function is given; "" when neither is."""
    function = text_in(host, "function", lang)
    if function:
        return _with_article(function, lang)
    return (host.name or "").strip()


def shown_hosts(hosts: Sequence[HostLike], lang: str) -> list[HostLike]:
    """The hosts that can be named in ``lang``."""
    return [host for host in hosts if host_subject(host, lang)]


def hosts_subject(hosts: Sequence[HostLike], lang: str, *, start: bool = True) -> str:
    """Who invites, in ``lang``: "The Mayor of Leusden and the Director of ...", or the
    foundation alone when the edition has no host to name. Within a sentence
    (``start`` false) a leading article is lower case: "on behalf of the Mayor ..."."""
    subjects = [host_subject(host, lang) for host in hosts]
    subjects = [s for s in subjects if s]
    if not subjects:
        joined = foundation_name(lang)
    elif len(subjects) == 1:
        joined = subjects[0]
    else:
        joined = f"{', '.join(subjects[:-1])} {_AND.get(lang, 'and')} {subjects[-1]}"
    if start:
        return joined[:1].upper() + joined[1:]
    first, _space, rest = joined.partition(" ")
    if first in ("The", "De", "Het") and rest:
        return f"{first.lower()} {rest}"
    return joined


def hosts_phrase(hosts: Sequence[HostLike], lang: str) -> str:
    """The invitation's subject and verb, the verb agreeing with the number of hosts:
    "The Mayor of Leusden and the Director of ... request the honour of your presence at"
    ("requests" for one), "... hebben/heeft de eer u uit te nodigen voor", "...
    имеют/имеет честь пригласить Вас на"."""
    count = len(shown_hosts(hosts, lang)) or 1  # none: the foundation alone
    return f"{hosts_subject(hosts, lang)} {request_verb(lang, count)}"


def request_verb(lang: str, count: int) -> str:
    """ "request(s) the honour of your presence at" for ``count`` hosts, in ``lang``."""
    singular, plural = _REQUEST.get(lang, _REQUEST["en"])
    return singular if count == 1 else plural


def host_signature(host: HostLike, lang: str) -> tuple[str, str]:
    """The host's signature block in ``lang``: name and function (either may be "")."""
    return (host.name or "").strip(), text_in(host, "function", lang)


def hosts_from_templates(templates: Sequence[HostTemplate]) -> list[Host]:
    """A series' default hosts as the hosts of a new edition."""
    return [
        Host(
            position=position,
            name=template.get("name", ""),
            function_nl=template.get("function_nl", ""),
            function_en=template.get("function_en", ""),
            function_ru=template.get("function_ru", ""),
        )
        for position, template in enumerate(templates)
    ]


# --- missing translations ---------------------------------------------------------------

LANGUAGE_NAMES = {"nl": _l("Dutch"), "en": _l("English"), "ru": _l("Russian")}


@dataclass(frozen=True)
class MissingText:
    """A guest-facing text given in some language but not in ``missing``."""

    what: str  # e.g. "Dress", "Host 2 (A. Smits): function", "Programme item 3: performer"
    missing: tuple[str, ...]  # language codes, in LANGUAGES order


def _gap(what: str, obj: object, field: str) -> MissingText | None:
    given = [lang for lang in LANGUAGES if text_in(obj, field, lang)]
    if not given or len(given) == len(LANGUAGES):
        return None
    return MissingText(what, tuple(lang for lang in LANGUAGES if lang not in given))


def missing_translations(ceremony: Ceremony) -> list[MissingText]:
    """Every guest-facing text of the edition that has a value in some language but not
    in another. Such a line is left out of that language's letters, emails and pages."""
    found: list[MissingText | None] = [_gap(str(_("Title")), ceremony, "title")]
    for number, host in enumerate(ceremony.hosts, start=1):
        label = _("Host %(number)d (%(name)s): function", number=number, name=host.name)
        found.append(_gap(str(label), host, "function"))
    found.append(_gap(str(_("Dress")), ceremony, "dress_code"))
    found.append(_gap(str(_("Practical notes of the day")), ceremony, "practical_notes"))
    found.append(
        _gap(
            str(_("Venue %(name)s: access and parking", name=ceremony.venue.name)),
            ceremony.venue,
            "access_notes",
        )
    )
    for number, item in enumerate(ceremony.items, start=1):
        found.append(_gap(str(_("Programme item %(number)d: text", number=number)), item, "text"))
        found.append(
            _gap(str(_("Programme item %(number)d: performer", number=number)), item, "performer")
        )
    return [gap for gap in found if gap is not None]
