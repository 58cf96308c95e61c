"""The app as the benchmark serves it: the real app plus a bare baseline route."""

from __future__ import annotations

from flask import Flask

from app import create_app


def bare() -> str:
    return "ok"


def make_app() -> Flask:
    application = create_app()
    # The baseline: what Flask itself costs for a route that does nothing.
    application.add_url_rule("/bench/bare", "bench_bare", bare)
    return application


app = make_app()
