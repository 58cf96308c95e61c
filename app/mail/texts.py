# ruff: noqa: E501  (the texts are prose: one paragraph a line, as mail clients wrap it)
"""The texts of messages: built-in defaults per kind and language, staff's own versions,
and the plain placeholders that fill them.

Placeholders are ``{name}`` and nothing else: no attributes, no indexing, no formatting,
never Jinja (SECURITY.md). Unknown ones are reported when a text is saved and left as
written if one slips through, never evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import DbSession
from app.mail.models import MailText, MessageKind
from app.settings.models import Setting

LANGUAGES = ("nl", "en", "ru")
FIELD = re.compile(r"\{([^{}\n]*)\}")

# What every placeholder means, shown beside the text editor.
PLACEHOLDERS: dict[str, Any] = {
    "salutation": _l(
        'the whole opening line ("Your Excellency,", "Geachte heer Smits,"), in the message\'s language'
    ),
    "address_block": _l("the address block: style and name, function, organisation"),
    "addressee": _l("the addressee as named in running text (else the organisation)"),
    "honorific": _l("the style before the addressee's name in the address block"),
    "name": _l("the addressee's name"),
    "organisation": _l("the invited organisation"),
    "ceremony": _l("the edition's title"),
    "date": _l("the ceremony's date, written out"),
    "time": _l("the ceremony's starting time"),
    "when": _l("the ceremony's date and time, for running text"),
    "venue": _l("the venue and its address"),
    "deadline": _l("the reply deadline, written out"),
    "rsvp_link": _l("the delegation's personal page (filled in when the message is sent)"),
    "dress": _l("the dress line"),
    "dress_code": _l("the dress code alone, in the message's language"),
    "hosts": _l("the hosts (their functions), within a sentence"),
    "hosts_request": _l(
        "the hosts and the verb that agrees with their number, opening a sentence"
        ' (e.g. "The Mayor of Leusden and ... request the honour of your presence at")'
    ),
    "practical_notes": _l("the edition's practical notes of the day, in the message's language"),
    "reply": _l("the delegation's reply as it stands (accepted or declined, members, wreath)"),
    "practical": _l("practical notes of the day (venue notes, dress)"),
    "reply_contact": _l("the foundation's protocol telephone and email, for replies"),
}


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in ``text`` that Ereveld does not know, in order of appearance."""
    seen: list[str] = []
    for match in FIELD.finditer(text):
        name = match.group(1)
        if name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


def fill(text: str, values: Mapping[str, str], keep: frozenset[str] = frozenset()) -> str:
    """``text`` with each known placeholder replaced; ``keep`` ones stay for later."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in keep or name not in values:
            return match.group(0)
        value = values[name]
        # "… до 9 мая 2027 г.." : a value that ends a sentence brings its own full stop.
        if value.endswith(".") and match.string.startswith(".", match.end()):
            value = value[:-1]
        return value

    filled = FIELD.sub(replace, text)
    # An empty honorific must not leave "Dear  Smith" behind, nor an empty dress line a
    # gap of blank lines.
    filled = re.sub(r"(?<=\S) {2,}(?=\S)", " ", filled)
    return re.sub(r"\n{3,}", "\n\n", filled)


def text_for(session: DbSession, kind: MessageKind, language: str) -> Text:
    """Staff's text for this kind and language, else the built-in one."""
    own = session.scalar(
        sa.select(MailText).where(MailText.kind == kind, MailText.language == language)
    )
    if own is not None:
        return Text(own.subject, own.body)
    return DEFAULTS[kind][language if language in LANGUAGES else "en"]


DEFAULTS: dict[MessageKind, dict[str, Text]] = {
    MessageKind.INVITATION: {
        "nl": Text(
            "Uitnodiging: {ceremony}, {date}",
            """{salutation}

{hosts_request} de {ceremony} op {when}, {venue}.

{dress}
Wij vragen u vóór {deadline} te antwoorden en de leden van uw delegatie te noemen op uw persoonlijke pagina:
{rsvp_link}

De uitnodiging is bijgevoegd; de bijlage met de agenda-uitnodiging zet de plechtigheid in uw agenda.

Met de meeste hoogachting,
Stichting Sovjet Ereveld""",
        ),
        "en": Text(
            "Invitation: {ceremony}, {date}",
            """{salutation}

{hosts_request} the {ceremony} on {when}, {venue}.

{dress}
Please reply before {deadline} and name the members of your delegation on your personal page:
{rsvp_link}

The invitation is attached; the calendar invitation puts the ceremony in your calendar.

Yours sincerely,
The Soviet Field of Honour Foundation""",
        ),
        "ru": Text(
            "Приглашение: {ceremony}, {date}",
            """{salutation}

{hosts_request} церемонию «{ceremony}», которая состоится {when}, {venue}.

{dress}
Просим Вас ответить до {deadline} и указать членов Вашей делегации на Вашей персональной странице:
{rsvp_link}

Приглашение прилагается; приложенное приглашение календаря внесёт церемонию в Ваш календарь.

С глубоким уважением,
Фонд «Советское военное кладбище»""",
        ),
    },
    MessageKind.REMINDER: {
        "nl": Text(
            "Herinnering: {ceremony}, {date}",
            """{salutation}

Wij hebben nog geen antwoord ontvangen op onze uitnodiging voor de {ceremony} op {when}, {venue}.

Wilt u vóór {deadline} laten weten of u aanwezig zult zijn? Dat kan op uw persoonlijke pagina:
{rsvp_link}

Met de meeste hoogachting,
Stichting Sovjet Ereveld""",
        ),
        "en": Text(
            "Reminder: {ceremony}, {date}",
            """{salutation}

We have not yet received your reply to our invitation to the {ceremony} on {when}, {venue}.

Would you let us know before {deadline} whether you will attend? Your personal page:
{rsvp_link}

Yours sincerely,
The Soviet Field of Honour Foundation""",
        ),
        "ru": Text(
            "Напоминание: {ceremony}, {date}",
            """{salutation}

Мы ещё не получили Вашего ответа на наше приглашение на церемонию «{ceremony}», которая состоится {when}, {venue}.

Просим Вас сообщить до {deadline}, примете ли Вы участие. Ваша персональная страница:
{rsvp_link}

С глубоким уважением,
Фонд «Советское военное кладбище»""",
        ),
    },
    MessageKind.CONFIRMATION: {
        "nl": Text(
            "Bevestiging: {ceremony}, {date}",
            """{salutation}

Wij hebben uw antwoord voor de {ceremony} op {date} ontvangen. Zo staat het nu genoteerd:

{reply}

U kunt dit tot {deadline} wijzigen op uw persoonlijke pagina:
{rsvp_link}

Met vriendelijke groet,
Stichting Sovjet Ereveld""",
        ),
        "en": Text(
            "Confirmation: {ceremony}, {date}",
            """{salutation}

We have received your reply for the {ceremony} on {date}. This is what we have noted:

{reply}

You may change it until {deadline} on your personal page:
{rsvp_link}

Kind regards,
The Soviet Field of Honour Foundation""",
        ),
        "ru": Text(
            "Подтверждение: {ceremony}, {date}",
            """{salutation}

Мы получили Ваш ответ на приглашение на церемонию «{ceremony}» ({date}). Записано следующее:

{reply}

Вы можете изменить его до {deadline} на Вашей персональной странице:
{rsvp_link}

С уважением,
Фонд «Советское военное кладбище»""",
        ),
    },
    MessageKind.UPDATE: {
        "nl": Text(
            "Gewijzigd: {ceremony}, {date}",
            """{salutation}

De {ceremony} is gewijzigd. De plechtigheid vindt plaats op {when}, {venue}.

De bijgevoegde agenda-uitnodiging werkt uw agenda bij. Uw persoonlijke pagina:
{rsvp_link}

Met de meeste hoogachting,
Stichting Sovjet Ereveld""",
        ),
        "en": Text(
            "Changed: {ceremony}, {date}",
            """{salutation}

The {ceremony} has changed. The ceremony takes place on {when}, {venue}.

The attached calendar invitation updates your calendar. Your personal page:
{rsvp_link}

Yours sincerely,
The Soviet Field of Honour Foundation""",
        ),
        "ru": Text(
            "Изменение: {ceremony}, {date}",
            """{salutation}

В церемонии «{ceremony}» произошли изменения. Церемония состоится {when}, {venue}.

Приложенное приглашение календаря обновит Ваш календарь. Ваша персональная страница:
{rsvp_link}

С глубоким уважением,
Фонд «Советское военное кладбище»""",
        ),
    },
    MessageKind.CANCELLATION: {
        "nl": Text(
            "Afgelast: {ceremony}, {date}",
            """{salutation}

Tot onze spijt moeten wij u meedelen dat de {ceremony} op {date} niet doorgaat.

De bijgevoegde agenda-annulering haalt de plechtigheid uit uw agenda.

Met de meeste hoogachting,
Stichting Sovjet Ereveld""",
        ),
        "en": Text(
            "Cancelled: {ceremony}, {date}",
            """{salutation}

We regret to inform you that the {ceremony} on {date} will not take place.

The attached calendar cancellation removes the ceremony from your calendar.

Yours sincerely,
The Soviet Field of Honour Foundation""",
        ),
        "ru": Text(
            "Отмена: {ceremony}, {date}",
            """{salutation}

С сожалением сообщаем, что церемония «{ceremony}», назначенная на {date}, не состоится.

Приложенная отмена календаря удалит церемонию из Вашего календаря.

С глубоким уважением,
Фонд «Советское военное кладбище»""",
        ),
    },
    MessageKind.PRACTICAL: {
        "nl": Text(
            "Praktische informatie: {ceremony}, {date}",
            """{salutation}

Wij zien ernaar uit u te verwelkomen bij de {ceremony} op {when}, {venue}.

{practical}

Zo staat uw delegatie genoteerd:
{reply}

Wijzigingen kunt u doorgeven op uw persoonlijke pagina:
{rsvp_link}

Met vriendelijke groet,
Stichting Sovjet Ereveld""",
        ),
        "en": Text(
            "Practical information: {ceremony}, {date}",
            """{salutation}

We look forward to welcoming you at the {ceremony} on {when}, {venue}.

{practical}

Your delegation as we have noted it:
{reply}

Changes can be made on your personal page:
{rsvp_link}

Kind regards,
The Soviet Field of Honour Foundation""",
        ),
        "ru": Text(
            "Практическая информация: {ceremony}, {date}",
            """{salutation}

Будем рады приветствовать Вас на церемонии «{ceremony}» {when}, {venue}.

{practical}

Ваша делегация записана так:
{reply}

Изменения можно внести на Вашей персональной странице:
{rsvp_link}

С уважением,
Фонд «Советское военное кладбище»""",
        ),
    },
}


# --- the body of the invitation letter (A4) -----------------------------------------
# Per invitation kind, as the reply it asks for differs: an answer by the deadline, word
# only from those who cannot come, or names only (attendance agreed by telephone). The
# salutation, closing and signatures are the letter's own, around this body.

LETTER_BODIES: dict[str, dict[str, str]] = {
    "rsvp": {
        "nl": """{hosts_request} de {ceremony}, die plaatsvindt op {when}. Plaats: {venue}.

{dress}

Wij stellen het op prijs uw antwoord vóór {deadline} te ontvangen, met de namen van de leden van uw delegatie, via uw persoonlijke pagina (de link en QR-code hieronder) of via {reply_contact}.""",
        "en": """{hosts_request} the {ceremony}, to be held on {when}. Venue: {venue}.

{dress}

We should be grateful for your reply before {deadline}, naming the members of your delegation, on your personal page (the link and QR code below) or to {reply_contact}.""",
        "ru": """{hosts_request} церемонию «{ceremony}», которая состоится {when}. Место проведения: {venue}.

{dress}

Будем признательны за Ваш ответ до {deadline} с указанием членов Вашей делегации на Вашей персональной странице (ссылка и QR-код ниже) или по контактам: {reply_contact}.""",
    },
    "regrets_only": {
        "nl": """{hosts_request} de {ceremony}, die plaatsvindt op {when}. Plaats: {venue}.

{dress}

Indien u verhinderd bent, stellen wij het op prijs dit vóór {deadline} te vernemen via uw persoonlijke pagina (de link en QR-code hieronder) of via {reply_contact}.""",
        "en": """{hosts_request} the {ceremony}, to be held on {when}. Venue: {venue}.

{dress}

Should you be unable to attend, we should be grateful to hear so before {deadline}, on your personal page (the link and QR code below) or at {reply_contact}.""",
        "ru": """{hosts_request} церемонию «{ceremony}», которая состоится {when}. Место проведения: {venue}.

{dress}

Если Вы не сможете присутствовать, просим сообщить об этом до {deadline} на Вашей персональной странице (ссылка и QR-код ниже) или по контактам: {reply_contact}.""",
    },
    "pm": {
        "nl": """{hosts_request} de {ceremony}, die plaatsvindt op {when}. Plaats: {venue}.

{dress}

Deze brief bevestigt de uitnodiging zoals telefonisch afgesproken. Wilt u de leden van uw delegatie vóór {deadline} noemen via uw persoonlijke pagina (de link en QR-code hieronder) of via {reply_contact}?""",
        "en": """{hosts_request} the {ceremony}, to be held on {when}. Venue: {venue}.

{dress}

This letter confirms the invitation as agreed by telephone. Would you kindly name the members of your delegation before {deadline} on your personal page (the link and QR code below) or to {reply_contact}?""",
        "ru": """{hosts_request} церемонию «{ceremony}», которая состоится {when}. Место проведения: {venue}.

{dress}

Настоящее письмо подтверждает приглашение, согласованное по телефону. Просим указать членов Вашей делегации до {deadline} на Вашей персональной странице (ссылка и QR-код ниже) или по контактам: {reply_contact}.""",
    },
}


def letter_body_key(kind: str, language: str) -> str:
    """The setting that holds staff's own letter body for an invitation kind and language."""
    return f"letter_body_{kind}_{language}"


def letter_body(session: DbSession, kind: str, language: str) -> str:
    """Staff's letter body for this invitation kind and language, else the built-in one."""
    lang = language if language in LANGUAGES else "en"
    kind = kind if kind in LETTER_BODIES else "rsvp"
    own = session.get(Setting, letter_body_key(kind, lang))
    if own is not None and own.value.strip():
        return own.value
    return LETTER_BODIES[kind][lang]


LETTER_BODY_MAX = 5000


def save_letter_body(session: DbSession, kind: str, language: str, body: str) -> None:
    """Staff's own letter body for an invitation kind and language. Raises ValueError
    (its message for staff) for an unknown placeholder, which would print as written."""
    if kind not in LETTER_BODIES or language not in LANGUAGES:
        raise ValueError(_l("Choose Dutch, English or Russian."))
    unknown = unknown_placeholders(body)
    if unknown:
        raise ValueError(
            _l(
                "Unknown placeholder: %(names)s. Use only the ones listed.",
                names=", ".join("{" + name + "}" for name in unknown),
            )
        )
    key = letter_body_key(kind, language)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=body))
    else:
        row.value = body
    session.flush()


def reset_letter_body(session: DbSession, kind: str, language: str) -> None:
    """Back to the built-in letter body."""
    row = session.get(Setting, letter_body_key(kind, language))
    if row is not None:
        session.delete(row)
