"""Other managers' files: BibTeX `file` fields (Zotero, JabRef, Mendeley), CSL-JSON in and out, RIS with PDF links."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import reading
from bench.fulltext_pdfgen import make_paper_pdf
from paperzoo.reading_cli import cli
from reading._csl import csl_json
from reading._libfiles import parse_file_field


@pytest.mark.parametrize("field, paths", [
    # Zotero: Description:path:mime, several separated by ;, non-PDFs left out
    ("Full Text PDF:/home/u/Zotero/storage/AB12CD34/He et al. - 2016.pdf:application/pdf;"
     "Snapshot:/home/u/Zotero/storage/EF56/page.html:text/html",
     ["/home/u/Zotero/storage/AB12CD34/He et al. - 2016.pdf"]),
    ("Full Text PDF:a.pdf:application/pdf;Preprint PDF:b.pdf:application/pdf", ["a.pdf", "b.pdf"]),
    # JabRef: :path:PDF, with \: \; \\ escapes
    (":papers/he2016.pdf:PDF", ["papers/he2016.pdf"]),
    (r":C\:\\Users\\me\\he.pdf:PDF", [r"C:\Users\me\he.pdf"]),
    (r"Paper:a\;b.pdf:PDF", ["a;b.pdf"]),
    # Mendeley: :/absolute/path.pdf:pdf, $\backslash$ for a backslash
    (":/home/me/Mendeley Desktop/He - 2016.pdf:pdf", ["/home/me/Mendeley Desktop/He - 2016.pdf"]),
    (r":C$\backslash$:/Users/me/x.pdf:pdf", ["C:/Users/me/x.pdf"]),
    ("papers/bare.pdf", ["papers/bare.pdf"]),
    ("Snapshot:page.html:text/html", []),
    ("", []),
])
def test_file_field_syntaxes(field, paths):
    assert parse_file_field(field) == paths


@pytest.fixture
def pdfs(tmp_path):
    (tmp_path / "papers").mkdir()
    return {
        "rel": make_paper_pdf(tmp_path / "papers" / "he 2016.pdf", title="Deep Residual Learning",
                              body=["residual identity shortcut " * 30]),
        "abs": make_paper_pdf(tmp_path / "elsewhere.pdf", title="Other", body=["other words here " * 30]),
    }


def test_bibtex_file_fields_attach_pdfs(tmp_path, pdfs):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@inproceedings{he2016, title = {Deep Residual Learning for Image Recognition}, author = {He, Kaiming},\n"
        " year = {2016}, booktitle = {CVPR},\n"
        " file = {Full Text PDF:papers/he 2016.pdf:application/pdf;Snapshot:papers/x.html:text/html}}\n"
        f"@article{{m, title = {{An {{\\\"u}}ber paper}}, year = {{2020}}, file = {{:{pdfs['abs']}:pdf}}}}\n"
        "@article{gone, title = {Gone}, year = {2020}, file = {:nowhere.pdf:PDF}}\n", encoding="utf-8")
    log = reading.open_log(tmp_path / "log.db")
    report = log.import_file(bib)
    assert (report["added"], report["pdfs"]) == (3, 2)
    assert report["missing"] == ["entry gone: nowhere.pdf"]
    assert "attached 2 PDF(s), 1 missing file(s)" in reading.import_summary(report)
    he = log.get(log.keyword_search("residual", k=1)[0][0])
    assert [p["file_name"] for p in log.pdfs(he["id"])] == ["he 2016.pdf"]
    uber = next(p for p in log.papers() if p["title"] == "An über paper")
    assert log.pdfs(uber["id"])  # the file field's path was not LaTeX-decoded
    again = log.import_file(bib)
    assert (again["added"], again["pdfs"]) == (0, 0) and log.count() == 3
    log.close()


ZOTERO_CSL = [
    {"id": "http://zotero.org/users/1/items/ABCD1234", "type": "article", "title": "ShuffleNet V2: Practical "
     "Guidelines for Efficient CNN Architecture Design", "author": [{"family": "Ma", "given": "Ningning"},
                                                                   {"family": "Zhang", "given": "Xiangyu"}],
     "editor": [{"family": "Ed", "given": "Itor"}], "issued": {"date-parts": [["2018", 7, 30]]}, "publisher": "arXiv",
     "number": "arXiv:1807.11164", "URL": "http://arxiv.org/abs/1807.11164", "abstract": "Currently, ...",
     "keyword": "Computer Science - Computer Vision and Pattern Recognition, efficient", "DOI":
     "10.48550/arXiv.1807.11164"},
    {"id": "he2016", "type": "paper-conference", "title": "Deep residual learning", "author":
     [{"family": "He", "given": "Kaiming"}, {"literal": "Microsoft Research"}], "issued": {"raw": "2016"},
     "container-title": "CVPR", "DOI": "10.1109/CVPR.2016.90"},
    {"id": "bad", "type": "article", "title": ["not", "a", "string"]},
]


def test_csl_json_import(tmp_path):
    path = tmp_path / "library.json"
    path.write_text(json.dumps(ZOTERO_CSL), encoding="utf-8")
    log = reading.open_log(tmp_path / "log.db")
    report = log.import_file(path)  # told from the log's own JSON by its content
    assert (report["added"], len(report["errors"])) == (2, 1) and "item bad" in report["errors"][0]
    v2 = log.get("1807.11164")
    assert v2["authors"] == ["Ningning Ma", "Xiangyu Zhang"] and v2["year"] == 2018
    assert "efficient" in v2["tags"]
    he = log.get("10.1109/cvpr.2016.90")
    assert he["authors"] == ["Kaiming He", "Microsoft Research"] and (he["year"], he["venue"]) == (2016, "CVPR")
    log.close()


# The parts of the CSL data schema (citation-style-language/schema, csl-data.json v1.0) that the export uses: the
# item keys it may write, required id and type, name and date shapes. No other key is allowed there.
CSL_KEYS = {"id", "type", "citation-key", "title", "author", "issued", "container-title", "publisher", "number",
            "genre", "note", "DOI", "URL", "abstract", "keyword", "annote"}
CSL_TYPES = {"article", "article-journal", "paper-conference", "document"}


def _check_csl(items):
    assert isinstance(items, list)
    for item in items:
        assert {"id", "type"} <= set(item) <= CSL_KEYS and item["type"] in CSL_TYPES
        assert all(isinstance(item[k], str) for k in item if k not in ("author", "issued"))
        for name in item.get("author", []):
            assert set(name) in ({"family", "given"}, {"literal"}) and all(isinstance(v, str) for v in name.values())
        if "issued" in item:
            assert all(isinstance(n, int) for n in item["issued"]["date-parts"][0])
    assert len({i["id"] for i in items}) == len(items)


def test_csl_json_export(tmp_path):
    log = reading.open_log(tmp_path / "log.db")
    log.add("1707.01083", title="ShuffleNet", authors="Xiangyu Zhang; Xinyu Zhou", year=2017, fetch=False,
            tags=["efficient"], note="channel shuffle")
    log.add("1512.03385", title="Deep Residual Learning", authors="Kaiming He", year=2016, venue="CVPR 2016",
            fetch=False)
    log.add(title="A paper by hand", authors="Plato", doi="10.1000/xyz", venue="Journal of Things", fetch=False)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "log.db"), "export", "--format", "csl-json", "-o",
                                      str(tmp_path / "out.json")])
    assert result.exit_code == 0, result.output
    items = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    _check_csl(items)
    by_title = {i["title"]: i for i in items}
    shuffle = by_title["ShuffleNet"]  # an arXiv paper: a preprint carrying its id
    assert (shuffle["type"], shuffle["number"], shuffle["publisher"]) == ("article", "arXiv:1707.01083", "arXiv")
    assert shuffle["author"][0] == {"family": "Zhang", "given": "Xiangyu"} and shuffle["keyword"] == "efficient"
    resnet = by_title["Deep Residual Learning"]
    assert resnet["type"] == "paper-conference" and resnet["note"] == "arXiv: 1512.03385"
    hand = by_title["A paper by hand"]
    assert hand["type"] == "article-journal" and hand["author"] == [{"literal": "Plato"}]
    # and back: the same library
    other = reading.open_log(tmp_path / "other.db")
    other.import_file(tmp_path / "out.json")
    assert {(p["title"], p["arxiv_id"], p["year"]) for p in other.papers()} == \
        {(p["title"], p["arxiv_id"], p["year"]) for p in log.papers()}
    assert other.get("1707.01083")["notes"][0]["text"] == "channel shuffle"
    log.close()
    other.close()


def test_csl_export_empty_and_odd_names():
    items = json.loads(csl_json([{"id": 1, "title": "T", "authors": ["He, Kaiming", "  Spaced   Name "],
                                  "year": None, "venue": None, "arxiv_id": None, "doi": None, "url": None,
                                  "abstract": "", "tags": [], "notes": []}]))
    _check_csl(items)
    assert items[0]["author"] == [{"family": "He", "given": "Kaiming"}, {"family": "Name", "given": "Spaced"}]
    assert json.loads(csl_json([])) == []


def test_ris_import(tmp_path, pdfs):
    ris = tmp_path / "refs.ris"
    ris.write_text(
        "TY  - JOUR\nAU  - He, Kaiming\nAU  - Sun, Jian\nA2  - Editor, Some\nTI  - Deep Residual Learning\n"
        "  for Image Recognition\nT2  - Journal of Tests\nPY  - 2016/06/01/\nDO  - 10.1234/ris.1\n"
        "UR  - https://example.org/resnet\nL1  - file://" + str(pdfs["abs"]).replace(" ", "%20") + "\n"
        "KW  - resnet\nKW  - vision\nN1  - <p>A <b>good</b> paper</p>\nAB  - Residual nets.\nER  - \n\n"
        "TY  - GEN\nTI  - An arXiv preprint\nUR  - https://arxiv.org/abs/1707.01083\n"
        "L1  - papers/he 2016.pdf\nER  - \n\n"
        "TY  - JOUR\nTI  - Its PDF is missing\nL1  - file:///nowhere/x.pdf\nER  - \n", encoding="utf-8")
    log = reading.open_log(tmp_path / "log.db")
    report = log.import_file(ris)
    assert (report["added"], report["pdfs"], len(report["missing"])) == (3, 2, 1)
    he = log.get("10.1234/ris.1")
    assert he["title"] == "Deep Residual Learning for Image Recognition"
    assert he["authors"] == ["Kaiming He", "Jian Sun"] and (he["year"], he["venue"]) == (2016, "Journal of Tests")
    assert he["url"] == "https://example.org/resnet" and he["abstract"] == "Residual nets."
    assert set(he["tags"]) == {"resnet", "vision"} and he["notes"][0]["text"] == "A **good** paper"
    assert [p["file_name"] for p in log.pdfs(he["id"])] == ["elsewhere.pdf"]
    assert log.pdfs("1707.01083")[0]["file_name"] == "he 2016.pdf"
    log.close()


def test_ris_not_ris(tmp_path):
    bad = tmp_path / "x.ris"
    bad.write_text("hello\nworld\n", encoding="utf-8")
    with reading.open_log(tmp_path / "log.db") as log, pytest.raises(reading.InvalidInput, match="no RIS entries"):
        log.import_file(bad)


def test_cli_imports_ris_and_csl(tmp_path):
    path = tmp_path / "lib.csl"
    path.write_text(json.dumps(ZOTERO_CSL[:2]), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(tmp_path / "log.db"), "import", str(path), "--format", "csl-json"])
    assert result.exit_code == 0 and result.stdout.startswith("added 2, merged 0")
    Path(tmp_path / "x.txt").write_text("TY  - JOUR\nTI  - One\nER  - \n", encoding="utf-8")
    result = runner.invoke(cli, ["--db", str(tmp_path / "log.db"), "import", str(tmp_path / "x.txt"), "--format",
                                 "ris"])
    assert result.exit_code == 0 and result.stdout.startswith("added 1")
