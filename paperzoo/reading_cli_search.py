"""`reading search`, `reading related`, `reading reindex`: thin veneers over :mod:`paperzoo._search`.

`index` (and with it faiss and sentence-transformers) is imported inside those functions, so the other `reading`
commands never load it. Registered in `paperzoo/reading_cli.py`; index errors become one line in `_cli.Group`.
"""
from __future__ import annotations

import json
from typing import Any

import click

from . import _search, reading_cli_fulltext
from ._cli import log_of, one_line
from ._echo import echo
from ._params import YEAR

MODES = ("hybrid", "dense", "keyword")  # index.MODES, repeated here so that --help needs no import of index


def _print(hits: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo(json.dumps(hits, ensure_ascii=False, indent=2))
        return
    if not hits:
        echo("no matching papers", err=True)
    for rank, hit in enumerate(hits, start=1):
        ref = f"arXiv:{hit['arxiv_id']}" if hit.get("arxiv_id") else "-"
        echo(f"{rank:>3}. {hit['score']:.3f}  {hit['id']:>5}  {ref:<18} {hit['title']}")
        if hit.get("snippet"):
            echo(f"      {hit['snippet']}")


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a search workflow; the machine failing it (the embedding model cannot be found or loaded, the index
    folder cannot be written) becomes one line too."""
    try:
        return fn(*args, **kwargs)
    except OSError as err:
        raise click.ClickException(f"the search index or its model is unavailable: {one_line(err)}") from None


@click.command()
@click.argument("query")
@click.option("-k", type=click.IntRange(1, 1000), default=10, show_default=True, help="Number of results.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="hybrid: meaning + keywords; dense: meaning (embeddings); keyword: FTS5 BM25.")
@click.option("--tag", help="Only papers with this tag.")
@click.option("--status", help="Only papers with this status (to-read, reading, read).")
@click.option("--year-min", type=YEAR, help="Only papers from this year on.")
@click.option("--year-max", type=YEAR, help="Only papers up to this year.")
@click.option("--read-since", help="Only papers read on or after this date (YYYY-MM-DD).")
@click.option("--read-until", help="Only papers read on or before this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (id, arxiv_id, title, score, snippet).")
@click.option("--fulltext", is_flag=True, help="Search the passages of your PDFs (rows: id, arxiv_id, title, page, "
              "section, passage, score, sha256 and file: the PDF's name as added).")
@click.pass_context
def search(ctx: click.Context, query: str, k: int, mode: str, tag, status, year_min, year_max, read_since,
           read_until, as_json: bool, fulltext: bool) -> None:
    """Search your papers by meaning and by keywords (papers added since the last search are indexed first).

    Example: reading search "cheap shuffles of group-conv channels" -k 5 --tag efficient

    Example: reading search "the ablation where they drop the shuffle" --fulltext
    """
    hits = _run(_search.search, log_of(ctx), query, k, mode=mode, tag=tag, status=status, year_min=year_min,
                year_max=year_max, read_since=read_since, read_until=read_until, fulltext=fulltext)
    if fulltext:
        reading_cli_fulltext.print_passages(hits, query, as_json)
        waiting = _search.waiting_line(getattr(hits, "metadata", None) or {})
        if waiting:
            echo(waiting, err=True)
        return
    _print(hits, as_json)
    waiting = _search.waiting_line(getattr(hits, "metadata", None) or {})
    if waiting:
        echo(waiting, err=True)


@click.command()
@click.argument("ref")
@click.option("-k", type=click.IntRange(1, 1000), default=10, show_default=True, help="Number of results.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True, help="How to compare.")
@click.option("--tag", help="Only papers with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (id, arxiv_id, title, score, snippet).")
@click.pass_context
def related(ctx: click.Context, ref: str, k: int, mode: str, tag, as_json: bool) -> None:
    """Papers in your log most like one of them (by row id, arXiv id or DOI).

    Example: reading related 1707.01083 -k 5
    """
    _print(_run(_search.related, log_of(ctx), ref, k, mode=mode, tag=tag), as_json)


@click.command()
@click.option("--full", is_flag=True, help="Re-embed every paper instead of only new or changed ones.")
@click.option("--passages", is_flag=True, help="The full-text passage index instead: embed the PDFs' waiting pages "
              "now, with a progress bar (follows the background indexer when it runs).")
@click.pass_context
def reindex(ctx: click.Context, full: bool, passages: bool) -> None:
    """Bring the semantic index up to date now (search does this by itself; --full rebuilds it).

    Example: reading reindex --full

    Example: reading reindex --passages
    """
    if passages:
        done = _run(_search.reindex_passages, log_of(ctx), full=full)
        why = f"; rebuilt ({done.rebuilt})" if done.rebuilt and done.rebuilt != "missing" else ""
        echo(f"passage index: {done.total} passages: {done.added} added, {done.removed} removed, "
             f"{done.embedded} embedded{why}")
        return
    report = _run(_search.reindex, log_of(ctx), full=full)
    why = f"; rebuilt ({report.rebuilt})" if report.rebuilt and report.rebuilt != "missing" else ""
    echo(f"indexed {report.total} papers: {report.added} added, {report.updated} updated, "
               f"{report.removed} removed, {report.embedded} embedded{why}")
