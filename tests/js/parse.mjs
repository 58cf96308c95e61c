// Reads an iCalendar file on stdin with Mozilla's ical.js (Thunderbird's parser) and
// prints what a client would see as JSON: calendar properties and every event, with its
// start and end converted to UTC through the VTIMEZONE the file itself carries.
import ICAL from "ical.js";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;

const root = new ICAL.Component(ICAL.parse(input));
for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}
const text = (component, name) => {
  const value = component.getFirstPropertyValue(name);
  return value === null ? null : value.toString();
};
const events = root.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    summary: event.summary,
    description: event.description,
    location: event.location,
    sequence: event.sequence,
    status: text(vevent, "status"),
    url: text(vevent, "url"),
    tzid: vevent.getFirstProperty("dtstart").getParameter("tzid"),
    start_utc: event.startDate.toJSDate().toISOString(),
    end_utc: event.endDate.toJSDate().toISOString(),
    organizer: text(vevent, "organizer"),
    attendees: vevent.getAllProperties("attendee").map((p) => ({
      address: p.getFirstValue(),
      cn: p.getParameter("cn") ?? null,
      partstat: p.getParameter("partstat") ?? null,
      rsvp: p.getParameter("rsvp") ?? null,
      role: p.getParameter("role") ?? null,
    })),
  };
});
console.log(JSON.stringify({
  method: text(root, "method"),
  name: text(root, "name"),
  calname: text(root, "x-wr-calname"),
  refresh: text(root, "refresh-interval"),
  ttl: text(root, "x-published-ttl"),
  timezones: root.getAllSubcomponents("vtimezone").map((tz) => text(tz, "tzid")),
  events,
}));
