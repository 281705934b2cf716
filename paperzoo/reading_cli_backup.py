"""`reading backup` and `reading restore`: thin veneers over :func:`reading.backup` and :func:`reading.restore`.
Registered in `paperzoo/reading_cli.py`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from reading import InvalidInput

from ._cli import LogState, OutputFile, check_output, log_of
from ._echo import echo


@click.command()
@click.argument("file", type=OutputFile())
@click.pass_context
def backup(ctx: click.Context, file: Path) -> None:
    """Back up the log in one archive FILE: a consistent snapshot of the database (safe while the app writes), the
    stored PDFs and a manifest with the sha256 of each (.tar; .tar.gz or .tgz compressed).

    Example: reading backup ~/backups/reading-2026-12-06.tar
    """
    from reading import backup as backup_log

    echo(backup_log(log_of(ctx), file, progress=sys.stderr.isatty()).summary())


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path),
              help="Restore as this log file (default: the log `reading` uses, i.e. reading --db or $READING_DB).")
@click.option("--force", is_flag=True, help="Replace an existing log (close the app first); its PDFs are kept.")
@click.pass_context
def restore(ctx: click.Context, file: Path, db: Path | None, force: bool) -> None:
    """Restore a backup made by `reading backup`: every file's sha256 is checked before anything is written, and
    an existing log is replaced only with --force. The PDFs go into the restored log's library folder.

    Example: reading restore ~/backups/reading-2026-12-06.tar --db ~/restored.db
    """
    from reading import default_db_path
    from reading import restore as restore_log

    state = ctx.find_object(LogState)
    target = db or (state.db_path if state is not None and state.db_path is not None else default_db_path())
    try:  # the one output guard: a log may be replaced (--force), never its WAL, journal or folders
        check_output(target, state.db_path if state is not None else None, replacing_log=True)
    except InvalidInput as err:
        raise click.BadParameter(str(err), ctx, param_hint="--db") from None
    echo(restore_log(file, target, force=force, progress=sys.stderr.isatty()).summary())
