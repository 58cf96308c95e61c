"""Why the planner refused a change."""

from __future__ import annotations


class CeremonyError(Exception):
    """A rule refused the change; ``field`` names the form field to blame, if any."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class EditConflict(Exception):
    """The form was made from an older version than the one stored."""
