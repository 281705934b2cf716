"""Inbox fetch and triage: the recorded 10-result arXiv search page replayed at the HTTP layer (the conftest's
`arxiv_replay`, taught here to answer category searches page by page), stored as candidates in the log."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from click.testing import CliRunner

from conftest import ARXIV_FIXTURES
from reading import InvalidInput, PaperNotFound
from reading import _feed
from paperzoo.reading_cli import cli

SEARCH_PAGE = sorted(ARXIV_FIXTURES.glob("q_testing_s0_m10_*.xml"))[0].read_text(encoding="utf-8")
ENTRIES = re.findall(r"<entry>.*?</entry>", SEARCH_PAGE, re.S)
IDS = [re.search(r"<id>http://arxiv.org/abs/([^<]+?)v\d+</id>", e).group(1) for e in ENTRIES]
PUBLISHED = [re.search(r"<published>(\d{4}-\d\d-\d\d)", e).group(1) for e in ENTRIES]
SINCE = "2010-01-01"  # the recording's papers are from 2012 to 2025


@pytest.fixture
def feed(arxiv_replay, monkeypatch):
    """`arxiv_replay`, answering a search query with the recorded page's entries start..start+max_results."""
    by_id = arxiv_replay.body_for
    arxiv_replay.fail_from = None  # a start offset from which the network is down

    def body_for(url: str) -> bytes:
        query = parse_qs(urlparse(url).query)
        if not query.get("search_query"):
            return by_id(url)
        start, size = int(query["start"][0]), int(query["max_results"][0])
        if arxiv_replay.fail_from is not None and start >= arxiv_replay.fail_from:
            raise requests.exceptions.ConnectionError("replay: network is unreachable")
        page = re.sub(r"<entry>.*?</entry>\s*", "", SEARCH_PAGE, flags=re.S)
        page = re.sub(r"<opensearch:totalResults>\d+<", f"<opensearch:totalResults>{len(ENTRIES)}<", page)
        return page.replace("</feed>", "".join(ENTRIES[start:start + size]) + "</feed>").encode()

    monkeypatch.setattr(arxiv_replay, "body_for", body_for)
    monkeypatch.setattr(_feed, "PAGE_SIZE", 4)
    return arxiv_replay


def test_fetch_pages_politely_up_to_the_cap(log, feed):
    report = log.fetch_inbox(["cs.SE", "cs.LG"], since=SINCE, max_results=7)
    assert report["error"] is None and report["fetched"] == report["added"] == report["pending"] == 7
    assert len(feed.requests) == 2  # pages of 4: the cap stops the second page early
    query = parse_qs(urlparse(feed.requests[0]).query)
    today = dt.date.today().strftime("%Y%m%d")
    assert query["search_query"] == [f"(cat:cs.SE OR cat:cs.LG) AND submittedDate:[201001010000 TO {today}2359]"]
    assert query["sortBy"] == ["submittedDate"] and query["sortOrder"] == ["descending"]
    assert [parse_qs(urlparse(u).query)["start"] for u in feed.requests] == [["0"], ["4"]]
    cands = log.candidates()
    assert {c["arxiv_id"] for c in cands} == set(IDS[:7])
    first = log.candidate(IDS[0])
    assert first["title"].startswith("Testing Deep Learning Models") and first["authors"][0] == "Mohit Kumar Ahuja"
    assert first["categories"] == ["cs.SE", "cs.LG"] and first["doi"] and first["published"] == PUBLISHED[0]
    assert [c["published"] for c in cands] == sorted((c["published"] for c in cands), reverse=True)
    assert log.count() == 0  # candidates are not papers
    assert log.inbox_settings()["categories"] == ["cs.SE", "cs.LG"]  # remembered for the next fetch


def test_since_leaves_out_older_submissions(log, feed):
    report = log.fetch_inbox(["cs.SE"], since="2020-01-01")
    assert report["added"] == sum(p >= "2020-01-01" for p in PUBLISHED) == 7


def test_duplicates_against_the_log_and_refetch(log, feed):
    log.add(IDS[1], title="Already logged by hand", fetch=False)
    log.add(None, title=re.search(r"<title>([^<]+)</title>", ENTRIES[2]).group(1), fetch=False)  # same title
    report = log.fetch_inbox(["cs.SE"], since=SINCE)
    assert report["fetched"] == 10 and report["in_log"] == 2 and report["added"] == 8
    again = log.fetch_inbox(["cs.SE"], since=SINCE)
    assert again["added"] == 0 and again["in_log"] == 2 and len(log.candidates()) == 8


def test_keep_and_skip_round_trips(log, feed):
    log.fetch_inbox(["cs.SE"], since=SINCE)
    paper = log.keep_candidate(IDS[0], tags=["testing"], note="looks useful")
    assert paper["status"] == "to-read" and paper["tags"] == ["testing"] and not paper["needs_refresh"]
    assert paper["title"].startswith("Testing Deep Learning Models") and paper["reads"] == []
    assert paper["abstract"] and paper["doi"] and paper["notes"][0]["text"] == "looks useful"
    assert log.get(IDS[0])["id"] == paper["id"] and log.candidate(IDS[0])["state"] == "kept"
    skipped = log.skip_candidate(log.candidate(IDS[1])["id"])
    assert skipped["state"] == "skipped"
    assert {c["arxiv_id"] for c in log.candidates()} == set(IDS[2:])
    report = log.fetch_inbox(["cs.SE"], since=SINCE)  # neither comes back
    assert report["skipped"] == 1 and report["in_log"] == 1 and report["added"] == 0
    assert {c["arxiv_id"] for c in log.candidates()} == set(IDS[2:])
    assert [c["arxiv_id"] for c in log.candidates(state="skipped")] == [IDS[1]]
    with pytest.raises(InvalidInput, match="skipped"):
        log.keep_candidate(IDS[1])
    with pytest.raises(PaperNotFound):
        log.skip_candidate("2501.99999")


def test_offline_changes_nothing(log, feed):
    log.fetch_inbox(["cs.SE"], since=SINCE, max_results=3)
    before = log.candidates()
    feed.mode = "offline"
    report = log.fetch_inbox(["cs.SE"], since=SINCE)
    assert report["error"].startswith("arXiv is unreachable") and "\n" not in report["error"]
    assert log.candidates() == before


def test_lost_connection_keeps_the_pages_already_stored(log, feed):
    feed.fail_from = 4
    report = log.fetch_inbox(["cs.SE"], since=SINCE)
    assert report["error"] and report["fetched"] == 4 and len(log.candidates()) == 4


def test_clear_drops_old_waiting_candidates_but_remembers_skips(log, feed):
    log.fetch_inbox(["cs.SE"], since=SINCE)
    log.skip_candidate(IDS[5])  # from 2012
    dropped = log.clear_candidates("365d", today="2025-03-08")
    assert dropped == sum(p < "2024-03-08" for i, p in enumerate(PUBLISHED) if i != 5)
    assert {c["published"] for c in log.candidates()} == {p for p in PUBLISHED if p >= "2024-03-08"}
    assert log.fetch_inbox(["cs.SE"], since=SINCE)["skipped"] == 1


@pytest.mark.parametrize("bad", ["cs CV", "CS.cv.x", "", "cat:cs.CV"])
def test_bad_category(log, feed, bad):
    with pytest.raises(InvalidInput, match="category"):
        log.fetch_inbox([bad] if bad else [" "])
    assert feed.requests == []


@pytest.mark.parametrize(("age", "days"), [("30d", 30), ("2w", 14), ("1m", 30), (7, 7), ("10", 10)])
def test_ages(age, days):
    from reading._inbox import parse_age

    assert parse_age(age) == days


def test_cli_fetch_keep_skip_clear(tmp_path, feed, monkeypatch):
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")  # no model files: a deterministic stand-in embedder
    db = tmp_path / "cli.db"
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(db), "inbox", "fetch", "-c", "cs.SE", "--since", SINCE, "--max", "5"])
    assert out.exit_code == 0, out.output
    assert "fetched 5 papers in cs.SE" in out.output and "5 new" in out.output
    out = runner.invoke(cli, ["--db", str(db), "inbox", "keep", IDS[0], "--tag", "testing"])
    assert out.exit_code == 0 and "kept arXiv:" + IDS[0] in out.output
    out = runner.invoke(cli, ["--db", str(db), "inbox", "skip", IDS[1]])
    assert out.exit_code == 0 and "skipped" in out.output
    out = runner.invoke(cli, ["--db", str(db), "inbox", "skip", "nonsense"])
    assert out.exit_code == 1 and out.output.count("\n") == 1 and "Traceback" not in out.output
    feed.mode = "offline"
    out = runner.invoke(cli, ["--db", str(db), "inbox", "fetch"])
    assert out.exit_code == 1 and out.output.startswith("Error: arXiv is unreachable")
    assert out.output.count("\n") == 1 and "3 candidates waiting" in out.output
    out = runner.invoke(cli, ["--db", str(db), "inbox", "clear", "--older-than", "1d"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["--db", str(db), "inbox", "clear", "--older-than", "soon"])
    assert out.exit_code == 1 and "bad age" in out.output

    from reading import open_log

    with open_log(db) as log:
        assert log.get(IDS[0])["tags"] == ["testing"] and log.get(IDS[0])["status"] == "to-read"
        assert [c["arxiv_id"] for c in log.candidates(state="skipped")] == [IDS[1]]
        assert log.candidates() == []
