"""Text extraction from PDFs (reading._pdf): reading order, ligatures, hyphenation, identification, bad files.

Two fixtures were typeset by pdfLaTeX (sources beside them in tests/fixtures/pdf/); the rest are made by reportlab.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.fulltext_pdfgen import make_pages_pdf, make_paper_pdf
from reading import EncryptedPdf, PdfError
from reading._pdf import arxiv_id_from_filename, dehyphenate, extract, normalise_text, render_page

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
TWO = FIXTURES / "twocolumn.pdf"
ONE = FIXTURES / "onecolumn.pdf"


def _order(text: str, *markers: str) -> list[int]:
    return [text.index(m) for m in markers]


def test_latex_two_columns_read_left_then_right_with_title_band_first():
    doc = extract(TWO)
    assert doc.page_count == 2
    first = doc.pages[0]
    pos = _order(first, "Efficient Shuffling Networks", "We study efficient", "Alpha one.", "Alpha two.",
                 "Bravo one.", "Bravo two.")
    assert pos == sorted(pos)
    assert "Charlie one." in doc.pages[1] and "Charlie one." not in first


def test_latex_ligatures_become_letters():
    text = " ".join(extract(TWO).pages)
    for word in ("offices", "fluffy", "waffles", "difficult", "official", "affairs", "efficient", "flow"):
        assert word in text
    assert not any(ch in text for ch in "\ufb00\ufb01\ufb02\ufb03\ufb04\x0b\x0c\x0d\x0e\x0f")


def test_latex_hyphenation_at_line_ends_is_joined():
    text = " ".join(" ".join(extract(TWO).pages).split())
    for word in ("representations", "incomprehensible", "electroencephalographic", "devices", "measurements"):
        assert word in text
    assert "\ufffe" not in text and "repre-" not in text and "shuf-" not in text


def test_compound_broken_at_its_own_hyphen_keeps_it():
    text = " ".join(" ".join(extract(ONE).pages).split())
    assert "extraction of a two-column page" in text


def test_latex_identification():
    two = extract(TWO)
    assert two.title == "Efficient Shuffling Networks for Affine Flow Estimation"
    assert two.authors == ["Ada Lovelace", "Grace Hopper"]
    assert two.arxiv_id == "1807.11164" and two.doi is None
    one = extract(ONE)  # metadata title/author (\pdfinfo) and a DOI on the first page
    assert one.title == "Reading Order of Scientific Documents"
    assert one.authors == ["Alan Turing", "Claude Shannon"]
    assert one.doi == "10.1145/3290605.3300001" and one.arxiv_id is None


@pytest.mark.parametrize("interleave", [False, True])
def test_two_columns_by_position_even_when_the_stream_alternates_columns(tmp_path, interleave):
    words = " ".join(f"w{i}" for i in range(900))
    pdf = make_paper_pdf(tmp_path / "p.pdf", title="Columns Drawn Line By Line", authors=["Ada Lovelace"],
                         body=[words], columns=2, interleave=interleave)
    doc = extract(pdf)
    seen = [int(w[1:]) for page in doc.pages for w in page.split() if w.startswith("w") and w[1:].isdigit()]
    assert seen == list(range(900))
    assert doc.title == "Columns Drawn Line By Line" and doc.authors == ["Ada Lovelace"]


def test_one_column_text_is_not_split(tmp_path):
    words = " ".join(f"w{i}" for i in range(700))
    doc = extract(make_paper_pdf(tmp_path / "p.pdf", title="A Single Column", body=[words]))
    seen = [int(w[1:]) for page in doc.pages for w in page.split() if w.startswith("w") and w[1:].isdigit()]
    assert seen == list(range(700))


def test_arxiv_id_from_stamp_file_name_or_metadata(tmp_path):
    stamped = make_paper_pdf(tmp_path / "x.pdf", title="Stamped Paper Title", body="text " * 50,
                             header="arXiv:2101.00001v3 [cs.LG] 1 Jan 2021")
    assert extract(stamped).arxiv_id == "2101.00001"
    plain = make_paper_pdf(tmp_path / "plain.pdf", title="Plain Paper Title", body="text " * 50)
    named = tmp_path / "1807.11164v2.pdf"
    shutil.copy(plain, named)
    assert extract(plain).arxiv_id is None and extract(named).arxiv_id == "1807.11164"
    assert extract(plain, name="hep-th_9901001.pdf").arxiv_id == "hep-th/9901001"
    meta = make_paper_pdf(tmp_path / "m.pdf", title="Some Title Here", body="text " * 50,
                          meta_title="arXiv:1512.03385 Deep Residual Learning")
    assert extract(meta).arxiv_id == "1512.03385"


@pytest.mark.parametrize("name, expected", [("1807.11164v2.pdf", "1807.11164"), ("1807.11164.pdf", "1807.11164"),
                                            ("paper.pdf", None), ("9999.99999.pdf", None)])
def test_arxiv_id_from_filename(name, expected):
    assert arxiv_id_from_filename(name) == expected


@pytest.mark.parametrize("raw, expected", [
    ("e\ufb03cient \ufb02ow", "efficient flow"),
    ("o\ufb00er \ufb01ne", "offer fine"),
])
def test_ligature_code_points(raw, expected):
    assert normalise_text(raw) == expected


@pytest.mark.parametrize("raw, keep, expected", [
    ("repre-\nsentation", set(), "representation"),
    ("shuf\ufffe fle", set(), "shuffle"),
    ("two-\ncolumn", {"two-column"}, "two-column"),
    ("Fig-\nUre", set(), "Fig-Ure"),  # the next line starts a capitalised word: not a split word
    ("state of the art-\n2", set(), "state of the art-\n2"),
])
def test_dehyphenate(raw, keep, expected):
    assert dehyphenate(raw, keep) == expected


def test_no_text_layer(tmp_path):
    doc = extract(make_paper_pdf(tmp_path / "scan.pdf", title="Scanned", body="words " * 300, text=False))
    assert doc.page_count >= 1 and not doc.has_text and doc.title is None


def test_long_document_reports_progress(tmp_path):
    pdf = make_pages_pdf(tmp_path / "thesis.pdf", [f"chapter page {i} " + "lorem ipsum " * 40 for i in range(500)])
    seen: list[tuple[int, int]] = []
    doc = extract(pdf, on_page=lambda done, total: seen.append((done, total)))
    assert doc.page_count == 500 and seen[-1] == (500, 500) and len(seen) == 500
    assert doc.pages[499].startswith("chapter page 499")


def test_not_a_pdf(tmp_path):
    bad = tmp_path / "notes.pdf"
    bad.write_text("just some notes, not a PDF\n")
    with pytest.raises(PdfError, match="not a PDF"):
        extract(bad)


def test_truncated_pdf(tmp_path):
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(TWO.read_bytes()[: TWO.stat().st_size // 2])
    with pytest.raises(PdfError, match="truncated"):
        extract(cut)


def test_corrupt_pdf(tmp_path):
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.5\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    with pytest.raises(PdfError, match="corrupt"):
        extract(junk)


def test_encrypted_pdf(tmp_path):
    locked = make_paper_pdf(tmp_path / "locked.pdf", title="Locked Paper Title", body="secret words " * 50,
                            password="s3cret")
    with pytest.raises(EncryptedPdf, match="encrypted: give its password"):
        extract(locked)
    with pytest.raises(EncryptedPdf, match="password is wrong"):
        extract(locked, password="nope")
    assert "secret words" in extract(locked, password="s3cret").pages[0]


def test_render_page(tmp_path):
    image = render_page(TWO, 2, scale=0.5)
    assert image.size == (306, 396)
    with pytest.raises(PdfError, match="no page 3"):
        render_page(TWO, 3)


def test_an_arxiv_id_cited_in_the_body_is_not_the_papers_own(tmp_path):
    body = "filler words " * 60 + "as in prior work arXiv:1512.03385 we use residual blocks " + "more words " * 60
    doc = extract(make_paper_pdf(tmp_path / "cites.pdf", title="A Paper That Cites Another", body=body))
    assert doc.arxiv_id is None
    assert "arXiv:1512.03385" in doc.pages[0]


def test_arxiv_margin_stamp_names_the_paper_and_stays_out_of_the_text(tmp_path):
    body = "as in prior work arXiv:1512.03385 we use residual blocks " * 3
    pdf = make_paper_pdf(tmp_path / "p.pdf", title="A Stamped Preprint", body=body,
                         stamp="arXiv:1807.11164v2 [cs.CV] 30 Jul 2018")
    doc = extract(pdf)
    assert doc.arxiv_id == "1807.11164"  # the stamp, not the id cited near the top of the body
    assert "30 Jul 2018" not in doc.pages[0] and doc.pages[0].startswith("A Stamped Preprint")
