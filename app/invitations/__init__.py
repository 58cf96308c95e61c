"""Invitations, policies, and the delegation's reply through its personal link."""
