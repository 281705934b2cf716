"""The Streamlit app, driven headless with AppTest against a temporary log (hashed embedder: no model load)."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

import reading
from conftest import ARXIV_FIXTURES
from ui._display import number

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["library", "search", "inbox", "log_paper", "stats", "suggestions", "zoo", "supernet", "paper"]


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(path))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "weights"))
    return path


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    return at


def _goto(at: AppTest, page: str, **query: str) -> AppTest:
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page(f"ui/pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _links(at: AppTest) -> list[str]:
    return [e.proto.label for e in at.get("page_link")]


def _no_none_cells(at: AppTest) -> None:
    """No table on the page shows a "None" (or empty) cell."""
    for frame in at.dataframe:
        data = frame.value
        assert not data.isna().any().any(), data[data.isna().any(axis=1)]
        assert not (data.astype(str) == "None").any().any()


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]


def _seed(db: Path) -> None:
    with reading.open_log(db) as log:
        log.add(None, title="Deep Residual Learning for Image Recognition", year=2016, fetch=False,
                abstract="Residual networks ease the training of very deep networks.", tags=["resnet"],
                read_on="2026-11-20")
        log.add(None, title="ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design", year=2018,
                fetch=False, abstract="Channel shuffle and channel split make a fast mobile network.",
                tags=["efficient"], read_on="2026-11-21")
        log.add(None, title="Single Path One-Shot Neural Architecture Search with Uniform Sampling", year=2020,
                fetch=False, abstract="A supernet trained by uniform path sampling, then evolutionary search.",
                tags=["nas"], status="to-read")


def test_every_page_runs_on_an_empty_log_and_the_library_offers_the_starter_set(db):
    at = _app()
    assert not at.exception
    assert _button(at, "Load the starter set")
    for page in PAGES:
        _goto(at, page)
    with reading.open_log(db) as log:
        assert log.count() == 0  # looking at pages writes no paper


def test_the_starter_set_loads_in_one_click_with_its_zoo_links(db):
    at = _app()
    _button(at, "Load the starter set").click().run()
    assert not at.exception
    with reading.open_log(db) as log:
        assert log.count() > 10
        assert "resnet50" in log.models_for("1512.03385")
    assert any("Starter set loaded" in s.value for s in at.success)
    titles = at.dataframe[0].value["title"].tolist()
    assert "Deep Residual Learning for Image Recognition" in titles


def test_every_page_runs_on_a_filled_log(db):
    _seed(db)
    at = _app()
    for page in PAGES:
        _goto(at, page)
    _goto(at, "paper", id="1")
    assert at.title[0].value == "Deep Residual Learning for Image Recognition"


def test_a_paper_logged_by_hand_appears_in_library_and_search(db):
    _seed(db)
    at = _goto(_app(), "log_paper")
    at.text_input(key="lm_title").input("Attention Is All You Need")
    at.text_input(key="lm_authors").input("Ashish Vaswani; Noam Shazeer")
    at.text_input(key="lm_year").input("2017")
    at.text_area(key="lm_abstract").input("The transformer relies entirely on self-attention, dispensing with "
                                          "recurrence and convolutions.")
    at.text_input(key="lm_tags").input("transformers, nlp")
    at.text_area(key="lm_note").input("注意力机制：**multi-head** attention.")
    _button(at, "Log").click().run()
    assert not at.exception and not at.error
    with reading.open_log(db) as log:
        paper = log.get(4)
    assert paper["title"] == "Attention Is All You Need" and paper["year"] == 2017
    assert paper["authors"] == ["Ashish Vaswani", "Noam Shazeer"]
    assert set(paper["tags"]) == {"transformers", "nlp"}
    assert paper["notes"][0]["text"] == "注意力机制：**multi-head** attention."
    assert paper["status"] == "read" and len(paper["reads"]) == 1

    _goto(at, "library")
    assert "Attention Is All You Need" in at.dataframe[0].value["title"].tolist()
    at.text_input(key="lib_text").input("self-attention").run()
    assert at.dataframe[0].value["title"].tolist() == ["Attention Is All You Need"]

    _goto(at, "search")
    for mode in ("hybrid", "keyword", "dense"):
        at.button_group[0].set_value(mode)
        at.text_input(key="s_query").input("self-attention transformer").run()
        assert not at.exception and not at.error
        assert _links(at)[0].startswith("1. Attention Is All You Need"), mode


def test_a_paper_logged_from_the_cli_shows_on_the_next_rerun(db):
    _seed(db)
    at = _goto(_app(), "library")
    assert len(at.dataframe[0].value) == 3
    with reading.open_log(db) as other:  # another process's connection, as the `reading` CLI would have
        other.add(None, title="Batch Normalization", year=2015, fetch=False)
    at.run()
    assert "Batch Normalization" in at.dataframe[0].value["title"].tolist()


def test_arxiv_offline_keeps_the_typed_fields_and_says_so_in_one_line(db, arxiv_replay):
    arxiv_replay.mode = "offline"
    at = _goto(_app(), "log_paper")
    at.text_input(key="la_ref").input("https://arxiv.org/abs/1707.01083")
    at.text_input(key="la_title").input("ShuffleNet")
    at.text_input(key="la_tags").input("efficient")
    _button(at, "Fetch and log").click().run()
    assert not at.exception
    assert len(at.warning) == 1 and "\n" not in at.warning[0].value and "1707.01083" in at.warning[0].value
    assert at.text_input(key="la_title").value == "ShuffleNet"  # the form keeps what was typed
    with reading.open_log(db) as log:
        paper = log.get("1707.01083")
    assert paper["title"] == "ShuffleNet" and paper["needs_refresh"] and paper["tags"] == ["efficient"]


def test_arxiv_fetch_fills_the_metadata(db, arxiv_replay):
    at = _goto(_app(), "log_paper")
    at.text_input(key="la_ref").input("1605.08386")
    _button(at, "Fetch and log").click().run()
    assert not at.exception and not at.error and not at.warning
    with reading.open_log(db) as log:
        paper = log.get("1605.08386")
    assert paper["abstract"] and not paper["needs_refresh"]


def test_bad_input_is_one_error_line_and_nothing_is_logged(db):
    at = _goto(_app(), "log_paper")
    at.text_input(key="lm_title").input("A paper")
    at.text_input(key="lm_year").input("twenty")
    _button(at, "Log").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "year" in at.error[0].value and "\n" not in at.error[0].value
    at.text_input(key="la_ref").input("not-an-id")
    _button(at, "Fetch and log").click().run()
    assert not at.exception and any("not-an-id" in e.value for e in at.error)
    with reading.open_log(db) as log:
        assert log.count() == 0


def test_bibtex_paste_imports_and_tags_every_entry(db):
    bib = """@inproceedings{he2016deep, title={Deep Residual Learning for Image Recognition},
    author={He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian}, booktitle={CVPR}, year={2016}}
    @article{ma2018shufflenet, title={ShuffleNet V2}, author={Ma, Ningning}, journal={ECCV}, year={2018}}"""
    at = _goto(_app(), "log_paper")
    at.text_area(key="lb_text").input(bib)
    at.text_input(key="lb_tags").input("from-bib")
    _button(at, "Import").click().run()
    assert not at.exception and not at.error
    assert "added 2" in at.success[0].value
    assert at.text_area(key="lb_text").value == "" and at.text_input(key="lb_tags").value == ""  # cleared
    with reading.open_log(db) as log:
        assert {p["title"] for p in log.papers(tag="from-bib")} == {"Deep Residual Learning for Image Recognition",
                                                                     "ShuffleNet V2"}


def test_the_paper_page_edits_notes_tags_status_and_reads(db):
    _seed(db)
    at = _goto(_app(), "paper", id="3")
    at.text_area[0].input("## 笔记\nUniform sampling avoids weight coupling.")
    _button(at, "Add note").click().run()
    at.selectbox[0].set_value("read")
    at.text_input[0].input("nas, supernet")
    _button(at, "Save").click().run()
    assert not at.exception and not at.error
    _button(at, "Log a read").click().run()
    assert not at.exception
    with reading.open_log(db) as log:
        paper = log.get(3)
    assert paper["notes"][0]["text"] == "## 笔记\nUniform sampling avoids weight coupling."
    assert set(paper["tags"]) == {"nas", "supernet"} and paper["status"] == "read"
    assert len(paper["reads"]) == 1
    assert any(m.value.startswith("## 笔记") for m in at.markdown)
    assert any("Deep Residual" in label or "ShuffleNet" in label for label in _links(at))  # related papers


def test_more_like_this_lists_related_papers(db):
    _seed(db)
    at = _goto(_app(), "search")
    at.text_input(key="s_query").input("residual networks").run()
    _button(at, "More like this").click().run()
    assert not at.exception
    assert at.subheader[0].value.startswith("More like")
    labels = _links(at)
    assert labels and not any("Deep Residual" in label for label in labels)  # the paper itself is excluded


def test_the_zoo_page_lists_every_registered_model(db):
    import zoo

    at = _goto(_app(), "zoo")
    listed = at.dataframe[0].value["model"].tolist()
    assert listed == zoo.list_models()
    assert at.selectbox(key="zoo_model").options == zoo.list_models()
    # a paper of the card that is not in the log can be logged in one click (offline here: logged, flagged)
    assert any(b.label.startswith("Log arXiv:") for b in at.button)


def test_opening_the_zoo_page_writes_the_registrys_links_into_the_log(db, arxiv_replay):
    """DESIGN: the app writes the registry's (model, arXiv id) pairs into the log, so fast paths read them."""
    from reading import open_log

    arxiv_replay.mode = "offline"
    with open_log(db) as log:
        log.add("1512.03385")  # logged offline, not linked
        assert log.models_for("1512.03385") == []
    _goto(_app(), "zoo")
    with open_log(db) as log:
        assert "resnet50" in log.models_for("1512.03385")


def test_the_zoo_card_shows_claims_counts_and_stored_results(db):
    _seed(db)
    with reading.open_log(db) as log:
        log.add_result("resnet50", "latency_ms", 12.5, env={"batch": 1})
        log.add_result("resnet50", "top1", 76.0, weights="IMAGENET1K_V1")
    at = _goto(_app(), "zoo", model="resnet50")
    assert at.selectbox(key="zoo_model").value == "resnet50"
    table = at.dataframe[0].value.set_index("model")
    # columns with gaps are shown as text, "—" for a gap: never a "None" cell
    assert table.loc["resnet50", "latency (ms)"] == "12.5" and table.loc["resnet50", "top-1 measured"] == "76"
    assert table.loc["resnet18", "latency (ms)"] == "—"
    _no_none_cells(at)
    assert any(m.value.startswith("25.56") for m in at.metric)  # counted params of resnet50


def test_the_stats_page_shows_streaks_and_keeps_the_goal(db):
    _seed(db)
    at = _goto(_app(), "stats")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Longest streak"] == "2 days"
    at.number_input(key="stats_goal").set_value(3.0).run()
    assert not at.exception
    with reading.open_log(db) as log:
        assert log.get_setting("ui.daily_goal") == 3.0
    at.toggle(key="stats_map").set_value(True).run()
    assert not at.exception and not at.error


def test_the_supernet_page_counts_macs_and_rejects_a_bad_architecture(db):
    from zoo import spos

    at = _goto(_app(), "supernet")
    expected = spos.flops_table().macs(spos.SPOS_A)
    assert at.metric[0].value == f"{expected / 1e6:.1f} M"
    _button(at, "Randomise").click().run()
    assert at.text_input(key="sn_arch").value != str(spos.SPOS_A)
    at.text_input(key="sn_arch").input("0123").run()
    assert not at.exception and "20 block choices" in at.error[0].value


def test_the_supernet_page_shows_a_stored_search(db, tmp_path):
    result = {"top": [{"arch": "0" * 20, "macs": 300_000_000, "latency_ms": None, "score": 60.0},
                      {"arch": "1" * 20, "macs": 330_000_000, "latency_ms": None, "score": 55.0}],
              "pareto": [{"arch": "0" * 20, "macs": 300_000_000, "latency_ms": None, "score": 60.0}],
              "evaluated": 2, "rejected": 0, "iterations": 1, "history": [60.0]}
    path = tmp_path / "search.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    at = _goto(_app(), "supernet")
    at.text_input(key="sn_result_path").input(str(path)).run()
    assert not at.exception and not at.error
    frame = at.dataframe[-1].value
    assert frame["Pareto"].tolist() == [True, False]
    at.text_input(key="sn_result_path").input(str(tmp_path / "missing.json")).run()
    assert not at.exception and len(at.error) == 1


def test_a_benchmark_runs_from_the_zoo_page_and_is_stored(db):
    at = _goto(_app(), "zoo", model="shufflenet_v2_x0_5")
    at.multiselect(key="zb_models").set_value(["shufflenet_v2_x0_5"])
    at.number_input(key="zb_iters").set_value(2)
    _button(at, "Benchmark on this machine").click().run()
    assert not at.exception and not at.error
    assert any("Stored" in s.value for s in at.success)
    with reading.open_log(db) as log:
        latency = log.results("shufflenet_v2_x0_5", metric="latency_ms")
    assert len(latency) == 1 and latency[0]["value"] > 0 and latency[0]["env"]["batch"] == 1
    _goto(at, "zoo", model="shufflenet_v2_x0_5")
    table = at.dataframe[0].value.set_index("model")
    assert table.loc["shufflenet_v2_x0_5", "latency (ms)"] == number(round(latency[0]["value"], 2))


def test_an_optimised_benchmark_from_the_zoo_page_is_stored_as_such(db):
    at = _goto(_app(), "zoo", model="shufflenet_v2_x0_5")
    at.multiselect(key="zb_models").set_value(["shufflenet_v2_x0_5"])
    at.number_input(key="zb_iters").set_value(2)
    at.selectbox(key="zb_engine").set_value("optimized")
    _button(at, "Benchmark on this machine").click().run()
    assert not at.exception and not at.error and not at.warning
    with reading.open_log(db) as log:
        (latency,) = log.results("shufflenet_v2_x0_5", metric="latency_ms")
    assert latency["value"] > 0 and latency["env"]["optimized"] is True and latency["env"]["engine"] == "optimized"


def test_evaluating_a_missing_folder_is_one_error_line(db, tmp_path):
    at = _goto(_app(), "zoo", model="resnet18")
    at.text_input(key="ze_data").input(str(tmp_path / "no-such-folder"))
    _button(at, "Evaluate and store").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value
    with reading.open_log(db) as log:
        assert log.results("resnet18") == []


# --- Inbox ---------------------------------------------------------------------------------------------------------

SEARCH_PAGE = sorted(ARXIV_FIXTURES.glob("q_testing_s0_m10_*.xml"))[0].read_text(encoding="utf-8")


@pytest.fixture
def feed(arxiv_replay, monkeypatch):
    """`arxiv_replay` answering a category search with the recorded 10-result page, submitted in the last days
    (entry i on today - i // 2 days), so that the app's default window keeps them all."""
    entries = re.findall(r"<entry>.*?</entry>", SEARCH_PAGE, re.S)
    today = dt.date.today()
    entries = [re.sub(r"<published>\d{4}-\d\d-\d\d", f"<published>{today - dt.timedelta(days=i // 2)}", e)
               for i, e in enumerate(entries)]
    by_id = arxiv_replay.body_for

    def body_for(url: str) -> bytes:
        query = parse_qs(urlparse(url).query)
        if not query.get("search_query"):
            return by_id(url)
        start, size = int(query["start"][0]), int(query["max_results"][0])
        page = re.sub(r"<entry>.*?</entry>\s*", "", SEARCH_PAGE, flags=re.S)
        page = re.sub(r"<opensearch:totalResults>\d+<", f"<opensearch:totalResults>{len(entries)}<", page)
        return page.replace("</feed>", "".join(entries[start:start + size]) + "</feed>").encode()

    monkeypatch.setattr(arxiv_replay, "body_for", body_for)
    return arxiv_replay


def _titles(at: AppTest) -> list[str]:
    """The inbox's candidates as listed: "**1. Title**" markdown lines, in order."""
    return [m.value.split(". ", 1)[1].rstrip("*") for m in at.markdown if re.match(r"\*\*\d+\. ", m.value)]


def test_fetch_from_the_inbox_page_lists_the_candidates(db, feed):
    _seed(db)
    at = _goto(_app(), "inbox")
    assert at.text_input(key="ib_cats").value == "cs.CV, cs.LG"  # the log's inbox settings
    at.text_input(key="ib_cats").input("cs.SE, cs.LG")
    _button(at, "Fetch new papers").click().run()
    assert not at.exception and not at.error and not at.warning
    assert "10 new" in at.success[0].value
    with reading.open_log(db) as log:
        waiting = log.candidates()
        assert len(waiting) == 10 and log.count() == 3  # candidates, not papers
        assert log.inbox_settings()["categories"] == ["cs.SE", "cs.LG"]
    assert sorted(_titles(at)) == sorted(c["title"] for c in waiting)
    assert query_of(feed.requests[0]).startswith("(cat:cs.SE OR cat:cs.LG) AND submittedDate:")


def query_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["search_query"][0]


def _fill_inbox(db: Path) -> list[dict]:
    """A library of three tagged papers and four candidates: two about residual networks, one about channel
    shuffles, one unrelated."""
    _seed(db)
    with reading.open_log(db) as log:
        log.add_candidates([
            {"arxiv_id": "2611.00001", "title": "Deeper residual networks with identity shortcuts",
             "abstract": "Residual networks ease the training of very deep networks with identity shortcuts.",
             "published": "2026-11-26"},
            {"arxiv_id": "2611.00002", "title": "Channel shuffle for an efficient mobile network",
             "abstract": "Channel shuffle and channel split make a fast mobile network design.",
             "published": "2026-11-25"},
            {"arxiv_id": "2611.00003", "title": "Protein folding kinetics in crowded cells",
             "abstract": "Molecular dynamics of proteins under crowding.", "published": "2026-11-24"},
            {"arxiv_id": "2611.00004", "title": "Residual learning of very deep image networks",
             "abstract": "Training very deep residual networks for image recognition.", "published": "2026-11-23"},
        ])
        return log.candidates()


def test_the_inbox_shows_the_ranking_with_its_reasons_and_filters_by_tag(db):
    from index import inbox

    _fill_inbox(db)
    at = _goto(_app(), "inbox")
    with reading.open_log(db) as log:
        expected = inbox.rank(log, k=20)
        per_tag = inbox.rank(log, tag="efficient", k=20)
    assert _titles(at) == [h["title"] for h in expected]
    assert _titles(at)[-1] == "Protein folding kinetics in crowded cells"
    text = " ".join(m.value for m in at.markdown)
    assert "score `" in text
    top = expected[0]
    assert f"Because you read “{top['because']['title']}”" in " ".join(_links(at))
    for hit in expected:
        assert at.text_input(key=f"ib_tags_{hit['id']}").value == ", ".join(hit["tags"])
    at.selectbox(key="ib_tag").set_value("efficient").run()
    assert not at.exception and not at.warning
    assert _titles(at) == [h["title"] for h in per_tag]
    assert _titles(at)[0] == "Channel shuffle for an efficient mobile network"
    assert at.text_input(key=f"ib_tags_{per_tag[0]['id']}").value.split(", ")[0] == "efficient"


def test_keep_moves_a_candidate_into_the_library_and_skip_removes_it_for_good(db, feed, monkeypatch):
    from index import inbox

    calls = []
    real_rank = inbox.rank
    monkeypatch.setattr(inbox, "rank", lambda *a, **kw: calls.append(kw) or real_rank(*a, **kw))
    cands = {c["arxiv_id"]: c for c in _fill_inbox(db)}
    at = _goto(_app(), "inbox")
    kept, skipped = cands["2611.00002"], cands["2611.00003"]
    at.text_input(key=f"ib_tags_{kept['id']}").input("efficient, 待读")
    at.button(key=f"ib_keep_{kept['id']}").click().run()
    assert not at.exception and not at.error
    assert "as to-read" in at.success[0].value
    at.button(key=f"ib_skip_{skipped['id']}").click().run()
    assert not at.exception and not at.error
    assert kept["title"] not in _titles(at) and skipped["title"] not in _titles(at) and len(_titles(at)) == 2
    with reading.open_log(db) as log:
        paper = log.get("2611.00002")
        assert paper["status"] == "to-read" and paper["reads"] == [] and set(paper["tags"]) == {"efficient", "待读"}
        assert log.candidate(skipped["id"])["state"] == "skipped"
        # a later fetch that sees the skipped paper again leaves it out
        log.add_candidates([{"arxiv_id": "2611.00003", "title": skipped["title"], "published": "2026-11-24"}])
        assert "2611.00003" not in {c["arxiv_id"] for c in log.candidates()}
        expected = [h["title"] for h in real_rank(log, k=20)]
    assert len(calls) == 1  # triage does not train the classifiers again
    at.button(key="ib_rerank").click().run()  # ... "Re-rank" does, with the kept and skipped papers as signal
    assert len(calls) == 2 and _titles(at) == expected
    _goto(at, "library")
    assert kept["title"] in at.dataframe[0].value["title"].tolist()
    _goto(at, "inbox")
    assert skipped["title"] not in _titles(at)


def test_offline_fetch_is_one_line_and_the_candidates_stay(db, feed):
    _fill_inbox(db)
    feed.mode = "offline"
    at = _goto(_app(), "inbox")
    before = _titles(at)
    _button(at, "Fetch new papers").click().run()
    assert not at.exception and not at.error
    assert len(at.warning) == 1 and "\n" not in at.warning[0].value
    assert "unreachable" in at.warning[0].value and "4 candidates waiting" in at.warning[0].value
    assert _titles(at) == before and len(before) == 4
    with reading.open_log(db) as log:
        assert len(log.candidates()) == 4


def test_clear_drops_old_candidates_from_the_page(db):
    _fill_inbox(db)
    at = _goto(_app(), "inbox")
    at.number_input(key="ib_clear_days").set_value(0)
    at.button(key="ib_clear").click().run()
    assert not at.exception and not at.error
    with reading.open_log(db) as log:
        assert log.candidates() == []  # all were submitted before today
    assert any("Dropped 4" in s.value for s in at.success)
    assert at.info and not _titles(at)


def test_the_paper_page_edits_and_deletes_notes(db):
    _seed(db)
    with reading.open_log(db) as log:
        first = log.note(1, "draft: shortcuts")
        second = log.note(1, "to delete")
    at = _goto(_app(), "paper", id="1")
    text = "## 残差\n恒等映射让**很深**的网络可训练。"
    at.text_area(key=f"note_text_{first}").input(text)
    [b for b in at.button if b.label == "Save note"][0].click().run()
    assert not at.exception and not at.error
    assert any(s.value == "Note saved." for s in at.success)
    with reading.open_log(db) as log:
        assert [(n["id"], n["text"]) for n in log.get(1)["notes"]] == [(first, text), (second, "to delete")]
    assert any(m.value == text for m in at.markdown)
    [b for b in at.button if b.label == "Delete note"][1].click().run()
    assert not at.exception and not at.error
    with reading.open_log(db) as log:
        assert [(n["id"], n["text"]) for n in log.get(1)["notes"]] == [(first, text)]
        assert [i for i, _ in log.keyword_search("delete")] == []
    assert not any(m.value == "to delete" for m in at.markdown)
    at.text_area(key=f"note_text_{first}").input("  ")
    [b for b in at.button if b.label == "Save note"][0].click().run()
    assert not at.exception and len(at.error) == 1 and "empty note" in at.error[0].value
    with reading.open_log(db) as log:
        assert log.get(1)["notes"][0]["text"] == text


# --- the first ten minutes (issue 16) ------------------------------------------------------------------------------


def test_the_benchmark_form_follows_the_picked_card_and_names_what_it_stored(db):
    at = _goto(_app(), "zoo", model="resnet18")
    assert at.multiselect(key="zb_models").value == ["resnet18"]
    at.selectbox(key="zoo_model").set_value("shufflenet_v2_x0_5").run()
    assert at.multiselect(key="zb_models").value == ["shufflenet_v2_x0_5"]  # not the first card's model
    assert any("None yet" in c.value for c in at.caption)
    at.number_input(key="zb_iters").set_value(2)
    _button(at, "Benchmark on this machine").click().run()
    assert not at.exception and not at.error
    (done,) = [s.value for s in at.success if s.value.startswith("Stored")]
    assert "shufflenet_v2_x0_5" in done
    with reading.open_log(db) as log:
        assert {r["model"] for r in log.results()} == {"shufflenet_v2_x0_5"}
    # the card's stored results show the new figures at once, without another rerun
    assert not any("None yet" in c.value for c in at.caption)
    stored = [f.value for f in at.dataframe if list(f.value.columns)[:2] == ["metric", "value"]]
    assert stored and "latency_ms" in stored[0]["metric"].tolist()
    _no_none_cells(at)


def test_zoo_charts_round_ticks_and_fit_the_macs_range(db):
    with reading.open_log(db) as log:
        log.add_result("shufflenet_v2_x1_0", "latency_ms", 3598.362491, env={"batch": 1})
    at = _goto(_app(), "zoo")
    specs = _charts(at)
    latency = next(s for s in specs if any(layer.get("encoding", {}).get("y", {}).get("title") == "latency (ms)"
                                           for layer in s.get("layer", [])))
    dots = next(layer for layer in latency["layer"] if layer["encoding"]["y"].get("title") == "latency (ms)")
    assert dots["encoding"]["y"]["axis"]["format"] == ",.4~g"
    accuracy = next(s for s in specs if any(layer.get("encoding", {}).get("y", {}).get("title") == "top-1 (%)"
                                            for layer in s.get("layer", [])))
    x = next(layer for layer in accuracy["layer"] if layer["encoding"]["y"].get("title") == "top-1 (%)")["encoding"]["x"]
    lo, hi = x["scale"]["domain"]
    assert hi < 20 and lo > 0.02  # the largest model is ~11.5 G: the axis no longer runs to 100 G
    assert all(lo <= t <= hi for t in x["axis"]["values"])


def test_offline_fetch_is_flagged_not_searchable_and_refreshed_from_the_app(db, arxiv_replay):
    arxiv_replay.mode = "offline"
    at = _goto(_app(), "log_paper")
    at.text_input(key="la_ref").input("1605.08386")
    _button(at, "Fetch and log").click().run()
    assert not at.exception
    assert len(at.warning) == 1 and "searchable now" not in at.warning[0].value
    assert not [s for s in at.success if "searchable now" in s.value]
    assert any("1 paper logged offline" in m.value for m in at.markdown)
    assert at.text_input(key="la_ref").value == "1605.08386"  # kept, to try again
    # the refresh button where incomplete papers are listed: still offline, one line, nothing lost
    _button(at, "Refresh all from arXiv").click().run()
    assert not at.exception and len(at.error) == 1 and "\n" not in at.error[0].value
    arxiv_replay.mode = "replay"
    _button(at, "Refresh all from arXiv").click().run()
    assert not at.exception and any("Refreshed 1 paper" in s.value for s in at.success)
    with reading.open_log(db) as log:
        paper = log.get("1605.08386")
    assert paper["title"] == "Heat-bath random walks with Markov bases" and not paper["needs_refresh"]
    assert not any("logged offline" in m.value for m in at.markdown)


def test_the_paper_page_refreshes_an_incomplete_paper(db, arxiv_replay):
    with reading.open_log(db) as log:
        pid = log.add("1605.08386", fetch=False).paper["id"]
    at = _goto(_app(), "paper", id=str(pid))
    assert at.title[0].value == "arXiv:1605.08386"
    assert any("Metadata incomplete" in c.value for c in at.caption)
    _button(at, "Refresh from arXiv").click().run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Heat-bath random walks with Markov bases"
    assert not any("Metadata incomplete" in c.value for c in at.caption)


def test_the_library_lists_offline_papers_with_a_refresh_button(db, arxiv_replay):
    _seed(db)
    with reading.open_log(db) as log:
        log.add("1605.08386", fetch=False)
    at = _goto(_app(), "library")
    assert any("logged offline" in w.value for w in at.warning)
    _button(at, "Refresh from arXiv").click().run()
    assert not at.exception and not at.warning
    assert "Heat-bath random walks with Markov bases" in at.dataframe[0].value["title"].tolist()


@pytest.mark.parametrize("tab, fill, button", [
    ("by hand", {"lm_title": "Attention Is All You Need", "lm_tags": "nlp", "lm_year": "2017"}, "Log"),
    ("arxiv", {"la_ref": "1605.08386", "la_tags": "graphs"}, "Fetch and log"),
])
def test_forms_are_cleared_after_a_successful_log(db, arxiv_replay, tab, fill, button):
    at = _goto(_app(), "log_paper")
    for key, value in fill.items():
        at.text_input(key=key).input(value)
    at.text_area(key=f"{next(iter(fill))[:2]}_note").input("a note")
    _button(at, button).click().run()
    assert not at.exception and not at.error
    assert any("searchable now" in s.value for s in at.success)
    for key in fill:
        assert at.text_input(key=key).value == "", key
    assert at.text_area(key=f"{next(iter(fill))[:2]}_note").value == ""
    assert any(label == "Open its page" for label in _links(at))
    with reading.open_log(db) as log:
        assert log.count() == 1


def test_the_library_shows_every_column_and_no_none(db):
    _seed(db)
    with reading.open_log(db) as log:
        log.add(None, title="A paper without a year", fetch=False, status="to-read")
    at = _goto(_app(), "library")
    table = at.dataframe[0].value
    assert list(table.columns) == ["id", "title", "year", "authors", "tags", "status", "rating", "last read", "added",
                                   "arXiv"]
    assert table.set_index("title").loc["A paper without a year", "year"] == "—"
    _no_none_cells(at)


def test_the_paper_page_reads_top_down_in_one_column(db):
    with reading.open_log(db) as log:
        log.import_starter()
    at = _goto(_app(), "paper", id="7")
    order = [h.value for h in at.subheader]
    wanted = ["Abstract", "Notes", "Zoo models implementing it", "Related papers"]
    assert [h for h in order if h in wanted] == wanted  # one column, top-down (other sections may sit between)
    assert at.selectbox[0].value == "to-read"
    models = next(f.value for f in at.dataframe if "model" in f.value.columns)
    assert {"shufflenet_v2_x1_0", "shufflenet_v2_x1_0_megvii"} <= set(models["model"])
    _no_none_cells(at)
    assert "Refresh from arXiv" in [b.label for b in at.button]  # a starter paper: arXiv's abstract on demand


def test_the_stats_calendar_has_month_labels_and_the_map_colours_by_any_tag(db):
    from ui.stats import map_colours

    _seed(db)
    at = _goto(_app(), "stats")
    calendar = next(s for s in _charts(at) if s.get("mark", {}).get("type") == "rect")
    assert "Jan" in calendar["encoding"]["x"]["axis"]["labelExpr"]
    assert calendar["encoding"]["color"]["legend"]["values"] == [0, 1]
    at.toggle(key="stats_map").set_value(True).run()
    at.selectbox(key="stats_map_tag").set_value("efficient").run()
    assert not at.exception and not at.error
    papers = [{"id": 1, "tags": ["architecture", "nas"]}, {"id": 2, "tags": ["architecture", "efficient"]},
              {"id": 3, "tags": ["architecture", "efficient", "mobile"]}, {"id": 4, "tags": []}]
    # architecture is on every tagged paper: it says nothing; each paper's rarest useful tag colours it
    assert map_colours(papers) == {1: "nas", 2: "efficient", 3: "mobile", 4: "(untagged)"}
    assert map_colours(papers, "efficient") == {1: "other", 2: "efficient", 3: "efficient", 4: "other"}


def test_the_supernet_history_chart_has_a_title_and_axis_labels(db, tmp_path):
    result = {"top": [{"arch": "0" * 20, "macs": 300_000_000, "latency_ms": None, "score": 60.0}],
              "pareto": [{"arch": "0" * 20, "macs": 300_000_000, "latency_ms": None, "score": 60.0}],
              "evaluated": 1, "rejected": 0, "iterations": 2, "history": [55.0, 60.0]}
    path = tmp_path / "search.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    at = _goto(_app(), "supernet")
    at.text_input(key="sn_result_path").input(str(path)).run()
    history = next(s for s in _charts(at) if "title" in s)
    assert history["title"] == "Best score after each search iteration"
    assert history["encoding"]["x"]["title"] == "iteration" and "best score" in history["encoding"]["y"]["title"]
    _no_none_cells(at)


def test_the_app_ships_its_icon_and_hides_the_deploy_button():
    import tomllib

    app = (ROOT / "app.py").read_text(encoding="utf-8")
    assert ":material/" not in app.split("st.navigation")[0].split("set_page_config")[1].split(")")[0]
    assert (ROOT / "ui/static/icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text(encoding="utf-8"))
    assert config["client"]["toolbarMode"] == "minimal" and config["server"]["address"] == "localhost"


def test_a_starter_paper_page_shows_our_summary_not_no_abstract(db):
    with reading.open_log(db) as log:
        log.import_starter()
        paper = log.get("1807.11164")
        hand = log.add(title="A paper without an abstract", fetch=False).paper
    at = _goto(_app(), "paper", id=str(paper["id"]))
    shown = " ".join(m.value for m in at.markdown)
    assert "No abstract yet" not in shown
    assert reading.starter_summary(paper)[:60] in shown
    at = _goto(_app(), "paper", id=str(hand["id"]))
    assert "No abstract yet" in " ".join(m.value for m in at.markdown)  # only the starter set ships summaries
