"""Full text on the command line: `reading add paper.pdf`, `reading import FOLDER/`, `reading attach`,
`reading pages`, and the output of `reading search --fulltext`. Thin veneers over the log's PDF methods
(`reading._fulltext`) and `index.search(..., fulltext=True)`; `index` is imported only by the search.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from ._cli import log_of
from ._echo import echo, printable
from ._params import Int


def is_pdf_arg(arg: str | None) -> bool:
    """Whether a `reading add` argument names a PDF file rather than an arXiv id (arxiv.org/pdf/... URLs are ids)."""
    if not arg or "://" in arg or arg.lower().startswith("arxiv.org"):
        return False
    return arg.lower().endswith(".pdf") or Path(arg).is_file()


class _PageBar:
    """A progress bar for long PDFs (shown on a terminal, from the 50th page on)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None and total >= 50 and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="page", desc=self.name[:30], leave=False)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _line(paper: Mapping[str, Any], pdf: dict[str, Any]) -> str:
    ref = f"arXiv:{paper['arxiv_id']}" if paper.get("arxiv_id") else (f"doi:{paper['doi']}" if paper.get("doi")
                                                                       else "-")
    pages = f"{pdf['page_count']} page{'s' if pdf['page_count'] != 1 else ''}"
    flag = " *" if paper.get("needs_refresh") else ""
    return f"{paper['id']:>5}  {ref:<18} {paper['title']}  ({pdf['file_name']}, {pages}){flag}"


def add_pdfs(ctx: click.Context, paths: Sequence[str], *, password: str | None = None, **fields: Any) -> None:
    """`reading add a.pdf b.pdf ...`: log each paper from its PDF; a bad file is named and the others still go in.

    ``fields``: tags, note, rating, status, title, authors, year, fetch (as `Log.add_pdf` takes them).
    """
    from reading import ReadingError

    if len(paths) > 1 and any(fields.get(k) for k in ("title", "authors", "year")):
        raise click.UsageError("manual fields (--title, --authors, --year) describe one paper; give one PDF")
    log = log_of(ctx)
    failed = 0
    for path in paths:
        bar = _PageBar(Path(path).name)
        try:
            result = log.add_pdf(path, password=password, on_page=bar, **fields)
        except ReadingError as err:
            if len(paths) == 1:
                raise
            echo(f"error: {err}", err=True)
            failed += 1
            continue
        finally:
            bar.close()
        verb = "already in the log" if result.duplicate else "added" if result.created else "PDF added to"
        echo(f"{verb}: {_line(result.paper, result.pdf)}")
        if result.message and (result.restored or not result.duplicate):
            echo(f"{'restored' if result.restored else 'warning'}: {result.message}", err=True)
    if failed < len(paths):
        index_in_background(log)
    if failed:
        raise click.ClickException(f"{failed} of {len(paths)} PDFs could not be added (named above)")


def import_folder(ctx: click.Context, folder: Path, *, tags: Sequence[str] = (), fetch: bool = False) -> None:
    """`reading import FOLDER/`: every PDF below it; resumable; the broken ones named at the end."""
    log = log_of(ctx)
    report = log.import_pdfs(folder, tags=tags, fetch=fetch, progress=sys.stderr.isatty())
    for name, why in report.notes:
        echo(f"note: {name}: {why}", err=True)
    for name, why in report.failed:
        echo(f"failed: {name}: {why}", err=True)
    echo(report.summary())
    index_in_background(log)


def index_in_background(log: Any) -> None:
    """After PDFs went in: start the background indexer (`paperzoo.index_in_background`); say so in one line."""
    from ._search import index_in_background as start

    try:
        started = start(log)
    except OSError as err:  # the index folder cannot be written: search still works by keyword
        echo(f"note: cannot start indexing in the background ({err}); run `reading reindex --passages`", err=True)
        return
    if started:
        echo("indexing the new pages in the background (`reading stats` shows progress)", err=True)


@click.command()
@click.argument("ref")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--password", help="The password of an encrypted PDF.")
@click.pass_context
def attach(ctx: click.Context, ref: str, file: Path, password: str | None) -> None:
    """Attach a PDF to a paper already in the log (its text becomes searchable with --fulltext).

    Example: reading attach 1512.03385 ~/Downloads/resnet.pdf
    """
    bar = _PageBar(file.name)
    log = log_of(ctx)
    try:
        result = log.attach_pdf(ref, file, password=password, on_page=bar)
    finally:
        bar.close()
    echo(f"{'already attached' if result.duplicate else 'attached'}: {_line(result.paper, result.pdf)}")
    if result.message and (result.restored or not result.duplicate):
        echo(f"{'restored' if result.restored else 'warning'}: {result.message}", err=True)
    if not result.duplicate:
        index_in_background(log)


@click.command()
@click.argument("ref")
@click.option("--page", "-p", "page", type=Int(1, 1_000_000), help="Only this page (1-based).")
@click.pass_context
def pages(ctx: click.Context, ref: str, page: int | None) -> None:
    """Print the text of a paper's PDF, page by page (what --fulltext searches).

    Example: reading pages 1807.11164 --page 3
    """
    log = log_of(ctx)
    pdfs = log.pdfs(ref)
    if not pdfs:
        raise click.ClickException(f"paper {ref} has no PDF; add one with `reading attach {ref} FILE.pdf`")
    for pdf in pdfs:
        if page is not None and page > pdf["page_count"]:
            raise click.ClickException(f"{pdf['file_name']} has {pdf['page_count']} pages, not {page}")
        first = page or 1
        texts = log.pdf_pages(pdf["sha256"], first, page)
        echo(f"{pdf['file_name']} ({pdf['page_count']} pages) · stored at {pdf['path']}", bold=True)
        if not pdf["has_text"]:
            echo("no text layer: metadata from you, full text not searchable")
        for n, text in enumerate(texts, start=first):
            echo(f"\n--- page {n} ---\n{text}")


def print_passages(hits: list[dict[str, Any]], query: str, as_json: bool) -> None:
    """`reading search --fulltext` output: JSON rows, or title, the file and its page, the section, and the passage
    with matched words marked."""
    if as_json:
        echo(json.dumps(hits, ensure_ascii=False, indent=2))
        return
    if not hits:
        echo("no matching passages (only papers with a PDF are searched in full text)", err=True)
        return
    from index import mark_matches

    color = sys.stdout.isatty()
    left, right = ("\x1b[1;4m", "\x1b[0m") if color else ("**", "**")
    for rank, hit in enumerate(hits, start=1):
        where = f"{printable(hit['file'])}, " if hit.get("file") else ""
        where += f"page {hit['page']}" + (f" · {printable(hit['section'])}" if hit.get("section") else "")
        echo(f"{rank:>3}. {hit['score']:.3f}  {hit['id']:>5}  {hit['title']}  · {where}")
        echo(f"      {mark_matches(printable(hit['passage']), query, left, right)}\n", safe=True)


def passage_status(log: Any) -> dict[str, Any] | None:
    """`reading stats`: how far the passage index is (`paperzoo.indexing_status`), or None when the log has no
    PDF pages (then `index` is not imported)."""
    if not log.page_refs():
        return None
    from ._search import indexing_status

    return indexing_status(log)


def passage_status_line(status: Mapping[str, Any]) -> str:
    """The `reading stats` line on the passage index (`paperzoo.indexing_line`)."""
    from ._search import indexing_line

    return indexing_line(status)
