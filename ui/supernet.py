"""Supernet: pick or randomise an SPOS architecture, see its MACs and lookup-table latency, view search results."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import paperzoo
import reading

from . import resources
from ._display import table as display_table
from .common import flash, guarded, log_or_stop, one_line


def _set_arch(value: str) -> None:
    st.session_state["sn_arch"] = value


def _randomise() -> None:
    from zoo import spos

    arch = spos.Arch.random(random.Random(), channel_search=bool(st.session_state.get("sn_channels")))
    st.session_state["sn_arch"] = str(arch)


def _picker() -> Any:
    from zoo import spos

    st.session_state.setdefault("sn_arch", str(spos.SPOS_A))
    c1, c2, c3, c4 = st.columns(4)
    c1.button("Paper's SPOS (block search)", on_click=_set_arch, args=(str(spos.SPOS_A),), key="sn_a")
    c2.button("Paper's SPOS (block + channel)", on_click=_set_arch, args=(str(spos.SPOS_AC),), key="sn_ac")
    c3.toggle("Random widths too", key="sn_channels")
    c4.button("Randomise", on_click=_randomise, key="sn_random", type="primary")
    text = st.text_input("Architecture: 20 block choices 0-3 (shuffle3x3, shuffle5x5, shuffle7x7, xception), "
                         "optionally ':' and 20 width choices 0-7 (0.2x…1.6x)", key="sn_arch")
    try:
        return spos.Arch.parse(text)
    except spos.ArchError as err:
        st.error(one_line(err))
        return None


def _latency(log: reading.Log, arch: Any, channel_search: bool) -> float | None:
    default = str(log.path.parent / f"spos-latency{'-channels' if channel_search else ''}.json")
    key = resources.LATENCY_SETTING + (".channels" if channel_search else "")
    path = st.text_input("Latency lookup table (JSON from `zoo supernet latency-table`)",
                         log.get_setting(key, default), key=f"sn_lat_path_{channel_search}")
    if Path(path).expanduser().is_file():
        try:
            table = resources.latency_table(path)
            return table.latency_ms(arch)
        except (OSError, ValueError) as err:
            st.error(one_line(err))
            return None
    st.caption("No latency table at that path yet.")
    if st.button("Measure a latency table on this machine", key="sn_measure"):
        from zoo import spos

        try:
            paperzoo.check_output(path, log.path)  # the one output guard: never the log or its folders
        except reading.InvalidInput as err:
            st.error(one_line(err))
            return None

        with guarded("Measuring failed: "), st.spinner("Timing every block choice (about a minute)…"):
            table = spos.measure_latency_table(spos.Layout(channel_search=channel_search), repeats=5, warmup=1,
                                               progress=False)
            table.save(path)
            log.set_setting(key, path)
            st.rerun()
    return None


def _blocks(arch: Any, table: Any) -> pd.DataFrame:
    from zoo import spos

    stages = [s for s, n in enumerate(spos.arch.STAGE_REPEATS, 1) for _ in range(n)]
    return pd.DataFrame({
        "block": range(1, spos.NUM_BLOCKS + 1),
        "stage": stages,
        "choice": [spos.BLOCK_NAMES[b] for b in arch.blocks],
        "width": [f"{spos.SCALES[s]:.1f}x" for s in arch.scale_ids],
        "MACs (M)": [round(table.blocks[i][b][s] / 1e6, 2) for i, (b, s) in enumerate(zip(arch.blocks, arch.scale_ids))],
    })


def _results(log: reading.Log) -> None:
    from zoo import spos

    from . import _spos

    st.subheader("Stored search results")
    path = st.text_input("Search result or state file (from `zoo supernet search --out/--state`)",
                         log.get_setting(resources.SEARCH_SETTING, ""), key="sn_result_path")
    if not path.strip():
        st.caption("Give the path of a search result to see its candidates and Pareto front.")
        return
    try:
        cands, summary = _spos.read_candidates(path.strip())
    except (OSError, ValueError) as err:
        st.error(one_line(err))
        return
    if path.strip() != log.get_setting(resources.SEARCH_SETTING, ""):
        log.set_setting(resources.SEARCH_SETTING, path.strip())
    if not cands:
        st.info("That search has no scored candidate yet.")
        return
    front = {str(c.arch) for c in spos.pareto_front(cands)}
    frame = pd.DataFrame([{"arch": str(c.arch), "MACs (M)": c.macs / 1e6, "score": c.score,
                           "latency (ms)": c.latency_ms, "Pareto": str(c.arch) in front} for c in cands])
    st.caption(f"{len(cands)} scored candidates · " + ", ".join(f"{k}: {v}" for k, v in summary.items()
                                                                  if k != "history" and v is not None))
    dots = alt.Chart(frame).mark_circle(size=60).encode(
        x=alt.X("MACs (M):Q", scale=alt.Scale(zero=False, padding=24)),
        y=alt.Y("score:Q", title="score (top-1 %)", scale=alt.Scale(zero=False, padding=24)),
        color=alt.Color("Pareto:N", scale=alt.Scale(domain=[True, False], range=["#d62728", "#9aa5b1"])),
        tooltip=["arch", "MACs (M)", "score", "latency (ms)"])
    line = alt.Chart(frame[frame["Pareto"]].sort_values("MACs (M)")).mark_line(color="#d62728").encode(
        x="MACs (M):Q", y="score:Q")
    st.altair_chart((line + dots).interactive(), width="stretch")
    st.dataframe(display_table(frame.sort_values("score", ascending=False)), hide_index=True)
    history = [float(v) for v in summary.get("history") or [] if v is not None]
    if history:
        frame = pd.DataFrame({"iteration": range(1, len(history) + 1), "best score": history})
        chart = alt.Chart(frame, title="Best score after each search iteration").mark_line(point=True).encode(
            x=alt.X("iteration:Q", title="iteration", axis=alt.Axis(tickMinStep=1, format="d"),
                    scale=alt.Scale(domain=[1, max(len(history), 2)])),
            y=alt.Y("best score:Q", title="best score (top-1 %)", scale=alt.Scale(zero=False)),
            tooltip=["iteration", "best score"])
        st.altair_chart(chart, width="stretch")


def render() -> None:
    """The Supernet page."""
    st.title("SPOS supernet")
    flash()
    log = log_or_stop()
    st.caption("Single Path One-Shot (arXiv 1904.00420): 20 choice blocks × 4 choices; with channel search each "
               "block's middle width is also one of 8 scales.")
    try:
        arch = _picker()
    except Exception as err:  # torch or the SPOS package missing: one line
        st.error(f"Cannot load the supernet: {one_line(err)}")
        return
    if arch is None:
        return
    channel_search = arch.scales is not None
    table = resources.flops_table(channel_search)
    lo, hi = table.bounds(channel_search)
    c1, c2 = st.columns(2)
    c1.metric("MACs (exact, 224×224)", f"{table.macs(arch) / 1e6:.1f} M",
              help=f"search space: {lo / 1e6:.0f}–{hi / 1e6:.0f} M")
    with c2:
        latency = _latency(log, arch, channel_search)
        if latency is not None:
            st.metric("Latency (lookup table)", f"{latency:.2f} ms")
    st.dataframe(_blocks(arch, table), hide_index=True, height=35 * 21 + 3)  # all 20 blocks, no scrolling
    with guarded():
        _results(log)
