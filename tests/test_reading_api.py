"""The reading log's public API: papers, duplicates, notes, tags, reads, search, links, results, settings."""
from __future__ import annotations

import datetime as dt

import pytest

import reading
from reading import InvalidArxivId, InvalidInput, PaperNotFound, ReadingError, open_log, parse_arxiv_id


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1512.03385", "1512.03385"),
        ("1512.03385v2", "1512.03385"),
        ("arXiv:1512.03385", "1512.03385"),
        ("ARXIV: 1807.11164v1", "1807.11164"),
        ("https://arxiv.org/abs/1512.03385", "1512.03385"),
        ("http://arxiv.org/abs/1512.03385v3/", "1512.03385"),
        ("https://arxiv.org/pdf/1512.03385v2.pdf", "1512.03385"),
        ("arxiv.org/pdf/1904.00420", "1904.00420"),
        ("https://export.arxiv.org/abs/2104.12255v1", "2104.12255"),
        ("cs/0112017", "cs/0112017"),
        ("cs/0112017v1", "cs/0112017"),
        ("math.GT/0309136", "math/0309136"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/astro-ph/0601001", "astro-ph/0601001"),
        ("  1707.01083 ", "1707.01083"),
    ],
)
def test_parse_arxiv_id_accepts_every_documented_form(text, expected):
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "1512.0338", "1512.033855x", "15120.3385", "arXiv:", "cs/011201", "https://example.org/abs/1512.03385",
             "1512.03385v", "doi:10.1000/xyz"]
)
def test_parse_arxiv_id_rejects_anything_else_with_one_line_naming_the_forms(text):
    with pytest.raises(InvalidArxivId) as err:
        parse_arxiv_id(text)
    message = str(err.value)
    assert "\n" not in message and "1512.03385v2" in message and "math.GT/0309136" in message
    assert isinstance(err.value, ReadingError)


def test_open_log_creates_parents_wal_and_schema(tmp_path):
    path = tmp_path / "deep" / "er" / "log.db"
    with open_log(path) as log:
        assert log.path == path and path.exists()
        assert log.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert log.conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert log.count() == 0
    with open_log(path) as again:  # reopening an up-to-date log migrates nothing and keeps data
        assert again.conn.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_default_db_path_honours_env_and_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert reading.default_db_path() == tmp_path / "xdg" / "paper-zoo" / "reading.db"
    monkeypatch.setenv("READING_DB", str(tmp_path / "mine.db"))
    assert reading.default_db_path() == tmp_path / "mine.db"
    with open_log() as log:
        assert log.path == tmp_path / "mine.db"


def test_open_log_on_a_file_that_is_not_sqlite_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ReadingError) as err:
        open_log(bad)
    assert "\n" not in str(err.value)
    assert bad.read_bytes() == b"this is not a database" * 100  # nothing lost


def test_manual_add_round_trips_every_field(log):
    note = "## 残差学习\n恒等映射让深层网络更容易优化。 *Markdown* stays `verbatim`.\n"
    result = log.add(
        None, title="Deep Residual Learning for Image Recognition", authors="Kaiming He; Xiangyu Zhang",
        year=2015, venue="CVPR 2016", abstract="Deeper nets are harder to train.", doi="https://doi.org/10.1109/CVPR.2016.90",
        tags=["resnet", "cv"], note=note, rating=5, read_on="2026-11-20",
    )
    assert result.created and result.message is None
    paper = log.get(result.paper["id"])
    assert paper["title"] == "Deep Residual Learning for Image Recognition"
    assert paper["authors"] == ["Kaiming He", "Xiangyu Zhang"]
    assert (paper["year"], paper["venue"], paper["doi"]) == (2015, "CVPR 2016", "10.1109/cvpr.2016.90")
    assert paper["tags"] == ["cv", "resnet"] and paper["rating"] == 5 and paper["status"] == "read"
    assert paper["notes"][0]["text"] == note  # exact round trip, Chinese and Markdown included
    assert [r["read_on"] for r in paper["reads"]] == ["2026-11-20"]
    assert log.get("10.1109/CVPR.2016.90")["id"] == paper["id"] == log.get(str(paper["id"]))["id"]


def test_add_needs_an_id_or_a_title(log):
    with pytest.raises(InvalidInput):
        log.add(None, authors="Nobody")
    with pytest.raises(InvalidArxivId):
        log.add("not-an-id")
    assert log.count() == 0


@pytest.mark.parametrize("field, value", [("rating", 6), ("rating", 0), ("rating", "x"), ("status", "done"),
                                          ("read_on", "27/11/2026"), ("year", "twenty")])
def test_add_rejects_bad_fields_and_stores_nothing(log, field, value):
    with pytest.raises(InvalidInput) as err:
        log.add(None, title="A paper", **{field: value})
    assert "\n" not in str(err.value)
    assert log.count() == 0


def test_duplicate_by_arxiv_id_adds_a_read_and_merges_tags_and_notes(log):
    first = log.add("1512.03385", fetch=False, title="ResNet", tags=["a"], note="first", read_on="2026-11-01")
    again = log.add("arXiv:1512.03385v2", fetch=False, tags=["b"], note="second", read_on="2026-11-02")
    same_day = log.add("https://arxiv.org/abs/1512.03385", fetch=False, note="second", read_on="2026-11-02")
    assert not again.created and not same_day.created
    assert log.count() == 1
    paper = log.get("1512.03385")
    assert paper["id"] == first.paper["id"]
    assert paper["tags"] == ["a", "b"]
    assert [n["text"] for n in paper["notes"]] == ["first", "second"]  # a repeated note is not stored twice
    assert [r["read_on"] for r in paper["reads"]] == ["2026-11-01", "2026-11-02"]


def test_duplicate_by_doi_and_by_normalised_title(log):
    log.add(None, title="ShuffleNet V2: Practical Guidelines", doi="10.1007/978-3-030-01264-9_8")
    log.add(None, title="Other title", doi="doi:10.1007/978-3-030-01264-9_8", tags=["x"])
    log.add(None, title="  shufflenet v2 —  practical   GUIDELINES ", tags=["y"])
    assert log.count() == 1
    assert log.papers()[0]["tags"] == ["x", "y"]
    # what the user typed first is never overwritten by a later duplicate
    assert log.papers()[0]["title"] == "ShuffleNet V2: Practical Guidelines"


def test_same_title_but_different_arxiv_ids_are_two_papers(log):
    log.add("1707.01083", fetch=False, title="Same")
    log.add("1807.11164", fetch=False, title="Same")
    assert log.count() == 2


def test_to_read_adds_no_read_until_logged_again(log):
    log.add(None, title="Later", status="to-read")
    paper = log.papers()[0]
    assert paper["status"] == "to-read" and paper["reads"] == []
    log.add(None, title="Later", read_on="2026-11-03")
    paper = log.papers()[0]
    assert paper["status"] == "read" and [r["read_on"] for r in paper["reads"]] == ["2026-11-03"]


def test_note_tag_untag_status_rate_read_remove(log):
    pid = log.add(None, title="P").paper["id"]
    nid = log.note(pid, "多语言 note ✓")
    assert log.get(pid)["notes"][-1] == {"id": nid, "text": "多语言 note ✓", "created_at": log.get(pid)["notes"][-1]["created_at"]}
    assert log.tag(pid, "z", "a", "z") == ["a", "z"]
    assert log.untag(pid, "z", "missing") == ["a"]
    assert log.set_status(pid, "reading")["status"] == "reading"
    assert log.rate(pid, 3)["rating"] == 3
    assert log.add_read(pid, "2026-01-01") is True
    assert log.add_read(pid, "2026-01-01") is False
    assert log.get(pid)["status"] == "read"
    with pytest.raises(InvalidInput):
        log.note(pid, "   ")
    removed = log.remove(pid)
    assert removed["title"] == "P"
    with pytest.raises(PaperNotFound):
        log.get(pid)
    assert log.conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0


@pytest.mark.parametrize("ref", [999, "999", "1512.03385", "10.1000/nothing", "no such thing"])
def test_unknown_references_raise_paper_not_found(log, ref):
    with pytest.raises(PaperNotFound) as err:
        log.get(ref)
    assert "\n" not in str(err.value)


def _three(log):
    a = log.add(None, title="Channel shuffle for mobile networks", abstract="Pointwise group convolution and channel shuffle.",
                year=2017, tags=["mobile"], read_on="2026-11-01").paper["id"]
    b = log.add(None, title="Deep residual learning", abstract="Residual blocks ease optimisation.", year=2015,
                tags=["resnet"], status="to-read").paper["id"]
    c = log.add(None, title="One-shot architecture search", abstract="A supernet with uniform path sampling.",
                year=2019, tags=["nas", "mobile"], read_on="2026-11-10").paper["id"]
    return a, b, c


def test_papers_filters_and_sorts(log):
    a, b, c = _three(log)
    assert [p["id"] for p in log.papers()] == [c, b, a]
    assert [p["id"] for p in log.papers(tag="mobile")] == [c, a]
    assert [p["id"] for p in log.papers(status="to-read")] == [b]
    assert [p["id"] for p in log.papers(sort="year")] == [c, a, b]
    assert [p["id"] for p in log.papers(sort="title")] == [a, b, c]
    assert [p["id"] for p in log.papers(sort="read")][:2] == [c, a]
    assert [p["id"] for p in log.papers(year_min=2016, year_max=2018)] == [a]
    assert [p["id"] for p in log.papers(limit=1)] == [c]
    assert [p["id"] for p in log.papers(ids=[a, b])] == [b, a]
    today = dt.date.today().isoformat()
    if not "2026-11-05" <= today <= "2026-11-10":  # everything was added today
        assert {p["id"] for p in log.papers(since="2026-11-05", until="2026-11-10")} == {c}
    assert {p["id"] for p in log.papers(since=today)} == {a, b, c}  # all added today
    with pytest.raises(InvalidInput):
        log.papers(sort="random")


def test_filter_ids(log):
    a, b, c = _three(log)
    assert log.filter_ids(tag="mobile") == {a, c}
    assert log.filter_ids(status="read", year_min=2018) == {c}
    assert log.filter_ids(read_since="2026-11-05") == {c}
    assert log.filter_ids(read_until="2026-11-05") == {a}
    assert log.filter_ids() == {a, b, c}


@pytest.mark.parametrize("query", ['channel "shuffle', "shuffle AND (", "NEAR(x y)", "title:shuffle", "*", "-", "'", "a OR"])
def test_keyword_search_accepts_any_text(log, query):
    _three(log)
    hits = log.keyword_search(query)
    assert isinstance(hits, list)


def test_keyword_search_ranks_title_abstract_and_notes(log):
    a, b, c = _three(log)
    hits = log.keyword_search("channel shuffle")
    assert hits[0][0] == a and all(s > 0 for _, s in hits)
    assert [i for i, _ in log.keyword_search("supernet")] == [c]
    log.note(b, "用恒等映射 — identity shortcut trick")
    assert [i for i, _ in log.keyword_search("identity")] == [b]
    assert [i for i, _ in log.keyword_search("residual supernet", ids=[c])] == [c]
    assert log.keyword_search("") == [] and log.keyword_search("zzzz") == []
    assert log.keyword_search("shuffles")[0][0] == a  # stemmed
    log.note(c, "残差学习：恒等映射。")
    assert [i for i, _ in log.keyword_search("残差")] == [c]  # a Chinese word at the start of a run of characters


def test_keyword_search_finds_cjk_words_inside_sentences(log):
    a, b, c = _three(log)
    log.note(a, "这篇论文的逐点群卷积和通道混洗很有意思。")
    log.note(b, "残差学习让很深的网络也能训练；卷积层学习残差。")
    log.note(c, "在超网络里搜索卷积结构")
    # words in the middle of a clause (no spaces in Chinese): unicode61 keeps the clause as one token
    assert [i for i, _ in log.keyword_search("通道混洗")] == [a]
    assert [i for i, _ in log.keyword_search("学习")] == [b]
    assert {i for i, _ in log.keyword_search("卷积")} == {a, b, c}
    # a rarer word outweighs a common one; two words beat one; the title counts double
    hits = log.keyword_search("卷积 超网络")
    assert hits[0][0] == c and len(hits) == 3 and hits[0][1] > hits[1][1] > 0
    log.update(a, title="ShuffleNet 通道混洗")
    log.note(b, "这里没有通道混洗")
    assert [i for i, _ in log.keyword_search("通道混洗")] == [a, b]
    # mixed queries: English words through FTS5 (stemmed), CJK words as substrings, one ranking, k and ids kept
    mixed = log.keyword_search("shuffles 残差")
    assert {i for i, _ in mixed} == {a, b} and all(score > 0 for _, score in mixed)
    assert [i for i, _ in log.keyword_search("ResNet残差", ids=[b, c])] == [b]
    assert len(log.keyword_search("卷积", k=2)) == 2
    assert log.keyword_search("量子") == [] and log.keyword_search("卷积", k=0) == []


def test_index_texts_and_data_version(log):
    v0 = log.data_version()
    a, b, c = _three(log)
    v1 = log.data_version()
    assert v1 > v0
    log.note(a, "my note")
    v2 = log.data_version()
    assert v2 > v1
    log.tag(b, "new")
    assert log.data_version() > v2
    texts = dict(log.index_texts())
    assert texts[a] == "Channel shuffle for mobile networks\n\nPointwise group convolution and channel shuffle.\n\nmy note"
    assert [i for i, _ in log.index_texts(ids=[c, b])] == [b, c]
    unchanged = log.data_version()
    log.papers(), log.keyword_search("x"), log.index_texts()
    assert log.data_version() == unchanged


def test_links_results_and_settings(log):
    pid = log.add("1807.11164", fetch=False, title="ShuffleNet V2").paper["id"]
    log.link_model("shufflenet_v2_x1_0", "arXiv:1807.11164")
    log.link_model("shufflenet_v2_x1_0", "1807.11164")  # idempotent
    log.link_model("shufflenet_v2_x0_5", "1807.11164v2")
    log.link_model("resnet50", "1512.03385")  # paper not in the log yet: the link waits for it
    assert log.models_for(pid) == ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0"]
    assert log.get(pid)["models"] == ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0"]
    assert log.models_for("1512.03385") == ["resnet50"]
    assert [p["id"] for p in log.papers_for_model("shufflenet_v2_x1_0")] == [pid]
    assert log.papers_for_model("resnet50") == []
    log.add("1512.03385", fetch=False, title="ResNet")
    assert [p["arxiv_id"] for p in log.papers_for_model("resnet50")] == ["1512.03385"]

    rid = log.add_result("resnet50", "top1", 76.13, weights="IMAGENET1K_V1", env={"torch": "2.13.0", "device": "cpu"},
                         source="measured", measured_at="2026-11-27T10:00:00+00:00")
    log.add_result("resnet50", "latency_ms", 12.5)
    log.add_result("shufflenet_v2_x1_0", "top1", 69.36, source="paper")
    top1 = log.results("resnet50", metric="top1")
    assert len(top1) == 1 and top1[0]["id"] == rid
    assert top1[0]["env"] == {"torch": "2.13.0", "device": "cpu"} and top1[0]["weights"] == "IMAGENET1K_V1"
    assert len(log.results()) == 3 and len(log.results(metric="top1")) == 2

    assert log.get_setting("goal", 2) == 2
    log.set_setting("goal", 3)
    log.set_setting("categories", ["cs.CV", "cs.LG"])
    assert log.get_setting("goal") == 3 and log.get_setting("categories") == ["cs.CV", "cs.LG"]
    with pytest.raises(InvalidInput):
        log.set_setting("bad", object())


def test_stats_days_weeks_months_streaks_average_tags(log):
    for i, day in enumerate(["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-10", "2026-11-26", "2026-11-27"]):
        log.add(None, title=f"Paper {i}", read_on=day, tags=["t"] if i % 2 else [])
    log.add(None, title="Paper 1", read_on="2026-11-27")  # a second read of paper 1
    stats = log.stats(window_days=7, today="2026-11-27")
    assert stats["per_day"]["2026-11-27"] == 2 and stats["per_day"]["2026-11-01"] == 1
    assert stats["per_month"] == {"2026-11": 7}
    assert stats["per_week"]["2026-W44"] == 1 and stats["per_week"]["2026-W45"] == 2
    assert stats["current_streak"] == 2 and stats["longest_streak"] == 3
    assert stats["avg_per_day"] == pytest.approx(3 / 7)
    assert stats["tag_counts"] == {"t": 3}
    # a streak is not broken before the day is over
    assert log.stats(today="2026-11-28")["current_streak"] == 2
    assert log.stats(today="2026-11-29")["current_streak"] == 0


def test_concurrent_writers_lose_nothing(tmp_path):
    """Two processes open a new log and add 40 papers each at once; every paper and read arrives."""
    import multiprocessing as mp

    path = tmp_path / "new" / "shared.db"  # both processes create and migrate the new file at once
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 40)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    with open_log(path) as log:
        assert log.count() == 80
        assert sum(len(p["reads"]) for p in log.papers()) == 80
        assert log.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _writer(path: str, worker: int, n: int) -> None:
    with open_log(path) as log:
        for i in range(n):
            log.add(None, title=f"worker {worker} paper {i}", tags=[f"w{worker}"], note="n")


def test_threads_share_one_log(log):
    import threading

    def work(k):
        for i in range(15):
            log.add(None, title=f"thread {k} paper {i}")
            log.papers(limit=5)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.count() == 45


def test_public_surface():
    for name in ["Log", "open_log", "default_db_path", "parse_arxiv_id", "ReadingError", "InvalidArxivId", "PaperNotFound"]:
        assert name in reading.__all__ and hasattr(reading, name)


def test_update_edits_metadata_and_edits_survive_refresh_merges(log):
    pid = log.add("1512.03385", fetch=False).paper["id"]
    assert log.get(pid)["title"] == "arXiv:1512.03385"  # a placeholder until refreshed
    paper = log.update(pid, title="Deep Residual Learning", authors="Kaiming He; Jian Sun", year="2015")
    assert paper["title"] == "Deep Residual Learning" and paper["authors"] == ["Kaiming He", "Jian Sun"]
    assert set(paper["manual_fields"]) >= {"title", "authors", "year"}
    with pytest.raises(InvalidInput):
        log.update(pid, status="read")


def test_a_log_from_a_newer_version_is_refused_with_one_line(tmp_path):
    path = tmp_path / "future.db"
    with open_log(path) as log:
        log.add(None, title="Kept")
        log.conn.execute("PRAGMA user_version = 99")
    with pytest.raises(ReadingError) as err:
        open_log(path)
    assert "newer version" in str(err.value) and "\n" not in str(err.value)


def test_migrations_are_recorded_and_idempotent(tmp_path):
    from reading import _db

    path = tmp_path / "m.db"
    with open_log(path) as log:
        assert log.conn.execute("PRAGMA user_version").fetchone()[0] == _db.SCHEMA_VERSION
        assert _db.migrate(log.conn) == _db.SCHEMA_VERSION  # nothing left to apply
        tables = {r[0] for r in log.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"papers", "notes", "tags", "reads", "links", "results", "settings", "papers_fts"} <= tables


def test_a_version_2_log_gains_the_candidates_counter(tmp_path):
    """Schema v2 (inbox, no counter) -> v3: existing rows kept, the counter starts and moves with candidate writes
    only, and paper writes move data_version only."""
    import sqlite3

    from reading import _db

    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in _db.MIGRATIONS[:2]:
        for statement in _db._statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO papers (title, title_norm, added_at, updated_at) VALUES ('Old', 'old', 'x', 'x')")
    conn.close()
    with open_log(path) as log:
        assert log.conn.execute("PRAGMA user_version").fetchone()[0] == _db.SCHEMA_VERSION >= 3  # v4: full text
        assert [p["title"] for p in log.papers()] == ["Old"] and log.candidates_version() == 0
        data = log.data_version()
        log.add_candidates([{"arxiv_id": "2501.00001", "title": "New one", "abstract": "a"}])
        after_add = log.candidates_version()
        log.skip_candidate("2501.00001")
        assert 0 < after_add < log.candidates_version() and log.data_version() == data
        c = log.candidates_version()
        log.update(1, title="Older")
        assert log.candidates_version() == c and log.data_version() > data


def test_edit_note_round_trips_any_text_and_keeps_search_and_version_in_step(log):
    pid = log.add(None, title="Deep Residual Learning", abstract="Very deep networks.", fetch=False).paper["id"]
    other = log.add(None, title="ShuffleNet V2", fetch=False).paper["id"]
    first = log.note(pid, "draft about bottlenecks")
    second = log.note(pid, "keep me")
    log.note(other, "bottlenecks elsewhere")
    created = log.get(pid)["notes"][0]["created_at"]
    before = log.data_version()
    text = "残差学习：**恒等映射**让深层网络可训练。\n\n- $F(x) + x$\n- 「shortcut」 ✓  "
    edited = log.edit_note(first, text, paper=pid)
    assert edited == {"id": first, "paper_id": pid, "text": text, "created_at": created}
    assert log.data_version() > before
    paper = log.get(pid)
    assert [(n["id"], n["text"]) for n in paper["notes"]] == [(first, text), (second, "keep me")]  # exact, in place
    assert paper["notes"][0]["created_at"] == created
    assert [i for i, _ in log.keyword_search("bottlenecks")] == [other]  # the old words left the FTS index
    assert [i for i, _ in log.keyword_search("恒等映射")] == [pid]
    assert text in dict(log.index_texts(ids=[pid]))[pid]
    assert log.get(other)["notes"][0]["text"] == "bottlenecks elsewhere"


def test_delete_note_leaves_the_others_and_the_search(log):
    pid = log.add(None, title="Deep Residual Learning", fetch=False).paper["id"]
    gone = log.note(pid, "identity shortcuts")
    kept = log.note(pid, "笔记：保留")
    before = log.data_version()
    deleted = log.delete_note(str(gone))
    assert deleted["id"] == gone and deleted["text"] == "identity shortcuts" and deleted["paper_id"] == pid
    assert log.data_version() > before
    assert [(n["id"], n["text"]) for n in log.get(pid)["notes"]] == [(kept, "笔记：保留")]
    assert log.keyword_search("shortcuts") == []
    assert log.count() == 1


def test_editing_or_deleting_a_note_refuses_bad_input_and_changes_nothing(log):
    a = log.add(None, title="Paper A", fetch=False).paper["id"]
    b = log.add(None, title="Paper B", fetch=False).paper["id"]
    nid = log.note(a, "original")
    version = log.data_version()
    with pytest.raises(PaperNotFound, match="no note with id 999"):
        log.edit_note(999, "x")
    with pytest.raises(PaperNotFound):
        log.delete_note("abc")
    with pytest.raises(InvalidInput, match="empty note"):
        log.edit_note(nid, "   ")
    with pytest.raises(InvalidInput, match="another paper"):
        log.edit_note(nid, "hijacked", paper=b)
    with pytest.raises(InvalidInput, match="another paper"):
        log.delete_note(nid, paper=b)
    with pytest.raises(PaperNotFound):
        log.delete_note(nid, paper=12345)
    assert log.get(a)["notes"][0]["text"] == "original" and log.data_version() == version


def test_a_title_typed_by_hand_that_starts_another_paper_is_logged_with_a_warning(log):
    first = log.add(title="Deep Residual Learning for Image Recognition", fetch=False)
    short = log.add(title="Deep Residual Learning", authors="Kaiming He", year=2015)
    assert short.created and short.message and f"paper {first.paper['id']}" in short.message
    assert log.add(title="Deep Learning").message is None  # two words: too little to go on
    assert log.add(title="Residual Learning Revisited").message is None
