"""What the index promises the application layer: one sync per call, a clearable per-process state, nothing
written outside the log's folder, and a log contract (``index.PaperLog``) that ``reading.Log`` meets."""
from __future__ import annotations

import inspect
import os

import pytest

import index
import reading
from index import inbox
from index._protocol import PaperLog

EMB = index.HashEmbedder(64)


@pytest.fixture
def log(tmp_path):
    with reading.open_log(tmp_path / "log.db") as log:
        for title, tag in (("Deep residual learning", "resnet"), ("Channel shuffle for mobile networks", "efficient"),
                           ("One-shot architecture search", "nas"), ("Residual shuffle units", "efficient")):
            log.add(None, title=title, abstract=f"{title}: a paper about {tag}.", tags=[tag], fetch=False)
        log.add_candidates([{"arxiv_id": "2401.00001", "title": "Cheaper channel shuffles", "abstract": "Shuffles.",
                             "published": "2026-11-20"}])
        yield log


@pytest.fixture
def syncs(monkeypatch):
    from index import _search

    calls = []
    real = _search.sync

    def counting(*args, **kwargs):
        calls.append(kwargs.get("wait"))
        return real(*args, **kwargs)

    monkeypatch.setattr(_search, "sync", counting)
    return calls


@pytest.mark.parametrize("call", [
    lambda log: index.search(log, "channel shuffle", 3, embedder=EMB),
    lambda log: index.related(log, 1, 3, embedder=EMB),
    lambda log: inbox.rank(log, k=3, embedder=EMB),
], ids=["search", "related", "inbox.rank"])
def test_each_call_syncs_once(log, syncs, call):
    index.sync(log, embedder=EMB)  # a fresh index: what is counted is the call's own check
    assert call(log)
    assert len(syncs) == 1


def test_reading_log_has_every_member_of_the_protocol(log):
    members = [name for name, _ in inspect.getmembers(PaperLog) if not name.startswith("_")]
    members += list(PaperLog.__annotations__)
    assert "tags" in members and "path" in members
    for name in members:
        assert hasattr(log, name), name
        if callable(getattr(PaperLog, name, None)):
            want = set(inspect.signature(getattr(PaperLog, name)).parameters)
            have = set(inspect.signature(getattr(log, name)).parameters) | {"self"}
            assert want <= have, (name, want - have)


def test_log_tags_lists_the_tags_in_use(log):
    assert log.tags() == {"efficient": 2, "nas": 1, "resnet": 1}


def test_clear_caches_forgets_what_was_loaded(log):
    from index import _search, _store

    index.search(log, "channel shuffle", 3, embedder=EMB)
    assert _search._LOADED and _store._MANIFESTS
    index.clear_caches()
    assert not _search._LOADED and not _store._MANIFESTS
    assert index.search(log, "channel shuffle", 3, embedder=EMB)  # read again from disk


def test_an_in_memory_log_puts_no_index_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with reading.open_log(":memory:") as log:
        log.add(None, title="Deep residual learning", abstract="Residual learning.", fetch=False)
        assert index.search(log, "residual", 1, embedder=EMB)[0]["title"] == "Deep residual learning"
        folder = index.index_dir(log.path)
    assert os.listdir(tmp_path) == []
    assert folder.is_absolute() and folder.is_dir()


@pytest.mark.parametrize("error", [index.SearchError, inbox.InboxError])
def test_index_errors_share_one_base(error):
    assert issubclass(error, index.SearchIndexError)


def test_loading_the_model_leaves_hf_hub_offline_as_it_was(monkeypatch):
    import sys

    from index._embed import DEFAULT_MODEL, SentenceTransformerEmbedder

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    constants = sys.modules.get("huggingface_hub.constants")
    before = getattr(constants, "HF_HUB_OFFLINE", False)
    seen = []

    import index._embed as embed

    real = embed._quiet_weight_loading

    def spy():  # runs inside the load: the hub must be offline then
        seen.append(os.environ.get("HF_HUB_OFFLINE"))
        return real()

    monkeypatch.setattr(embed, "_quiet_weight_loading", spy)
    assert SentenceTransformerEmbedder(DEFAULT_MODEL).dim == 384
    assert seen == ["1"]
    assert "HF_HUB_OFFLINE" not in os.environ  # not set for the rest of the process
    assert sys.modules["huggingface_hub.constants"].HF_HUB_OFFLINE == before
