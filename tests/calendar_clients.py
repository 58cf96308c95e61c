"""How the calendar tests read feeds: raw bytes, icalendar, and Mozilla's ical.js."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from icalendar import Calendar

JS_DIR = Path(__file__).parent / "js"


def ical_js(body: bytes) -> dict[str, Any]:
    """What Thunderbird's parser makes of a feed (events with UTC start and end)."""
    if not (JS_DIR / "node_modules" / "ical.js").exists():
        raise RuntimeError("ical.js is not installed: run `make test` (npm ci in tests/js)")
    result = subprocess.run(
        ["node", str(JS_DIR / "parse.mjs")],
        input=body,
        capture_output=True,
        check=True,
        timeout=60,
    )
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def parse(body: bytes) -> Calendar:
    """icalendar, the library that wrote it, reading it back."""
    return Calendar.from_ical(body)


def check_wire_rules(body: bytes) -> None:
    """RFC 5545 on the raw bytes: CRLF, 75-octet lines, whole UTF-8 characters, no BOM."""
    assert not body.startswith(b"\xef\xbb\xbf"), "BOM"
    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")[:-1]
    for line in lines:
        assert b"\n" not in line, f"bare line break in {line!r}"
        assert b"\r" not in line, f"bare line break in {line!r}"
        assert len(line) <= 75, f"{len(line)} octets: {line!r}"
        line.decode("utf-8")  # a fold that split a character fails here
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-1] == b"END:VCALENDAR"


def unfolded(body: bytes) -> list[str]:
    """The logical content lines."""
    return body.decode().replace("\r\n ", "").split("\r\n")
