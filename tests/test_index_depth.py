"""Hybrid search fuses a fixed-depth candidate pool: the first results do not depend on how many were asked for."""
from __future__ import annotations

import random

import pytest

import index
from index import HashEmbedder
from reading import open_log

EMB = HashEmbedder(32)  # coarse buckets: dense and keyword rankings disagree a lot, as with a real model
WORDS = [f"w{i}" for i in range(60)]


@pytest.fixture(scope="module")
def big_log(tmp_path_factory):
    rng = random.Random(7)
    log = open_log(tmp_path_factory.mktemp("depth") / "log.db")
    for i in range(420):
        log.add(None, title=f"paper {i} " + " ".join(rng.sample(WORDS, 3)),
                abstract=" ".join(rng.choice(WORDS) for _ in range(25)), fetch=False)
    index.sync(log, embedder=EMB)
    yield log
    log.close()


@pytest.mark.parametrize("query", ["w1 w2 w3", "w10 w40", "w7 w8 w9 w11 w12", "w59"])
def test_top_results_are_the_same_for_any_k_up_to_the_pool(big_log, query):
    top40 = [h["id"] for h in index.search(big_log, query, k=40, embedder=EMB)]
    for k in (1, 5, 10):
        assert [h["id"] for h in index.search(big_log, query, k=k, embedder=EMB)] == top40[:k]


def test_related_top_results_are_the_same_for_any_k(big_log):
    for ref in (3, 50, 222):
        top40 = [h["id"] for h in index.related(big_log, ref, k=40, embedder=EMB)]
        assert [h["id"] for h in index.related(big_log, ref, k=10, embedder=EMB)] == top40[:10]
