"""Times on the clinician's pages: stored in UTC, shown in the clinician's time zone, which the page
names. The zone is the clinician's browser's, sent once (webapp/static/js/clinician/time-zone.js),
or one they chose; until then UTC."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_login import current_user

FORMAT = "%Y-%m-%d %H:%M"


def _tzinfo(name: str) -> tzinfo | None:
    """The zone of an IANA name from the system's time-zone data (Debian's tzdata), or None."""
    if name == "UTC":
        return UTC  # needs no data
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def valid_zone(name: str) -> str | None:
    """The IANA zone name if this server knows it (e.g. "Europe/London"), else None."""
    name = (name or "").strip()
    if len(name) > 64 or name not in zone_choices():
        return None
    return name if _tzinfo(name) is not None else None


def zone_name() -> str:
    """The clinician's zone; UTC until they have one, or when this server no longer knows theirs."""
    stored = getattr(current_user, "time_zone", None) if current_user.is_authenticated else None
    return stored if stored and _tzinfo(stored) is not None else "UTC"


def local_time(value: datetime | None, fmt: str = FORMAT) -> str:
    """A stored (naive UTC) time in the clinician's zone; the page says which zone (zone_name)."""
    if value is None:
        return "—"
    return value.replace(tzinfo=UTC).astimezone(_tzinfo(zone_name())).strftime(fmt)


def zone_choices() -> list[str]:
    return sorted(available_timezones() | {"UTC"})
