"""The citation graph in the app: a paper's "Cites" and "Cited by" (in your library, with links), its neighbourhood
drawn as a graph (st-link-analysis: Cytoscape.js bundled in the wheel, nothing fetched at run time), and the
"Reading suggestions" page. The pages call these; the data comes from the log's methods (`reading.Log.cites`,
`cited_by`, `citation_graph`, `suggest`): SQL over the log, no index.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

import reading

from ._markdown import safe_markdown
from .common import flash, guarded, link, log_or_stop

#: Nodes drawn at most in a neighbourhood graph (a survey cited by 200 of your papers would be a hairball).
GRAPH_MAX_NODES = 60


def _ident(row: dict[str, Any]) -> str:
    if row.get("arxiv_id"):
        return f"arXiv:{row['arxiv_id']}"
    return f"doi:{row['doi']}" if row.get("doi") else ""


def paper_section(log: reading.Log, paper: dict[str, Any]) -> None:
    """A paper's page: what it cites and what cites it in your library, the rest of its references, the graph."""
    st.subheader("Citations")
    with guarded("Citations unavailable: "):
        cites = log.cites(paper["id"])
        cited_by = log.cited_by(paper["id"])
        inside = [r for r in cites if r["id"] is not None]
        c1, c2 = st.columns(2)
        with c1:
            st.markdown(f"**Cites (in your library)** · {len(inside)}")
            seen: set[int] = set()
            for row in inside:
                if row["id"] not in seen:
                    seen.add(row["id"])
                    link("paper", f"{row['title']} ({row.get('year') or '—'})", id=row["id"])
            if not cites:
                st.caption("No reference list read: attach the paper's PDF." if not log.pdfs(paper["id"]) else
                           "No reference entries found in its PDF.")
            elif not inside:
                st.caption("None of its references is in your log.")
        with c2:
            st.markdown(f"**Cited by (in your library)** · {len(cited_by)}")
            for row in cited_by:
                link("paper", f"{row['title']} (p. {row['page']})", id=row["id"])
            if not cited_by:
                st.caption("No paper of your log cites it (only papers with a PDF are read).")
        others = [r for r in cites if r["id"] is None]
        if others:
            with st.expander(f"Not in your library · {len(others)} references"):
                for row in others:
                    ident = _ident(row)
                    st.markdown(safe_markdown(row["text"]) + (f" · `{ident}`" if ident else ""))
        if inside or cited_by:
            neighbourhood(log, paper)


def graph_elements(graph: dict[str, Any], center: int) -> dict[str, Any]:
    """st-link-analysis elements for ``log.citation_graph(...)``: nodes labelled by their hop, edges CITES."""
    kind = {0: "THIS", 1: "HOP1", 2: "HOP2"}
    nodes = [{"data": {"id": str(n["id"]), "label": kind.get(n["hop"], "HOP2"), "name": _short(n["title"]),
                       "title": n["title"], "year": n.get("year") or ""}} for n in graph["nodes"][:GRAPH_MAX_NODES]]
    shown = {n["data"]["id"] for n in nodes}
    edges = [{"data": {"id": f"{a}->{b}", "label": "CITES", "source": str(a), "target": str(b)}}
             for a, b in graph["edges"] if str(a) in shown and str(b) in shown]
    return {"nodes": nodes, "edges": edges}


def _short(title: str, width: int = 40) -> str:
    return title if len(title) <= width else title[:width - 1].rstrip() + "…"


def neighbourhood(log: reading.Log, paper: dict[str, Any]) -> None:
    """The paper's neighbourhood in the citation graph of the log, one or two hops out, with links below it."""
    hops = st.segmented_control("Neighbourhood", [1, 2], default=1, key=f"cg_hops_{paper['id']}",
                                format_func=lambda h: f"{h} hop{'s' if h > 1 else ''}") or 1
    graph = log.citation_graph(paper["id"], hops=int(hops))
    if len(graph["nodes"]) > GRAPH_MAX_NODES:
        st.caption(f"Showing {GRAPH_MAX_NODES} of {len(graph['nodes'])} papers (the nearest).")
    from st_link_analysis import EdgeStyle, NodeStyle, st_link_analysis

    # labeled=None: st-link-analysis 0.4 warns of its deprecated `labeled` unless it is None
    styles = [NodeStyle("THIS", "#d62728", "name", "description"), NodeStyle("HOP1", "#1f77b4", "name", "description"),
              NodeStyle("HOP2", "#9ecae1", "name", "description")]
    st_link_analysis(graph_elements(graph, paper["id"]), layout="cose", node_styles=styles,
                     edge_styles=[EdgeStyle("CITES", directed=True, labeled=None)], height=420, key=f"cg_{paper['id']}_{hops}")
    with st.expander("Papers in the graph"):
        for node in graph["nodes"]:
            if node["id"] != paper["id"]:
                link("paper", f"{node['title']} ({node.get('year') or '—'}) · {node['hop']} hop"
                     f"{'s' if node['hop'] > 1 else ''}", id=node["id"])


def render_suggestions() -> None:
    """Reading suggestions: works cited by several of your papers that are not in your log, most cited first."""
    st.title("Reading suggestions")
    flash()
    log = log_or_stop()
    st.caption("Works your papers keep citing that are not in your log, read from the reference lists of their PDFs; "
               "most cited first, then by how recently you read the papers citing them.")
    c1, c2, c3 = st.columns([2, 1, 1])
    tags = sorted(log.tags())
    tag = c1.selectbox("Only citations made by papers tagged", tags, index=None, placeholder="any tag",
                       key="sg_tag")
    min_count = c2.number_input("Cited by at least", 1, 100, 2, key="sg_min")
    k = c3.number_input("Show", 1, 200, 20, key="sg_k")
    rows: list[dict[str, Any]] = []
    with guarded():
        rows = log.suggest(k=int(k), tag=tag, min_count=int(min_count))
    if not rows:
        st.info("Nothing to suggest yet: no work is cited by that many of your papers and missing from your log. "
                "Suggestions come from the PDFs' reference lists (add PDFs on “Log a paper”).")
        return
    titles = log.paper_titles({i for r in rows for i in r["citing"]})
    for rank, row in enumerate(rows, start=1):
        with st.container(border=True):
            year = f" ({row['year']})" if row.get("year") else ""
            st.markdown(f"**{rank}. {safe_markdown(row['title'] or '(untitled)')}**{year} · cited by "
                        f"**{row['count']}** of your papers")
            ident = _ident(row)
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            with c1:
                if ident:
                    st.caption(ident)
                with st.expander("Cited by"):
                    for pid in row["citing"]:
                        link("paper", titles.get(pid, f"paper {pid}"), id=pid)
            if c2.button("Add as to-read", key=f"sg_add_{rank}_{row.get('arxiv_id') or row.get('doi') or row['title']}"):
                with guarded():
                    result = _add(log, row)
                    st.session_state["flash"] = f"Logged “{result.paper['title']}” as to-read." + (
                        f" {result.message}" if result.message else "")
                    st.rerun()


def _add(log: reading.Log, row: dict[str, Any]) -> reading.AddResult:
    """Log a suggestion as to-read: by its arXiv id (completed from arXiv when reachable), else by title and DOI."""
    if row.get("arxiv_id"):
        return log.add(row["arxiv_id"], status="to-read")
    return log.add(title=row["title"], doi=row.get("doi"), year=row.get("year"), status="to-read", fetch=False)
