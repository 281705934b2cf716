"""`reading search`, `reading related`, `reading reindex` through click's CliRunner, checked through the API."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import index
from reading import open_log
from paperzoo.reading_cli import cli

PAPERS = [
    ("ShuffleNet", "Pointwise group convolution and channel shuffle for mobile devices.", "efficient"),
    ("ShuffleNet V2", "Guidelines for efficient architectures: channel split and shuffle.", "efficient"),
    ("ResNet", "Residual connections ease the training of very deep networks.", "cnn"),
]


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv(index.MODEL_ENV, "hash-bow-128")  # the deterministic stand-in; the real model has its test
    path = tmp_path / "log.db"
    with open_log(path) as log:
        log.add("1707.01083", title=PAPERS[0][0], abstract=PAPERS[0][1], tags=[PAPERS[0][2]], fetch=False)
        for title, abstract, tag in PAPERS[1:]:
            log.add(None, title=title, abstract=abstract, tags=[tag], fetch=False)
    return path


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def test_search_json(db):
    result = run(db, "search", "channel shuffle mobile", "-k", "2", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert [h["id"] for h in hits][0] == 1 and len(hits) == 2
    assert hits[0]["arxiv_id"] == "1707.01083" and hits[0]["title"] == "ShuffleNet" and "score" in hits[0]
    with open_log(db) as log:  # the search indexed the log beside its file
        assert index.sync(log).total == 3 and index.index_dir(log.path).is_dir()


@pytest.mark.parametrize("mode", index.MODES)
def test_search_modes_and_tag_filter(db, mode):
    result = run(db, "search", "residual deep networks channel", "--mode", mode, "--tag", "cnn")
    assert result.exit_code == 0, result.output
    assert "ResNet" in result.stdout and "ShuffleNet" not in result.stdout


def test_related_by_arxiv_id(db):
    result = run(db, "related", "1707.01083", "-k", "1", "--json")
    assert result.exit_code == 0, result.output
    assert [h["title"] for h in json.loads(result.stdout)] == ["ShuffleNet V2"]


def test_reindex_and_full(db):
    first = run(db, "reindex")
    assert first.exit_code == 0 and "indexed 3 papers: 3 added" in first.stdout
    again = run(db, "reindex")
    assert "0 added, 0 updated, 0 removed, 0 embedded" in again.stdout
    full = run(db, "reindex", "--full")
    assert "3 embedded; rebuilt (full)" in full.stdout


@pytest.mark.parametrize("args, message", [
    (["search", "   "], "empty query"),
    (["search", "x", "--mode", "fuzzy"], "Invalid value for '--mode'"),
    (["related", "999"], "999"),
    (["search", "x", "--status", "finished"], "status"),
])
def test_bad_input_is_one_clear_line(db, args, message):
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code != 0 and result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output and "Traceback" not in result.output


def test_other_commands_do_not_import_the_index(db):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from paperzoo.reading_cli import cli\n"
        f"assert CliRunner().invoke(cli, ['--db', {str(db)!r}, 'list']).exit_code == 0\n"
        "print(sorted(m for m in ('index', 'faiss', 'torch', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_unloadable_model_is_one_line_and_keeps_the_old_index(db, monkeypatch):
    assert run(db, "reindex").exit_code == 0
    monkeypatch.setenv(index.MODEL_ENV, str(db.parent / "no-such-model"))
    result = CliRunner().invoke(cli, ["--db", str(db), "search", "channel shuffle"])
    assert result.exit_code == 1 and "cannot load the embedding model" in result.output
    assert "Traceback" not in result.output and result.output.strip().count("\n") <= 1
    monkeypatch.setenv(index.MODEL_ENV, "hash-bow-128")
    again = run(db, "reindex")
    assert "0 embedded" in again.stdout  # the index built before was not touched by the failed rebuild
