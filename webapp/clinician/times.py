"""Times on the clinician's pages: stored in UTC, shown in the clinician's time zone, which the page
names. The zone is the clinician's browser's, sent once (webapp/static/js/clinician/time-zone.js),
or one they chose; until then UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_login import current_user

FORMAT = "%Y-%m-%d %H:%M"


def valid_zone(name: str) -> str | None:
    """The IANA zone name if this server knows it (e.g. "Europe/London"), else None."""
    name = (name or "").strip()
    if not name or len(name) > 64 or name not in available_timezones() and name != "UTC":
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def zone_name() -> str:
    stored = getattr(current_user, "time_zone", None) if current_user.is_authenticated else None
    return stored or "UTC"


def local_time(value: datetime | None, fmt: str = FORMAT) -> str:
    """A stored (naive UTC) time in the clinician's zone; the page says which zone (zone_name)."""
    if value is None:
        return "—"
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(zone_name())).strftime(fmt)


def zone_choices() -> list[str]:
    return sorted(available_timezones() | {"UTC"})
