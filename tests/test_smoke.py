"""Every staff page renders for a planner and an admin on demo data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from app.auth.models import Role
from app.ceremonies.models import Ceremony


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PLANNER, Role.ADMIN])
def test_pages_render(
    client: FlaskClient,
    login: Callable[[Role], object],
    edition: Callable[..., Ceremony],
    role: Role,
) -> None:
    ceremony = edition("4-mei", 2026)
    login(role)
    item_id = ceremony.items[0].id
    pages = [
        "/staff/ceremonies?year=2026",
        f"/staff/ceremonies/{ceremony.slug}",
        "/staff/series",
        "/staff/venues",
        "/staff/account",
    ]
    if role != Role.VIEWER:
        pages += [
            "/staff/ceremonies/new",
            f"/staff/ceremonies/{ceremony.slug}/edit",
            f"/staff/ceremonies/{ceremony.slug}/items/new",
            f"/staff/ceremonies/{ceremony.slug}/items/{item_id}/edit",
            "/staff/series/new",
            "/staff/series/4-mei/edit",
            "/staff/venues/new",
            "/staff/venues/1/edit",
        ]
    if role == Role.ADMIN:
        pages += ["/staff/users", "/staff/users/new", "/staff/users/1/edit", "/staff/settings"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
