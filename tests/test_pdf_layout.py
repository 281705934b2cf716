"""The structure of PDF pages (reading._pdf_layout through reading._pdf.extract): margin stamps, running headers and
footers, page numbers, columns, section headings, reference lists; and how the log keeps it (sections on passages,
no reference text in passages, reference entries, re-reading PDFs stored before).

The papers are drawn by reportlab (bench/fulltext_pdfgen.py: make_article_pdf) with numbered words ("w17"), so
reading order is checked word by word.
"""
from __future__ import annotations

import re
import sqlite3

import pytest

from bench.fulltext_pdfgen import make_article_pdf, make_paper_pdf
from reading import _db, open_log
from reading._pdf import extract
from reading._pdf_layout import PageLayout, Word, split_margin

TITLE = "Practical Guidelines for Efficient Network Design"
AUTHORS = ["Ada Lovelace", "Grace Hopper"]
SECTIONS = [("1 Introduction", (0, 260)), ("2 Method", (260, 700)), ("2.1 Ablation", (700, 1000)),
            ("3 Experiments", (1000, 1500))]
REFERENCES = [
    "A. Krizhevsky, I. Sutskever, and G. Hinton. ImageNet classification with deep convolutional neural networks. "
    "In Advances in Neural Information Processing Systems, pages 1097-1105, 2012.",
    "K. He, X. Zhang, S. Ren, and J. Sun. Deep residual learning for image recognition. In Proceedings of the IEEE "
    "Conference on Computer Vision and Pattern Recognition, 2016.",
    "X. Zhang, X. Zhou, M. Lin, and J. Sun. ShuffleNet: An extremely efficient convolutional neural network for "
    "mobile devices. In CVPR, 2018.",
    "N. Ma, X. Zhang, H.-T. Zheng, and J. Sun. ShuffleNet V2: Practical guidelines for efficient CNN architecture "
    "design. In Proceedings of the European Conference on Computer Vision, 2018.",
    "A. G. Howard, M. Zhu, B. Chen, D. Kalenichenko, W. Wang, T. Weyand, M. Andreetto, and H. Adam. MobileNets: "
    "Efficient convolutional neural networks for mobile vision applications. arXiv preprint arXiv:1704.04861, 2017.",
    "M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, and L.-C. Chen. MobileNetV2: Inverted residuals and linear "
    "bottlenecks. In CVPR, 2018.",
]


def _words(a: int, b: int) -> str:
    return " ".join(f"w{i}" for i in range(a, b))


def _paper(path, *, references=REFERENCES, many_references: int = 3, **kwargs):
    refs = [f"{r} Copy {k}." for k in range(many_references) for r in references]
    return make_article_pdf(path, title=TITLE, authors=AUTHORS,
                            sections=[(h, _words(a, b)) for h, (a, b) in SECTIONS], references=refs, **kwargs)


def _numbers(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"\bw(\d+)\b", text)]


def _in_order(doc) -> bool:
    seen = [n for page in doc.pages for n in _numbers(page)]
    return seen == list(range(1500))


# --- issue 25 item 3: the arXiv margin stamp ----------------------------------------------------------------------


def test_margin_stamp_with_a_one_character_piece_breaks_neither_order_nor_title(tmp_path):
    stamped = extract(_paper(tmp_path / "s.pdf", stamp=["arXiv:1807.11164v2", "[cs.CV]", "3", "Jul 2018"]))
    assert stamped.title == TITLE and stamped.authors == AUTHORS
    assert stamped.arxiv_id == "1807.11164"
    assert _in_order(stamped)
    assert "[cs.CV]" not in stamped.pages[0] and not re.search(r"^3$", stamped.pages[0], re.M)


def test_an_upright_piece_of_the_stamp_in_the_margin_is_the_stamp_too(tmp_path):
    doc = extract(_paper(tmp_path / "s.pdf", stamp=["arXiv:1807.11164v2", "[cs.CV]", "Jul 2018"], stray_stamp="3"))
    assert doc.title == TITLE and _in_order(doc)


def test_split_margin_by_angle_and_by_strip():
    body = [Word(f"w{i}", 60.0, 80.0, 700.0 - 12 * i, 10.0) for i in range(20)]
    rotated = [Word("arXiv:1807.11164v2", 22.0, 34.0, 300.0, 20.0, rotated=True)]
    upright = Word("3", 22.0, 31.0, 500.0, 20.0)  # PDFium saw no angle: in the stamp's strip, left of the body
    kept, stamp = split_margin(body + rotated + [upright], 612.0)
    assert kept == body and upright in stamp and rotated[0] in stamp
    alone, none = split_margin(body + [upright], 612.0)  # no rotated stamp at all: an upright word is text
    assert upright in alone and none == []


def test_a_raised_footnote_mark_stays_in_its_column_line():
    from reading._pdf_layout import group_lines, order_page

    words = []
    for row in range(12):  # two columns of 12 lines, 12 points apart; the right column 5 points lower
        words.append(Word(f"L{row}", 54.0, 280.0, 700.0 - 12 * row, 10.0))
        words.append(Word(f"R{row}", 320.0, 550.0, 695.0 - 12 * row, 10.0))
    words.append(Word("1", 282.0, 285.0, 700.0 - 12 * 5 - 3.5, 7.0))  # raised after "L5", nearer "R5"'s baseline
    lines = order_page(group_lines(words), 612.0)
    texts = [line.text for line in lines]
    assert texts[:12] == [f"L{r}" for r in range(5)] + ["L5 1"] + [f"L{r}" for r in range(6, 12)]
    assert texts[12:] == [f"R{r}" for r in range(12)]


# --- issue 25 item 5: the footer's page number; running headers and footers ----------------------------------------


def test_footer_page_number_is_not_read_between_the_columns(tmp_path):
    doc = extract(_paper(tmp_path / "n.pdf", page_numbers=True))
    assert _in_order(doc)
    for n, page in enumerate(doc.pages, start=1):
        assert str(n) not in page.split("\n"), f"page number {n} left in page {n}"


def test_running_header_and_page_numbers_stay_out_of_the_text(tmp_path):
    header = "Proceedings of the Workshop on Efficient Networks 2018"
    doc = extract(_paper(tmp_path / "h.pdf", header=header, page_numbers=True, many_references=10))
    assert doc.page_count >= 3
    assert not any(header in page for page in doc.pages)
    assert _in_order(doc)


def test_one_page_number_is_dropped_and_numbers_in_text_are_kept(tmp_path):
    doc = extract(make_paper_pdf(tmp_path / "p.pdf", title="A Single Column Paper",
                                 body=["We count 3 apples and 12 pears. " * 40, "12"]))
    assert "12 pears" in doc.pages[0]


# --- issue 25 item 6: two-column reference lists with hanging indents ---------------------------------------------


@pytest.mark.parametrize("labels", [True, False])
def test_two_column_reference_list_comes_out_one_entry_each(tmp_path, labels):
    doc = extract(_paper(tmp_path / "r.pdf", labels=labels, many_references=4))
    expected = [f"{r} Copy {k}." for k in range(4) for r in REFERENCES]
    text = " ".join(" ".join(doc.pages).split())
    at = [text.find(entry) for entry in expected]  # each entry whole, none cut or mixed with its neighbours
    assert -1 not in at and at == sorted(at), [e for e, i in zip(expected, at) if i < 0][:2]
    got = [re.sub(r"^\[\d+\]\s*", "", text) for _, text in doc.references]
    assert got == expected
    if labels:
        assert [text.split()[0] for _, text in doc.references] == [f"[{n}]" for n in range(1, len(expected) + 1)]
    pages = [page for page, _ in doc.references]
    assert pages == sorted(pages) and pages[0] >= 2


# --- sections and the reference section --------------------------------------------------------------------------


def test_headings_and_reference_section_in_the_layout(tmp_path):
    doc = extract(_paper(tmp_path / "l.pdf", header="Running Header Text", page_numbers=True))
    assert len(doc.layout) == doc.page_count
    headings = [(p, h) for p, layout in enumerate(doc.layout) for _, h in layout.headings]
    assert [h for _, h in headings] == [h for h, _ in SECTIONS] + ["References"]
    for page, layout in zip(doc.pages, doc.layout):
        lines = page.split("\n")
        for i, heading in layout.headings:
            assert lines[i] == heading
    starts = [(p, layout.refs_from) for p, layout in enumerate(doc.layout) if layout.refs_from is not None]
    first_page, first_line = starts[0]
    assert doc.pages[first_page].split("\n")[first_line] == "References"
    assert all(line == 0 for _, line in starts[1:]) and starts[-1][0] == doc.page_count - 1
    # each reference entry is one line of its page's text
    for page, text in doc.references:
        assert text in doc.pages[page - 1].split("\n")


def test_page_layout_json_round_trip():
    layout = PageLayout([(0, "4.2 Ablation"), (7, "References")], 7)
    assert PageLayout.from_json(layout.to_json()) == layout
    assert PageLayout.from_json(None) is None and PageLayout.from_json("not json") is None
    assert list(layout.reference_lines(10)) == [7, 8, 9]
    assert list(PageLayout([(0, "References"), (3, "A Proofs")], 0).reference_lines(9)) == [0, 1, 2]


# --- in the log -------------------------------------------------------------------------------------------------


def test_passages_know_their_section_and_leave_out_the_references(log, tmp_path):
    pdf = _paper(tmp_path / "p.pdf", header="Running Header Text", page_numbers=True, many_references=10)
    log.add_pdf(pdf, fetch=False)
    rows = log.passage_texts()
    assert rows and all(len(row) == 6 for row in rows)
    for _pid, _paper_id, _sha, _page, text, section in rows:
        numbers = _numbers(text)
        if not numbers:  # the title and authors, before the first heading
            assert section == "" and TITLE in text
            continue
        expected = next(h for h, (a, b) in SECTIONS if a <= numbers[0] < b)
        assert section == expected, (section, text[:80])
        assert not any(r[:20] in text for r in REFERENCES)  # no reference text in passages
        assert "Running Header Text" not in text
    covered = sorted(n for row in rows for n in _numbers(row[4]))
    assert covered == list(range(1500))
    entries = log.reference_entries()
    assert len(entries) == 10 * len(REFERENCES)
    assert [e["number"] for e in entries] == list(range(1, len(entries) + 1))
    assert {e["paper_id"] for e in entries} == {1} and entries[0]["text"].startswith("[1] A. Krizhevsky")
    sha = entries[0]["sha256"]
    assert log.reference_entries(sha) == entries and log.reference_entries("0" * 64) == []
    log.remove(1)
    assert log.reference_entries() == []


def test_a_page_of_references_alone_has_no_passages(log, tmp_path):
    pdf = _paper(tmp_path / "p.pdf", many_references=12)
    log.add_pdf(pdf, fetch=False)
    count = log.pdfs(1)[0]["page_count"]
    pages_with_passages = {row[3] for row in log.passage_texts()}
    assert count not in pages_with_passages  # the last page holds references only


def _downgrade(path) -> None:
    """Make a log look as if its PDFs were stored before layouts were kept (the schema before that migration)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE pdf_references")
    conn.execute("ALTER TABLE pages DROP COLUMN layout")
    conn.execute(f"PRAGMA user_version = {_db.MIGRATIONS.index(_db._V7_PDF_LAYOUT)}")
    conn.close()


def test_pdfs_stored_before_layouts_behave_as_before_until_read_again(tmp_path):
    path = tmp_path / "old.db"
    pdf = _paper(tmp_path / "p.pdf", header="Running Header Text")
    with open_log(path) as log:
        log.add_pdf(pdf, fetch=False)
        new_rows = log.passage_texts()
    _downgrade(path)
    with open_log(path) as log:
        assert _db.schema_version(log.conn) == _db.SCHEMA_VERSION
        rows = log.passage_texts()
        assert rows and {row[5] for row in rows} == {""}  # no sections known
        assert log.reference_entries() == []
        version = log.pages_version()
        done, failed = log.reextract_pdfs()
        assert (done, failed) == (1, [])
        assert log.pages_version() > version  # the passage index sees new page rows
        assert [row[4:] for row in log.passage_texts()] == [row[4:] for row in new_rows]
        assert len(log.reference_entries()) == 3 * len(REFERENCES)
        assert log.reextract_pdfs() == (0, [])  # nothing left to read again


def test_a_pdf_that_cannot_be_read_again_keeps_its_text_and_is_not_tried_again(tmp_path):
    path = tmp_path / "old.db"
    with open_log(path) as log:
        sha = log.add_pdf(_paper(tmp_path / "p.pdf"), fetch=False).pdf["sha256"]
        before = log.pdf_pages(sha)
    _downgrade(path)
    with open_log(path) as log:
        log.pdf_file(sha).unlink()
        done, failed = log.reextract_pdfs()
        assert done == 0 and [name for name, _ in failed] == ["p.pdf"]
        assert log.pdf_pages(sha) == before and log.reextract_pdfs() == (0, [])


def test_reindex_passages_reads_old_pdfs_again_and_json_rows_carry_the_section(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    import index
    from paperzoo.reading_cli import cli

    monkeypatch.setenv(index.MODEL_ENV, "hash-bow-128")
    path = tmp_path / "old.db"
    with open_log(path) as log:
        log.add_pdf(_paper(tmp_path / "p.pdf", header="Running Header Text", many_references=10), fetch=False)
    _downgrade(path)
    runner = CliRunner()
    done = runner.invoke(cli, ["--db", str(path), "reindex", "--passages"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    with open_log(path) as log:
        assert log.reextract_pdfs() == (0, []) and len(log.reference_entries()) == 10 * len(REFERENCES)
    found = runner.invoke(cli, ["--db", str(path), "search", "w710 w711 w712", "--fulltext", "--json", "-k", "3",
                                "--mode", "keyword"], catch_exceptions=False)
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert hits and hits[0]["section"] == "2.1 Ablation"
    plain = runner.invoke(cli, ["--db", str(path), "search", "w710 w711 w712", "--fulltext", "-k", "1",
                                "--mode", "keyword"], catch_exceptions=False)
    assert "page" in plain.stdout and "· 2.1 Ablation" in plain.stdout


# --- the TeX-typeset corpus (tests/fixtures/pdf/corpus/: IEEEtran, acmart, llncs, NeurIPS-like) --------------------


def _corpus_papers():
    from pathlib import Path

    from bench import fulltext_extraction as fx

    corpus = Path(__file__).parent / "fixtures" / "pdf" / "corpus"
    truths = fx.load(corpus)
    picked = {}
    for t in truths:  # one paper per layout, with the arXiv stamp where a layout has one
        if t["layout"] not in picked or (t["stamp"] and not picked[t["layout"]]["stamp"]):
            picked[t["layout"]] = t
    return [(corpus, t) for t in picked.values()]


@pytest.mark.parametrize("corpus, truth", _corpus_papers(), ids=lambda x: x["layout"] if isinstance(x, dict) else "")
def test_corpus_paper_reads_as_typeset(corpus, truth):
    from bench import fulltext_extraction as fx

    doc = extract(corpus / truth["file"])
    assert doc.title == " ".join(truth["title"].split()) and doc.authors == truth["authors"]
    assert fx.order_score(truth, doc.pages) >= 0.97
    assert fx.margins_left(truth, doc.pages)[0] == 0  # running heads, footers, page numbers, the stamp
    text = " ".join(" ".join(doc.pages).split())
    assert all(" ".join(note.split()[1:]) in text for note in truth["footnotes"])  # footnotes are no footers
    assert fx.refsec_found(truth, doc)
    assert [layout.refs_from is not None for layout in doc.layout].index(True) + 1 == truth["references_page"]
    right, total = fx.entries_right(truth, doc)
    assert right >= total - 1 and len(doc.references) == total
    printed = [h for layout in doc.layout for _, h in layout.headings if h.lower() != "abstract"]
    assert printed == truth["headings"] + [truth["references_heading"]]  # as printed, in order


def test_an_appendix_after_the_references_ends_them():
    from reading._fulltext import page_passages
    from reading._pdf_sections import analyse

    def line(text, y, size=10.0, bold=False, x=72.0):
        out = []
        for word in text.split():
            out.append(Word(word, x, x + 6 * len(word), y, size, bold=bold))
            x += 6 * len(word) + 3
        return out

    words = line("A Paper Title", 740, 18, True) + line("1 Introduction", 700, 12, True) \
        + line("Some text about networks here.", 686) \
        + line("References", 660, 12, True) + line("[1] A. Author. A title of a paper. In CVPR, 2019.", 646) \
        + line("and more of it.", 634, x=90.0) + line("[2] B. Author. Another title. In ICCV, 2017.", 622) \
        + line("A Proofs", 596, 12, True) + line("The proof of the lemma goes here.", 582)
    doc = analyse([(words, 612.0, 792.0)])
    layout = doc.layouts[0]
    lines = doc.pages[0]
    assert [h for _, h in layout.headings] == ["1 Introduction", "References", "A Proofs"]
    assert lines[0] == "A Paper Title"
    assert [lines[i] for i in layout.reference_lines(len(lines))] == [
        "References", "[1] A. Author. A title of a paper. In CVPR, 2019. and more of it.",
        "[2] B. Author. Another title. In ICCV, 2017."]
    assert [text for _, text in doc.references] == lines[4:6]
    passages, section = page_passages("\n".join(lines), layout.to_json())
    assert [s for _, s in passages] == ["", "1 Introduction", "A Proofs"] and section == "A Proofs"
    assert "Author" not in " ".join(p for p, _ in passages)


@pytest.mark.parametrize("raw, expected", [
    ("Gr\u00a8unwald", "Grünwald"), ("Ram\u00b4\u0131rez", "Ramírez"), ("na\u00a8\u0131ve", "naïve"),
    ("Mor`eno", "Morèno"),
    ("`The Inmates are Running the Asylum'", "`The Inmates are Running the Asylum'"),  # TeX quotes stay
])
def test_accents_set_apart_join_their_letter(raw, expected):
    from reading._pdf import normalise_text

    assert normalise_text(raw) == expected
