"""An iCalendar (RFC 5545) file of visits, to save on a phone's calendar from /jadwal.

Written by hand, it is small: CRLF line ends, lines folded at 75 octets (never inside a UTF-8 character), TEXT
values escaped (backslash, semicolon, comma, new line), a stable UID per visit and a SEQUENCE that grows when the
visit moves, so a calendar app updates the event it already has. Times are UTC (``...Z``), which every calendar
shows in the phone's own time zone, so no VTIMEZONE is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bot.visits.service import Visit

PRODID = "-//Sambang//Ngantor di Kecamatan//ID"


def escape_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after CRLF and one space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    pieces: list[str] = []
    current = b""
    limit = 75
    for char in line:
        b = char.encode("utf-8")
        if len(current) + len(b) > limit:
            pieces.append(current.decode("utf-8"))
            current = b""
            limit = 74  # continuation lines start with a space
        current += b
    pieces.append(current.decode("utf-8"))
    return "\r\n ".join(pieces)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(visits: Iterable[Visit], *, now: datetime, domain: str = "sambang", name: str = "Ngantor di Kecamatan",
             alarm: Callable[[Visit], bool] | None = None) -> str:
    """The calendar of ``visits``; each has a reminder the evening before, or only those ``alarm`` picks."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for v in visits:
        description = v.agenda or "Bupati berkantor di kecamatan dan mendengar langsung kepala desa."
        if v.departments:
            description += f"\nOPD hadir: {', '.join(v.departments)}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:visit-{v.id}@{domain}",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(v.starts_at)}",
            f"DTEND:{_utc(v.ends_at)}",
            f"SEQUENCE:{v.revision - 1}",
            f"STATUS:{'CANCELLED' if v.cancelled else 'CONFIRMED'}",
            f"SUMMARY:{escape_text(f'Ngantor di Kecamatan {v.kecamatan_name}')}",
            f"LOCATION:{escape_text(v.place)}",
            f"DESCRIPTION:{escape_text(description)}",
        ]
        if alarm is None or alarm(v):
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "TRIGGER:-PT12H",
                f"DESCRIPTION:{escape_text(f'Besok: Ngantor di Kecamatan {v.kecamatan_name}')}",
                "END:VALARM",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
