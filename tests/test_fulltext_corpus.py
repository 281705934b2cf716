"""The realistic PDF corpus (tests/fixtures/pdf/corpus/) is whole and its ground truth agrees with itself, and the
extraction bench's figures mean what they say (a perfect reading scores 1, a scrambled one does not). No TeX."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import fulltext_extraction as fx

CORPUS = Path(__file__).parent / "fixtures" / "pdf" / "corpus"
TRUTHS = fx.load(CORPUS)


def test_corpus_is_whole() -> None:
    import pypdfium2 as pdfium

    works = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))["works"]
    assert {t["layout"] for t in TRUTHS} == {"ieee", "acm", "lncs", "neurips"}
    assert sum((CORPUS / t["file"]).stat().st_size for t in TRUTHS) < 4_000_000
    for t in TRUTHS:
        pdf = pdfium.PdfDocument(str(CORPUS / t["file"]))
        assert len(pdf) == t["pages"]
        pdf.close()
        assert t["references"] and all(r["cites"] in works for r in t["references"])
        assert 1 <= t["references_page"] <= t["pages"]
        assert t["paragraphs"][0]["text"] == t["abstract"] and len(t["headings"]) >= 8
    cited = [r["cites"] for t in TRUTHS for r in t["references"]]
    assert sum(c.startswith("c") for c in cited) >= 20  # the papers cite each other
    assert any(cited.count(k) >= 5 for k in works if k.startswith("ext:"))  # and share outside papers
    assert any(t["stamp"] for t in TRUTHS) and not all(t["stamp"] for t in TRUTHS)


def _perfect_pages(t: dict) -> list[str]:
    """What a perfect extractor returns for a paper: its body in order, nothing of the margins."""
    return ["\n".join(p["text"] for p in t["paragraphs"])]


@pytest.mark.parametrize("t", TRUTHS[:4], ids=lambda t: t["layout"])
def test_bench_figures_mean_what_they_say(t: dict) -> None:
    pages = _perfect_pages(t)
    assert fx.order_score(t, pages) == 1.0
    assert fx.margins_left(t, pages + [""] * t["pages"]) == (0, len(t["margin_lines"]) + bool(t["stamp"]))
    # lines of the second half of each paragraph read before the first: reading order suffers
    words = [p["text"].split() for p in t["paragraphs"]]
    swapped = "\n".join(" ".join(w[len(w) // 2:]) + "\n" + " ".join(w[:len(w) // 2]) for w in words)
    assert fx.order_score(t, [swapped]) < 0.97
    # running heads and page numbers left in: counted
    junk = ["\n".join(m[1] for m in t["margin_lines"] if m[0] == page) + "\n" + pages[0]
            for page in range(1, t["pages"] + 1)]
    left, total = fx.margins_left(t, junk)
    assert left == len(t["margin_lines"])
    # a digit of an equation or a footnote mark is no page number
    assert fx.margins_left(t, [pages[0] + "\nσ 2 + ϵ\n1 2\n(3)"] * t["pages"])[0] == 0
    # sections: a passage from each paragraph, labelled right, then wrong
    passages = [(p["text"], p["section"]) for p in t["paragraphs"]]
    assert fx.section_score(t, passages) == (len(passages), len(passages))
    assert fx.section_score(t, [(x, "9 Nowhere") for x, _ in passages])[0] <= 1


def test_bench_runs_on_two_papers(tmp_path: Path) -> None:
    for t in TRUTHS[:2]:
        shutil.copy(CORPUS / t["file"], tmp_path)
        shutil.copy(CORPUS / (Path(t["file"]).stem + ".json"), tmp_path)
    (tmp_path / "corpus.json").write_text(json.dumps({"papers": [t["file"] for t in TRUTHS[:2]]}))
    lines = fx.run(tmp_path, sections=False)
    assert any(line.startswith("ieee     title exact") for line in lines)
    assert any(line.startswith("acm      reading order") for line in lines)


def test_make_library_says_when_tex_is_missing(tmp_path, monkeypatch):
    import importlib

    from bench import texcorpus

    module = importlib.import_module("bench.texcorpus.make_corpus")  # the module, not the function of that name
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    with pytest.raises(texcorpus.TexMissing, match="pdflatex is not installed"):
        texcorpus.make_library(2, tmp_path)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs TeX Live (the fixtures are committed)")
def test_make_library_typesets_distinct_papers_once(tmp_path):
    from bench.texcorpus import make_library

    paths = make_library(4, tmp_path, workers=2)
    assert [p.name.split("-")[1] for p in paths] == ["ieee.pdf", "acm.pdf", "lncs.pdf", "neurips.pdf"]
    stamps = [p.stat().st_mtime_ns for p in paths]
    assert make_library(4, tmp_path) == paths and [p.stat().st_mtime_ns for p in paths] == stamps  # kept
