"""Zoo: every registered model with its card, weights status, stored results, benchmarks and Pareto plots."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import paperzoo
import reading

from . import _zoo, resources
from ._display import table
from .common import flash, guarded, link, log_or_stop, one_line


def _papers(log: reading.Log, card: Any) -> None:
    st.markdown("**Papers**")
    for aid in card.papers:
        try:
            paper = log.get(aid)
        except reading.PaperNotFound:
            c1, c2 = st.columns([3, 2])
            c1.markdown(f"arXiv:{aid} — not in your log")
            if c2.button(f"Log arXiv:{aid}", key=f"zoo_log_{card.name}_{aid}"):
                try:
                    with st.spinner("Asking arXiv…"):
                        result = paperzoo.log_model_paper(log, card.name, aid,
                                                          tags=[card.family] if card.family else ())
                except reading.ReadingError as err:
                    st.error(one_line(err))
                else:
                    st.session_state["flash"] = result.message or f"Logged “{result.paper['title']}”."
                    st.rerun()
        else:
            link("paper", f"{paper['title']} ({paper.get('year') or '—'}) · arXiv:{aid}", id=paper["id"])


def _figures(log: reading.Log, card: Any) -> None:
    results = log.results(card.name)
    st.markdown("**Claimed vs ours** (counted params/MACs; measured accuracy and speed)")
    rows = [c.to_dict() for c in paperzoo.compare(card.name, results)]
    if rows:
        st.dataframe(table(rows), hide_index=True)
    c1, c2 = st.columns(2)
    c1.metric("Params (counted)", f"{card.params / 1e6:.2f} M" if card.params else "—")
    c2.metric("MACs at 224² (counted)", f"{card.macs / 1e9:.3f} G" if card.macs else "—")
    st.markdown("**Weights**")
    weights = _zoo.weights_rows(card)
    if weights:
        st.dataframe(table(weights), hide_index=True,
                     column_config={"cached": st.column_config.CheckboxColumn("cached")})
        missing = [w for w in weights if not w["cached"]]
        if missing:
            st.caption("Not cached yet: they download on first `zoo.load(..., weights=...)`. Offline, put the file "
                       f"at the exact path shown, e.g. `{missing[0]['path']}` (from {missing[0]['download'] or '—'}).")
    else:
        st.caption("No released weights for this model.")
    st.markdown("**Stored results**")
    if results:
        st.dataframe(table([{k: r[k] for k in ("metric", "value", "weights", "source", "measured_at")}
                            for r in results]), hide_index=True)
    else:
        st.caption(f"None yet. Run a benchmark below or `python -m zoo bench {card.name} --store`.")


def _benchmark(log: reading.Log, names: list[str], default: str) -> None:
    import zoo

    st.subheader("Run a benchmark")
    if st.session_state.get("zb_card") != default:  # another card was picked: benchmark that one, not the last
        st.session_state["zb_card"] = default
        st.session_state["zb_models"] = [default]
    with st.form("zoo_bench"):
        chosen = st.multiselect("Models", names, key="zb_models")
        c1, c2, c3 = st.columns(3)
        batches = c1.multiselect("Batch sizes", [1, 8, 32], default=[1], key="zb_batches")
        engine = c2.selectbox("Engine", list(zoo.ENGINES), key="zb_engine",
                              help="eager PyTorch; optimized: zoo.optimize (on CPU, ONNX Runtime or OpenVINO, whichever "
                                   "is faster at the batch size); compiled: torch.compile; or one ONNX engine alone.")
        iters = c3.number_input("Timed iterations", 2, 200, 10, key="zb_iters")
        go = st.form_submit_button("Benchmark on this machine", type="primary")
    done = st.session_state.pop("zb_done", None)
    if done:  # the last run's outcome, shown after the rerun that refreshed the card's stored results
        st.success(done["message"])
        for line in done["problems"]:
            st.warning(line)
    if not go:
        return
    if not chosen or not batches:
        st.error("Pick at least one model and one batch size.")
        return
    jobs = [(m, b) for m in chosen for b in batches]
    bar = st.progress(0.0, text="Starting…")
    results, problems = [], []
    for i, (model, batch) in enumerate(jobs):
        bar.progress(i / len(jobs), text=f"{model} at batch {batch} ({i + 1}/{len(jobs)})")
        try:
            for r in zoo.benchmark(model, batch_sizes=(batch,), engines=(engine,), iters=int(iters), warmup=2,
                                   memory=False, progress=False):
                if r.skipped:
                    problems.append(f"{model}: {r.skipped}")
                results.append(r)
        except Exception as err:  # one model failing must not stop the others, nor show a traceback
            problems.append(f"{model}: {one_line(err)}")
    bar.progress(1.0, text="Done")
    stored = paperzoo.store_bench(log, results)  # the rule `zoo bench --store` follows too
    if not stored:
        for line in problems:
            st.error(line)
        return
    st.session_state["zb_done"] = {"message": f"Stored {stored} measured figures for {', '.join(chosen)} in the log "
                                              f"(batch {', '.join(map(str, batches))}).", "problems": problems}
    st.rerun()


def _evaluate(log: reading.Log, card: Any) -> None:
    import zoo

    st.subheader("Evaluate accuracy")
    if not card.weights:
        st.caption("No released weights to evaluate for this model.")
        return
    with st.form("zoo_eval"):
        data = st.text_input("ImageNet-layout validation folder (one sub-folder per class)", key="ze_data",
                             placeholder="~/imagenet/val")
        c1, c2 = st.columns(2)
        tag = c1.selectbox("Weights", [w.tag for w in card.weights], key="ze_weights")
        limit = c2.number_input("Images (0: all)", 0, 1_000_000, 500, step=100, key="ze_limit")
        go = st.form_submit_button("Evaluate and store")
    if not go:
        return
    if not data.strip():
        st.error("Give the folder of validation images.")
        return
    try:
        with st.spinner(f"Evaluating {card.name}.{tag} (resumable: rerun to continue an interrupted run)…"):
            state = log.path.parent / f"eval-{card.name}-{tag}.json"
            result = zoo.evaluate(card.name, str(Path(data).expanduser()), weights=tag, limit=int(limit) or None,
                                  state_file=state, progress=False)
    except Exception as err:  # missing folder, weights not downloadable offline, ...: one line
        st.error(one_line(err))
        return
    paperzoo.store_eval(log, result)
    st.success(f"{card.name}.{tag}: top-1 {result.top1:.2f}%, top-5 {result.top5:.2f}% on {result.images} images "
               "(stored in the log).")


#: Labelled ticks of the log MACs axis (G): 1-2-5 steps, so a narrow range is not crowded with labels.
LOG_TICKS = [m * 10.0 ** e for e in range(-3, 3) for m in (1, 2, 5)]


def _plots(cards: list[Any], results: list[dict[str, Any]]) -> None:
    st.subheader("Accuracy and latency against MACs")
    points = _zoo.plot_points(cards, results)
    if not points:
        st.caption("No figures to plot yet.")
        return
    frame = pd.DataFrame(points)
    c1, c2 = st.columns(2)
    for col, metric, higher in ((c1, "top-1 (%)", True), (c2, "latency (ms)", False)):
        sub = frame[frame["metric"] == metric]
        with col:
            st.markdown(f"**{metric} vs MACs** — hollow: claimed, filled: measured; line: Pareto front")
            if sub.empty:
                st.caption("Nothing measured yet." if metric.startswith("latency") else "No claims.")
                continue
            lo, hi = float(sub["MACs (G)"].min()), float(sub["MACs (G)"].max())
            x_scale = alt.Scale(type="log", nice=False, domain=[lo / 1.5, hi * 1.5])  # not out to the next decade
            ticks = [t for t in LOG_TICKS if lo / 1.5 <= t <= hi * 1.5] or [round(lo, 3)]
            dots = alt.Chart(sub).mark_point(size=80).encode(
                x=alt.X("MACs (G):Q", scale=x_scale, axis=alt.Axis(format="~g", values=ticks)),
                y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False), axis=alt.Axis(format=",.4~g")),
                color="family:N", shape="kind:N",
                fill=alt.condition(alt.datum.kind == "measured", "family:N", alt.value("transparent")),
                tooltip=["model", "kind", alt.Tooltip("MACs (G):Q", format=".3~g"),
                         alt.Tooltip("value:Q", title=metric, format=",.4~g")],
            )
            fronts = pd.DataFrame([p for kind in ("claimed", "measured")
                                   for p in _zoo.pareto([q for q in points if q["metric"] == metric
                                                         and q["kind"] == kind], higher)])
            line = alt.Chart(fronts).mark_line(strokeDash=[4, 3], color="gray").encode(
                x=alt.X("MACs (G):Q", scale=x_scale), y="value:Q", detail="kind:N")
            st.altair_chart((line + dots).interactive(), width="stretch")


def render() -> None:
    """The Zoo page."""
    st.title("Zoo")
    flash()
    log = log_or_stop()
    try:
        with st.spinner("Loading the zoo…"):
            cards = resources.model_cards()
    except Exception as err:  # torch missing or a broken model file: say so in one line
        st.error(f"Cannot load the zoo: {one_line(err)}")
        return
    synced = st.session_state.setdefault("zoo_links_synced", set())
    if str(log.path) not in synced:  # the registry's (model, paper) links into the log, once a session (idempotent)
        with guarded("Linking models to papers: "):
            paperzoo.sync_model_links(log)
            synced.add(str(log.path))
    names = [c.name for c in cards]
    results = log.results()
    st.caption(f"{len(cards)} registered models. Params and MACs are counted with torch.utils.flop_counter "
               "(MACs = FLOPs / 2) at 1×3×224×224.")
    st.dataframe(table(_zoo.card_rows(cards, results)), hide_index=True, key="zoo_table")

    wanted = st.query_params.get("model")
    default = wanted if wanted in names else names[0]
    name = st.selectbox("Model card", names, index=names.index(default), key="zoo_model")
    card = next(c for c in cards if c.name == name)
    with st.container(border=True):
        st.subheader(card.name)
        st.caption(" · ".join(b for b in (card.family, card.description,
                                           ("aliases: " + ", ".join(card.aliases)) if card.aliases else "") if b))
        with guarded(f"{card.name}: "):
            _papers(log, card)
            _figures(log, card)
    with guarded("Benchmark: "):
        _benchmark(log, names, card.name)
    with guarded("Evaluation: "):
        _evaluate(log, card)
    with guarded("Plots: "):
        _plots(cards, log.results())
