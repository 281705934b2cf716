"""The `reading` CLI through click's CliRunner, results checked through the API; plus the light fast path."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from reading import open_log
from paperzoo.reading_cli import cli


@pytest.fixture
def run(tmp_path):
    db = tmp_path / "cli.db"

    def invoke(*args, input=None):
        return CliRunner().invoke(cli, ["--db", str(db), *args], input=input, catch_exceptions=False)

    invoke.db = db
    return invoke


def test_add_manual_then_list_show_and_api_agree(run):
    result = run("add", "--title", "Deep Residual Learning", "--authors", "Kaiming He; Xiangyu Zhang", "--year", "2015",
                 "--venue", "CVPR 2016", "-t", "resnet", "-t", "cv", "--note", "恒等映射 shortcut", "--rating", "5",
                 "--read-on", "2026-11-20")
    assert result.exit_code == 0, result.output
    with open_log(run.db) as log:
        paper = log.papers()[0]
    assert paper["authors"] == ["Kaiming He", "Xiangyu Zhang"] and paper["tags"] == ["cv", "resnet"]
    assert paper["notes"][0]["text"] == "恒等映射 shortcut" and paper["rating"] == 5
    assert paper["reads"][0]["read_on"] == "2026-11-20"
    listed = run("list")
    assert "Deep Residual Learning" in listed.output and "[cv, resnet]" in listed.output
    shown = run("show", str(paper["id"]))
    assert "Kaiming He; Xiangyu Zhang" in shown.output and "恒等映射 shortcut" in shown.output
    as_json = json.loads(run("list", "--json").output)
    assert as_json[0]["id"] == paper["id"] and as_json[0]["notes"][0]["text"] == "恒等映射 shortcut"


def test_add_offline_logs_typed_fields_with_one_line_warning(run, arxiv_replay):
    arxiv_replay.mode = "offline"
    result = CliRunner().invoke(cli, ["--db", str(run.db), "add", "1512.03385", "--title", "ResNet", "-t", "x"])
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "refresh" in warnings[0]
    with open_log(run.db) as log:
        assert log.get("1512.03385")["needs_refresh"] and log.get("1512.03385")["title"] == "ResNet"
    arxiv_replay.mode = "replay"
    assert run("list").output.rstrip().endswith("*")


def test_add_several_ids_and_refresh(run, arxiv_replay):
    assert run("add", "1605.08386", "2104.12255v1", "-t", "batch").exit_code == 0
    with open_log(run.db) as log:
        assert {p["title"] for p in log.papers(tag="batch")} == {"Heat-bath random walks with Markov bases", "0"}
    run("add", "quant-ph/0201082", "--no-fetch")
    result = run("refresh")
    assert result.exit_code == 0 and "refreshed 1" in result.output
    with open_log(run.db) as log:
        assert not log.get("quant-ph/0201082")["needs_refresh"]


def test_note_tag_untag_status_rate_remove(run):
    run("add", "1807.11164", "--no-fetch", "--title", "ShuffleNet V2")
    assert run("note", "1807.11164", "channel split").exit_code == 0
    assert run("tag", "arXiv:1807.11164", "mobile", "efficient").output.strip() == "efficient, mobile"
    assert run("untag", "1807.11164", "efficient").output.strip() == "mobile"
    assert run("status", "1807.11164", "reading").exit_code == 0
    assert run("rate", "1807.11164", "4").exit_code == 0
    with open_log(run.db) as log:
        paper = log.get("1807.11164")
    assert paper["notes"][0]["text"] == "channel split" and paper["tags"] == ["mobile"]
    assert paper["status"] == "reading" and paper["rating"] == 4
    refused = run("remove", "1807.11164", input="n\n")
    assert refused.exit_code != 0
    with open_log(run.db) as log:
        assert log.count() == 1
    assert run("remove", "1807.11164", "--yes").exit_code == 0
    with open_log(run.db) as log:
        assert log.count() == 0


def test_note_edit_and_delete(run):
    run("add", "1512.03385", "--no-fetch", "--title", "Deep Residual Learning")
    run("add", "1807.11164", "--no-fetch", "--title", "ShuffleNet V2")
    added = run("note", "1512.03385", "first draft")
    assert added.exit_code == 0 and "note 1" in added.output
    run("note", "1512.03385", "second")
    run("note", "1807.11164", "channel split")
    assert "--- note 1 · " in run("show", "1512.03385").output  # ids to edit by
    text = "残差学习：**恒等映射**让深层网络可训练。\n第二行"
    edited = run("note", "1512.03385", text, "--edit", "1")
    assert edited.exit_code == 0 and "edited note 1" in edited.output
    with open_log(run.db) as log:
        assert [n["text"] for n in log.get("1512.03385")["notes"]] == [text, "second"]
        assert [i for i, _ in log.keyword_search("draft")] == []
    deleted = run("note", "arXiv:1512.03385", "--delete", "2")
    assert deleted.exit_code == 0 and "deleted note 2 (second)" in deleted.output
    with open_log(run.db) as log:
        assert [n["id"] for n in log.get("1512.03385")["notes"]] == [1]
        assert [n["text"] for n in log.get("1807.11164")["notes"]] == ["channel split"]


@pytest.mark.parametrize("args, message", [
    (["note", "1512.03385", "x", "--edit", "3"], "belongs to another paper"),  # note 3 is ShuffleNet's
    (["note", "1512.03385", "--delete", "3"], "belongs to another paper"),
    (["note", "1512.03385", "--delete", "42"], "no note with id 42"),
    (["note", "1512.03385", " ", "--edit", "1"], "empty note"),
    (["note", "1512.03385", "--edit", "1"], "missing TEXT"),
    (["note", "1512.03385", "x", "--delete", "1"], "takes no TEXT"),
    (["note", "1512.03385", "x", "--edit", "1", "--delete", "1"], "not both"),
])
def test_note_edit_and_delete_refuse_bad_input_in_one_line(run, args, message):
    run("add", "1512.03385", "--no-fetch", "--title", "Deep Residual Learning", "--note", "mine")
    run("add", "1807.11164", "--no-fetch", "--title", "ShuffleNet V2", "--note", "other")
    run("note", "1807.11164", "theirs")
    result = CliRunner().invoke(cli, ["--db", str(run.db), *args])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert [line for line in result.output.splitlines() if line.startswith("Error")] == [
        line for line in result.output.splitlines() if message in line]
    with open_log(run.db) as log:
        assert [n["text"] for n in log.get("1512.03385")["notes"]] == ["mine"]
        assert [n["text"] for n in log.get("1807.11164")["notes"]] == ["other", "theirs"]


@pytest.mark.parametrize(
    "args",
    [
        ["add", "not-an-id"],
        ["add"],
        ["add", "1512.03385", "1807.11164", "--title", "x"],
        ["add", "--title", "x", "--read-on", "tomorrowish"],
        ["add", "--title", "x", "--rating", "9"],
        ["show", "1512.03385"],
        ["show", "999"],
        ["note", "999", "text"],
        ["note", "999", "--delete", "1"],
        ["note", "999", "text", "--edit", "1"],
        ["list", "--since", "last week"],
        ["import", "missing.bib"],
        ["import"],
        ["export", "--format", "yaml"],
    ],
)
def test_bad_input_is_one_line_error_and_nonzero_exit(run, args):
    result = CliRunner().invoke(cli, ["--db", str(run.db), *args])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    with open_log(run.db) as log:
        assert log.count() == 0


def test_stats_and_env_var_db(tmp_path, monkeypatch):
    db = tmp_path / "env.db"
    monkeypatch.setenv("READING_DB", str(db))
    runner = CliRunner()
    runner.invoke(cli, ["add", "--title", "One", "--read-on", "yesterday", "-t", "a"], catch_exceptions=False)
    runner.invoke(cli, ["add", "--title", "Two", "-t", "a"], catch_exceptions=False)
    result = runner.invoke(cli, ["stats", "--json"], catch_exceptions=False)
    data = json.loads(result.output)
    assert data["current_streak"] == 2 and data["tag_counts"] == {"a": 2}
    assert "streak: 2 day(s) now" in runner.invoke(cli, ["stats"]).output
    with open_log(db) as log:
        assert log.count() == 2


def test_import_export_through_cli(run, tmp_path):
    assert "added 23" in run("import", "--starter").output
    assert "added 0, merged 23" in run("import", "--starter").output  # idempotent
    out = tmp_path / "lib.bib"
    assert run("export", "--format", "bibtex", "-o", str(out)).exit_code == 0
    other = tmp_path / "other.db"
    result = CliRunner().invoke(cli, ["--db", str(other), "import", str(out)], catch_exceptions=False)
    assert "added 23" in result.output
    with open_log(other) as log:
        assert log.models_for("1807.11164")[:2] == ["shufflenet_v2_x0_5", "shufflenet_v2_x0_5_megvii"]
    csv_text = run("export", "--format", "csv").output
    assert csv_text.splitlines()[0].startswith("id,arxiv_id,doi,title")
    assert len(json.loads(run("export", "--format", "json").output)) == 23


FAST_PATH = r"""
import sys
from paperzoo.reading_cli import cli
for args in (["add", "--title", "Fast", "--authors", "A B"], ["list"], ["show", "1"], ["add", "--title", "Fast"]):
    try:
        cli(["--db", sys.argv[1], *args], standalone_mode=False)
    except SystemExit:
        pass
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers", "faiss", "index") if m in sys.modules)
print("HEAVY", heavy)
"""


def test_add_list_show_never_import_heavy_modules(tmp_path):
    proc = subprocess.run([sys.executable, "-c", FAST_PATH, str(tmp_path / "fast.db")], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout
    assert "Fast" in proc.stdout


def test_python_dash_m_reading(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reading", "--db", str(tmp_path / "m.db"), "list"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_adding_a_logged_paper_says_read_again_only_when_a_read_is_logged(run):
    assert run("add", "--title", "A Paper", "--status", "to-read").exit_code == 0
    later = run("add", "--title", "A Paper", "--status", "to-read")
    assert later.exit_code == 0 and later.output.startswith("already in the log:"), later.output
    with open_log(run.db) as log:
        assert log.papers()[0]["reads"] == []
    read = run("add", "--title", "A Paper", "--read-on", "2026-11-20")
    assert read.output.startswith("read again:"), read.output
    same_day = run("add", "--title", "A Paper", "--read-on", "2026-11-20")
    assert same_day.output.startswith("already in the log:"), same_day.output
    with open_log(run.db) as log:
        assert [r["read_on"] for r in log.papers()[0]["reads"]] == ["2026-11-20"]
