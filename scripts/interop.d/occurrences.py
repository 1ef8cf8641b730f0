"""Expected occurrences of the interop corpus calendars (issue 15, C4).

Computed once by an independent RFC 5545 implementation, the PyPI packages
`icalendar` and `recurring-ical-events` (pins in scripts/interop-expected),
and stored beside each calendar as NAME.occurrences; the Rust test
(tests/e2e/interop_calendar.rs) lists the same with crmsync and compares,
without Python.

Format, one line per VEVENT occurrence: UID, start and end separated by
tabs. A date stays a date (YYYY-MM-DD); a date-time is its UTC instant
(YYYY-MM-DDTHH:MM:SSZ), a floating one read as if UTC. Lines are sorted;
only the first LIMIT are kept (and the ones that start with the last kept).
A calendar the library cannot read gets one line: `error<TAB>message`.
"""

import datetime as dt
import sys
from pathlib import Path

import icalendar
import recurring_ical_events

WINDOW = (dt.datetime(1970, 1, 1), dt.datetime(2040, 1, 1))
LIMIT = 200


def text(t):
    if isinstance(t, dt.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.strftime("%Y-%m-%d")


def key(line):
    uid, start, end = line.split("\t")
    # Dates sort at their midnight, like the date-times of that day.
    return (start[:10], start[10:] or "T00:00:00Z", uid, end)


def occurrences(path):
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    lines = []
    for ev in recurring_ical_events.of(cal, components=["VEVENT"]).between(*WINDOW):
        lines.append("\t".join([str(ev.get("UID", "")), text(ev.start), text(ev.end)]))
    lines.sort(key=key)
    if len(lines) > LIMIT:
        last = key(lines[LIMIT - 1])[:2]
        lines = [l for i, l in enumerate(lines) if i < LIMIT or key(l)[:2] == last]
    return lines


def main(folder):
    for path in sorted(Path(folder).glob("*.ics")):
        try:
            lines = occurrences(path)
        except Exception as e:  # the library's verdict, recorded as such
            lines = ["error\t" + type(e).__name__]
        out = path.with_suffix(".occurrences")
        out.write_text("".join(l + "\n" for l in lines))
        print(f"{out}: {len(lines)}")


if __name__ == "__main__":
    main(sys.argv[1])
