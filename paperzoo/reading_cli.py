"""The ``reading`` command line: a thin veneer over :mod:`reading` (no SQL here); ``python -m reading`` runs it too.

Kept light on purpose: ``reading add/list/show`` import only click and the log; arxiv, bibtexparser, tqdm and the
semantic index are imported inside the commands that need them.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from reading import ENV_VAR, STATUSES, import_summary, write_atomic

from . import (
    reading_cli_backup,
    reading_cli_check,
    reading_cli_citations,
    reading_cli_fulltext,
    reading_cli_inbox,
    reading_cli_library,
    reading_cli_search,
)
from ._cli import Group, LogState, OutputFile, log_of, protected_files
from ._echo import echo, echo_data
from ._links import load_starter
from ._params import COUNT, ROW_ID, YEAR, Int

SORTS = ("added", "read", "title", "year", "rating")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), envvar=ENV_VAR, show_envvar=True,
              help="The log file (default: ~/.local/share/paper-zoo/reading.db).")
@click.version_option(package_name="paper-zoo", prog_name="reading")
@click.pass_context
def cli(ctx: click.Context, db: Path | None) -> None:
    """Your paper log: log what you read from the terminal, in a second.

    Example: reading add 1512.03385 --tag resnet --note "identity shortcuts"
    """
    state = LogState(db)
    ctx.obj = state
    ctx.call_on_close(state.close)


# --- output helpers ---------------------------------------------------------------------------------------------


def _ref(paper: Mapping[str, Any]) -> str:
    return f"arXiv:{paper['arxiv_id']}" if paper["arxiv_id"] else (f"doi:{paper['doi']}" if paper["doi"] else "-")


def _line(paper: Mapping[str, Any]) -> str:
    year = paper["year"] or "    "
    tags = f"  [{', '.join(paper['tags'])}]" if paper["tags"] else ""
    flag = " *" if paper["needs_refresh"] else ""
    return f"{paper['id']:>5}  {_ref(paper):<18} {year}  {paper['status']:<7}  {paper['title']}{tags}{flag}"


def _dump(data: Any) -> None:
    echo(json.dumps(data, ensure_ascii=False, indent=2))


# --- commands ---------------------------------------------------------------------------------------------------


@cli.command()
@click.argument("ids", nargs=-1)
@click.option("--tag", "-t", "tags", multiple=True, help="Tag (repeat for several).")
@click.option("--note", "-n", "notes", multiple=True, help="A Markdown note (any language; repeat for several).")
@click.option("--rating", "-r", type=click.IntRange(1, 5), help="Rating 1-5.")
@click.option("--status", "-s", type=click.Choice(STATUSES), help="Status (default: read).")
@click.option("--read-on", help="Date read, YYYY-MM-DD, 'today' or 'yesterday' (default: today).")
@click.option("--title", help="Title (manual metadata; wins over arXiv's).")
@click.option("--authors", help='Authors, semicolon-separated: "Kaiming He; Xiangyu Zhang".')
@click.option("--year", type=YEAR, help="Year.")
@click.option("--venue", help="Venue, e.g. 'CVPR 2016'.")
@click.option("--abstract", help="Abstract.")
@click.option("--doi", help="DOI.")
@click.option("--no-fetch", is_flag=True, help="Do not ask arXiv; log from the given fields (complete later with refresh).")
@click.option("--password", help="The password of encrypted PDFs.")
@click.pass_context
def add(ctx: click.Context, ids: tuple[str, ...], tags, notes, rating, status, read_on, title, authors, year, venue,
        abstract, doi, no_fetch, password) -> None:
    """Log papers by arXiv id, from their PDFs (paper.pdf ...), or by hand with --title; logging one again adds a read.

    Example: reading add ~/Downloads/1807.11164v2.pdf --tag shufflenet

    Example: reading add 1512.03385 --tag resnet --note "residual learning"

    Example: reading add --title "Gradient-Based Learning Applied to Document Recognition" --authors "Yann LeCun" --year 1998
    """
    if any(reading_cli_fulltext.is_pdf_arg(i) for i in ids):
        if not all(reading_cli_fulltext.is_pdf_arg(i) for i in ids):
            raise click.UsageError("give arXiv ids or PDF files, not both")
        if len(notes) > 1:
            raise click.UsageError("PDFs take one --note")
        reading_cli_fulltext.add_pdfs(ctx, ids, password=password, tags=tags, note=notes[0] if notes else None,
                                      rating=rating, status=status,
                                      title=title, authors=authors, year=year, fetch=not no_fetch)
        return
    manual = dict(title=title, authors=authors, year=year, venue=venue, abstract=abstract, doi=doi)
    if len(ids) > 1 and any(v is not None for v in manual.values()):
        raise click.UsageError("manual fields (--title, --authors, ...) describe one paper; give one id")
    if not ids and not title:
        raise click.UsageError("give an arXiv id, or --title for a paper logged by hand")
    log = log_of(ctx)
    for ident in ids or (None,):
        result = log.add(ident, tags=tags, note=list(notes), rating=rating, status=status, read_on=read_on,
                         fetch=not no_fetch, **manual)
        # "read again" only when this call logged a read; a paper already logged gets its status, tags, notes merged
        verb = "added" if result.created else ("read again" if result.read_logged else "already in the log")
        echo(f"{verb}: {_line(result.paper)}")
        if result.message:
            echo(f"warning: {result.message}", err=True)


@cli.command(name="list")
@click.option("--tag", "-t", help="Only papers with this tag.")
@click.option("--status", "-s", type=click.Choice(STATUSES), help="Only papers with this status.")
@click.option("--since", help="Added or read on/after this date (YYYY-MM-DD).")
@click.option("--until", help="Added or read on/before this date (YYYY-MM-DD).")
@click.option("--sort", type=click.Choice(SORTS), default="added", show_default=True, help="Order.")
@click.option("--limit", "-k", type=COUNT, help="At most this many papers.")
@click.option("--json", "as_json", is_flag=True, help="JSON output (full paper records).")
@click.pass_context
def list_(ctx: click.Context, tag, status, since, until, sort, limit, as_json) -> None:
    """List logged papers, newest first (* = metadata pending a refresh).

    Example: reading list --tag resnet --since 2026-11-01
    """
    papers = log_of(ctx).papers(tag=tag, status=status, since=since, until=until, sort=sort, limit=limit)
    if as_json:
        _dump(papers)
        return
    for paper in papers:
        echo(_line(paper))


@cli.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one paper: metadata, reads, tags, notes and linked zoo models.

    REF is the log id, an arXiv id (any form) or a DOI. Example: reading show 1512.03385
    """
    paper = log_of(ctx).get(ref)
    if as_json:
        _dump(paper)
        return
    echo(paper["title"], bold=True)
    rows = [
        ("authors", "; ".join(paper["authors"])),
        ("year", paper["year"]),
        ("venue", paper["venue"]),
        ("arXiv", paper["arxiv_id"]),
        ("DOI", paper["doi"]),
        ("url", paper["url"] or (f"https://arxiv.org/abs/{paper['arxiv_id']}" if paper["arxiv_id"] else None)),
        ("id", paper["id"]),
        ("status", paper["status"] + (f", rated {paper['rating']}/5" if paper["rating"] else "")),
        ("read on", ", ".join(r["read_on"] for r in paper["reads"])),
        ("tags", ", ".join(paper["tags"])),
        ("zoo models", ", ".join(paper["models"])),
        ("pending", "metadata incomplete: run `reading refresh`" if paper["needs_refresh"] else None),
        ("PDF", "; ".join(f"{p['file_name']} ({p['page_count']} pages; reading pages {paper['id']})"
                          for p in log_of(ctx).pdfs(paper["id"]))),
    ]
    for key, value in rows:
        if value not in (None, ""):
            echo(f"{key:>10}: {value}")
    if paper["abstract"]:
        echo("\n" + paper["abstract"])
    for note in paper["notes"]:
        echo(f"\n--- note {note['id']} · {note['created_at'][:10]} ---\n{note['text']}")


@cli.command()
@click.argument("ref")
@click.argument("text", required=False)
@click.option("--edit", "edit_id", type=ROW_ID, metavar="NOTE_ID",
              help="Replace this note's text with TEXT (`reading show REF` prints note ids).")
@click.option("--delete", "delete_id", type=ROW_ID, metavar="NOTE_ID", help="Delete this note of the paper.")
@click.pass_context
def note(ctx: click.Context, ref: str, text: str | None, edit_id: int | None, delete_id: int | None) -> None:
    """Add a Markdown note to a paper (any language; stored verbatim), or edit or delete one of its notes.

    Example: reading note 1512.03385 "Identity shortcuts make depth trainable."

    Then: reading note 1512.03385 --edit ID "Identity shortcuts ease optimisation." (ID: the note id printed above,
    or see reading show REF)
    """
    if edit_id is not None and delete_id is not None:
        raise click.UsageError("give --edit or --delete, not both")
    if delete_id is not None and text is not None:
        raise click.UsageError("--delete takes no TEXT")
    if delete_id is None and text is None:
        raise click.UsageError("missing TEXT")
    log = log_of(ctx)
    if text is None:  # --delete (the checks above leave no other case)
        assert delete_id is not None
        gone = log.delete_note(delete_id, paper=ref)
        first = gone["text"].strip().splitlines()[0] if gone["text"].strip() else ""
        echo(f"deleted note {gone['id']} ({first[:60]}{'…' if len(first) > 60 else ''}): {_line(log.get(ref))}")
    elif edit_id is not None:
        log.edit_note(edit_id, text, paper=ref)
        echo(f"edited note {edit_id}: {_line(log.get(ref))}")
    else:
        nid = log.note(ref, text)
        echo(f"noted (note {nid}): {_line(log.get(ref))}")


@cli.command()
@click.argument("ref")
@click.argument("tags", nargs=-1, required=True)
@click.pass_context
def tag(ctx: click.Context, ref: str, tags: tuple[str, ...]) -> None:
    """Add tags to a paper. Example: reading tag 1512.03385 resnet backbone"""
    echo(", ".join(log_of(ctx).tag(ref, *tags)))


@cli.command()
@click.argument("ref")
@click.argument("tags", nargs=-1, required=True)
@click.pass_context
def untag(ctx: click.Context, ref: str, tags: tuple[str, ...]) -> None:
    """Remove tags from a paper. Example: reading untag 1512.03385 backbone"""
    echo(", ".join(log_of(ctx).untag(ref, *tags)))


@cli.command()
@click.argument("ref")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(ctx: click.Context, ref: str, yes: bool) -> None:
    """Delete a paper with its notes, tags and reads (asks first).

    Example: reading remove 1512.03385 --yes
    """
    log = log_of(ctx)
    paper = log.get(ref)
    if not yes:
        pdfs = len(log.pdfs(paper["id"]))
        click.confirm(f"remove {_ref(paper)} {paper['title']!r} with {len(paper['notes'])} note(s)"
                      f"{f' and its stored PDF(s) ({pdfs})' if pdfs else ''}?", abort=True)
    log.remove(paper["id"])
    echo(f"removed: {paper['title']}")


@cli.command()
@click.argument("ref")
@click.argument("status", type=click.Choice(STATUSES))
@click.pass_context
def status(ctx: click.Context, ref: str, status: str) -> None:
    """Set a paper's status. Example: reading status 1807.11164 reading"""
    echo(_line(log_of(ctx).set_status(ref, status)))


@cli.command()
@click.argument("ref")
@click.argument("rating", type=click.IntRange(1, 5))
@click.pass_context
def rate(ctx: click.Context, ref: str, rating: int) -> None:
    """Rate a paper 1-5. Example: reading rate 1512.03385 5"""
    paper = log_of(ctx).rate(ref, rating)
    echo(f"{paper['rating']}/5  {paper['title']}")


@cli.command()
@click.argument("refs", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Refresh every paper with an arXiv id, not only pending ones.")
@click.pass_context
def refresh(ctx: click.Context, refs: tuple[str, ...], everything: bool) -> None:
    """Complete papers from arXiv: the pending ones (* in list), or those given.

    Example: reading refresh
    """
    log = log_of(ctx)
    if everything:
        refs = tuple(str(p["id"]) for p in log.papers() if p["arxiv_id"])
    report = log.refresh(refs or None, progress=sys.stderr.isatty())
    echo(f"refreshed {len(report['updated'])} paper(s)")
    if report["missing"]:
        echo(f"arXiv does not know: {', '.join(report['missing'])}", err=True)
    if report["error"]:
        raise click.ClickException(f"{report['error']}; what was fetched is saved, run `reading refresh` again")


@cli.command()
@click.option("--window", type=COUNT, default=30, show_default=True, help="Days for the average.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_context
def stats(ctx: click.Context, window: int, as_json: bool) -> None:
    """Reading stats: papers per day/week/month, streaks, average, tags.

    Example: reading stats --window 7
    """
    log = log_of(ctx)
    data = log.stats(window_days=window)
    passages = reading_cli_fulltext.passage_status(log)
    if passages is not None:
        data = {**data, "passage_index": passages}
    if as_json:
        _dump(data)
        return
    echo(f"papers in the log: {data['total_papers']}   reads: {data['total_reads']}")
    echo(f"streak: {data['current_streak']} day(s) now, longest {data['longest_streak']}")
    echo(f"average: {data['avg_per_day']:.2f} papers/day over the last {data['window_days']} days")
    for month, n in list(data["per_month"].items())[-6:]:
        echo(f"  {month}  {n:>4}  {'#' * min(n, 60)}")
    if data["tag_counts"]:
        echo("tags: " + ", ".join(f"{t} ({n})" for t, n in list(data["tag_counts"].items())[:15]))
    if passages is not None:
        echo(reading_cli_fulltext.passage_status_line(passages))


IMPORT_FORMATS = ("bibtex", "csl-json", "ris", "jsonl", "csv", "json")
EXPORT_FORMATS = ("bibtex", "json", "csv", "csl-json")


@cli.command(name="import")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS), help="File format (default: from the extension).")
@click.option("--starter", is_flag=True, help="Load the bundled starter set: the papers behind the zoo and neighbours.")
@click.option("--zotero", is_flag=True, help="FILE is a Zotero data folder (default: ~/Zotero): items, notes, "
              "highlights, collections and PDFs.")
@click.option("--attachments-base", type=click.Path(file_okay=False, path_type=Path),
              help="Zotero's base folder for linked files (Zotero: Settings > Advanced > Files and Folders).")
@click.pass_context
def import_(ctx: click.Context, file: Path | None, fmt: str | None, starter: bool, zotero: bool,
            attachments_base: Path | None) -> None:
    """Import papers: a Zotero library, BibTeX, CSL-JSON or RIS (with their PDFs), an arXiv metadata JSONL snapshot,
    our CSV/JSON, or the starter set.

    Example: reading import --zotero ~/Zotero

    Example: reading import refs.bib

    Example: reading import --starter

    JSONL imports stream with a progress bar and resume where an interrupted run stopped. Running a Zotero import
    again brings only what is new.

    A FOLDER imports every PDF below it (a Zotero storage folder, say): resumable, broken files named at the end.
    A folder that holds zotero.sqlite is imported as a Zotero library.

    Example: reading import ~/Downloads/papers/
    """
    from ._imports import is_zotero_folder

    if zotero or (file is not None and is_zotero_folder(file)):
        if starter or fmt:
            raise click.UsageError("--zotero takes a Zotero data folder only")
        reading_cli_library.import_zotero(ctx, file, attachments_base)
        return
    if starter == (file is not None):
        raise click.UsageError("give a FILE or --starter")
    if file is not None and file.is_dir():
        reading_cli_fulltext.import_folder(ctx, file)
        return
    log = log_of(ctx)
    if starter:
        report = load_starter(log)
    else:
        report = reading_cli_library.import_file(ctx, file, fmt)
    echo(import_summary(report))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="Output format.")
@click.option("--output", "-o", type=OutputFile(), help="File (default: stdout).")
@click.option("--tag", "-t", help="Only papers with this tag.")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: Path | None, tag: str | None) -> None:
    """Export the log as BibTeX, JSON, CSV or CSL-JSON (written atomically).

    Example: reading export --format bibtex -o library.bib
    """
    log = log_of(ctx)
    text = log.export(fmt, tag=tag)
    if output is None:
        echo_data(text)
    else:
        write_atomic(output, text, protect=protected_files(log.path))
        echo(f"wrote {output}", err=True)


cli.add_command(reading_cli_search.search)
cli.add_command(reading_cli_search.related)
cli.add_command(reading_cli_search.reindex)
cli.add_command(reading_cli_inbox.inbox)
cli.add_command(reading_cli_fulltext.attach)
cli.add_command(reading_cli_fulltext.pages)
cli.add_command(reading_cli_backup.backup)
cli.add_command(reading_cli_backup.restore)
cli.add_command(reading_cli_check.check_cmd)
cli.add_command(reading_cli_citations.cites)
cli.add_command(reading_cli_citations.cited_by)
cli.add_command(reading_cli_citations.suggest)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="reading")
