"""Automatic audit entries for the planner's own tables.

Every flush that creates, changes or deletes an edition, programme item, series, venue,
staff account or setting writes one audit row per object with the changed fields
(before/after), the acting staff member and their address. It sits under the services,
so no code path can forget it. Capabilities with richer events (invitations, contacts,
wreaths) call app.audit.services.record themselves and are not listed here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Session, attributes, object_session

from app.audit.models import AuditEntry
from app.auth.models import User
from app.ceremonies.models import Ceremony, CeremonySeries, ProgrammeItem, Venue
from app.settings.models import Setting
from app.types import utcnow

AUDITED: dict[type, str] = {
    Ceremony: "ceremony",
    ProgrammeItem: "programme_item",
    CeremonySeries: "series",
    Venue: "venue",
    User: "user",
    Setting: "setting",
}
# Secrets never go into the log; neither do bookkeeping columns.
SKIPPED = frozenset({"password_hash", "session_token", "version", "updated_at", "created_at"})


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)


# Personal data (tagged columns) is logged as changed, never copied into the log: the
# log outlives erasure requests and must not become a second copy of the contacts.
HIDDEN = "(personal data)"


def _columns(obj: object) -> list[tuple[str, bool]]:
    mapper = sa.inspect(type(obj))
    return [
        (c.key, "personal" in c.columns[0].info)
        for c in mapper.column_attrs
        if c.key not in SKIPPED
    ]


def _shown(value: Any, personal: bool) -> Any:
    if personal and value not in (None, ""):
        return HIDDEN
    return _plain(value)


def _changes(obj: object, kind: str) -> dict[str, Any]:
    if kind == "created":
        return {k: [None, _shown(getattr(obj, k), p)] for k, p in _columns(obj)}
    if kind == "deleted":
        return {k: [_shown(getattr(obj, k), p), None] for k, p in _columns(obj)}
    changed = {}
    for key, personal in _columns(obj):
        history = attributes.get_history(obj, key)
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            changed[key] = [_shown(before, personal), _shown(after, personal)]
    return changed


def _actor(session: Session | None) -> tuple[int | None, str, str]:
    if not has_request_context():
        return None, "command line", ""
    user_id = None
    if session is not None:
        with session.no_autoflush:
            user_id = current_user.id if current_user.is_authenticated else None
    return user_id, "", request.remote_addr or ""


def _write(kind: str, connection: sa.Connection, target: object) -> None:
    """One entry, written on the flush's own connection (mapper events may not add
    objects to the session, and orphans deleted by a cascade appear only here)."""
    name = AUDITED[type(target)]
    changes = _changes(target, kind)
    if kind == "changed" and not changes:
        return
    if name == "setting":
        changes = {"key": [None, getattr(target, "key", None)], **changes}
    # The key attribute, not the identity: during an insert the identity is not set yet.
    key = getattr(target, "id", None)
    object_id = key if isinstance(key, int) else None
    user_id, label, address = _actor(object_session(target))
    connection.execute(
        sa.insert(AuditEntry),
        [
            {
                "at": utcnow(),
                "actor_user_id": user_id,
                "actor_label": label,
                "reason": "",
                "address": address,
                "action": f"{name}.{kind}",
                "object_type": name,
                "object_id": object_id,
                "changes": changes,
            }
        ],
    )


def _inserted(mapper: object, connection: sa.Connection, target: object) -> None:
    _write("created", connection, target)


def _updated(mapper: object, connection: sa.Connection, target: object) -> None:
    _write("changed", connection, target)


def _deleted(mapper: object, connection: sa.Connection, target: object) -> None:
    _write("deleted", connection, target)


_listening = False


def install() -> None:
    global _listening
    if _listening:
        return
    for model in AUDITED:
        sa.event.listen(model, "after_insert", _inserted)
        sa.event.listen(model, "after_update", _updated)
        sa.event.listen(model, "after_delete", _deleted)
    _listening = True
