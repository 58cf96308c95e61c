"""Why the planner refused a change."""

from __future__ import annotations

from app.refusals import Refusal


class CeremonyError(Refusal):
    """A rule about editions, series, venues or programme items refused the change."""


class EditConflict(Exception):
    """The form was made from an older version than the one stored."""
