"""What the planner announces to other capabilities (ARCHITECTURE.md: they meet through
signals), so that it needs to know none of them."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# An edition that had been published or cancelled before is published again (after a
# cancellation, or after being taken back to draft). Sender: the Ceremony, still in the
# transaction of the change (``session=`` the session; receivers flush nothing and never
# commit).
edition_republished = _signals.signal("edition-republished")
