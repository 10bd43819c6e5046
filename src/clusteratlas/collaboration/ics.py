"""An agenda as an iCalendar file (RFC 5545), written by hand: no library needed for the few
properties a meeting has.

One ``VEVENT`` per meeting, with a stable ``UID`` (``meeting-<id>@<host>``) so that calendars
update the same entry when the schedule changes, and ``SEQUENCE`` = the schedule's version.
Times are in UTC (``…Z``). Text values are escaped (``\\``, ``;``, ``,``, newlines) and lines
folded at 75 octets, with CRLF line ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from clusteratlas.collaboration.models import utcnow
from clusteratlas.collaboration.schedules import Agenda, AgendaItem

__all__ = ["agenda_ics", "escape_text", "fold", "format_utc"]

CRLF = "\r\n"
#: at most this many octets per line, line break excluded (RFC 5545 section 3.1)
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 section 3.3.11): backslash, semicolon, comma and newlines
    escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def format_utc(moment: datetime) -> str:
    """``20300514T070000Z``: a date-time in UTC."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold a content line into lines of at most 75 octets (UTF-8), continuation lines starting
    with one space; a character is never split."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > MAX_OCTETS:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return CRLF.join(out)


def _description(agenda: Agenda, item: AgendaItem) -> str:
    partner = item.partner
    lines = [f"Meeting with {partner.display_name}"]
    if item.organisation:
        lines[0] += f" ({item.organisation})"
    if partner.job_title:
        lines.append(partner.job_title)
    if partner.headline:
        lines.append(partner.headline)
    lines.append(f"Where: {item.location}")
    if item.standby:
        lines.append("Arranged on the day from the standby list.")
    lines.append(f"{agenda.event.title}, schedule version {agenda.version}")
    return "\n".join(lines)


def _location(agenda: Agenda, item: AgendaItem) -> str:
    if item.online:
        return item.link or "Online"
    venue = agenda.event.venue
    table = f"Table {item.table}" if item.table is not None else "Table to be announced"
    return f"{table}, {venue}" if venue else table


def _vevent(agenda: Agenda, item: AgendaItem, *, host: str, stamp: str) -> Iterable[str]:
    summary = f"Meeting with {item.partner_name}"
    if item.organisation:
        summary += f" ({item.organisation})"
    yield "BEGIN:VEVENT"
    yield f"UID:meeting-{item.meeting_id}@{host}"
    yield f"DTSTAMP:{stamp}"
    yield f"DTSTART:{format_utc(item.start)}"
    yield f"DTEND:{format_utc(item.end)}"
    yield f"SEQUENCE:{agenda.version}"
    yield f"SUMMARY:{escape_text(summary)}"
    yield f"LOCATION:{escape_text(_location(agenda, item))}"
    yield f"DESCRIPTION:{escape_text(_description(agenda, item))}"
    if item.link:
        yield f"URL:{item.link}"
    yield "STATUS:CONFIRMED"
    yield "TRANSP:OPAQUE"
    yield "END:VEVENT"


def agenda_ics(agenda: Agenda, *, host: str = "clusteratlas", now: datetime | None = None) -> str:
    """``agenda`` as an iCalendar document (``text/calendar``), one event per meeting.

    ``host`` makes the UIDs unique worldwide (the site's host name); ``now`` is the DTSTAMP.
    """
    stamp = format_utc(now or utcnow())
    name = f"{agenda.event.title}: {agenda.participant.display_name}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cluster Atlas//Matchmaking agenda//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for item in agenda.items:
        lines.extend(_vevent(agenda, item, host=host, stamp=stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
