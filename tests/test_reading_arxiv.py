"""arXiv intake: recorded Atom responses replayed at the HTTP layer, so the `arxiv` package's parser runs."""
from __future__ import annotations

import pytest

from reading import InvalidArxivId


def test_add_fetches_metadata_from_arxiv(log, arxiv_replay):
    result = log.add("https://arxiv.org/abs/1605.08386v1", tags=["graphs"])
    paper = result.paper
    assert result.created and result.message is None
    assert paper["title"] == "Heat-bath random walks with Markov bases"
    assert paper["authors"] == ["Caprice Stanley", "Tobias Windisch"]
    assert paper["abstract"].startswith("Graphs on lattice points are studied") and "\n" not in paper["abstract"]
    assert paper["year"] == 2016 and paper["published"] == "2016-05-26"
    assert paper["categories"] == ["math.CO", "math.ST"]
    assert paper["url"] == "https://arxiv.org/abs/1605.08386"
    assert not paper["needs_refresh"] and paper["tags"] == ["graphs"]
    assert len(arxiv_replay.requests) == 1 and "id_list=1605.08386" in arxiv_replay.requests[0]


def test_old_style_id_with_journal_ref_and_affiliations(log, arxiv_replay):
    paper = log.add("astro-ph/0601001").paper
    assert paper["arxiv_id"] == "astro-ph/0601001"
    assert paper["title"] and paper["authors"] and paper["venue"]  # journal_ref becomes the venue


def test_a_paper_titled_zero(log, arxiv_replay):
    assert log.add("2104.12255").paper["title"] == "0"


def test_typed_fields_win_over_arxiv(log, arxiv_replay):
    paper = log.add("1605.08386", title="My own title", venue="Journal X").paper
    assert paper["title"] == "My own title" and paper["venue"] == "Journal X"
    assert paper["authors"] == ["Caprice Stanley", "Tobias Windisch"]


def test_logging_again_does_not_refetch(log, arxiv_replay):
    log.add("1605.08386")
    again = log.add("1605.08386v1", note="second look")
    assert not again.created and len(arxiv_replay.requests) == 1
    assert log.count() == 1


@pytest.mark.parametrize("mode", ["offline", 503])
def test_offline_or_api_error_still_logs_what_was_typed(log, arxiv_replay, mode):
    arxiv_replay.mode = mode
    result = log.add("1512.03385", title="Deep Residual Learning", authors="Kaiming He; Xiangyu Zhang",
                     tags=["resnet"], note="typed offline")
    assert result.created and result.message and "\n" not in result.message and "refresh" in result.message
    paper = log.get("1512.03385")
    assert paper["needs_refresh"] and paper["title"] == "Deep Residual Learning"
    assert paper["authors"] == ["Kaiming He", "Xiangyu Zhang"] and paper["notes"][0]["text"] == "typed offline"


def test_unknown_id_is_logged_and_flagged(log, arxiv_replay):
    result = log.add("2501.99999")  # well-formed (month 01-12), unknown to arXiv: an empty feed
    assert "no paper" in result.message and result.paper["needs_refresh"]
    assert result.paper["title"] == "arXiv:2501.99999"


def test_refresh_completes_pending_papers_and_keeps_typed_fields(log, arxiv_replay):
    arxiv_replay.mode = "offline"
    log.add("1605.08386", venue="Typed venue", note="mine")
    log.add("quant-ph/0201082v1", fetch=False)
    report = log.refresh()
    assert report["error"] and report["updated"] == []
    arxiv_replay.mode = "replay"
    report = log.refresh()
    assert report["error"] is None and len(report["updated"]) == 2
    paper = log.get("1605.08386")
    assert not paper["needs_refresh"] and paper["title"] == "Heat-bath random walks with Markov bases"
    assert paper["venue"] == "Typed venue" and paper["notes"][0]["text"] == "mine"
    old = log.get("quant-ph/0201082")
    assert len(old["categories"]) == 2 and not old["needs_refresh"]
    assert log.refresh() == {"updated": [], "missing": [], "error": None}  # nothing pending: no request
    assert log.keyword_search("lattice")[0][0] == paper["id"]  # fetched abstracts are searchable


def test_malformed_id_rejected_like_arxiv_does_and_the_valid_one_parsed(arxiv_replay):
    """The recorded batch asked arXiv for 0808.05394 (five digits before 2015: malformed) and 1707.08567."""
    import arxiv

    from reading import parse_arxiv_id
    from reading._arxiv import make_client, result_fields

    with pytest.raises(InvalidArxivId):
        parse_arxiv_id("0808.05394")
    client = make_client(delay=0)
    results = list(client.results(arxiv.Search(id_list=["0808.05394", "1707.08567"])))
    fields = [result_fields(r) for r in results]
    assert [f["arxiv_id"] for f in fields] == ["1707.08567"]
    assert fields[0]["title"].startswith("Proceedings of Workshop AEW10")


def test_error_entry_for_a_bad_id_raises_nothing_and_finds_nothing(arxiv_replay):
    import arxiv

    from reading._arxiv import make_client

    results = list(make_client(delay=0).results(arxiv.Search(id_list=["abc"])))
    assert all("errors" in r.entry_id for r in results)


def test_bad_id_is_rejected_before_any_request(log, arxiv_replay):
    with pytest.raises(InvalidArxivId):
        log.add("abc")
    assert arxiv_replay.requests == []
