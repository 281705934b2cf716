"""Shared fixtures: a fresh log per test, and arXiv answers replayed from recorded Atom responses."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

ARXIV_FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"

# The tests' tensors are tiny: a second intra-op thread buys nothing, and when the other core is busy OpenMP's
# barrier waits made the zoo tests 10-20x slower here. Set before any test module imports torch; child processes
# (DDP workers, the Streamlit server) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True, scope="session")
def _session_encoder_cache(tmp_path_factory):
    """The index's exported ONNX encoders: one cache per test session (made once, ~20 s), never the user's.

    Session-scoped so that module-scoped fixtures, which run before any function-scoped one, see it too (one that
    embedded before it was set wrote into the user's cache, and its cached embedder then skipped the session's)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("INDEX_CACHE", str(tmp_path_factory.getbasetemp() / "encoders"))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """No test may touch the real user's log: point the defaults at a throw-away folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("READING_DB", raising=False)
    # PDFs' pages are embedded in the foreground unless a test turns background indexing on (and waits for it)
    monkeypatch.setenv("INDEX_BACKGROUND", "0")


def _trained_like(model, seed: int = 0):
    """``model`` in eval mode with BatchNorm affine parameters and running statistics drawn like a trained net's
    (fresh BN is an identity, so folding it into the convolutions would test nothing)."""
    import torch
    from torch import nn

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


@pytest.fixture(scope="session")
def trained_like():
    """``trained_like(model, seed=0)``: see ``_trained_like``."""
    return _trained_like


@pytest.fixture
def log(tmp_path):
    from reading import open_log

    with open_log(tmp_path / "log.db") as opened:
        yield opened


class ArxivReplay:
    """Answers the arXiv API at the HTTP layer (requests' transport adapter) from recorded response bodies, so
    the ``arxiv`` package's own request building and Atom parsing run unchanged.

    ``mode``: ``"replay"`` (default), ``"offline"`` (connection refused) or an HTTP status code to answer with.
    ``requests`` records every URL asked for.
    """

    def __init__(self):
        self.mode: str | int = "replay"
        self.requests: list[str] = []

    def body_for(self, url: str) -> bytes:
        query = parse_qs(urlparse(url).query)
        ids = query.get("id_list", [""])[0]
        start, size = query["start"][0], query["max_results"][0]
        return self._recorded(ids, start, size)

    def _recorded(self, ids: str, start: str, size: str) -> bytes:
        key = ids.replace(",", "_").replace("/", "_")
        if "," in ids and not sorted(ARXIV_FIXTURES.glob(f"id_{key}_s{start}_m{size}_*.xml")):
            # no recording of this batch: answer as arXiv would, with the recorded entry of each id
            bodies = [self._recorded(one, start, size).decode() for one in ids.split(",")]
            entries = [e for b in bodies for e in re.findall(r"<entry>.*?</entry>", b, re.S)]
            feed = re.sub(r"<entry>.*?</entry>\s*", "", bodies[0], flags=re.S)
            feed = re.sub(r"<opensearch:totalResults>\d+<", f"<opensearch:totalResults>{len(entries)}<", feed)
            return feed.replace("</feed>", "".join(entries) + "</feed>").encode()
        matches = sorted(ARXIV_FIXTURES.glob(f"id_{key}_s{start}_m{size}_*.xml"))
        if not matches and "," not in ids:  # recorded with a version (id_list=2104.12255v1)
            matches = sorted(ARXIV_FIXTURES.glob(f"id_{key}v[0-9]*_s{start}_m{size}_*.xml"))
        if not matches:
            # arXiv answers an unknown (well-formed) id with an empty feed
            matches = sorted(ARXIV_FIXTURES.glob("id_0000.0000_*.xml"))
        return matches[0].read_bytes()

    def send(self, adapter, request, **kwargs):
        import requests

        self.requests.append(request.url)
        if self.mode == "offline":
            raise requests.exceptions.ConnectionError("replay: network is unreachable")
        response = requests.Response()
        response.request = request
        response.url = request.url
        if isinstance(self.mode, int):
            response.status_code = self.mode
            response._content = b"Service Unavailable"
        else:
            response.status_code = 200
            response._content = self.body_for(request.url)
            response.headers["Content-Type"] = "application/atom+xml"
        return response


@pytest.fixture
def arxiv_replay(monkeypatch):
    """Replay recorded arXiv responses; no request leaves the machine. No delay between requests."""
    import requests.adapters

    from reading import _arxiv

    replay = ArxivReplay()
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lambda self, request, **kw: replay.send(self, request, **kw))
    monkeypatch.setattr(_arxiv, "DELAY_S", 0.0)
    real_make_client = _arxiv.make_client
    monkeypatch.setattr(_arxiv, "make_client", lambda **kw: real_make_client(**{"delay": 0.0, **kw}))
    return replay
