"""The right paper for every file (issue 25): an arXiv id or DOI found in a PDF is the PDF's own only where the
PDF's title agrees with that paper's title (when known); otherwise the PDF is logged as its own paper, and
`reading add`, `reading import` and the app say why it was not attached."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.fulltext_pdfgen import make_paper_pdf
from paperzoo.reading_cli import cli
from reading import open_log
from reading._fulltext import titles_agree

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
TWO = FIXTURES / "twocolumn.pdf"  # cites arXiv:1807.11164 at the top of its first page
ONE = FIXTURES / "onecolumn.pdf"  # prints DOI 10.1145/3290605.3300001
SHUFFLENET_V2 = "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design"


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "log.db"
    with open_log(path) as log:
        log.add("1807.11164", title=SHUFFLENET_V2, authors="Ningning Ma; Xiangyu Zhang", fetch=False)
    return path


def _invoke(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def test_import_of_a_pdf_citing_a_logged_paper_makes_its_own_paper(db, tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    shutil.copy(TWO, folder / "twocolumn.pdf")
    result = _invoke(db, "import", str(folder))
    assert result.exit_code == 0, result.output
    assert "imported 1 PDFs" in result.output and "attached to papers already" not in result.output
    assert "twocolumn.pdf: not attached to arXiv:1807.11164 (“ShuffleNet V2" in result.output
    assert "Efficient Shuffling Networks for Affine Flow Estimation" in result.output
    with open_log(db) as log:
        assert log.count() == 2
        shufflenet, own = log.get(1), log.get(2)
        assert shufflenet["title"] == SHUFFLENET_V2 and log.pdfs(1) == []
        assert own["title"] == "Efficient Shuffling Networks for Affine Flow Estimation"
        assert own["authors"] == ["Ada Lovelace", "Grace Hopper"] and own["arxiv_id"] is None
        assert [p["file_name"] for p in log.pdfs(2)] == ["twocolumn.pdf"]


def test_reading_add_says_why_it_was_not_attached(db):
    result = _invoke(db, "add", str(TWO), "--no-fetch")
    assert result.exit_code == 0, result.output
    assert "added:     2  -" in result.output and "Efficient Shuffling Networks" in result.output
    assert "warning: not attached to arXiv:1807.11164" in result.output and "a paper of its own" in result.output


def test_a_pdf_whose_title_agrees_still_joins_its_paper(tmp_path):
    with open_log(tmp_path / "log.db") as log:
        typed = log.add("1807.11164", title="Efficient Shuffling Networks", fetch=False).paper
        result = log.add_pdf(TWO, fetch=False)
        assert result.paper["id"] == typed["id"] and not result.created and result.unattached is None


def test_the_title_arxiv_gives_decides_when_the_paper_is_not_logged(tmp_path, arxiv_replay):
    pdf = make_paper_pdf(tmp_path / "x.pdf", title="A Title Printed In The PDF", body="markov chains " * 80,
                         header="see arXiv:1605.08386v1 [math.ST] for the chains")
    with open_log(tmp_path / "log.db") as log:
        result = log.add_pdf(pdf)
        paper = result.paper
        assert result.created and paper["arxiv_id"] is None and paper["title"] == "A Title Printed In The PDF"
        assert not paper["needs_refresh"]
        assert "not attached to arXiv:1605.08386 (“Heat-bath random walks with Markov bases”)" in result.message


def test_a_doi_of_another_logged_paper_is_not_the_pdfs_own(tmp_path):
    with open_log(tmp_path / "log.db") as log:
        other = log.add(title="Something Else Entirely", doi="10.1145/3290605.3300001", fetch=False).paper
        result = log.add_pdf(ONE)
        assert result.created and result.paper["id"] != other["id"]
        assert result.paper["title"] == "Reading Order of Scientific Documents" and result.paper["doi"] is None
        assert "not attached to doi:10.1145/3290605.3300001 (“Something Else Entirely”)" in result.unattached
        assert log.pdfs(other["id"]) == []


def test_the_app_upload_says_why(db):
    from tests.test_fulltext_app import _Upload
    from ui import _fulltext

    with open_log(db) as log:
        [(level, line, pid)] = _fulltext.add_uploads(log, [_Upload(TWO)], fetch=False, password=None)
        assert level == "warning" and "not attached to arXiv:1807.11164" in line and pid == 2


@pytest.mark.parametrize("pdf, paper, agree", [
    ("ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design", SHUFFLENET_V2, True),
    ("SHUFFLENET V2 PRACTICAL GUIDELINES FOR EFFICIENT CNN ARCHITECTURE DESIGN", SHUFFLENET_V2, True),
    ("Efficient Shuffling Networks for Affine Flow Estimation", "Efficient Shuffling Networks", True),
    ("ShuffleNet V2: Practical Guidelines for Efficient CNN", SHUFFLENET_V2, True),  # cut at a line end
    ("Efficient Shuffling Networks for Affine Flow Estimation", SHUFFLENET_V2, False),
    ("1 prior work [12] shows", SHUFFLENET_V2, False),
    (None, SHUFFLENET_V2, None),
    ("Efficient Shuffling Networks", None, None),
    ("Efficient Shuffling Networks", "arXiv:1807.11164", None),  # a placeholder is no title
])
def test_titles_agree(pdf, paper, agree):
    assert titles_agree(pdf, paper) is agree
