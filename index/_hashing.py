"""Content hashes of what the index embeds: a changed hash means re-embedding. Used by the paper sync (`_sync`) and
the candidates' (`_candidates`), which `_sync` drives: kept here, so that `_candidates` needs no import of `_sync`."""
from __future__ import annotations

import hashlib


def content_hash(text: str) -> str:
    """Hash of the text a paper is embedded from: a change means re-embedding."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def checksum(hashes: dict[str, str]) -> str:
    """One checksum over all (paper id, content hash) pairs."""
    h = hashlib.sha256()
    for key in sorted(hashes, key=int):
        h.update(f"{key}:{hashes[key]}\n".encode())
    return h.hexdigest()
