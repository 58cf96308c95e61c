"""Forms of the outbox: a draft's text, staff's mail texts, an edition's mail settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import LongTextField, TextField

KIND_LABELS: dict[str, Any] = {
    "invitation": _l("Invitation"),
    "reminder": _l("Reminder"),
    "confirmation": _l("Confirmation of a reply"),
    "update": _l("Change notice"),
    "cancellation": _l("Cancellation"),
    "practical": _l("Practical note"),
}
STATUS_LABELS: dict[str, Any] = {
    "draft": _l("draft"),
    "queued": _l("queued"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "cancelled": _l("withdrawn"),
}


class TextForm(FlaskForm):
    """Staff's own text for one kind and language."""

    subject = TextField(_l("Subject"), [InputRequired(), Length(max=300)])
    body = LongTextField(_l("Text"), [InputRequired(), Length(max=20000)])


class MessageTextForm(TextForm):
    """One draft's text; ``version`` is the one the form was made from."""

    version = HiddenField()


class MailSettingsForm(FlaskForm):
    """What an edition's invitations say and when its reminders go."""

    rsvp_deadline = DateField(_l("Reply deadline"), [Optional()])
    cohosts = TextField(_l("Hosts named on letters and emails"), [Length(max=500)])
    dress_code = TextField(_l("Dress"), [Length(max=200)])
    reminder_days = IntegerField(
        _l("Remind those who have not replied, days before the deadline (empty: never)"),
        [Optional(), NumberRange(min=0, max=60)],
    )
    practical_days = IntegerField(
        _l("Practical note to accepted delegations, days before the ceremony (empty: never)"),
        [Optional(), NumberRange(min=0, max=60)],
    )
    version = HiddenField()


class CalendarReplyForm(FlaskForm):
    """A calendar reply someone forwarded, saved as an .eml file."""

    message = FileField(_l("Email with the calendar reply (.eml)"))


class ConfirmReplyForm(FlaskForm):
    """The reply read from a dropped .eml, signed, to apply once staff have looked."""

    reply = HiddenField()


REVIEW_REASON_LABELS: dict[str, Any] = {
    "not_invited": _l("this address was not invited to the edition"),
    "cancelled": _l("the ceremony is cancelled"),
    "sender_differs": _l("the sender is not the invited address"),
    "not_authenticated": _l("the sender's domain was not authenticated (DKIM/DMARC)"),
    "older_sequence": _l("answers an older version of the edition"),
    "newer_sequence": _l("answers a version we never sent"),
    "tentative": _l("tentative: phone them to ask"),
    "not_an_answer": _l("neither accepts nor declines"),
    "deadline_passed": _l("the deadline has passed"),
    "refused": _l("refused by a rule of the reply page"),
}
PARTSTAT_LABELS: dict[str, Any] = {
    "ACCEPTED": _l("accepts"),
    "DECLINED": _l("declines"),
    "TENTATIVE": _l("tentative"),
}
REVIEW_STATUS_LABELS: dict[str, Any] = {
    "pending": _l("to review"),
    "applied": _l("applied"),
    "discarded": _l("discarded"),
}
