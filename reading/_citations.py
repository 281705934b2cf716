"""The citation graph of the log: the reference entries of its PDFs, parsed (:mod:`reading._refparse`), matched to
its papers, stored as edges (or kept as pending references), and read back as "cites", "cited by" and reading
suggestions. Everything here is a query over the log: no index, no torch.

Matching a reference to a paper of the log: by arXiv id, else DOI, else title: the parsed title against the
paper's (normalised, ``difflib`` similarity at least :data:`TITLE_MIN`), or the paper's title standing whole
between punctuation in the entry (what survives a parse that cut the title in the wrong place). A title match must
agree on the first author (the entry's first author's surname is the paper's first author's; with no authors read
from the entry, the paper's first author's surname must be in it), else (a paper without authors) on the year
(±1); two papers
equally good leave the reference unmatched (precision first: a wrong edge misleads, a missing one only hides).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from . import _db
from ._base import LogCore
from ._errors import PaperNotFound
from ._refparse import Reference, parse_reference, surname_key

#: The least title similarity (difflib ratio of the normalised titles) for a match by title; set on
#: bench/citations.py for precision.
TITLE_MIN = 0.9
#: A paper's title found whole inside an entry counts as this similar (when it has enough words to be specific).
CONTAINED = 0.93
CONTAINED_MIN_WORDS = 3
_STOP = frozenset("a an and are as at by for from in is of on or the to with via using towards toward".split())


def _tokens(title_norm: str) -> set[str]:
    return {t for t in title_norm.split() if t not in _STOP and len(t) > 1}


def _bounded_norm(text: str) -> str:
    """``text`` normalised like a title, with a ``|`` where punctuation that ends a title stood."""
    s = unicodedata.normalize("NFKD", text).casefold()
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[.?!,;“”\"()\[\]]|''|``", " | ", s)
    return " ".join(re.findall(r"\w+|\|", s))


class PaperIndex:
    """The papers a reference can be matched to: by arXiv id, DOI, and title words."""

    def __init__(self, papers: Iterable[dict[str, Any]]):
        self.papers: dict[int, dict[str, Any]] = {}
        self.by_arxiv: dict[str, int] = {}
        self.by_doi: dict[str, int] = {}
        self.by_token: dict[str, set[int]] = defaultdict(set)
        self.by_title: dict[str, list[int]] = defaultdict(list)
        for p in papers:
            pid = int(p["id"])
            surnames = {surname_key(a) for a in p.get("authors") or []}
            first = surname_key(p["authors"][0]) if p.get("authors") else ""
            tokens = _tokens(p.get("title_norm") or "")
            self.papers[pid] = {**p, "surnames": surnames - {""}, "first": first, "ntok": len(tokens)}
            if p.get("arxiv_id"):
                self.by_arxiv[p["arxiv_id"]] = pid
            if p.get("doi"):
                self.by_doi[p["doi"]] = pid
            for tok in tokens:
                self.by_token[tok].add(pid)
            if p.get("title_norm"):
                self.by_title[p["title_norm"]].append(pid)

    def __len__(self) -> int:
        return len(self.papers)

    def _candidates(self, words: set[str], title: str = "", limit: int = 8) -> list[int]:
        """Papers that may carry this title: those with exactly this normalised ``title``, then those sharing the
        most of its ``words``. Words on more than a quarter of the papers (and on at least 50) only add to the
        papers a rarer word found; a title made of such words only ("Deep learning") looks among the papers holding
        all of them (but one), those with the fewest other words first."""
        exact = list(self.by_title.get(title, ())) if title else []
        common = max(50, len(self.papers) // 4)
        rare = [w for w in words if 0 < len(self.by_token.get(w, ())) <= common]
        if rare:
            score: Counter[int] = Counter()
            for w in rare:
                for pid in self.by_token[w]:
                    score[pid] += 1
            for w in words.difference(rare):
                held = self.by_token.get(w, set())
                for pid in score:
                    if pid in held:
                        score[pid] += 1
            found = [pid for pid, n in score.most_common(limit)
                     if n >= min(2, len(words), self.papers[pid]["ntok"])]
        else:
            holding = sorted((self.by_token[w] for w in words if w in self.by_token), key=len)
            if not holding or len(holding) < len(words) - 1:  # one word may be misspelt or broken
                return exact
            both = set.intersection(*holding)
            found = sorted(both, key=lambda pid: (self.papers[pid]["ntok"] - len(words), pid))[:limit]
        return exact + [pid for pid in found if pid not in exact]

    def match(self, ref: Reference, *, citing: int | None = None) -> int | None:
        """The id of the paper ``ref`` names, or None (see the module docstring for the rules)."""
        if ref.arxiv_id and ref.arxiv_id in self.by_arxiv:
            return self._not_self(self.by_arxiv[ref.arxiv_id], citing)
        if ref.doi and ref.doi in self.by_doi:
            return self._not_self(self.by_doi[ref.doi], citing)
        title = ref.title_norm
        words = _tokens(title)
        bounded = ""
        if not words:  # no title parsed: the entry's words
            bounded = f"| {_bounded_norm(ref.text)} |"
            words = _tokens(bounded.replace("|", " "))
        candidates = [pid for pid in self._candidates(words, title) if pid != citing] if words else []
        if not candidates:
            return None
        bounded = bounded or f"| {_bounded_norm(ref.text)} |"
        best: list[tuple[float, int]] = []
        first = surname_key(ref.authors[0]) if ref.authors else ""
        text_words = set(bounded.split())
        for pid in candidates:
            paper = self.papers[pid]
            ptitle = paper.get("title_norm") or ""
            if not ptitle or (ref.arxiv_id and paper.get("arxiv_id") and paper["arxiv_id"] != ref.arxiv_id):
                continue
            score = 0.0
            if title:
                sm = difflib.SequenceMatcher(None, title, ptitle, autojunk=False)
                # the cheap upper bounds first: most candidates share a word or two and nothing more
                if sm.real_quick_ratio() >= TITLE_MIN and sm.quick_ratio() >= TITLE_MIN:
                    score = sm.ratio()
            if score < TITLE_MIN and (not title or ptitle in title) and ptitle in bounded and len(
                    ptitle.split()) >= CONTAINED_MIN_WORDS and re.search(rf"\| (?:[^|]* )?{re.escape(ptitle)} \|",
                                                                          bounded):
                score = max(score, CONTAINED)
            if score < TITLE_MIN:
                continue
            if paper["surnames"] and first:
                if first != paper["first"]:
                    continue  # another first author: another work of the same title (author order is kept)
            elif paper["surnames"]:
                if paper["first"] not in text_words:
                    continue  # no authors read from the entry: the paper's first author must be in it
            elif ref.year and paper.get("year") and abs(ref.year - int(paper["year"])) > 1:
                continue
            bonus = 0.0  # tie-breakers: the same first author, else a shared one; the same year, else a year off
            if first and first == paper["first"]:
                bonus += 0.02
            elif paper["surnames"] & ({first} | text_words):
                bonus += 0.01
            if ref.year and paper.get("year"):
                bonus += {0: 0.01, 1: 0.005}.get(abs(ref.year - int(paper["year"])), 0.0)
            best.append((score + bonus, pid))
        if not best:
            return None
        best.sort(reverse=True)
        if len(best) > 1 and best[0][0] - best[1][0] < 1e-9:
            return None  # two papers equally likely: leave it pending
        return best[0][1]

    @staticmethod
    def _not_self(pid: int, citing: int | None) -> int | None:
        return None if pid == citing else pid


def reference_rows(sha256: str, paper_id: int, entries: Iterable[tuple[int, str]], index: PaperIndex
                   ) -> list[dict[str, Any]]:
    """Citation rows for the entries ``(page, text)`` of one PDF, numbered from 1 in list order, matched."""
    rows = []
    for number, (page, text) in enumerate(entries, start=1):
        ref = parse_reference(text)
        work_key, title_key = work_keys(ref)
        rows.append({"sha256": sha256, "number": number, "paper_id": paper_id, "page": page, "text": ref.text,
                     "arxiv_id": ref.arxiv_id, "doi": ref.doi, "title": ref.title, "title_norm": ref.title_norm,
                     "authors": ref.authors, "year": ref.year, "cited_id": index.match(ref, citing=paper_id),
                     "work_key": work_key, "title_key": title_key})
    return rows


def work_keys(ref: Reference) -> tuple[str | None, str | None]:
    """(the key of the work a reference names, its title key): the arXiv id, else the DOI, else the title key; the
    title key is the normalised title without its spaces (a PDF reader joins "Shift-Based" broken at a line end into
    "ShiftBased") with the first author's surname (two works may share a title, "Notes on X in practice"; one work
    is cited with a year that moves from preprint to proceedings, so the year is left out)."""
    title = ref.title_norm.replace(" ", "")
    title_key = f"title:{title}|{surname_key(ref.authors[0]) if ref.authors else ''}" if len(title) >= 8 else None
    if ref.arxiv_id:
        return f"arxiv:{ref.arxiv_id}", title_key
    if ref.doi:
        return f"doi:{ref.doi}", title_key
    return title_key, title_key


def _prefilter(index: PaperIndex, most: int = 20) -> list[str] | None:
    """For a few new papers: a word that every reference matching one of them holds, per paper, so that SQLite hands
    over only the pending references holding one of them. The first author's surname when the paper names authors
    (a title match needs it), else the title's longest word. None (every pending reference) for many papers, or for
    a word that SQLite cannot find case-insensitively as written (non-ASCII, an apostrophe)."""
    if len(index) > most:
        return None
    words = []
    for paper in index.papers.values():
        authors = paper.get("authors") or []
        raw = authors[0].split()[-1].casefold() if authors and authors[0].split() else ""
        if paper["first"] and raw == paper["first"] and raw.isascii() and len(raw) >= 4:  # "he" is in "the"
            words.append(raw)
            continue
        tokens = sorted(_tokens(paper.get("title_norm") or ""), key=len, reverse=True)
        if not tokens or not tokens[0].isascii() or not tokens[0].isalnum():
            return None
        words.append(tokens[0])
    return words


class CitationsMixin(LogCore):
    """cites, cited_by, suggest, citation_graph, store_references, sync_citations (mixed into Log)."""

    _cite_index: tuple[int, PaperIndex] | None = None

    def _paper_index(self, min_id: int = 0) -> PaperIndex:
        """The papers above ``min_id`` to match against; the whole log's index is kept while the log's papers do not
        change (a library of PDFs is imported one file at a time)."""
        if min_id:
            return PaperIndex(_db.matching_papers(self.conn, min_id))
        version = _db.data_version(self.conn)
        if self._cite_index is None or self._cite_index[0] != version:
            self._cite_index = (version, PaperIndex(_db.matching_papers(self.conn)))
        return self._cite_index[1]

    def store_references(self, sha256: str, entries: Iterable[tuple[int, str]]) -> int:
        """Parse and match the reference entries ``(page, text)`` of a stored PDF and store them (replacing what
        was stored for it); returns how many matched a paper of the log."""
        with self._lock, self._write():
            pdfs = _db.select_pdfs(self.conn, sha256=sha256)
            if not pdfs:
                raise PaperNotFound(f"no PDF {sha256[:12]} in the log")
            rows = reference_rows(sha256, pdfs[0]["paper_id"], entries, self._paper_index())
            _db.replace_citations(self.conn, sha256, rows)
            return sum(1 for r in rows if r["cited_id"] is not None)

    def sync_citations(self) -> dict[str, int]:
        """Bring the graph up to date: parse the reference entries of PDFs stored since the last sync, and match
        the pending references against the papers logged since then. Cheap when nothing changed (two reads).

        Returns ``{"pdfs": PDFs parsed, "linked": pending references matched}``.
        """
        with self._lock:
            pages = _db.pages_version(self.conn)  # moves when a PDF is stored, removed or read again
            parsed_at = _db.get_meta(self.conn, "citations_pages")
            shas = _db.unparsed_reference_shas(self.conn) if pages != parsed_at else []
            top = _db.max_paper_id(self.conn)
            seen = _db.get_meta(self.conn, "citations_linked")
        parsed = linked = 0
        entries_of = getattr(self, "reference_entries", None)
        if shas and entries_of is not None:
            for sha in shas:
                entries = [(e["page"], e["text"]) for e in entries_of(sha)]
                try:
                    self.store_references(sha, entries)
                except PaperNotFound:
                    continue  # removed meanwhile
                parsed += 1
        if pages != parsed_at:
            with self._lock, self._write():
                _db.set_meta(self.conn, "citations_pages", pages)
        if top > seen:
            with self._lock, self._write():
                index = self._paper_index(seen)
                if len(index):
                    links = []
                    for row in _db.pending_citations(self.conn, _prefilter(index)):
                        ref = Reference(text=row["text"], arxiv_id=row["arxiv_id"], doi=row["doi"],
                                        title=row["title_norm"], authors=row["authors"], year=row["year"])
                        pid = index.match(ref, citing=row["paper_id"])
                        if pid is not None:
                            links.append((pid, row["sha256"], row["number"]))
                    _db.link_citations(self.conn, links)
                    linked = len(links)
                _db.set_meta(self.conn, "citations_linked", top)
        return {"pdfs": parsed, "linked": linked}

    def cites(self, ref: int | str) -> list[dict[str, Any]]:
        """What a paper cites (its PDFs' reference lists, in order): ``{id, title, arxiv_id, doi, year, text,
        page}``, ``id`` the cited paper's log id or None, ``title`` the log's title when matched, else the parsed
        one. Raises PaperNotFound."""
        pid = self._resolve(ref)
        self.sync_citations()
        with self._lock:
            rows = _db.select_citations(self.conn, paper_id=pid)
        out, seen = [], set()
        for r in rows:
            key = (r["number"], r["text"])
            if key in seen:  # two PDFs of one paper (preprint and published) list mostly the same entries
                continue
            seen.add(key)
            out.append({"id": r["cited_id"], "title": r["cited_title"] if r["cited_id"] else r["title"],
                        "arxiv_id": r["arxiv_id"], "doi": r["doi"], "year": r["year"], "text": r["text"],
                        "page": r["page"]})
        return out

    def cited_by(self, ref: int | str) -> list[dict[str, Any]]:
        """Which papers of the log cite this one: ``{id, title, page, text}`` (the citing paper, the page of its
        reference list and the entry), one row per citing paper. Raises PaperNotFound."""
        pid = self._resolve(ref)
        self.sync_citations()
        with self._lock:
            rows = _db.select_citations(self.conn, cited_id=pid)
        out, seen = [], set()
        for r in rows:
            if r["paper_id"] in seen:
                continue
            seen.add(r["paper_id"])
            out.append({"id": r["paper_id"], "title": r["citing_title"], "page": r["page"], "text": r["text"]})
        return out

    def suggest(self, *, k: int = 10, tag: str | None = None, min_count: int = 2) -> list[dict[str, Any]]:
        """Works cited by several papers of the log that are not in it, most cited first (ties: the citing papers
        read most recently first): ``{title, count, citing, arxiv_id, doi, year}``, ``citing`` the ids of the
        papers that cite it. ``tag``: count only citing papers with this tag.

        A work is the unmatched references with one key (:func:`work_keys`); an entry that gives an arXiv id or a
        DOI carries the title-only entries of the same title and first author along with it."""
        self.sync_citations()
        with self._lock:
            groups = _db.suggestion_groups(self.conn, tag=tag, min_count=max(1, min_count), limit=max(0, k))
            variants = _db.work_variants(self.conn, [g["work_key"] for g in groups], tag=tag)
        by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for v in variants:
            by_key[v["work_key"]].append(v)
        out = []
        for g in groups:
            group = by_key[g["work_key"]]
            titles: Counter[str] = Counter()
            years: Counter[int] = Counter()
            arxiv: Counter[str] = Counter()
            doi: Counter[str] = Counter()
            citing: set[int] = set()
            for v in group:  # how each field was written, weighted by how many entries wrote it so
                for counter, value in ((titles, v["title"]), (years, v["year"]), (arxiv, v["arxiv_id"]),
                                       (doi, v["doi"])):
                    if value:
                        counter[value] += v["n"]
                citing.update(int(p) for p in v["papers"].split(","))
            out.append({"title": titles.most_common(1)[0][0] if titles else "", "count": g["count"],
                        "citing": sorted(citing),
                        "arxiv_id": arxiv.most_common(1)[0][0] if arxiv else None,
                        "doi": doi.most_common(1)[0][0] if doi else None,
                        "year": years.most_common(1)[0][0] if years else None})
        return out

    def citation_graph(self, ref: int | str, *, hops: int = 1) -> dict[str, Any]:
        """A paper's neighbourhood in the citation graph of the log, ``hops`` (1 or 2) edges out either way:
        ``{"nodes": [{id, title, year, hop}], "edges": [(citing id, cited id)]}``."""
        pid = self._resolve(ref)
        self.sync_citations()
        hop = {pid: 0}
        frontier = {pid}
        edges: set[tuple[int, int]] = set()
        with self._lock:
            for depth in range(1, max(1, min(2, hops)) + 1):
                found = _db.citation_edges(self.conn, frontier)
                edges.update(found)
                frontier = {n for e in found for n in e if n not in hop}
                for n in frontier:
                    hop[n] = depth
            # edges between the nodes shown, not only those on the walk out
            edges = {e for e in _db.citation_edges(self.conn, hop) if e[0] in hop and e[1] in hop}
            titles = _db.paper_rows(self.conn, list(hop))
        nodes = [{"id": n, "title": titles[n]["title"], "year": titles[n]["year"], "hop": h}
                 for n, h in sorted(hop.items(), key=lambda kv: (kv[1], kv[0])) if n in titles]
        return {"nodes": nodes, "edges": sorted(edges)}

