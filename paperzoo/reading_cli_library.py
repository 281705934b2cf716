"""`reading import --zotero` and the file imports that bring PDFs along: veneers over :mod:`paperzoo._imports`."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ._cli import log_of
from ._echo import echo


def import_zotero(ctx: click.Context, folder: Path | None, attachments_base: Path | None) -> None:
    """Import a Zotero library; missing files and broken items are named on stderr, one summary line on stdout."""
    import reading

    from ._imports import import_zotero as run

    report = run(log_of(ctx), folder, attachments_base=attachments_base, progress=sys.stderr.isatty())
    for line in report["missing"]:
        echo(f"missing: {line}", err=True)
    for line in report["errors"]:
        echo(f"skipped: {line}", err=True)
    echo(reading.zotero_summary(report))
    if report.get("indexing"):
        echo("indexing the new pages in the background (`reading stats` shows progress)", err=True)


def import_file(ctx: click.Context, path: Path | None, fmt: str | None) -> dict[str, Any]:
    """Import a reference file; PDFs its entries name are attached (missing ones named on stderr)."""
    from ._imports import import_file as run

    assert path is not None
    report = run(log_of(ctx), path, fmt=fmt, progress=sys.stderr.isatty())
    for line in report.get("missing", []):
        echo(f"missing: {line}", err=True)
    if report.get("indexing"):
        echo("indexing the new pages in the background (`reading stats` shows progress)", err=True)
    return report
