"""`reading inbox`: new arXiv papers ranked by your log, and their triage. Thin veneers over the log's inbox methods
and :mod:`paperzoo._search` (fetch with embedding, ranking).

`index` (and with it faiss, sentence-transformers and scikit-learn) is imported inside the commands that rank or
embed, so `keep`, `skip` and `clear` stay light. Registered in `paperzoo/reading_cli.py`.
"""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from reading import ReadingError

from . import _search
from ._cli import log_of, one_line
from ._echo import echo
from ._params import Int

RANKERS = ("fusion", "similarity", "classifier")  # index.inbox.RANKERS, repeated so that --help needs no index


def _index_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a ranking workflow; a model that cannot be found or loaded becomes one line too."""
    try:
        return fn(*args, **kwargs)
    except OSError as err:
        raise click.ClickException(f"the embedding model is unavailable: {one_line(err)}") from None


def _print(hits: list[dict[str, Any]]) -> None:
    for rank, hit in enumerate(hits, start=1):
        day = hit.get("published") or "          "
        echo(f"{rank:>3}. {hit['score']:+.3f}  {hit['id']:>5}  arXiv:{hit['arxiv_id']:<12} {day}  {hit['title']}")
        why = []
        if hit["tags"]:
            why.append("tags: " + ", ".join(hit["tags"]))
        if hit["because"]:
            why.append(f"because you read: {hit['because']['title']} ({hit['because']['similarity']:.2f})")
        if why:
            echo("      " + "  ·  ".join(why))


@click.group(invoke_without_command=True)
@click.option("--tag", "-t", help="Rank for this tag: its papers and its classifier.")
@click.option("-k", type=click.IntRange(1, 1000), default=20, show_default=True, help="Number of candidates.")
@click.option("--ranker", type=click.Choice(RANKERS), default="fusion", show_default=True,
              help="similarity to your papers, per-tag classifiers, or both fused.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (id, arxiv_id, title, score, tags, because).")
@click.pass_context
def inbox(ctx: click.Context, tag: str | None, k: int, ranker: str, as_json: bool) -> None:
    """New arXiv papers waiting for triage, best first, ranked by what is already in your log.

    Example: reading inbox --tag efficient -k 10
    """
    if ctx.invoked_subcommand is not None:
        return
    log = log_of(ctx)
    if not log.candidates(limit=1):
        if as_json:
            echo("[]")
        echo("the inbox is empty: run `reading inbox fetch`", err=True)
        return
    hits = _index_call(_search.rank_inbox, log, tag=tag, k=k, ranker=ranker, progress=sys.stderr.isatty())
    if as_json:
        echo(json.dumps(hits, ensure_ascii=False, indent=2))
    else:
        _print(hits)


@inbox.command()
@click.option("--category", "-c", "categories", multiple=True,
              help="arXiv category (repeat for several); remembered as the new default (initially cs.CV, cs.LG).")
@click.option("--since", help="Submitted on or after this date, YYYY-MM-DD (default: the last 7 days, a setting).")
@click.option("--max", "max_results", type=Int(1, 100_000), help="Fetch at most this many (default 500).")
@click.pass_context
def fetch(ctx: click.Context, categories: tuple[str, ...], since: str | None, max_results: int | None) -> None:
    """Fetch new arXiv submissions into the inbox (papers already in your log, or skipped, are left out).

    Example: reading inbox fetch --category cs.CV --category cs.LG --since 2026-11-20 --max 200
    """
    report = _search.fetch_inbox(log_of(ctx), list(categories) or None, since=since, max_results=max_results,
                                 progress=sys.stderr.isatty())
    if report["error"]:
        got = f" ({report['fetched']} fetched before that)" if report["fetched"] else ""
        raise click.ClickException(f"{report['error']}{got}; {report['pending']} candidates waiting")
    echo(f"fetched {report['fetched']} papers in {', '.join(report['categories'])} since {report['since']}: "
               f"{report['added']} new, {report['in_log']} already in the log, {report['skipped']} skipped before; "
               f"{report['pending']} waiting")
    if report["embed_error"]:
        echo(f"not embedded yet ({report['embed_error']}); `reading inbox` will embed them", err=True)


@inbox.command()
@click.argument("ref")
@click.option("--tag", "-t", "tags", multiple=True, help="Tag (repeat for several).")
@click.option("--note", "-n", help="A Markdown note.")
@click.pass_context
def keep(ctx: click.Context, ref: str, tags: tuple[str, ...], note: str | None) -> None:
    """Move a candidate (inbox id or arXiv id) into your log as to-read.

    Example: reading inbox keep 12 --tag efficient
    """
    paper = log_of(ctx).keep_candidate(ref, tags=tags, note=note)
    tagged = f" [{', '.join(paper['tags'])}]" if paper["tags"] else ""
    echo(f"kept arXiv:{paper['arxiv_id']} as {paper['status']} (paper {paper['id']}): {paper['title']}{tagged}")


@inbox.command()
@click.argument("refs", nargs=-1, required=True)
@click.pass_context
def skip(ctx: click.Context, refs: tuple[str, ...]) -> None:
    """Dismiss candidates (inbox ids or arXiv ids) for good: later fetches leave them out.

    Example: reading inbox skip 13 14
    """
    log = log_of(ctx)
    for ref in refs:
        try:
            cand = log.skip_candidate(ref)
        except ReadingError as err:
            raise click.ClickException(f"{ref}: {err}") from None
        echo(f"skipped arXiv:{cand['arxiv_id']}: {cand['title']}")


@inbox.command()
@click.option("--older-than", default="30d", show_default=True,
              help="Age of the submissions to drop: 30d, 2w, 1m (skipped ones are always remembered).")
@click.pass_context
def clear(ctx: click.Context, older_than: str) -> None:
    """Drop waiting candidates submitted before a given age.

    Example: reading inbox clear --older-than 30d
    """
    dropped = log_of(ctx).clear_candidates(older_than)
    echo(f"dropped {dropped} candidates; {len(log_of(ctx).candidates())} waiting")
