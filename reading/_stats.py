"""Reading statistics from the read dates: pure Python over what ``_db`` returns."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any


def _streaks(days: Sequence[dt.date], today: dt.date) -> tuple[int, int]:
    """(current, longest) runs of consecutive reading days. The current run may end yesterday: a day is not
    lost before it is over."""
    have = set(days)
    longest = run = 0
    prev: dt.date | None = None
    for day in sorted(have):
        run = run + 1 if prev is not None and day - prev == dt.timedelta(days=1) else 1
        longest = max(longest, run)
        prev = day
    start = today if today in have else today - dt.timedelta(days=1)
    current = 0
    while start in have:
        current += 1
        start -= dt.timedelta(days=1)
    return current, longest


def compute(
    per_day_rows: Sequence[tuple[str, int]],
    tag_counts: dict[str, int],
    *,
    total_papers: int,
    window_days: int,
    today: dt.date,
) -> dict[str, Any]:
    """Papers read per day / ISO week / month, streaks, the average per day over the last ``window_days``
    days (today included) and papers per tag.

    Returns a dict: ``per_day`` {"YYYY-MM-DD": n}, ``per_week`` {"YYYY-Www": n}, ``per_month`` {"YYYY-MM": n}
    (only periods with reads, oldest first), ``current_streak``, ``longest_streak`` (days), ``avg_per_day``,
    ``window_days``, ``reads_in_window``, ``total_reads``, ``total_papers``, ``tag_counts`` {tag: papers}.
    """
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    per_day: dict[str, int] = {}
    per_week: dict[str, int] = {}
    per_month: dict[str, int] = {}
    dates = []
    for text, n in per_day_rows:
        day = dt.date.fromisoformat(text)
        dates.append(day)
        per_day[text] = per_day.get(text, 0) + n
        year, week, _ = day.isocalendar()
        wkey = f"{year}-W{week:02d}"
        per_week[wkey] = per_week.get(wkey, 0) + n
        per_month[text[:7]] = per_month.get(text[:7], 0) + n
    # a window reaching before year 1 is every day there is (timedelta cannot go further)
    first = today - dt.timedelta(days=min(window_days - 1, (today - dt.date.min).days))
    in_window = sum(n for text, n in per_day.items() if first <= dt.date.fromisoformat(text) <= today)
    current, longest = _streaks(dates, today)
    return {
        "per_day": per_day,
        "per_week": dict(sorted(per_week.items())),
        "per_month": per_month,
        "current_streak": current,
        "longest_streak": longest,
        "avg_per_day": in_window / window_days,
        "window_days": window_days,
        "reads_in_window": in_window,
        "total_reads": sum(per_day.values()),
        "total_papers": total_papers,
        "tag_counts": dict(tag_counts),
    }
