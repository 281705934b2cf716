"""``reading check``: a thin veneer over :func:`paperzoo.check` (the log, its PDFs and its index)."""
from __future__ import annotations

import json

import click

from ._check import check
from ._cli import log_of
from ._echo import echo

__all__ = ["check_cmd"]


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def check_cmd(ctx: click.Context, as_json: bool) -> None:
    """Check the log file, its stored PDFs (present, bytes match their hash) and its index: one line per problem;
    exit status 1 when there is any. Changes nothing (temporary files of killed imports are removed).

    Example: reading check
    """
    log = log_of(ctx)
    report = check(log)
    if as_json:
        echo(json.dumps({"log": str(log.path), **report}, ensure_ascii=False, indent=2))
    else:
        for p in report["problems"]:
            echo(f"{p['where']}: {p['problem']}" + (f" ({p['fix']})" if p["fix"] else ""))
        for note in report["notes"]:
            echo(f"note: {note}", err=True)
        if not report["problems"]:
            echo(f"ok: {log.path} and its {report['pdfs']} stored PDFs are sound")
    if report["problems"]:
        ctx.exit(1)
