"""Passages of the PDFs in a second FAISS index (index._passages), `index.search(..., fulltext=True)`, and the CLI."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import index
from bench.fulltext_pdfgen import make_pages_pdf
from index import _store
from index._passages import passages_dir
from paperzoo.reading_cli import cli
from reading import library_dir, open_log

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
TWO = FIXTURES / "twocolumn.pdf"
ONE = FIXTURES / "onecolumn.pdf"
EMB = index.HashEmbedder(256)  # 64 buckets collide so often that which passage comes first is luck
KEYS = {"id", "arxiv_id", "title", "page", "section", "passage", "score", "sha256"}


class CountingEmbedder(index.HashEmbedder):
    """Counts texts embedded; optionally fails after some calls (an interrupted ingest)."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__(64)
        self.texts = 0
        self.calls = 0
        self.fail_after = fail_after

    def encode(self, texts, *, batch_size=32):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.texts += len(texts)
        return super().encode(texts, batch_size=batch_size)


@pytest.fixture
def pdf_log(log):
    log.add_pdf(TWO, fetch=False, tags=["shuffle"])
    log.add_pdf(ONE)
    log.add(title="A paper without a PDF about dropping the shuffle", fetch=False)
    return log


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_fulltext_search_returns_passages_with_pages(pdf_log, mode):
    hits = index.search(pdf_log, "Charlie cosine schedule epochs", k=3, mode=mode, embedder=EMB, fulltext=True)
    assert hits and all(set(h) == KEYS for h in hits)
    top = hits[0]
    assert (top["id"], top["page"]) == (1, 2) and "Charlie one." in top["passage"]
    assert top["arxiv_id"] == "1807.11164" and top["title"].startswith("Efficient Shuffling")
    assert {h["id"] for h in hits} <= {1, 2}  # the paper without a PDF has no passages


def test_filters_apply_to_passages(pdf_log):
    hits = index.search(pdf_log, "extraction page", k=10, embedder=EMB, fulltext=True, tag="shuffle")
    assert hits and {h["id"] for h in hits} == {1}
    assert index.search(pdf_log, "extraction", k=5, embedder=EMB, fulltext=True, tag="nothing") == []


def test_passages_are_150_to_250_words_and_keep_their_page(log, tmp_path):
    words = [f"w{i}" for i in range(1400)]
    pdf = make_pages_pdf(tmp_path / "long.pdf", [" ".join(words[:700]), " ".join(words[700:])], size=6)
    log.add_pdf(pdf, title="Two Dense Pages")
    rows = log.passage_texts()
    sizes = [len(text.split()) for _, _, _, _, text, _ in rows]
    assert all(150 <= n <= 250 for n in sizes) and sum(sizes) == 1400
    assert [page for _, _, _, page, _, _ in rows] == sorted(page for _, _, _, page, _, _ in rows)
    assert {page for _, _, _, page, text, _ in rows if "w1000" in text.split()} == {2}


def test_sync_embeds_only_new_pages_and_drops_removed_ones(log):
    emb = CountingEmbedder()
    log.add_pdf(TWO, fetch=False)
    first = index.sync_passages(log, embedder=emb)
    n_two = len(log.passage_texts())
    assert first.added == n_two == emb.texts and first.total == n_two
    assert index.sync_passages(log, embedder=emb).embedded == 0  # fresh: nothing to do
    log.add_pdf(ONE)
    second = index.sync_passages(log, embedder=emb)
    assert second.embedded == len(log.passage_texts()) - n_two and second.removed == 0
    log.remove(1)
    third = index.sync_passages(log, embedder=emb)
    assert third.removed == n_two and third.embedded == 0 and third.total == len(log.passage_texts())
    assert all(h["id"] == 2 for h in index.search(log, "shuffle", k=10, embedder=emb, fulltext=True))


def test_a_title_change_re_embeds_that_papers_passages(log):
    emb = CountingEmbedder()
    log.add_pdf(TWO, fetch=False)
    log.add_pdf(ONE)
    index.sync_passages(log, embedder=emb)
    log.tag(1, "unrelated")  # a write that changes no passage
    assert index.sync_passages(log, embedder=emb).embedded == 0
    log.update(2, title="A New Title")
    report = index.sync_passages(log, embedder=emb)
    assert report.embedded == sum(1 for row in log.passage_texts() if row[1] == 2)


def test_interrupted_ingest_resumes_from_saved_chunks(log):
    log.add_pdf(TWO, fetch=False)
    log.add_pdf(ONE)
    total = len(log.passage_texts())
    with pytest.raises(KeyboardInterrupt):
        index.sync_passages(log, embedder=CountingEmbedder(fail_after=1), chunk_size=2)
    assert _store.read_manifest(passages_dir(log.path)) is None  # nothing committed ...
    resumed = CountingEmbedder()
    report = index.sync_passages(log, embedder=resumed, chunk_size=2)
    assert report.total == total and resumed.texts == total - 2  # ... but the saved chunk is reused


def test_corrupt_or_missing_index_is_rebuilt_with_a_message(pdf_log, caplog):
    index.sync_passages(pdf_log, embedder=EMB)
    folder = passages_dir(pdf_log.path)
    manifest = _store.read_manifest(folder)
    (folder / manifest["index_file"]).write_bytes(b"not faiss")
    query = "Charlie one. We train every network for three hundred epochs with a cosine schedule"
    hits = index.search(pdf_log, query, k=1, mode="dense", embedder=EMB, fulltext=True)
    assert hits and hits[0]["page"] == 2 and "corrupt" in caplog.text
    shutil.rmtree(folder)
    assert index.search(pdf_log, query, k=1, mode="dense", embedder=EMB, fulltext=True)[0]["page"] == 2


def test_a_second_writer_does_not_wait(pdf_log):
    folder = passages_dir(pdf_log.path)
    with _store.writer_lock(folder):
        report = index.sync_passages(pdf_log, embedder=EMB, wait=False)
    assert report.busy


def test_approximate_index_for_large_counts(pdf_log):
    report = index.sync_passages(pdf_log, embedder=EMB, approx_threshold=2)
    assert _store.read_manifest(passages_dir(pdf_log.path))["kind"] == "hnsw" and report.total >= 2
    query = "Charlie one. We train every network for three hundred epochs with a cosine schedule"
    hits = index.search(pdf_log, query, k=2, mode="dense", embedder=EMB, fulltext=True)
    assert hits[0]["page"] == 2


def test_mark_matches():
    assert index.mark_matches("We drop the Shuffle layer.", "dropping shuffle") == "We drop the **Shuffle** layer."
    assert index.mark_matches("dropping it", "dropped") == "**dropping** it"


# --- the command line ---------------------------------------------------------------------------------------------


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    db = tmp_path / "cli.db"
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--db", str(db), *args], input=input, catch_exceptions=False)

    invoke.db = db
    return invoke


def test_cli_add_pdfs_search_fulltext_and_remove(run, tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_text("no pdf")
    result = run("add", str(TWO), str(ONE), str(bad), "--no-fetch", "--tag", "pdf")
    assert result.exit_code == 1 and "bad.pdf is not a PDF" in result.output
    assert "1 of 3 PDFs could not be added" in result.output
    assert "added:     1  arXiv:1807.11164" in result.output and "(twocolumn.pdf, 2 pages) *" in result.output
    with open_log(run.db) as log:
        assert log.count() == 2 and log.get(2)["doi"] == "10.1145/3290605.3300001"
    again = run("add", str(TWO), "--no-fetch")
    assert again.exit_code == 0 and "already in the log" in again.output

    out = run("search", "the ablation where they drop the shuffle", "--fulltext", "--json", "-k", "3")
    rows = json.loads(out.output)
    assert out.exit_code == 0 and rows and {"id", "arxiv_id", "title", "page", "passage", "score"} <= set(rows[0])
    plain = run("search", "Charlie cosine schedule", "--fulltext", "--mode", "keyword", "-k", "1")
    assert "page 2" in plain.output and "**Charlie**" in plain.output and "**cosine**" in plain.output

    pages = run("pages", "1", "--page", "2")
    assert "--- page 2 ---" in pages.output and "Charlie one." in pages.output and "Alpha one." not in pages.output

    stored = next(library_dir(run.db).rglob("*.pdf"))
    gone = run("remove", "1", "--yes")
    assert gone.exit_code == 0 and not any(p.name == stored.name for p in library_dir(run.db).rglob("*.pdf"))


def test_cli_remove_asks_about_the_pdf(run):
    run("add", str(ONE))
    result = run("remove", "1", input="n\n")
    assert "and its stored PDF(s) (1)" in result.output and result.exit_code == 1


def test_cli_import_folder_and_attach(run, tmp_path):
    folder = tmp_path / "storage"
    (folder / "a").mkdir(parents=True)
    shutil.copy(TWO, folder / "a" / "paper.pdf")
    (folder / "a" / "broken.pdf").write_bytes(b"%PDF-1.4 cut")
    result = run("import", str(folder))
    assert result.exit_code == 0 and "failed: a/broken.pdf" in result.output
    assert "imported 1 PDFs, 0 already in the log, 1 failed" in result.output
    assert "run `reading refresh`" in result.output
    run("add", "--title", "A Paper Typed By Hand", "--no-fetch")
    attached = run("attach", "2", str(ONE))
    assert attached.exit_code == 0 and "attached:" in attached.output and "2 pages" in attached.output
    with open_log(run.db) as log:
        assert log.pdfs(2)[0]["file_name"] == "onecolumn.pdf" and log.count() == 2
    clash = run("attach", "1", str(ONE))
    assert clash.exit_code == 1 and "already attached to paper 2" in clash.output


def test_cli_encrypted_pdf_needs_its_password(run, tmp_path):
    from bench.fulltext_pdfgen import make_paper_pdf

    locked = make_paper_pdf(tmp_path / "locked.pdf", title="Locked Paper Title", body="words " * 50, password="pw")
    refused = run("add", str(locked))
    assert refused.exit_code == 1 and "encrypted: give its password (--password)" in refused.output
    assert run("add", str(locked), "--password", "pw").exit_code == 0


def test_passage_vectors_are_unit_length(pdf_log):
    index.sync_passages(pdf_log, embedder=EMB)
    loaded, _ = _store.read_index(passages_dir(pdf_log.path), _store.read_manifest(passages_dir(pdf_log.path)))
    from index import _vectors

    _, vecs = _vectors.extract(loaded)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_cli_show_names_the_pdf(run):
    run("add", str(ONE))
    shown = run("show", "1")
    assert "PDF: onecolumn.pdf (2 pages; reading pages 1)" in shown.output


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_keyword_and_hybrid_show_one_passage_per_page(log, tmp_path, mode):
    words = [f"w{i}" for i in range(1400)]
    log.add_pdf(make_pages_pdf(tmp_path / "long.pdf", [" ".join(words[:700]), " ".join(words[700:])], size=6),
                title="Two Dense Pages")
    hits = index.search(log, "w10 w20 w900 w1300", k=10, mode=mode, embedder=EMB, fulltext=True)
    assert len(hits) == 2 and {h["page"] for h in hits} == {1, 2}
    by_page = {h["page"]: h["passage"].split() for h in hits}
    assert "w10" in by_page[1] or "w20" in by_page[1]  # the page's passage holding the query's words
    assert "w1300" in by_page[2] or "w900" in by_page[2]
