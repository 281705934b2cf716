"""Hostile inputs, round 3 (issue 27 A-E and leaks): outputs aimed at the log, folders shared between logs, stored
PDFs that change, other programs' SQLite files, read-only and full disks, files left by killed processes.

Each case runs through the command lines (CliRunner) where a command is involved; where the command fails, the log
is left byte for byte as it was.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import reading
from paperzoo._cli import OutputFile
from paperzoo.reading_cli import cli as reading_cli
from paperzoo.zoo_cli import cli as zoo_cli
from reading import _db, open_log


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def _one_error(result, says: str) -> str:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = _error_lines(result.output)
    assert len(errors) == 1 and says in errors[0], result.output
    return errors[0]


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "papers.db"
    with open_log(path) as log:
        log.add(None, title="Deep Residual Learning", year=2015, fetch=False)
    return path


# --- A. one output guard for every output path ------------------------------------------------------------------

#: Option names that say "this writes a file"; an option or argument so named, or typed as a writable click.Path or
#: a click.File opened for writing, must take the guard's type.
_OUTPUT_NAMES = re.compile(r"^(o|out|output|outfile|output_file|state|state_file|save|save_to|dest|destination|"
                           r"target|to|backup|write|export_to|onnx|checkpoint)$")


def _commands(group: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, group
    if isinstance(group, click.Group):
        for name, sub in sorted(group.commands.items()):
            yield from _commands(sub, (*path, name))


def _writes(param: click.Parameter) -> bool:
    kind = param.type
    if isinstance(kind, OutputFile):
        return True
    if isinstance(kind, click.File) and any(c in kind.mode for c in "wax+"):
        return True
    if isinstance(kind, click.Path) and kind.writable:
        return True
    names = [param.name or ""] + [o.lstrip("-").replace("-", "_") for o in getattr(param, "opts", [])]
    return any(_OUTPUT_NAMES.match(n) for n in names)


def _output_params() -> list[tuple[str, tuple[str, ...], click.Parameter]]:
    found = []
    for prog, root in (("reading", reading_cli), ("zoo", zoo_cli)):
        for path, command in _commands(root):
            for param in command.params:
                if _writes(param):
                    found.append((prog, path, param))
    return found


OUTPUTS = _output_params()


def test_every_output_option_takes_the_guard():
    """A new command with an output path that skips the guard fails here (rename it, or type it OutputFile)."""
    assert len(OUTPUTS) >= 9  # reading export, zoo bench/eval/export, supernet train/search/latency/extract
    loose = [f"{prog} {' '.join(path)} {param.name}" for prog, path, param in OUTPUTS
             if not isinstance(param.type, OutputFile)]
    assert not loose, f"output options that bypass paperzoo._cli.OutputFile: {loose}"
    assert any(path == ("export",) and prog == "zoo" for prog, path, _ in OUTPUTS)


def _targets(db: Path) -> list[str]:
    lib, idx = reading.library_dir(db), __import__("index").index_dir(db)
    return [str(db), f"{db}-wal", f"{db}-shm", f"{db}-journal", str(lib / "ab" / "x.pdf"), str(idx / "manifest.json"),
            str(db.with_name("link.db"))]


@pytest.mark.parametrize("prog,path,param", OUTPUTS,
                         ids=[f"{p}-{'-'.join(c)}-{q.name}" for p, c, q in OUTPUTS])
def test_every_output_option_refuses_the_log_and_its_files(db, monkeypatch, prog, path, param):
    db.with_name("link.db").symlink_to(db)
    with open_log(db) as log:
        log.library_dir().mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("READING_DB", str(db))
    before = _sha(db)
    for target in _targets(db):
        if isinstance(param, click.Option):
            args = [*path, param.opts[0], target]
        else:  # an argument: dummies for the arguments before it
            command = _commands_by_path(prog)[path]
            args = [*path]
            for other in command.params:
                if other is param:
                    break
                if isinstance(other, click.Argument):
                    args.append("x")
            args.append(target)
        root = reading_cli if prog == "reading" else zoo_cli
        result = CliRunner().invoke(root, (["--db", str(db)] if prog == "reading" else []) + args)
        assert result.exit_code == 2, (target, result.output)
        _one_error(result, "refusing to write")
    assert _sha(db) == before


def _commands_by_path(prog: str) -> dict[tuple[str, ...], click.Command]:
    return dict(_commands(reading_cli if prog == "reading" else zoo_cli))


def test_zoo_export_onto_the_log_is_refused(db, monkeypatch):
    """The round-3 case: `zoo export ... -o "$READING_DB"` replaced the log with an ONNX file."""
    monkeypatch.setenv("READING_DB", str(db))
    before = _sha(db)
    for target in (str(db), f"{db}-wal", str(reading.library_dir(db) / "x.onnx")):
        result = CliRunner().invoke(zoo_cli, ["export", "shufflenet_v2_x0_5", "--input-size", "32", "-o", target])
        assert result.exit_code == 2
        _one_error(result, "refusing to write")
    assert _sha(db) == before


def test_a_db_typed_after_the_output_option_is_guarded_too(db, tmp_path, monkeypatch):
    """click converts options in the order typed: `-o LOG --db LOG` once checked -o against the default log."""
    monkeypatch.setenv("READING_DB", str(tmp_path / "other.db"))
    before = _sha(db)
    result = CliRunner().invoke(zoo_cli, ["bench", "shufflenet_v2_x0_5", "--iters", "1", "--warmup", "0", "--mode",
                                          "eager", "--input-size", "32", "-o", str(db), "--db", str(db)])
    assert result.exit_code == 2
    _one_error(result, "refusing to write")
    assert _sha(db) == before


def test_supernet_search_default_state_file_is_guarded(tmp_path, monkeypatch):
    """`--out X` puts the search state at X.state: a log named like that is refused as well."""
    log_path = tmp_path / "result.json.state"
    with open_log(log_path):
        pass
    monkeypatch.setenv("READING_DB", str(log_path))
    before = _sha(log_path)
    result = CliRunner().invoke(zoo_cli, ["supernet", "search", "--supernet", str(tmp_path / "none.pt"), "--data",
                                          "tiny", "--out", str(tmp_path / "result.json")])
    assert result.exit_code == 1
    _one_error(result, "refusing to write")
    assert _sha(log_path) == before


def test_check_output_is_the_one_guard(db, tmp_path):
    from paperzoo import check_output

    assert check_output(tmp_path / "fine.json", db) == tmp_path / "fine.json"
    for bad in _targets(db):
        if not bad.endswith("link.db"):
            with pytest.raises(reading.InvalidInput, match="refusing to write"):
                check_output(bad, db)
