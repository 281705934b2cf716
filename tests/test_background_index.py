"""Issue 24: full-text search never waits for the passage index; a detached indexer fills it in the background.

Tiny PDFs and the hashed bag-of-words embedder; every background process a test starts is waited for (or killed)
before it ends."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import index
import paperzoo
from bench.fulltext_pdfgen import make_pages_pdf
from index import _background, _fusion, _store, _vectors
from index._passages import SLOTS, passages_dir
from paperzoo.reading_cli import cli
from reading import open_log

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
EMB = index.HashEmbedder(64)
KEYS = {"id", "arxiv_id", "title", "page", "section", "passage", "score", "sha256"}


@pytest.fixture(autouse=True)
def _no_orphans():
    yield
    _background.wait_for_children(timeout=60)  # kills what is still running after a minute


def _pdf(tmp_path: Path, name: str, pages: list[str]) -> Path:
    return make_pages_pdf(tmp_path / name, pages)


@pytest.fixture
def two_logs(log, tmp_path):
    """Paper 1's pages indexed; paper 2 added afterwards (its pages wait)."""
    common = "network training accuracy results method layers convolution " * 6
    log.add_pdf(_pdf(tmp_path, "a.pdf", [f"shuffle channels groups {common}", f"ablation study {common}"]),
                title="Indexed Paper")
    index.sync_passages(log, embedder=EMB)
    log.add_pdf(_pdf(tmp_path, "b.pdf", ["the zygomorphic quokka lexicon appears here " + common]),
                title="Waiting Paper")
    return log


def test_a_waiting_pages_exact_keyword_match_still_comes_first(two_logs):
    query = "zygomorphic quokka lexicon network training accuracy"
    hits = index.search(two_logs, query, k=3, embedder=EMB, fulltext=True, foreground=False)
    assert hits[0]["title"] == "Waiting Paper" and KEYS <= set(hits[0]) <= KEYS | {"section"}
    assert hits.metadata["pages_waiting"] == 1 and hits.metadata["pages_total"] == 3
    assert hits.metadata["pages_indexed"] == 2
    # counting the missing dense score as zero would have put an indexed page first
    dense = [(1, 0.9), (2, 0.5)]
    keyword = [(3, 10.0), (1, 2.0)]
    assert _fusion.fuse(dense, keyword)[0][0] == 1
    assert _fusion.fuse(dense, keyword, unknown={3})[0][0] == 3
    assert _fusion.fuse(dense, keyword, ("rrf", 60), unknown={3})[0][0] == 3


def test_search_answers_without_embedding(two_logs):
    class Refuses(index.HashEmbedder):
        def encode(self, texts, *, batch_size=32):
            assert len(texts) == 1, "a search embedded passages"
            return super().encode(texts, batch_size=batch_size)

    hits = index.search(two_logs, "ablation study", k=5, embedder=Refuses(64), fulltext=True, foreground=False)
    assert hits and hits.metadata["pages_waiting"] == 1
    assert index.indexing_status(two_logs)["pages_waiting"] == 1


def test_periodic_commits_lose_nothing_and_duplicate_nothing(log, tmp_path):
    """Killed after some chunks (as kill -9 would), the committed pages are searchable; the next run embeds only
    what is left and every passage is in the index exactly once."""
    log.add_pdf(_pdf(tmp_path, "m.pdf", [f"page {i} " + "words " * 60 for i in range(6)]), title="Many Pages")

    class Dies(index.HashEmbedder):
        calls = 0

        def encode(self, texts, *, batch_size=32):
            Dies.calls += 1
            if Dies.calls > 3:
                raise KeyboardInterrupt
            return super().encode(texts, batch_size=batch_size)

    with pytest.raises(KeyboardInterrupt):
        index.sync_passages(log, embedder=Dies(64), chunk_size=1, commit_every=0.0)
    status = index.indexing_status(log)
    assert 0 < status["pages_indexed"] < 6 and status["pages_waiting"] == 6 - status["pages_indexed"]
    report = index.sync_passages(log, embedder=EMB, chunk_size=1, commit_every=0.0)
    folder = passages_dir(log.path)
    ids = _vectors.ids_of(_store.read_index(folder, _store.read_manifest(folder))[0])
    assert sorted(ids.tolist()) == sorted(row[0] for row in log.passage_texts())  # once each
    assert report.embedded == 6 - 3  # the three saved chunks were reused
    assert index.indexing_status(log)["pages_waiting"] == 0 and index.sync_passages(log, embedder=EMB).embedded == 0


def test_a_second_indexer_never_starts_beside_the_first(log, tmp_path):
    log.add_pdf(FIXTURES / "onecolumn.pdf")
    with _store.writer_lock(passages_dir(log.path)):
        assert index.start_background_indexing(log.path, model=EMB.name) is False
        assert index.indexing_status(log)["running"] is True


def test_the_background_indexer_fills_the_index(log, tmp_path, monkeypatch):
    log.add_pdf(FIXTURES / "twocolumn.pdf", fetch=False)
    log.add_pdf(FIXTURES / "onecolumn.pdf")
    assert index.indexing_status(log)["pages_waiting"] == 4
    assert index.start_background_indexing(log.path, model=EMB.name)
    _background.wait_for_children(timeout=120)
    status = index.indexing_status(log)
    assert (status["pages_indexed"], status["pages_waiting"], status["running"]) == (4, 0, False)
    assert "Traceback" not in (passages_dir(log.path) / _background.LOG_FILE).read_text()
    hits = index.search(log, "Charlie cosine schedule epochs", k=1, embedder=EMB, fulltext=True, foreground=False)
    assert hits[0]["page"] == 2 and hits.metadata["pages_waiting"] == 0


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    monkeypatch.setenv("INDEX_BACKGROUND", "1")
    db = tmp_path / "cli.db"
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["--db", str(db), *args], catch_exceptions=False)

    invoke.db = db
    return invoke


def test_cli_add_starts_the_indexer_and_search_says_what_waits(run, monkeypatch):
    added = run("add", str(FIXTURES / "twocolumn.pdf"), "--no-fetch")
    assert added.exit_code == 0 and "indexing the new pages in the background" in added.stderr
    _background.wait_for_children(timeout=120)
    with open_log(run.db) as log:
        assert index.indexing_status(log)["pages_waiting"] == 0
        log.add_pdf(FIXTURES / "onecolumn.pdf")  # not through the CLI: nothing started
    started = []
    monkeypatch.setattr(index, "start_background_indexing", lambda *a, **kw: started.append(a) or True)
    out = run("search", "Charlie cosine schedule", "--fulltext", "--json", "-k", "2")
    rows = json.loads(out.stdout)
    assert rows and KEYS | {"file"} <= set(rows[0]) <= KEYS | {"file", "section"} and started  # the CLI names each passage's file
    assert "2 of 4 pages not yet searchable by meaning; indexing in the background, ETA" in out.stderr
    stats = run("stats")
    assert "PDF pages searchable by meaning: 2 of 4" in stats.stdout
    data = json.loads(run("stats", "--json").stdout)
    assert data["passage_index"]["pages_waiting"] == 2


def test_the_setting_turns_background_indexing_off(run, monkeypatch):
    monkeypatch.delenv("INDEX_BACKGROUND")
    with open_log(run.db) as log:
        log.set_setting(paperzoo._search.BACKGROUND_SETTING, False)
    added = run("add", str(FIXTURES / "onecolumn.pdf"))
    assert added.exit_code == 0 and "background" not in added.stderr and not _background._CHILDREN
    out = run("search", "extraction", "--fulltext", "-k", "1")
    assert out.exit_code == 0 and "not yet searchable" not in out.stderr
    with open_log(run.db) as log:
        assert index.indexing_status(log)["pages_waiting"] == 0  # the search embedded them (foreground)


def test_reindex_passages_follows_a_running_indexer(run, monkeypatch):
    monkeypatch.setenv("INDEX_BACKGROUND", "0")
    run("add", str(FIXTURES / "onecolumn.pdf"))
    with open_log(run.db) as log:
        folder = passages_dir(log.path)
        held = threading.Event()

        def hold() -> None:
            with _store.writer_lock(folder):
                held.set()
                time.sleep(1.0)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        start = time.monotonic()
        report = paperzoo.reindex_passages(log, poll_s=0.1)
        holder.join()
        assert time.monotonic() - start >= 0.5 and not report.busy
        assert index.indexing_status(log)["pages_waiting"] == 0
    out = run("reindex", "--passages")
    assert out.exit_code == 0 and "passage index:" in out.stdout


def test_the_manifest_records_the_ingest_path(log, tmp_path):
    class Pathed(index.HashEmbedder):
        ingest_path = "test-engine 1 thread"

    log.add_pdf(FIXTURES / "onecolumn.pdf")
    index.sync_passages(log, embedder=Pathed(64))
    assert _store.read_manifest(passages_dir(log.path))["ingest_path"] == "test-engine 1 thread"
    assert index.indexing_status(log)["path"] == "test-engine 1 thread"
    assert np.all(_vectors.ids_of(_store.read_index(passages_dir(log.path),
                                                    _store.read_manifest(passages_dir(log.path)))[0]) // SLOTS > 0)


# --- the paper index: a search waits for a few new papers, not for many -------------------------------------------


class OneText(index.HashEmbedder):
    """Embeds queries only: a search that embeds papers fails."""

    def encode(self, texts, *, batch_size=32):
        assert len(texts) == 1, "the search embedded papers"
        return super().encode(texts, batch_size=batch_size)


def _papers(log, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.add(title=f"Paper {i} on channel shuffle and group convolution", abstract=f"network number {i}",
                fetch=False)


def test_many_new_papers_wait_for_the_background_and_an_exact_match_comes_first(log):
    _papers(log, 3)
    index.sync(log, embedder=EMB)
    _papers(log, index.FOREGROUND_PAPERS + 2, start=3)
    log.add(title="The xylophone quokka paper", fetch=False)
    hits = index.search(log, "xylophone quokka", k=3, embedder=OneText(64), foreground=False)
    assert hits[0]["title"] == "The xylophone quokka paper"
    assert hits.metadata["papers_waiting"] == index.FOREGROUND_PAPERS + 3
    assert index.search(log, "channel shuffle", k=3, embedder=EMB, foreground=True).metadata["papers_waiting"] == 0


def test_a_few_new_papers_are_embedded_before_the_search(log):
    _papers(log, 3)
    index.sync(log, embedder=EMB)
    _papers(log, index.FOREGROUND_PAPERS, start=3)
    hits = index.search(log, "channel shuffle", k=3, embedder=EMB, foreground=False)
    assert hits.metadata["papers_waiting"] == 0
    assert index.sync(log, embedder=EMB).embedded == 0


def test_the_background_indexer_syncs_the_paper_index(log):
    _papers(log, index.FOREGROUND_PAPERS + 5)
    assert index.start_background_indexing(log.path, model=EMB.name)
    _background.wait_for_children(timeout=120)
    assert index.search(log, "channel shuffle", k=3, embedder=OneText(64), foreground=False
                        ).metadata["papers_waiting"] == 0


def test_the_app_search_page_says_what_waits(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "app.db"
    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    monkeypatch.setenv("INDEX_BACKGROUND", "1")
    monkeypatch.setattr(index, "start_background_indexing", lambda *a, **kw: True)  # app start, and the search
    with open_log(db) as log:
        log.add_pdf(FIXTURES / "twocolumn.pdf", fetch=False)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/pages/search.py").run()
    at.text_input(key="s_query").set_value("Charlie cosine schedule epochs")
    at.session_state["s_scope"] = "Full text"
    at.run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "2 of 2 pages not yet searchable by meaning; indexing in the background" in captions
    assert "page 2" in " ".join(m.value for m in at.markdown)  # keyword matches are shown already


def test_the_app_stats_page_shows_the_passage_index(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "app.db"
    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    with open_log(db) as log:
        log.add_pdf(FIXTURES / "twocolumn.pdf", fetch=False)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/pages/stats.py").run()
    assert not at.exception
    assert "PDF pages searchable by meaning: 0 of 2 (2 waiting;" in " ".join(c.value for c in at.caption)


_SLOW_INDEXER = """
import sys, time
import index
from reading import open_log

class Slow(index.HashEmbedder):
    def encode(self, texts, *, batch_size=32):
        time.sleep(0.3)
        return super().encode(texts, batch_size=batch_size)

log = open_log(sys.argv[1])
index.sync_passages(log, embedder=Slow(64), chunk_size=1, commit_every=0.0, progress=False)
"""


def test_kill_9_loses_at_most_the_chunk_in_flight(log, tmp_path):
    """A real process killed with SIGKILL mid-ingest: the lock is free again, committed pages stay searchable, the
    restart reuses every saved chunk and the index holds each passage exactly once."""
    import os
    import signal
    import subprocess
    import sys

    log.add_pdf(_pdf(tmp_path, "k.pdf", [f"page {i} " + "words " * 60 for i in range(8)]), title="Killed Mid-Way")
    folder = passages_dir(log.path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-c", _SLOW_INDEXER, str(log.path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while (index.indexing_status(log)["pages_indexed"] < 3) and time.monotonic() < deadline:
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    status = index.indexing_status(log)
    assert 3 <= status["pages_indexed"] < 8 and not status["running"]
    saved = len(list((folder / "chunks").glob("*.npz")))
    report = index.sync_passages(log, embedder=EMB, chunk_size=1)
    assert report.embedded == 8 - saved  # every saved chunk reused
    ids = _vectors.ids_of(_store.read_index(folder, _store.read_manifest(folder))[0])
    assert sorted(ids.tolist()) == sorted(row[0] for row in log.passage_texts())  # once each


def test_a_failing_indexer_says_why_once_and_is_not_restarted_by_every_search(log, monkeypatch):
    log.add_pdf(FIXTURES / "onecolumn.pdf")
    assert index.start_background_indexing(log.path, model="/no/such/model/folder")
    _background.wait_for_children(timeout=120)
    text = (passages_dir(log.path) / _background.LOG_FILE).read_text()
    assert _background.FAILED in text and "Traceback" not in text
    assert index.start_background_indexing(log.path, model=EMB.name) is False  # not yet again
    monkeypatch.setattr(_background, "RETRY_AFTER_S", 0.0)
    assert index.start_background_indexing(log.path, model=EMB.name)
