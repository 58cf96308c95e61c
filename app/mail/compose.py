"""What a message says and how it is put together: placeholder values, the iTIP calendar
part (shared/design/CALENDAR.md) and the MIME structure.

Nothing here touches the database or the network; sender.py and services.py do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText
from markupsafe import escape

from app.calendar.services import PRODID, location, summary
from app.calendar.timezones import vtimezone
from app.ceremonies.guest_texts import text_in
from app.ceremonies.models import Ceremony
from app.contacts.addressing import address_block, mention, role_at, salutation, style
from app.i18n import date_phrase, date_time_phrase, force_locale, time_phrase
from app.invitations.forms import MEMBER_ROLE_LABELS, STATUS_LABELS, WREATH_LABELS
from app.invitations.models import Invitation, InvitationStatus, WreathChoice
from app.invitations.rsvp_services import invitation_hosts, practical_notes
from app.mail.models import MessageKind
from app.types import utcnow

# Control characters (CR and LF above all) and bidi overrides have no place in a header
# or a calendar parameter; the email package refuses CR/LF, this turns them into spaces
# before it has to.
UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
LINK = re.compile(r"https?://[^\s<>\"]+")


def header_safe(value: str) -> str:
    return " ".join(UNSAFE_IN_HEADER.sub(" ", value).split())


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str


def recipient(invitation: Invitation) -> Recipient | None:
    """Where an invitation's mail goes: the addressee's own address, else the
    organisation's general one; None when there is neither."""
    person = invitation.addressee
    if person is not None and person.email:
        return Recipient(person.full_name, person.email)
    if invitation.organisation.email:
        return Recipient(invitation.organisation.name, invitation.organisation.email)
    return None


def language_of(invitation: Invitation) -> str:
    return invitation.language if invitation.language in ("nl", "en", "ru") else "en"


def reply_summary(invitation: Invitation) -> str:
    """The delegation's reply as it stands, in the current locale, one fact per line."""
    # One whole sentence per message id: an f-string around _() hides it from extraction.
    lines = [_("Reply: %(status)s", status=STATUS_LABELS[invitation.status])]
    if invitation.status == InvitationStatus.ACCEPTED:
        for member in invitation.members:
            described = ", ".join(
                part for part in (member.function, str(MEMBER_ROLE_LABELS[member.role])) if part
            )
            lines.append(f"- {member.name} ({described})")
        if invitation.wreath != WreathChoice.NONE:
            wreath = str(WREATH_LABELS[invitation.wreath])
            if invitation.ribbon_text:
                wreath += f": “{invitation.ribbon_text}”"
            lines.append(_("Wreath: %(wreath)s", wreath=wreath))
    return "\n".join(lines)


def values(invitation: Invitation, lang: str) -> dict[str, str]:
    """Every placeholder's value for this invitation, in ``lang``; ``rsvp_link`` is left
    out: it is filled in when the message leaves."""
    ceremony = invitation.ceremony
    person = invitation.addressee
    start = ceremony.local_start
    role = role_at(person, invitation.organisation, start.date())
    with force_locale(lang):
        name = person.full_name if person else ""
        organisation = invitation.organisation.display_name(lang)
        deadline = invitation.rsvp_deadline or ceremony.rsvp_deadline
        dress = text_in(ceremony, "dress_code", lang)
        hosts, hosts_request = invitation_hosts(invitation, lang)
        return {
            "addressee": mention(person, role, lang) if person else organisation,
            "salutation": salutation(person, role, lang),
            "address_block": "\n".join(address_block(person, invitation.organisation, role, lang)),
            "honorific": style(person, role, lang) if person else "",
            "name": name,
            "organisation": organisation,
            "ceremony": ceremony.title(lang),
            "date": date_phrase(start, lang),
            "time": time_phrase(start, lang),
            "when": date_time_phrase(start, lang),
            "venue": location(ceremony.venue),
            "deadline": date_phrase(deadline, lang, weekday=False) if deadline else "",
            "dress": str(_("Dress: %(dress)s", dress=dress)) if dress else "",
            "dress_code": dress,
            "hosts": hosts,
            "hosts_request": hosts_request,
            "practical_notes": text_in(ceremony, "practical_notes", lang),
            "reply": reply_summary(invitation),
            "practical": practical_notes(ceremony, lang),
        }


# --- iTIP ------------------------------------------------------------------------------


def _address(address: str, name: str) -> vCalAddress:
    calendar_address = vCalAddress(f"mailto:{address}")
    if name:
        calendar_address.params["cn"] = vText(header_safe(name))
    return calendar_address


def itip(
    ceremony: Ceremony, method: str, attendee: Recipient, lang: str, *, now: datetime | None = None
) -> bytes:
    """The edition as an iTIP REQUEST (invitation, update) or CANCEL for one attendee.

    The UID is the edition's and the SEQUENCE its current one, so an update replaces the
    event in the attendee's calendar and a REPLY can be matched to the edition.
    """
    config = current_app.config
    zone = ceremony.zone
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    year = ceremony.local_start.year
    calendar.add_component(vtimezone(ceremony.venue.timezone, year, ceremony.local_end.year))
    event = Event()
    event.add("uid", ceremony.uid)
    event.add("dtstamp", now or utcnow())
    event.add("sequence", ceremony.sequence)
    event.add("dtstart", ceremony.starts_at.astimezone(zone))
    event.add("dtend", ceremony.ends_at.astimezone(zone))
    cancel = method == "CANCEL"
    event.add("summary", summary(ceremony, lang, cancelled=cancel))
    event.add("location", location(ceremony.venue))
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancel else "OPAQUE")
    event.add("organizer", _address(config["MAIL_PROTOCOL_ADDRESS"], config["MAIL_PROTOCOL_NAME"]))
    guest = _address(attendee.address, attendee.name)
    guest.params["role"] = vText("REQ-PARTICIPANT")
    if not cancel:
        # Only a REQUEST asks for an answer (RFC 5546 3.2.2): a cancellation with
        # RSVP=TRUE made clients offer Accept/Decline for an event that is gone.
        guest.params["partstat"] = vText("NEEDS-ACTION")
        guest.params["rsvp"] = vText("TRUE")
    event.add("attendee", guest)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


# --- MIME ------------------------------------------------------------------------------


def html_body(text: str) -> str:
    """The plain text as simple HTML: escaped, paragraphs kept, links clickable."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = str(escape(block))
        linked = LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        '<body style="font-family: Georgia, serif; font-size: 15px; line-height: 1.5">\n'
        + "\n".join(paragraphs)
        + "\n</body></html>\n"
    )


@dataclass
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


@dataclass
class Outgoing:
    """Everything a message needs to be built, with the personal link filled in."""

    kind: MessageKind
    language: str
    to: Recipient
    subject: str
    body: str
    message_id: str
    calendar: bytes | None = None
    calendar_method: str = ""
    attachments: list[Attachment] | None = None


def build(outgoing: Outgoing, *, now: datetime | None = None) -> EmailMessage:
    """The email: multipart/mixed holding multipart/alternative (text, HTML and, for a
    calendar invitation, ``text/calendar; method=...``), then the .ics and other files.

    Outlook recognises an invitation only by the text/calendar alternative; other
    clients look for the attachment, so both carry the same bytes.
    """
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = header_safe(outgoing.subject)
    message["From"] = Address(
        header_safe(config["MAIL_FROM_NAME"]), addr_spec=config["MAIL_FROM_ADDRESS"]
    )
    message["To"] = Address(header_safe(outgoing.to.name), addr_spec=outgoing.to.address)
    message["Reply-To"] = Address(
        header_safe(config["MAIL_PROTOCOL_NAME"]), addr_spec=config["MAIL_PROTOCOL_ADDRESS"]
    )
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = outgoing.message_id
    if outgoing.kind == MessageKind.CONFIRMATION:
        # Sent because of the recipient's own action: no out-of-office answers, please.
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(outgoing.body)
    message.add_alternative(html_body(outgoing.body), subtype="html")
    if outgoing.calendar is not None:
        params: dict[str, Any] = {"method": outgoing.calendar_method}
        message.add_alternative(
            outgoing.calendar.decode("utf-8"), subtype="calendar", params=params
        )
        method = outgoing.calendar_method.lower()
        message.add_attachment(
            outgoing.calendar,
            maintype="application",
            subtype="ics",
            filename="cancel.ics" if method == "cancel" else "invite.ics",
        )
    for attachment in outgoing.attachments or []:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    # Last: set_content and the conversions to multipart move or drop Content-* headers.
    message["Content-Language"] = outgoing.language
    return message
