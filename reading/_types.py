"""The records the log hands out, typed: a paper with its notes and reads (what ``Log.get`` and ``Log.papers``
return; ``reading/_db.py`` shapes them)."""
from __future__ import annotations

from typing import TypedDict


class Note(TypedDict):
    id: int
    text: str
    created_at: str


class Read(TypedDict):
    id: int
    read_on: str
    created_at: str


class PdfRef(TypedDict):
    """A stored PDF of a paper, as exports and ``reading show --json`` list it (the file itself is in backups)."""

    file_name: str
    pages: int
    sha256: str


class Paper(TypedDict):
    """One paper of the log. Lists are empty rather than missing; optional fields are ``None`` when unknown."""

    id: int
    arxiv_id: str | None
    doi: str | None
    title: str
    title_norm: str
    authors: list[str]
    abstract: str
    year: int | None
    venue: str | None
    categories: list[str]
    url: str | None
    published: str | None
    added_at: str
    updated_at: str
    status: str
    rating: int | None
    needs_refresh: bool
    manual_fields: list[str]
    source: str | None
    tags: list[str]
    notes: list[Note]
    reads: list[Read]
    models: list[str]
    pdfs: list[PdfRef]
