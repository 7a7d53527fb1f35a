"""`--since` and `--until`: a duration back from now (`90s`, `30m`, `24h`, `7d`, `2w`) or a time.

A time is ISO 8601 (`2026-11-22`, `2026-11-22T14:00`, `...Z`, `...+02:00`). One without an
offset is local time, as a person at the terminal means it. Everything becomes epoch
seconds, the unit of the store's indexed `start_time` column.
"""

from __future__ import annotations

import datetime as dt
import re
import time

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")


def parse_moment(text: str, now: float | None = None) -> float:
    """Epoch seconds for `text`; ValueError with the accepted forms otherwise."""
    value = text.strip()
    match = _DURATION.match(value.lower())
    if match:
        reference = time.time() if now is None else now
        return reference - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (90s, 30m, 24h, 7d, 2w) nor an ISO time "
            "(2026-11-22, 2026-11-22T14:00, 2026-11-22T14:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive: the local time zone
    return moment.timestamp()


def window(
    since: str | None, until: str | None, now: float | None = None
) -> tuple[float | None, float | None]:
    """The `[since, until)` bounds; ValueError when they are the wrong way round."""
    start = None if since is None else parse_moment(since, now)
    end = None if until is None else parse_moment(until, now)
    if start is not None and end is not None and start >= end:
        raise ValueError(f"--since {since} is not before --until {until}")
    return start, end
