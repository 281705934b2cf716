"""The citation graph on the command line: `reading cites`, `reading cited-by`, `reading suggest`. Thin veneers over
the log's citation methods (`reading._citations`); on the fast path (no index, no torch). Registered in
`paperzoo/reading_cli.py`.
"""
from __future__ import annotations

import json
from typing import Any

import click

from ._cli import log_of
from ._echo import echo
from ._params import COUNT, Int

_NO_PDF = "no reference list found: {ref} has no PDF with a reference section (`reading attach {ref} FILE.pdf`)"


def _dump(rows: list[dict[str, Any]]) -> None:
    echo(json.dumps(rows, ensure_ascii=False, indent=2))


def _ident(row: dict[str, Any]) -> str:
    return f"arXiv:{row['arxiv_id']}" if row.get("arxiv_id") else (f"doi:{row['doi']}" if row.get("doi") else "")


@click.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (id, title, arxiv_id, doi, year, text, page).")
@click.pass_context
def cites(ctx: click.Context, ref: str, as_json: bool) -> None:
    """What a paper cites, from its PDF's reference list, in order: the papers in your log marked by their id.

    REF is the log id, an arXiv id or a DOI. Example: reading cites 1807.11164
    """
    log = log_of(ctx)
    rows = log.cites(ref)
    if as_json:
        _dump(rows)
        return
    if not rows:
        echo(_NO_PDF.format(ref=ref) if not log.pdfs(ref) else f"no reference entries found in {ref}'s PDF", err=True)
        return
    inside = sum(1 for r in rows if r["id"] is not None)
    echo(f"{len(rows)} references, {inside} in your log", bold=True)
    for row in rows:
        mark = f"{row['id']:>5}" if row["id"] is not None else "    -"
        what = row["title"] or row["text"]
        extra = "  ".join(x for x in (str(row["year"] or ""), _ident(row), f"p. {row['page']}" if row["page"]
                                      else "") if x)
        echo(f"{mark}  {what}  ({extra})" if extra else f"{mark}  {what}")


@click.command(name="cited-by")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (id, title, page, text).")
@click.pass_context
def cited_by(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Which papers of your log cite this one (read from their PDFs' reference lists).

    Example: reading cited-by 1512.03385
    """
    rows = log_of(ctx).cited_by(ref)
    if as_json:
        _dump(rows)
        return
    if not rows:
        echo(f"no paper of your log cites {ref} (only papers with a PDF are read for references)", err=True)
        return
    for row in rows:
        echo(f"{row['id']:>5}  {row['title']}  (p. {row['page']})")
        echo(f"       {row['text']}")


@click.command()
@click.option("-k", type=Int(1, 1000), default=10, show_default=True, help="Number of suggestions.")
@click.option("--tag", "-t", help="Count only the citations made by papers with this tag.")
@click.option("--min", "min_count", type=COUNT, default=2, show_default=True,
              help="Only works cited by at least this many of your papers.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (title, count, citing, arxiv_id, doi, year).")
@click.pass_context
def suggest(ctx: click.Context, k: int, tag: str | None, min_count: int, as_json: bool) -> None:
    """What to read next: works your papers keep citing that are not in your log, most cited first.

    An arXiv id or DOI, when a reference gave one, goes straight to `reading add`.

    Example: reading suggest -k 20 --tag nas
    """
    rows = log_of(ctx).suggest(k=k, tag=tag, min_count=min_count)
    if as_json:
        _dump(rows)
        return
    if not rows:
        echo(f"no work is cited by {min_count} or more of your papers and missing from your log "
             "(only papers with a PDF are read for references)", err=True)
        return
    for rank, row in enumerate(rows, start=1):
        ident = _ident(row)
        echo(f"{rank:>3}. {row['count']:>3}x  {row['title']}" + (f" ({row['year']})" if row["year"] else "")
             + (f"  {ident}" if ident else ""))
        echo(f"           cited by: {', '.join(str(i) for i in row['citing'])}")
