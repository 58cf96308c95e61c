"""What libical (Evolution's parser, through GObject introspection) makes of a calendar.

Run by the system's Python (/usr/bin/python3, with Debian's python3-gi and
gir1.2-ical-3.0), not the virtualenv's: reads iCalendar on stdin, prints JSON:
{"errors": [X-LIC-ERROR texts], "events": {UID: [start, end] as UTC epoch seconds}}.
Each DTSTART/DTEND is converted with the VTIMEZONE of the same calendar, never with
libical's own zone data: it is the VTIMEZONE that is under test.
"""

from __future__ import annotations

import json
import sys

# The system's gi, not the virtualenv's: no stubs.
import gi  # type: ignore[import-not-found]

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # type: ignore[import-not-found]  # noqa: E402

KIND = ICalGLib.ComponentKind
PROPERTY = ICalGLib.PropertyKind


def errors_in(component: ICalGLib.Component, found: list[str]) -> None:
    prop = component.get_first_property(PROPERTY.XLICERROR_PROPERTY)
    while prop is not None:
        found.append(prop.get_value_as_string())
        prop = component.get_next_property(PROPERTY.XLICERROR_PROPERTY)
    child = component.get_first_component(KIND.ANY_COMPONENT)
    while child is not None:
        errors_in(child, found)
        child = component.get_next_component(KIND.ANY_COMPONENT)


def epoch(prop: ICalGLib.Property, zones: dict[str, ICalGLib.Timezone]) -> int:
    moment = prop.get_value().get_datetime()
    parameter = prop.get_first_parameter(ICalGLib.ParameterKind.TZID_PARAMETER)
    if parameter is None:  # UTC (or floating, which the feeds never write)
        return int(moment.as_timet())
    zone = zones[parameter.get_tzid()]
    return int(moment.as_timet_with_zone(zone))


def main() -> None:
    text = sys.stdin.read()
    calendar = ICalGLib.Component.new_from_string(text)
    errors: list[str] = []
    if calendar is None:
        print(json.dumps({"errors": ["unparseable"], "events": {}}))
        return
    errors_in(calendar, errors)
    zones: dict[str, ICalGLib.Timezone] = {}
    vtimezone = calendar.get_first_component(KIND.VTIMEZONE_COMPONENT)
    while vtimezone is not None:
        zone = ICalGLib.Timezone.new()
        zone.set_component(vtimezone.clone())
        zones[zone.get_tzid()] = zone
        vtimezone = calendar.get_next_component(KIND.VTIMEZONE_COMPONENT)
    events = {}
    event = calendar.get_first_component(KIND.VEVENT_COMPONENT)
    while event is not None:
        start = event.get_first_property(PROPERTY.DTSTART_PROPERTY)
        end = event.get_first_property(PROPERTY.DTEND_PROPERTY)
        events[event.get_uid()] = [epoch(start, zones), epoch(end, zones)]
        event = calendar.get_next_component(KIND.VEVENT_COMPONENT)
    print(json.dumps({"errors": errors, "events": events}))


if __name__ == "__main__":
    main()
