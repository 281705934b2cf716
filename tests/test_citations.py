"""The citation graph: reference entries parsed, matched to the log, stored as edges or pending references, read
back by `reading cites / cited-by / suggest` (through the API and CliRunner), light on the fast path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.fulltext_pdfgen import make_paper_pdf
from paperzoo.reading_cli import cli
from reading import open_log
from reading._citations import PaperIndex
from reading._refparse import parse_reference, surname_key

RESNET = "Deep residual learning for image recognition"

PARSES = [
    # (entry, title, first author surname, year, arXiv id, DOI)
    ("[1] K. He, X. Zhang, S. Ren, and J. Sun. Deep residual learning for image recognition. In CVPR, 2016.",
     RESNET, "he", 2016, None, None),
    ("[2] K. He, X. Zhang, S. Ren, and J. Sun, “Deep residual learning for image recognition,” in Proc. CVPR, 2016, "
     "pp. 770–778.", RESNET, "he", 2016, None, None),
    ("Kaiming He, Xiangyu Zhang, Shaoqing Ren, and Jian Sun. 2016. Deep residual learning for image recognition. In "
     "Proceedings of CVPR. 770–778.", RESNET, "he", 2016, None, None),
    ("He, K., Zhang, X., Ren, S., & Sun, J. (2016). Deep residual learning for image recognition. In CVPR (pp. "
     "770–778).", RESNET, "he", 2016, None, None),
    ("4. He, K., Zhang, X., Ren, S., Sun, J.: Deep residual learning for image recognition. In: CVPR. pp. 770–778 "
     "(2016)", RESNET, "he", 2016, None, None),
    ("[HZRS16] Kaiming He, Xiangyu Zhang, Shaoqing Ren, and Jian Sun. Deep residual learning for image recognition. "
     "arXiv preprint arXiv:1512.03385, 2015.", RESNET, "he", 2015, "1512.03385", None),
    ("D. P. Kingma and J. Ba. Adam: A method for stochastic optimization. CoRR, abs/1412.6980, 2014.",
     "Adam: A method for stochastic optimization", "kingma", 2014, "1412.6980", None),
    ("Nitish Srivastava, Geoffrey Hinton, Alex Krizhevsky, Ilya Sutskever, and Ruslan Salakhutdinov. 2014. Dropout: a "
     "simple way to prevent neural networks from overfitting. JMLR 15, 1 (2014), 1929–1958.",
     "Dropout: a simple way to prevent neural networks from overfitting", "srivastava", 2014, None, None),
    ("Laurens van der Maaten and Geoffrey Hinton. Visualizing data using t-SNE. Journal of Machine Learning Research, "
     "9(Nov):2579–2605, 2008.", "Visualizing data using t-SNE", "maaten", 2008, None, None),
    ("A. Vaswani et al. Attention is all you need. In NIPS, 2017. https://doi.org/10.5555/3295222.3295349",
     "Attention is all you need", "vaswani", 2017, None, "10.5555/3295222.3295349"),
    ("Andrew G. Howard, Menglong Zhu, and Hartwig Adam. 2017. MobileNets: Efficient convolutional neural networks for "
     "mobile vision applications. arXiv preprint (April 2017). https://arxiv.org/abs/1704.04861",
     "MobileNets: Efficient convolutional neural networks for mobile vision applications", "howard", 2017,
     "1704.04861", None),
    ("Howard, A.G., Zhu, M., Chen, B., et al.: Searching for MobileNetV3. In: ICCV. pp. 1314–1324 (2019)",
     "Searching for MobileNetV3", "howard", 2019, None, None),
    ("J. Xu and D. Li. Why do deep nets generalize? In ICML, 2019. doi: 10.1145/3292500.3330701.",
     "Why do deep nets generalize?", "xu", 2019, None, "10.1145/3292500.3330701"),
    ("15. Okafor, C., Brandt, L.: A survey of compute budgets. In: ACM Computing Surveys. pp. 1–38 (2019), "
     "https://doi.org/10. 5555/3310001. 3310042", "A survey of compute budgets", "okafor", 2019, None,
     "10.5555/3310001.3310042"),  # a DOI broken at a line end
    ("[7] A. B. Author, “Some title words here,” arXiv preprint arXiv:2103. 91234, 2021.", "Some title words here",
     "author", 2021, "2103.91234", None),
]


@pytest.mark.parametrize("entry, title, first, year, arxiv_id, doi", PARSES, ids=[p[0][:40] for p in PARSES])
def test_parse_reference(entry, title, first, year, arxiv_id, doi):
    ref = parse_reference(entry)
    assert ref.title == title
    assert surname_key(ref.authors[0]) == first
    assert (ref.year, ref.arxiv_id, ref.doi) == (year, arxiv_id, doi)


def test_parse_reference_splits_author_forms():
    assert [surname_key(a) for a in parse_reference(PARSES[3][0]).authors] == ["he", "zhang", "ren", "sun"]
    assert [surname_key(a) for a in parse_reference(PARSES[4][0]).authors] == ["he", "zhang", "ren", "sun"]
    assert parse_reference("Hinton, G.E., Xu, W.: A title of four words. In: X. (2012)").authors == [
        "G.E. Hinton", "W. Xu"]


def test_parse_reference_of_garbage_is_empty_not_an_error():
    for text in ("", "   ", "[3]", "12.", "— —", "2016."):
        ref = parse_reference(text)
        assert ref.arxiv_id is None and ref.doi is None


PAPERS = [
    {"id": 1, "arxiv_id": "1512.03385", "doi": None, "title_norm": "deep residual learning for image recognition",
     "year": 2015, "authors": ["Kaiming He", "Xiangyu Zhang"]},
    {"id": 2, "arxiv_id": None, "doi": "10.5555/1.2", "title_norm": "deep learning", "year": 2015,
     "authors": ["Yann LeCun", "Yoshua Bengio"]},
    {"id": 3, "arxiv_id": None, "doi": None, "title_norm": "deep learning", "year": 2016,
     "authors": ["Ian Goodfellow", "Yoshua Bengio"]},
    {"id": 4, "arxiv_id": None, "doi": None, "title_norm": "attention is all you need", "year": 2017,
     "authors": ["Ashish Vaswani"]},
]


@pytest.mark.parametrize("entry, expected", [
    ("Someone. Anything at all. arXiv:1512.03385, 2015.", 1),  # the id decides
    ("X. Y. Some title. doi:10.5555/1.2", 2),
    ("[1] K. He and J. Sun. Deep residual learning for image recognitions. In CVPR, 2016.", 1),  # fuzzy title
    ("[1] A. Other and B. Person. Deep residual learning for image recognition. In CVPR, 2016.", None),  # authors
    ("Y. LeCun, Y. Bengio, and G. Hinton. Deep learning. Nature, 2015.", 2),  # same title: authors decide
    ("I. Goodfellow, Y. Bengio, and A. Courville. Deep Learning. MIT Press, 2016.", 3),
    ("Deep learning. Some book, 2016.", None),  # no authors read, and neither first author in the entry
    ("Deep learning. Some book.", None),  # two "Deep learning" papers, nothing to tell them apart: pending
    ("A. Vaswani et al. Attention is all you need in speech separation. In ICASSP, 2021.", None),  # a longer title
    ("A. Vaswani et al., Attention is all you need, NIPS 2017", 4),  # title cut badly, found whole in the entry
])
def test_paper_index_match(entry, expected):
    assert PaperIndex(PAPERS).match(parse_reference(entry)) == expected


def test_paper_index_never_matches_the_citing_paper():
    assert PaperIndex(PAPERS).match(parse_reference("K. He. Deep residual learning. arXiv:1512.03385"), citing=1) is None


# --- the log ----------------------------------------------------------------------------------------------------

ENTRIES = [
    (7, "[1] K. He, X. Zhang, S. Ren, and J. Sun. Deep residual learning for image recognition. In CVPR, 2016."),
    (7, "[2] A. Vaswani, N. Shazeer, et al. Attention is all you need. In NIPS, 2017."),
    (8, "[3] D. P. Kingma and J. Ba. Adam: A method for stochastic optimization. arXiv preprint arXiv:1412.6980, "
        "2014."),
    (8, "[4] S. Ioffe and C. Szegedy. Batch normalization: Accelerating deep network training by reducing internal "
        "covariate shift. In ICML, 2015."),
]


def _citing(log, tmp_path, name, entries=ENTRIES, **kw):
    pdf = make_paper_pdf(tmp_path / f"{name}.pdf", title=f"A citing paper called {name}", body=f"{name} words " * 60)
    result = log.add_pdf(pdf, fetch=False, **kw)
    log.store_references(result.pdf["sha256"], entries)
    return result.paper["id"], result.pdf["sha256"]


@pytest.fixture
def log(tmp_path):
    with open_log(tmp_path / "log.db") as opened:
        yield opened


def test_edges_and_pending_references(log, tmp_path):
    resnet = log.add("1512.03385", title="Deep Residual Learning for Image Recognition", authors="Kaiming He",
                     year=2015, fetch=False).paper["id"]
    a, sha = _citing(log, tmp_path, "alpha")
    rows = log.cites(a)
    assert [set(r) for r in rows] == [{"id", "title", "arxiv_id", "doi", "year", "text", "page"}] * 4
    assert [r["id"] for r in rows] == [resnet, None, None, None]
    assert rows[0]["title"] == "Deep Residual Learning for Image Recognition" and rows[0]["page"] == 7
    assert rows[2]["arxiv_id"] == "1412.6980" and rows[1]["title"] == "Attention is all you need"
    cited = log.cited_by(resnet)
    assert cited == [{"id": a, "title": "A citing paper called alpha", "page": 7, "text": ENTRIES[0][1]}]

    # a paper added later turns its pending references into edges: by arXiv id at once, by title on the next read
    adam = log.add("1412.6980", title="Adam", fetch=False).paper["id"]
    attention = log.add(title="Attention Is All You Need", authors="Ashish Vaswani; Noam Shazeer", year=2017).paper["id"]
    assert [r["id"] for r in log.cites(a)] == [resnet, attention, adam, None]
    assert [r["id"] for r in log.cited_by(attention)] == [a]

    # a title corrected later (a refresh, an edit) is matched again
    batch = log.add(title="Batch norm", authors="Sergey Ioffe", year=2015).paper["id"]
    assert log.cites(a)[3]["id"] is None
    log.update(batch, title="Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate "
                            "Shift")
    assert log.cites(a)[3]["id"] == batch

    # removing the cited paper makes its references pending again; removing the citing one drops its references
    log.remove(adam)
    assert [r["id"] for r in log.cites(a)] == [resnet, attention, None, batch]
    log.remove(a)
    assert log.cited_by(resnet) == []
    assert log.conn.execute("SELECT count(*) FROM citations WHERE sha256 = ?", (sha,)).fetchone()[0] == 0


def test_suggest_ranks_by_how_many_papers_cite_and_filters_by_tag(log, tmp_path):
    a, _ = _citing(log, tmp_path, "alpha", tags=["nas"])
    b, _ = _citing(log, tmp_path, "beta", entries=ENTRIES[1:], tags=["nas"])
    c, _ = _citing(log, tmp_path, "gamma", entries=ENTRIES[2:3])
    rows = log.suggest()
    assert [set(r) for r in rows] == [{"title", "count", "citing", "arxiv_id", "doi", "year"}] * len(rows)
    assert [(r["title"], r["count"], r["citing"]) for r in rows] == [
        ("Adam: A method for stochastic optimization", 3, [a, b, c]),
        ("Attention is all you need", 2, [a, b]),
        ("Batch normalization: Accelerating deep network training by reducing internal covariate shift", 2, [a, b]),
    ]
    assert rows[0]["arxiv_id"] == "1412.6980" and rows[0]["year"] == 2014
    assert [r["count"] for r in log.suggest(tag="nas")] == [2, 2, 2]
    assert len(log.suggest(min_count=1)) == 4 and len(log.suggest(k=1)) == 1
    log.add(title="Attention is all you need", authors="Ashish Vaswani", year=2017)
    assert "Attention is all you need" not in [r["title"] for r in log.suggest()]


def test_suggest_groups_one_work_across_styles_and_ids_but_not_two_works_of_one_title(log, tmp_path):
    mobilenets = "Mobilenets: Efficient convolutional neural networks for mobile vision applications"
    a, _ = _citing(log, tmp_path, "alpha", entries=[
        (3, f"[1] A. G. Howard, M. Zhu, and H. Adam. {mobilenets}. In CVPR, 2017."),
        (3, "[2] K. Pham. Notes on latency in practice. Tech. Report, 2019.")])
    b, _ = _citing(log, tmp_path, "beta", entries=[
        (4, f"Howard, A.G., Zhu, M.: {mobilenets}. arXiv preprint arXiv:1704.04861 (2017)"),
        (4, "L. Novak. Notes on latency in practice. In CVPR Workshops, 2021.")])
    c, _ = _citing(log, tmp_path, "gamma", entries=[  # a PDF reader joined "Mobile-Nets" broken at a line end
        (5, f"Andrew G. Howard and Menglong Zhu. 2017. {mobilenets.replace('Mobilenets', 'Mobile-Nets')}. arXiv "
            "preprint (April 2017).")])
    rows = log.suggest(min_count=1)
    assert (rows[0]["count"], rows[0]["citing"], rows[0]["arxiv_id"]) == (3, [a, b, c], "1704.04861")
    assert sorted((r["count"], r["citing"], r["year"]) for r in rows[1:]) == [(1, [a], 2019), (1, [b], 2021)]


def test_citation_graph_two_hops(log, tmp_path):
    resnet = log.add("1512.03385", title="Deep Residual Learning for Image Recognition", authors="Kaiming He",
                     year=2015, fetch=False).paper["id"]
    a, _ = _citing(log, tmp_path, "alpha")
    b, _ = _citing(log, tmp_path, "beta", entries=[(3, "[1] Anna Author. A citing paper called alpha. In X, 2020.")])
    one = log.citation_graph(b, hops=1)
    assert {n["id"] for n in one["nodes"]} == {a, b} and one["edges"] == [(b, a)]
    two = log.citation_graph(b, hops=2)
    assert {n["id"]: n["hop"] for n in two["nodes"]} == {b: 0, a: 1, resnet: 2}
    assert sorted(two["edges"]) == sorted([(b, a), (a, resnet)])


# --- the command line -------------------------------------------------------------------------------------------


def test_cli_cites_cited_by_suggest(log, tmp_path):
    resnet = log.add("1512.03385", title="Deep Residual Learning for Image Recognition", authors="Kaiming He",
                     year=2015, fetch=False).paper["id"]
    a, _ = _citing(log, tmp_path, "alpha")
    _citing(log, tmp_path, "beta", entries=ENTRIES[1:])
    db = str(log.path)
    run = lambda *args: CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)  # noqa: E731
    out = run("cites", str(a))
    assert out.exit_code == 0 and "4 references, 1 in your log" in out.output
    assert json.loads(run("cites", str(a), "--json").output) == log.cites(a)
    assert json.loads(run("cited-by", "1512.03385", "--json").output) == log.cited_by(resnet)
    assert "A citing paper called alpha" in run("cited-by", str(resnet)).output
    rows = json.loads(run("suggest", "-k", "2", "--json").output)
    assert rows == log.suggest(k=2) and len(rows) == 2
    assert "arXiv:1412.6980" in run("suggest").output
    missing = CliRunner().invoke(cli, ["--db", db, "cites", "9999"])
    assert missing.exit_code == 1 and "no paper with id 9999" in missing.output


FAST = r"""
import sys
from paperzoo.reading_cli import cli
for args in (["cites", "1"], ["cited-by", "1"], ["suggest", "--json"]):
    try:
        cli(["--db", sys.argv[1], *args], standalone_mode=False)
    except SystemExit:
        pass
print("HEAVY", sorted(m for m in ("torch", "transformers", "sentence_transformers", "faiss", "index", "numpy")
                      if m in sys.modules))
"""


def test_citation_commands_stay_on_the_fast_path(log, tmp_path):
    _citing(log, tmp_path, "alpha")
    proc = subprocess.run([sys.executable, "-c", FAST, str(log.path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout


# --- from the PDFs: the typeset corpus (tests/fixtures/pdf/corpus/) ------------------------------------------------

CORPUS = Path(__file__).parent / "fixtures" / "pdf" / "corpus"


def test_a_pdf_added_is_read_for_references_and_its_cited_paper_added_later_becomes_an_edge(log):
    """c03 (NeurIPS style) cites c02 (LNCS) and c01 (ACM); added first, its references wait; each cited paper's PDF
    added later turns them into edges, with no other call in between."""
    citing = log.add_pdf(CORPUS / "c03-neurips.pdf", fetch=False).paper["id"]
    truth = json.loads((CORPUS / "c03-neurips.json").read_text(encoding="utf-8"))["references"]
    rows = log.cites(citing)
    assert len(rows) == len(truth) and all(r["id"] is None for r in rows)
    assert all(r["page"] >= 1 and r["text"] for r in rows)
    c02 = log.add_pdf(CORPUS / "c02-lncs.pdf", fetch=False).paper["id"]
    c01 = log.add_pdf(CORPUS / "c01-acm.pdf", fetch=False).paper["id"]
    assert sorted(r["id"] for r in log.cites(citing) if r["id"] is not None) == sorted([c01, c02])
    assert sorted(r["id"] for r in log.cited_by(c01)) == sorted([citing, c02])  # c02 cites c00 and c01 too
    assert [r["id"] for r in log.cites(c02) if r["id"] is not None] == [c01]


def test_a_reference_list_read_again_is_parsed_again(log):
    pid = log.add_pdf(CORPUS / "c01-acm.pdf", fetch=False).paper["id"]
    before = log.cites(pid)
    log.conn.execute("UPDATE citations SET title = 'stale' WHERE paper_id = ?", (pid,))
    done, failed = log.reextract_pdfs(all_pdfs=True)
    assert (done, failed) == (1, [])
    assert log.cites(pid) == before


def test_a_title_of_common_words_is_still_matched():
    """In a library of deep-learning papers, "deep" and "learning" are on most titles: "Deep learning" is found all
    the same (exactly, and among the papers holding both words)."""
    papers = [{"id": i, "arxiv_id": None, "doi": None, "title_norm": f"deep learning for task {i}", "year": 2020,
               "authors": [f"Author{i} Person"]} for i in range(1, 200)]
    papers.append({"id": 500, "arxiv_id": None, "doi": None, "title_norm": "deep learning", "year": 2015,
                   "authors": ["Yann LeCun"]})
    index = PaperIndex(papers)
    assert index.match(parse_reference("Y. LeCun, Y. Bengio, and G. Hinton. Deep learning. Nature, 2015.")) == 500
    assert index.match(parse_reference("Y. LeCun and Y. Bengio. Deep learnin. Nature, 2015.")) == 500
    assert index.match(parse_reference("A7 Person. Deep learning for task 7. In X, 2020.")) == 7


def test_a_pdf_attached_to_a_paper_gives_it_its_references(log):
    pid = log.add(title="SparseMix: Efficient Sparse Mixing of Feature Maps for Object Detection",
                  authors="Freya Zielinski; Bruno Petrov", year=2019).paper["id"]
    c00 = log.add_pdf(CORPUS / "c00-ieee.pdf", fetch=False).paper["id"]
    assert log.cites(pid) == []
    log.attach_pdf(pid, CORPUS / "c01-acm.pdf")
    rows = log.cites(pid)
    assert len(rows) == 18 and [r["id"] for r in rows if r["id"] is not None] == [c00]
