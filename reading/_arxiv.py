"""Metadata from the arXiv API through the ``arxiv`` package (imported here only, on first use)."""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ._errors import ReadingError
from ._ids import parse_arxiv_id

TIMEOUT_S = 15.0
RETRIES = 1
# arXiv's terms of use ask for at most one request every three seconds
DELAY_S = 3.0
BATCH = 100


class FetchError(ReadingError):
    """arXiv could not be reached, answered with an error, or does not know the id."""


def make_client(*, timeout: float = TIMEOUT_S, retries: int = RETRIES, delay: float = DELAY_S) -> Any:
    """An ``arxiv.Client`` whose HTTP requests time out (the package sets no timeout of its own)."""
    import arxiv
    import requests

    class _TimeoutSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            return super().request(*args, **kwargs)

    client = arxiv.Client(page_size=BATCH, delay_seconds=delay, num_retries=retries)
    client._session = _TimeoutSession()  # the only way to give the package's requests a timeout
    return client


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@contextlib.contextmanager
def api_errors() -> Iterator[None]:
    """Network and API failures as one-line FetchErrors."""
    import arxiv
    import requests

    try:
        yield
    except requests.exceptions.ConnectionError:
        raise FetchError("arXiv is unreachable (offline?)") from None
    except requests.exceptions.Timeout:
        raise FetchError("arXiv did not answer in time") from None
    except requests.exceptions.RequestException as err:
        raise FetchError(f"arXiv request failed: {type(err).__name__}") from None
    except arxiv.HTTPError as err:
        raise FetchError(f"arXiv API error (HTTP {err.status})") from None
    except arxiv.ArxivError as err:
        raise FetchError(f"arXiv API error: {_clean(err.message)}") from None


def result_fields(result: Any) -> dict[str, Any]:
    """Log fields of one ``arxiv.Result``."""
    aid = parse_arxiv_id(result.get_short_id())
    published = result.published
    fields = {
        "arxiv_id": aid,
        "title": _clean(result.title),
        "authors": [a.name for a in result.authors],
        "abstract": _clean(result.summary),
        "categories": list(result.categories),
        "url": f"https://arxiv.org/abs/{aid}",
        "year": published.year if published and published.year > 1 else None,
        "published": published.date().isoformat() if published and published.year > 1 else None,
    }
    if result.doi:
        fields["doi"] = result.doi.strip().lower()
    if result.journal_ref:
        fields["venue"] = _clean(result.journal_ref)
    return fields


def fetch(ids: Iterable[str], *, client: Any = None) -> dict[str, dict[str, Any]]:
    """Metadata for arXiv ids, by version-free id; ids arXiv does not know are absent from the answer.

    Raises:
        FetchError: offline, timed out, or an API error (one line).
    """
    import arxiv

    wanted = [parse_arxiv_id(i) for i in ids]
    client = client or make_client()
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        search = arxiv.Search(id_list=chunk, max_results=len(chunk))
        with api_errors():
            for result in client.results(search):
                try:
                    fields = result_fields(result)
                except ReadingError:
                    continue  # an error entry (bad id) in the feed
                if fields["arxiv_id"] in chunk:
                    out[fields["arxiv_id"]] = fields
    return out


def fetch_one(arxiv_id: str, *, client: Any = None) -> dict[str, Any]:
    """Metadata of one paper; FetchError when unreachable or unknown to arXiv."""
    aid = parse_arxiv_id(arxiv_id)
    found = fetch([aid], client=client)
    if aid not in found:
        raise FetchError(f"arXiv has no paper {aid}")
    return found[aid]
