"""Error pages in the visitor's language; never a stack trace.

When the database is down, locked or being restored, the page is built without it: the
usual layout asks the database who is logged in, so these pages have a layout of their
own and take the language from the request alone.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, current_app, g, jsonify, render_template, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.wrappers import Response

from app.extensions import db
from app.i18n import force_locale

logger = logging.getLogger(__name__)

# Seconds a client is told to wait (Retry-After) when the database did not answer.
DATABASE_RETRY_AFTER = 30
# Paths whose clients read JSON rather than a page.
JSON_PREFIXES = ("/api/", "/healthz")
# Errors that mean "the database is not there right now", not "this request is wrong":
# refused or timed-out connections, a SQLite file locked by another process.
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def visitor_language() -> str:
    """The visitor's language without the database: ?lang=, the session, the browser."""
    languages = tuple(current_app.config["LANGUAGES"])
    for asked in (request.args.get("lang"), session.get("lang")):
        if asked in languages:
            return str(asked)
    best = request.accept_languages.best_match(languages)
    return best or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def render_without_database(kind: str, language: str) -> str:
    """The unavailable page, rendered past Flask's context processors: Flask-Login's puts
    ``current_user`` in every template's context, and loading it asks the database."""
    with force_locale(language):
        template = current_app.jinja_env.get_template("errors/unavailable.html")
        return template.render(kind=kind, language=language)


def unavailable(kind: str, reason: str, retry_after: int) -> Response:
    """503 with Retry-After: a page in the visitor's language, or JSON for API clients."""
    g.database_unavailable = True  # nothing after this may ask the database (the locale)
    response: Response
    if request.path.startswith(JSON_PREFIXES):
        response = jsonify(status="unavailable", reason=kind, detail=reason)
    else:
        page = render_without_database(kind, visitor_language())
        response = Response(page, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def first_line(error: BaseException) -> str:
    """The driver's own first line ("connection refused", "database is locked")."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _rollback() -> None:
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        logger.debug("rollback failed as well; the session is discarded", exc_info=True)
    db.session.remove()


def register(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def bad_host(error: SecurityError) -> tuple[str, int, dict[str, str]]:
        # A Host header outside TRUSTED_HOSTS: no page can be built for it (every link
        # would use that host), so a plain answer.
        return "Unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int] | Response:
        try:
            return render_template("errors/csrf.html"), 400
        except UNAVAILABLE as down:  # the layout asks who is logged in
            return database_unavailable(down)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException | Response:
        if error.code is None or error.code < 400:
            return error
        try:
            return render_template("errors/error.html", error=error), error.code
        except UNAVAILABLE as down:  # the layout asks who is logged in
            return database_unavailable(down)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> tuple[str, int] | Response:
        original = error.original_exception
        if isinstance(original, UNAVAILABLE):
            return database_unavailable(original)
        _rollback()
        try:
            return render_template("errors/error.html", error=error), 500
        except Exception:  # the layout needs the database; this page must not
            logger.exception("the error page could not be built with its layout")
            page = render_without_database("error", visitor_language())
            return Response(page, status=500, mimetype="text/html")

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)
    def database_unavailable(error: Exception) -> Response:
        logger.warning("database unavailable: %s", first_line(error))
        _rollback()
        return unavailable("database", "database unavailable", DATABASE_RETRY_AFTER)
