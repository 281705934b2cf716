"""Reading stats: papers per day/week, a calendar heatmap, streaks, average against a goal, tags over time, and a
2-D map of the library's embeddings coloured by tag."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import paperzoo
import reading

from . import resources
from .common import guarded, library_page


def calendar_frame(per_day: dict[str, int], today: dt.date, weeks: int = 53) -> pd.DataFrame:
    """One row per day of the last ``weeks`` weeks: date, week start, weekday, papers read."""
    start = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=weeks - 1)
    days = [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]
    return pd.DataFrame({
        "date": [d.isoformat() for d in days],
        "week": [(d - dt.timedelta(days=d.weekday())).isoformat() for d in days],
        "weekday": [d.strftime("%a") for d in days],
        "papers": [per_day.get(d.isoformat(), 0) for d in days],
    })


def tags_over_time(papers: list[dict[str, Any]], top: int = 8) -> pd.DataFrame:
    """Papers per month and tag (a paper counts in the month of its first read, else of being logged)."""
    counts: Counter[tuple[str, str]] = Counter()
    totals: Counter[str] = Counter()
    for p in papers:
        reads = sorted(r["read_on"] for r in p.get("reads", []))
        month = (reads[0] if reads else (p.get("added_at") or ""))[:7]
        for tag in p.get("tags", []):
            counts[(month, tag)] += 1
            totals[tag] += 1
    keep = {t for t, _ in totals.most_common(top)}
    rows = [{"month": m, "tag": t, "papers": n} for (m, t), n in sorted(counts.items()) if t in keep and m]
    return pd.DataFrame(rows, columns=["month", "tag", "papers"])


#: Calendar x labels: a week column is labelled with its month's name when the month starts in that week.
MONTH_LABEL = ("toNumber(slice(datum.value, 8, 10)) <= 7 ? ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', "
               "'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][toNumber(slice(datum.value, 5, 7)) - 1] : ''")


def map_colours(papers: list[dict[str, Any]], highlight: str | None = None, top: int = 8) -> dict[int, str]:
    """The colour group of each paper on the map: with ``highlight``, whether it carries that tag; otherwise its
    most telling tag, the least common of its tags among the library's ``top`` tags that not every paper shares
    (``architecture`` on most papers says less than ``nas``), so all of a paper's tags count, not its first."""
    if highlight:
        return {p["id"]: highlight if highlight in p.get("tags", []) else "other" for p in papers}
    counts = Counter(t for p in papers for t in set(p.get("tags", [])))
    useful = [t for t, n in counts.most_common() if n < len(papers) or len(counts) == 1][:top]
    out = {}
    for p in papers:
        mine = [t for t in p.get("tags", []) if t in useful]
        out[p["id"]] = min(mine, key=lambda t: (counts[t], t)) if mine else ("(untagged)" if not p.get("tags")
                                                                             else "(other tags)")
    return out


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _habit(stats: dict[str, Any], goal: float, today: dt.date) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Current streak", _days(stats["current_streak"]))
    c2.metric("Longest streak", _days(stats["longest_streak"]))
    c3.metric(f"Papers per day ({stats['window_days']} days)", f"{stats['avg_per_day']:.2f}",
              delta=f"{stats['avg_per_day'] - goal:+.2f} vs goal {goal:g}")
    c4.metric("Reads logged", stats["total_reads"], help=f"{stats['total_papers']} papers in the log")

    per_day = stats["per_day"]
    last = [(today - dt.timedelta(days=i)).isoformat() for i in range(89, -1, -1)]
    day_df = pd.DataFrame({"date": last, "papers": [per_day.get(d, 0) for d in last]})
    week_df = pd.DataFrame({"week": list(stats["per_week"]), "papers": list(stats["per_week"].values())})
    left, right = st.columns(2)
    with left:
        st.markdown("**Papers per day** (last 90 days)")
        bars = alt.Chart(day_df).mark_bar().encode(x=alt.X("date:T", title=None), y=alt.Y("papers:Q"),
                                                   tooltip=["date:T", "papers:Q"])
        rule = alt.Chart(pd.DataFrame({"goal": [goal]})).mark_rule(color="red", strokeDash=[4, 4]).encode(y="goal:Q")
        st.altair_chart(bars + rule, width="stretch")
    with right:
        st.markdown("**Papers per week**")
        if week_df.empty:
            st.caption("No reads logged yet.")
        else:
            st.altair_chart(alt.Chart(week_df.tail(26)).mark_bar().encode(
                x=alt.X("week:N", title=None, sort=None), y="papers:Q", tooltip=["week", "papers"]),
                width="stretch")

    st.markdown("**Reading calendar** (last 12 months)")
    cal = calendar_frame(per_day, today)
    top = max(int(cal["papers"].max()), 1)
    heat = alt.Chart(cal).mark_rect(cornerRadius=2).encode(
        x=alt.X("week:O", title=None, axis=alt.Axis(labelExpr=MONTH_LABEL, labelAngle=0, ticks=False,
                                                    labelOverlap=False, labelPadding=4, domain=False)),
        y=alt.Y("weekday:O", sort=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], title=None),
        color=alt.Color("papers:Q", scale=alt.Scale(scheme="greens", domain=[0, top]),
                        legend=alt.Legend(title="papers", orient="bottom", direction="horizontal",
                                          gradientLength=160, values=sorted({0, top}), format="d", labelOffset=2)),
        tooltip=["date", "papers"],
    ).properties(height=7 * 20, padding={"left": 5, "right": 15, "top": 5, "bottom": 5})
    st.altair_chart(heat, width="stretch", height=7 * 20 + 110)  # rows of 20 px, then month labels and legend


def _map(log: reading.Log, papers: list[dict[str, Any]]) -> None:
    st.subheader("Map of the library")
    st.caption("Each dot is a paper, placed by its embedding (first two principal components), coloured by its "
               "most telling tag (the rarest of its tags among the library's common ones), or by one tag you pick.")
    if len(papers) < 3:
        st.caption("Log at least three papers to draw the map.")
        return
    if not st.toggle("Draw the map", key="stats_map", help="Embeds every paper the first time (slow for big logs)."):
        return
    all_tags = sorted({t for p in papers for t in p.get("tags", [])})
    highlight = st.selectbox("Colour by", all_tags, index=None, placeholder="each paper's most telling tag",
                             key="stats_map_tag")
    with guarded("Cannot draw the map: "), st.spinner("Embedding the library…"):
        data = resources.embedding_map(log)
        by_id = {p["id"]: p for p in papers}
        colours = map_colours(papers, highlight)
        rows = []
        for pid, (x, y) in zip(data["ids"], data["xy"]):
            p = by_id.get(pid)
            if p is not None:
                rows.append({"x": float(x), "y": float(y), "title": p["title"], "colour": colours[pid],
                             "tags": ", ".join(p.get("tags", [])) or "—"})
        colour = alt.Color("colour:N", title=highlight or "tag")
        if highlight:
            colour = alt.Color("colour:N", title="tag", scale=alt.Scale(domain=[highlight, "other"],
                                                                        range=["#d62728", "#c7ccd1"]))
        chart = alt.Chart(pd.DataFrame(rows)).mark_circle(size=60, opacity=0.8).encode(
            x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None), color=colour, tooltip=["title", "tags"],
        ).properties(height=420).interactive()
        st.altair_chart(chart, width="stretch")


def render() -> None:
    """The Reading stats page."""
    log = library_page("Reading stats", starter_key="starter_stats", warm_up=False)
    if log is None:
        return
    today = dt.date.today()
    goal = float(log.get_setting(resources.GOAL_SETTING, 2))
    new_goal = st.sidebar.number_input("Daily goal (papers)", 0.0, 50.0, goal, 0.5, key="stats_goal")
    if new_goal != goal:
        with guarded():
            log.set_setting(resources.GOAL_SETTING, new_goal)
            goal = new_goal
    stats = resources.stats_snapshot(log, today.isoformat())
    _habit(stats, goal, today)
    with guarded():
        if log.page_refs():  # the full text's passage index: pages indexed / waiting, rate, ETA
            st.caption(paperzoo.indexing_line(paperzoo.indexing_status(log)))
    papers = resources.papers_snapshot(log)
    st.subheader("Tags over time")
    frame = tags_over_time(papers)
    if frame.empty:
        st.caption("Tag some papers to see how your interests move.")
    else:
        st.altair_chart(alt.Chart(frame).mark_bar().encode(
            x=alt.X("month:N", title=None), y="papers:Q", color="tag:N", tooltip=["month", "tag", "papers"]),
            width="stretch")
    _map(log, papers)
