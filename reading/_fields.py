"""Field values: validation and normalisation of what users type (dates, ratings, statuses, authors, tags)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from ._types import Paper

STATUSES = ("to-read", "reading", "read")
# fields a user may type by hand; those typed are remembered so a later refresh never overwrites them
MANUAL_FIELDS = ("title", "authors", "year", "venue", "abstract", "doi")


@dataclass
class AddResult:
    """What :meth:`Log.add` did: the paper as now stored, whether it is new, a one-line warning if any, and the day
    of the read this call logged (None when it logged none: a ``to-read`` paper, or that day was logged before)."""

    paper: Paper
    created: bool
    message: str | None = None
    read_logged: str | None = None


def now_iso() -> str:
    """Local time with its UTC offset, to the second: the first 10 characters are the local date."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def parse_date(value: str | dt.date | None, what: str = "date") -> str | None:
    """``YYYY-MM-DD`` of ``value`` (a date, an ISO string, ``today`` or ``yesterday``), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip().lower()
    if text == "today":
        return dt.date.today().isoformat()
    if text == "yesterday":
        return (dt.date.today() - dt.timedelta(days=1)).isoformat()
    try:
        if not text[:10].isascii():
            raise ValueError(text)
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InvalidInput(f"bad {what} {value!r}: use YYYY-MM-DD, 'today' or 'yesterday'") from None


def parse_read_date(value: str | dt.date | None) -> str | None:
    """A read date as :func:`parse_date`, refused when it lies in the future (a day of slack for time zones)."""
    day = parse_date(value, "read date")
    if day is not None and dt.date.fromisoformat(day) > dt.date.today() + dt.timedelta(days=1):
        raise InvalidInput(f"bad read date {value!r}: it is in the future")
    return day


def parse_timestamp(value: Any, what: str = "added_at") -> str | None:
    """An ISO date or date-time (``2026-11-30`` or ``2026-11-30T09:15:00+01:00``) as given, or None.

    Raises:
        InvalidInput: anything else (the log sorts and filters on these strings, so they must be ISO).
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"bad {what} {str(value)[:40]!r}: use an ISO date-time, e.g. 2026-11-30T09:15:00") from None
    if not text[:4].isdigit() or not text[:1].isascii():
        raise InvalidInput(f"bad {what} {str(value)[:40]!r}: use an ISO date-time, e.g. 2026-11-30T09:15:00")
    return text


def split_authors(authors: str | Iterable[str] | None) -> list[str]:
    """Authors as a list: a string is split on semicolons (``"Kaiming He; Xiangyu Zhang"``)."""
    if authors is None:
        return []
    items = authors.split(";") if isinstance(authors, str) else list(authors)
    return [a.strip() for a in items if a and a.strip()]


def _clean_text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _clean_tags(tags: Iterable[str]) -> list[str]:
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise InvalidInput(f"tags must be a list of strings, not {type(tags).__name__} {str(tags)[:40]!r}")
    out = []
    for tag in tags:
        if not isinstance(tag, str):
            raise InvalidInput(f"bad tag {tag!r}: tags are strings")
        tag = tag.strip()
        if not tag:
            raise InvalidInput("empty tag")
        if tag not in out:
            out.append(tag)
    return out


def _check_status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"bad status {status!r}: use one of {', '.join(STATUSES)}")
    return status


def _check_rating(rating: int | str | None) -> int | None:
    if rating is None:
        return None
    try:
        value = int(rating)
    except (TypeError, ValueError):
        raise InvalidInput(f"bad rating {rating!r}: use a whole number from 1 to 5") from None
    if not 1 <= value <= 5 or str(rating).strip() not in (str(value), f"{value}.0"):
        raise InvalidInput(f"bad rating {rating!r}: use a whole number from 1 to 5")
    return value


def _check_year(year: int | str | None) -> int | None:
    if year is None or year == "":
        return None
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise InvalidInput(f"bad year {year!r}") from None
    if not 1000 <= value <= 9999:
        raise InvalidInput(f"bad year {year!r}")
    return value
