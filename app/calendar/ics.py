"""A small, fast iCalendar writer for the feeds' hot path.

icalendar builds and folds every property through several objects; a ten-year feed took
about 40 ms that way, and feeds are rebuilt after every change. The subset written here
(TEXT escaping, UTC and TZID date-times, integers, URIs) is small enough to write
directly, and every feed is read back in the tests by icalendar and by Mozilla's ical.js.
VTIMEZONEs still come from icalendar (see timezones.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_OCTETS = 75


def text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and line break escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def local(moment: datetime) -> str:
    """A date-time as written beside a TZID (strftime costs more than the whole event)."""
    m = moment
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}"


def utc(moment: datetime) -> str:
    return local(moment.astimezone(UTC)) + "Z"


def fold(line: str) -> bytes:
    """One content line as CRLF-terminated octets, folded at 75 octets.

    A fold never splits a UTF-8 character: it backs up over continuation bytes.
    """
    data = line.encode("utf-8")
    if len(data) <= MAX_OCTETS:
        return data + b"\r\n"
    parts = []
    start = 0
    limit = MAX_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # inside a character: fold before it
            end -= 1
        parts.append(data[start:end])
        start = end
        limit = MAX_OCTETS - 1  # continuation lines begin with a space
    parts.append(data[start:])
    return b"\r\n ".join(parts) + b"\r\n"


def lines(properties: list[str]) -> bytes:
    return b"".join(fold(line) for line in properties)
