"""Writing the audit log. Services call ``record``; it flushes with their change."""

from __future__ import annotations

from typing import Any

from app.audit.models import AuditEntry
from app.extensions import DbSession
from app.types import utcnow


def record(
    session: DbSession,
    *,
    action: str,
    object_type: str,
    object_id: int | None,
    changes: dict[str, Any] | None = None,
    actor_user_id: int | None = None,
    actor_label: str = "",
    reason: str = "",
    address: str = "",
) -> AuditEntry:
    """Add an audit entry in the caller's transaction (it commits or rolls back with it)."""
    entry = AuditEntry(
        at=utcnow(),
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=changes or {},
        reason=reason,
        address=address,
    )
    session.add(entry)
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{"field": [old, new]} for the fields that changed, JSON-safe."""
    return {
        key: [_plain(before.get(key)), _plain(value)]
        for key, value in after.items()
        if before.get(key) != value
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
