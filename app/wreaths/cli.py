"""`flask wreaths order EDITION_SLUG [--json]`: the wreath order for scripts and people."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.cli import edition_for_command
from app.extensions import db
from app.wreaths.services import WreathEntry, wreath_order

wreaths_cli = AppGroup("wreaths", help="The wreath-laying order of editions.")


def entry_json(entry: WreathEntry) -> dict[str, Any]:
    """One wreath as `flask wreaths order --json` prints it."""
    return {
        "position": entry.position,
        "group": entry.group.name("en"),
        "organisation": entry.organisation.display_name("en"),
        "laid_by": entry.laid_by,
        "proxy": entry.proxy,
        "bearers": list(entry.bearers),
        "supplier": entry.supplier.value,
        "ribbon_text": entry.ribbon_text,
        "ribbon_colours": entry.colours,
        "manual": entry.pinned,
    }


@wreaths_cli.command("order")
@click.argument("edition_slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def order_command(edition_slug: str, as_json: bool) -> None:
    """Print EDITION_SLUG's wreath order (reading it changes nothing)."""
    ceremony = edition_for_command(edition_slug)
    with force_locale("en"):
        entries = wreath_order(db.session, ceremony)
        if as_json:
            click.echo(json.dumps([entry_json(e) for e in entries], ensure_ascii=False, indent=2))
            return
        for entry in entries:
            proxy = "  [by proxy]" if entry.proxy else ""
            click.echo(
                f"{entry.position:>3}  {entry.group.name('en'):<40} "
                f"{entry.organisation.display_name('en')} ({entry.laid_by}){proxy}"
            )
        if not entries:
            click.echo("No wreaths.")
