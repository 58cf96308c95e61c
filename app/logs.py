"""Logging: secrets masked everywhere, JSON lines in production.

Personal links carry their credential in the path (/rsvp/<token>, /calendar/staff/
<token>.ics, /staff/letter-jobs/<id>); every logger that prints paths gets a filter that
replaces them. In production (LOG_FORMAT "json") each record is one JSON object on
stderr with the request's method, masked path and address: no form data, no names.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context, request

SECRETS_IN_PATHS = re.compile(
    r"(?P<prefix>/rsvp/|/calendar/staff/|/staff/letter-jobs/)[^/\s?#\"'.]+"
)
# Werkzeug's request log, gunicorn's access and error logs, and Flask's own
# "Exception on /path" records all print the path.
PATH_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def mask_secrets(text: str) -> str:
    """Paths with their secret part replaced by [hidden]."""
    return SECRETS_IN_PATHS.sub(r"\g<prefix>[hidden]", text)


def _masked(value: object) -> object:
    return mask_secrets(value) if isinstance(value, str) else value


class SecretMaskingFilter(logging.Filter):
    """Masks tokens in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(arg) for key, arg in record.args.items()}
        return True


secret_filter = SecretMaskingFilter()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the request."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        if has_request_context():
            entry["method"] = request.method
            entry["path"] = mask_secrets(request.path)
            entry["address"] = request.remote_addr
        if record.exc_info:
            entry["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask) -> None:
    """Install the masking filter (always) and the JSON format (when configured)."""
    loggers = [*(logging.getLogger(name) for name in PATH_LOGGERS), app.logger]
    for logger in loggers:
        if secret_filter not in logger.filters:
            logger.addFilter(secret_filter)
    if app.config.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(secret_filter)
        app.logger.handlers = [handler]
        app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
        app.logger.propagate = False
