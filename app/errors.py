"""Error pages in the visitor's language; never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from app.extensions import db


def register(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def bad_host(error: SecurityError) -> tuple[str, int, dict[str, str]]:
        # A Host header outside TRUSTED_HOSTS: no page can be built for it (every link
        # would use that host), so a plain answer.
        return "Unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/error.html", error=error), 500
