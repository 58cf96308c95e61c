"""Logs never hold personal links; production logs are JSON lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from app import create_app
from app.logs import JsonFormatter, mask_secrets

TOKEN = "Zx_" + "a" * 40


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'"GET /rsvp/{TOKEN} HTTP/1.1" 200', '"GET /rsvp/[hidden] HTTP/1.1" 200'),
        (f"/calendar/staff/{TOKEN}.ics", "/calendar/staff/[hidden].ics"),
        (f"/staff/letter-jobs/{TOKEN}/letters.zip", "/staff/letter-jobs/[hidden]/letters.zip"),
        ("/calendar/9-mei.ics", "/calendar/9-mei.ics"),
    ],
)
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected


def test_json_lines_in_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EREVELD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("EREVELD_LOG_FORMAT", raising=False)
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "p" * 48,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
        }
    )
    [handler] = app.logger.handlers
    assert isinstance(handler.formatter, JsonFormatter)
    with app.test_request_context(f"/rsvp/{TOKEN}", environ_base={"REMOTE_ADDR": "203.0.113.5"}):
        record = logging.LogRecord(
            "app", logging.WARNING, __file__, 1, "refused %s", (f"/rsvp/{TOKEN}",), None
        )
        line = json.loads(handler.format(record))
    assert line["level"] == "WARNING"
    assert line["message"] == "refused /rsvp/[hidden]"
    assert line["path"] == "/rsvp/[hidden]"
    assert line["address"] == "203.0.113.5"
    assert TOKEN not in json.dumps(line)
