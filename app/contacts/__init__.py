"""Contacts: organisations, people, appointments, groups, diplomatic precedence."""
