"""An iCalendar (RFC 5545) file of visits, to save on a phone's calendar from /jadwal.

The file is built with the ``icalendar`` package rather than by hand: it is well kept, and it owns the parts of
RFC 5545 that are easy to get subtly wrong (TEXT escaping of backslashes, semicolons, commas and new lines; folding
long lines at 75 octets without splitting a UTF-8 character; CRLF line ends; date-time and duration values), and
tests can read the file back with the same library. What is ours: a stable UID per visit and a SEQUENCE that grows
when the visit moves, so a calendar app updates the event it already has. Times are UTC (``...Z``), which every
calendar shows in the phone's own time zone, so no VTIMEZONE is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from bot.core.wording import phrases, plain
from bot.visits.service import Visit

PRODID = "-//Sambang//Ngantor di Kecamatan//ID"
#: The phone reminds of a visit the evening before it starts.
REMINDER = timedelta(hours=-12)


def _utc(moment: datetime) -> datetime:
    """UTC without sub-second parts, so the file says ``20260312T020000Z``."""
    return moment.astimezone(UTC).replace(microsecond=0)


def calendar(visits: Iterable[Visit], *, now: datetime, domain: str = "sambang", name: str | None = None,
             alarm: Callable[[Visit], bool] | None = None) -> str:
    """The calendar of ``visits``; each has a reminder the evening before, or only those ``alarm`` picks."""
    # Imported here: few people ask for the .ics, and icalendar (with dateutil) costs the bot ~3 MB of memory.
    from icalendar import Alarm, Calendar, Event

    words = phrases("visits/ics")
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name or words["calendar_name"])
    for v in visits:
        description = v.agenda or words["description"]
        if v.departments:
            description += f"\nOPD hadir: {', '.join(v.departments)}"
        event = Event()
        event.add("uid", f"visit-{v.id}@{domain}")
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(v.starts_at))
        event.add("dtend", _utc(v.ends_at))
        event.add("sequence", v.revision - 1)
        event.add("status", "CANCELLED" if v.cancelled else "CONFIRMED")
        event.add("summary", plain("visits/ics_summary", kecamatan=v.kecamatan_name))
        event.add("location", v.place)
        event.add("description", description)
        if alarm is None or alarm(v):
            reminder = Alarm()
            reminder.add("action", "DISPLAY")
            reminder.add("trigger", REMINDER)
            reminder.add("description", plain("visits/ics_reminder", kecamatan=v.kecamatan_name))
            event.add_component(reminder)
        cal.add_component(event)
    text: str = cal.to_ical(sorted=False).decode("utf-8")
    return text  # the order the properties were added in
