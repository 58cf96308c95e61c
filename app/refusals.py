"""The one shape of a service's refusal, shared by every capability."""

from __future__ import annotations


class Refusal(Exception):
    """A rule refused the change; ``field`` names the form field to blame, if any.

    Each capability raises its own subclass (CeremonyError, InvitationError...), so a view
    catches only the refusals of the services it calls and shows them on its form.
    """

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
