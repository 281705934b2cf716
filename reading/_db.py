"""All SQL of the reading log: schema, migrations and queries.

Everything, bulk imports and exports included, talks to SQLite through the standard library's ``sqlite3``: the hot
paths (``reading add/list/show``) cannot afford a heavier wrapper's import on every call (``sqlite_utils`` pulls in
pandas and numpy when they are installed, about half a second).

Connections run in autocommit mode; every write goes through :func:`write`, a ``BEGIN IMMEDIATE`` transaction,
so a check-then-insert cannot race another writer. WAL and a busy timeout let the CLI and the app write at once.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_MS = 15_000


#: ``PRAGMA application_id`` of a reading log ("PZoo").
APPLICATION_ID = 0x505A6F6F


class NewerSchema(sqlite3.DatabaseError):
    """The file was migrated by a newer program than this one."""


class NotALog(sqlite3.DatabaseError):
    """The file is not a reading log (another program's SQLite file, or not SQLite at all); it was not changed."""


class LogReadOnly(sqlite3.DatabaseError):
    """The log cannot be written (read-only file or folder) and would need to be."""

PAPER_COLUMNS = (
    "arxiv_id", "doi", "title", "title_norm", "authors", "abstract", "year", "venue", "categories", "url",
    "published", "added_at", "updated_at", "status", "rating", "needs_refresh", "manual_fields", "source",
)
_JSON_COLUMNS = ("authors", "categories", "manual_fields")

_V1 = """
CREATE TABLE papers (
    id INTEGER PRIMARY KEY,
    arxiv_id TEXT UNIQUE,
    doi TEXT UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    title_norm TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',
    abstract TEXT NOT NULL DEFAULT '',
    year INTEGER,
    venue TEXT,
    categories TEXT NOT NULL DEFAULT '[]',
    url TEXT,
    published TEXT,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'to-read' CHECK (status IN ('to-read', 'reading', 'read')),
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    needs_refresh INTEGER NOT NULL DEFAULT 0,
    manual_fields TEXT NOT NULL DEFAULT '[]',
    source TEXT
);
CREATE INDEX papers_title_norm ON papers (title_norm);
CREATE INDEX papers_added_at ON papers (added_at);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notes_paper ON notes (paper_id);
CREATE TABLE tags (
    paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (paper_id, tag)
);
CREATE INDEX tags_tag ON tags (tag);
CREATE TABLE reads (
    id INTEGER PRIMARY KEY,
    paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    read_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (paper_id, read_on)
);
CREATE INDEX reads_read_on ON reads (read_on);
CREATE TABLE links (
    model TEXT NOT NULL,
    arxiv_id TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'implements',
    created_at TEXT NOT NULL,
    PRIMARY KEY (model, arxiv_id)
);
CREATE INDEX links_arxiv ON links (arxiv_id);
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    weights TEXT,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    env TEXT NOT NULL DEFAULT '{}',
    source TEXT NOT NULL DEFAULT 'measured',
    measured_at TEXT NOT NULL
);
CREATE INDEX results_model ON results (model, metric);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('data_version', 0);

CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title, abstract, notes, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER papers_fts_ai AFTER INSERT ON papers BEGIN
    INSERT INTO papers_fts (rowid, title, abstract, notes) VALUES (new.id, new.title, new.abstract, '');
END;
CREATE TRIGGER papers_fts_au AFTER UPDATE OF title, abstract ON papers BEGIN
    UPDATE papers_fts SET title = new.title, abstract = new.abstract WHERE rowid = new.id;
END;
CREATE TRIGGER papers_fts_ad AFTER DELETE ON papers BEGIN
    DELETE FROM papers_fts WHERE rowid = old.id;
END;
CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN
    UPDATE papers_fts SET notes = (
        SELECT coalesce(group_concat(text, char(10)), '') FROM (SELECT text FROM notes WHERE paper_id = new.paper_id ORDER BY id)
    ) WHERE rowid = new.paper_id;
END;
CREATE TRIGGER notes_fts_au AFTER UPDATE ON notes BEGIN
    UPDATE papers_fts SET notes = (
        SELECT coalesce(group_concat(text, char(10)), '') FROM (SELECT text FROM notes WHERE paper_id = new.paper_id ORDER BY id)
    ) WHERE rowid = new.paper_id;
END;
CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN
    UPDATE papers_fts SET notes = (
        SELECT coalesce(group_concat(text, char(10)), '') FROM (SELECT text FROM notes WHERE paper_id = old.paper_id ORDER BY id)
    ) WHERE rowid = old.paper_id;
END;
"""


def _version_triggers() -> str:
    """Triggers that bump meta.data_version on every write that can change what a paper is or says."""
    out = []
    for table in ("papers", "notes", "tags", "reads"):
        for op in ("INSERT", "UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER {table}_version_{op.lower()} AFTER {op} ON {table} BEGIN "
                "UPDATE meta SET value = value + 1 WHERE key = 'data_version'; END;"
            )
    return "\n".join(out)


# v2: the inbox. New arXiv submissions wait here as candidates, outside the papers table (so they are not part of
# the library, its search index or its data version) until kept (copied into papers as to-read) or skipped
# (remembered so they never come back).
_V2_INBOX = """
CREATE TABLE candidates (
    id INTEGER PRIMARY KEY,
    arxiv_id TEXT NOT NULL UNIQUE,
    doi TEXT,
    title TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',
    abstract TEXT NOT NULL DEFAULT '',
    year INTEGER,
    venue TEXT,
    categories TEXT NOT NULL DEFAULT '[]',
    url TEXT,
    published TEXT,
    fetched_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'kept', 'skipped')),
    decided_at TEXT,
    paper_id INTEGER REFERENCES papers (id) ON DELETE SET NULL
);
CREATE INDEX candidates_state ON candidates (state, published);
"""

# v3: a write counter for the inbox candidates (what data_version is for papers), so the index can tell exactly and
# with one read whether the candidates it embedded are still the log's.
_V3_CANDIDATES_VERSION = "INSERT OR IGNORE INTO meta (key, value) VALUES ('candidates_version', 0);\n" + "\n".join(
    f"CREATE TRIGGER candidates_version_{op.lower()} AFTER {op} ON candidates BEGIN "
    "UPDATE meta SET value = value + 1 WHERE key = 'candidates_version'; END;"
    for op in ("INSERT", "UPDATE", "DELETE")
)

# v4: full text. A paper's PDFs (content-addressed by SHA-256; the files live in the library folder beside the
# log), their per-page text, FTS5 over the pages, and a write counter the passage index checks for staleness.
_V4_FULLTEXT = """
CREATE TABLE pdfs (
    sha256 TEXT PRIMARY KEY,
    paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    page_count INTEGER NOT NULL,
    has_text INTEGER NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX pdfs_paper ON pdfs (paper_id);
CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES pdfs (sha256) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (sha256, page)
);
CREATE VIRTUAL TABLE pages_fts USING fts5 (
    text, content = 'pages', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER pages_fts_ai AFTER INSERT ON pages BEGIN
    INSERT INTO pages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER pages_fts_ad AFTER DELETE ON pages BEGIN
    INSERT INTO pages_fts (pages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
INSERT OR IGNORE INTO meta (key, value) VALUES ('pages_version', 0);
CREATE TRIGGER pdfs_version_insert AFTER INSERT ON pdfs BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'pages_version';
END;
CREATE TRIGGER pdfs_version_delete AFTER DELETE ON pdfs BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'pages_version';
END;
"""

# v5: the log's identity. ``PRAGMA application_id`` marks the file as a reading log (so a check can tell it from
# another program's SQLite file before changing anything), and a random library id ties the PDF and index folders
# to this log (``reading._fulltext.library_dir`` writes it into a marker file in each folder).
_V5_IDENTITY = f"""
INSERT OR IGNORE INTO meta (key, value) VALUES ('library_id', random() & 9007199254740991);
PRAGMA application_id = {APPLICATION_ID};
"""

# v6: what came from another reference manager (a Zotero library), by that library and the item's key there, so
# that importing it again brings only what is new. A paper removed from the log keeps its row (paper_id NULL): it
# is not brought back.
_V6_IMPORTED = """
CREATE TABLE imported_items (
    source TEXT NOT NULL,
    item_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    paper_id INTEGER REFERENCES papers (id) ON DELETE SET NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (source, item_key)
);
CREATE INDEX imported_items_paper ON imported_items (paper_id);
"""

# v7: the structure of each PDF page (its section headings and where its reference list starts, JSON; NULL for pages
# stored before, until they are read again) and each PDF's reference list, one entry per row in list order.
_V7_PDF_LAYOUT = """
ALTER TABLE pages ADD COLUMN layout TEXT;
CREATE TABLE pdf_references (
    sha256 TEXT NOT NULL REFERENCES pdfs (sha256) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    page INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (sha256, number)
);
"""

# v8: the citation graph. One row per reference entry of a stored PDF: what the parser read from it, and the paper
# of the log it cites (NULL while unmatched: a pending reference). Edges to a paper added later appear by its arXiv
# id or DOI through the triggers below; by title, when the log next syncs its citations (reading._citations). A
# PDF's reference list read again (pdf_references replaced) drops its citations: the next sync parses the new one.
# Written to be re-run safely (IF NOT EXISTS), as a log taken back to an earlier schema meets it again.
# 'citations_pages' is the pages version whose PDFs' reference lists were all parsed (a sync looks for unparsed
# ones only when the version moved). 'citations_linked' is the highest paper id whose title pending references
# were matched against (lowered when a paper's title, authors or year change, so that they are matched against it
# again). work_key groups the unmatched references that name one work (arXiv id, else DOI, else title_key: the
# normalised title without spaces and the first author's surname).
_V8_CITATIONS = """
CREATE TABLE IF NOT EXISTS citations (
    sha256 TEXT NOT NULL REFERENCES pdfs (sha256) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    page INTEGER,
    text TEXT NOT NULL,
    arxiv_id TEXT,
    doi TEXT,
    title TEXT NOT NULL DEFAULT '',
    title_norm TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',
    year INTEGER,
    cited_id INTEGER REFERENCES papers (id) ON DELETE SET NULL,
    work_key TEXT,
    title_key TEXT,
    PRIMARY KEY (sha256, number)
);
CREATE INDEX IF NOT EXISTS citations_pending_work ON citations (work_key, paper_id) WHERE cited_id IS NULL;
CREATE INDEX IF NOT EXISTS citations_title_only ON citations (title_key) WHERE work_key = title_key;
CREATE INDEX IF NOT EXISTS citations_title_alias ON citations (title_key) WHERE work_key != title_key;
CREATE INDEX IF NOT EXISTS citations_paper ON citations (paper_id);
CREATE INDEX IF NOT EXISTS citations_cited ON citations (cited_id);
CREATE INDEX IF NOT EXISTS citations_arxiv ON citations (arxiv_id, cited_id);
CREATE INDEX IF NOT EXISTS citations_doi ON citations (doi, cited_id);
INSERT OR IGNORE INTO meta (key, value) VALUES ('citations_linked', 0);
INSERT OR IGNORE INTO meta (key, value) VALUES ('citations_pages', -1);
CREATE TRIGGER IF NOT EXISTS citations_link_insert AFTER INSERT ON papers
    WHEN new.arxiv_id IS NOT NULL OR new.doi IS NOT NULL
BEGIN
    UPDATE citations SET cited_id = new.id WHERE arxiv_id = new.arxiv_id AND cited_id IS NULL AND paper_id != new.id;
    UPDATE citations SET cited_id = new.id WHERE doi = new.doi AND cited_id IS NULL AND paper_id != new.id;
END;
CREATE TRIGGER IF NOT EXISTS citations_relink_title AFTER UPDATE OF title_norm, authors, year ON papers BEGIN
    UPDATE meta SET value = min(value, new.id - 1) WHERE key = 'citations_linked';
END;
CREATE TRIGGER IF NOT EXISTS citations_link_update AFTER UPDATE OF arxiv_id, doi ON papers
    WHEN new.arxiv_id IS NOT NULL OR new.doi IS NOT NULL
BEGIN
    UPDATE citations SET cited_id = new.id WHERE arxiv_id = new.arxiv_id AND cited_id IS NULL AND paper_id != new.id;
    UPDATE citations SET cited_id = new.id WHERE doi = new.doi AND cited_id IS NULL AND paper_id != new.id;
END;
CREATE TRIGGER IF NOT EXISTS citations_reread AFTER DELETE ON pdf_references BEGIN
    DELETE FROM citations WHERE sha256 = old.sha256;
END;
"""

# Each migration takes the schema from version i to i + 1. Append, never edit a released one.
MIGRATIONS: tuple[str, ...] = (_V1 + _version_triggers(), _V2_INBOX, _V3_CANDIDATES_VERSION, _V4_FULLTEXT,
                               _V5_IDENTITY, _V6_IMPORTED, _V7_PDF_LAYOUT, _V8_CITATIONS)
SCHEMA_VERSION = len(MIGRATIONS)


# --- connection and transactions ------------------------------------------------------------------------------


class Connection(sqlite3.Connection):
    """A connection to a log; ``read_only`` says why it cannot write (None when it can)."""

    read_only: str | None = None


def connect(path: Path | str) -> Connection:
    """Open (creating when missing) the log file: busy timeout, foreign keys, schema migrated, WAL.

    A file that exists is identified first, through a read-only connection, and nothing in it changes unless it is
    a log of this program (or an empty file): another program's SQLite file raises :class:`NotALog`, a log of a
    newer schema :class:`NewerSchema`, both before any PRAGMA that writes. A log whose file or folder cannot be
    written (permissions, or no write bit at all: even root leaves those alone) is opened read-only: it reads as
    usual and ``conn.read_only`` says why it cannot be changed.
    """
    if str(path) == ":memory:":
        conn = _open(":memory:", uri=False)
        migrate(conn)
        return conn
    file = Path(path)
    if file.is_dir():
        raise NotALog(f"{file} is a folder, not a log file; give the log's file (e.g. {file / 'reading.db'})")
    if file.exists() and not file.is_file():
        raise NotALog(f"{file} is not a log file: it is not a regular file (a device, a pipe or a socket); it was "
                      "left as it is")
    exists = file.exists() and file.stat().st_size > 0
    if not exists:
        file.parent.mkdir(parents=True, exist_ok=True)
        folder = file.parent.resolve()
        if not file.exists() and (not os.access(folder, os.W_OK) or not folder.stat().st_mode & 0o222):
            raise LogReadOnly(f"cannot create the log {file}: its folder is read-only")
    version = identify(file) if exists else 0
    reason = _read_only_reason(file) if exists else None
    if reason is not None:
        if version < SCHEMA_VERSION:
            raise LogReadOnly(f"the log {file} is read-only ({reason}) and was written by an older version: make it "
                              "writable once so it can be upgraded (nothing was changed)")
        conn = _open_read_only(file)
        conn.read_only = reason
        return conn
    conn = _open(str(file), uri=False)
    migrate(conn)  # before WAL: on a full disk a failed migration leaves the file as it was
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _open(target: str, *, uri: bool) -> Connection:
    conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False,
                           uri=uri, factory=Connection)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _uri(file: Path, **params: str) -> str:
    from urllib.parse import quote

    return f"file:{quote(str(file.absolute()))}?" + "&".join(f"{k}={v}" for k, v in params.items())


def _open_read_only(file: Path) -> Connection:
    """A read-only connection; ``immutable`` where a WAL log's shared-memory file cannot be made (a read-only
    folder: then no one can be writing to it either)."""
    conn = _open(_uri(file, mode="ro"), uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        conn = _open(_uri(file, mode="ro", immutable="1"), uri=True)
    conn.execute("PRAGMA query_only = 1")
    return conn


def _read_only_reason(file: Path) -> str | None:
    """Why this log cannot be written, or None. A file or folder without any write permission bit counts as
    read-only even for root (who could write it anyway): someone made it so on purpose."""
    real = file.resolve()
    try:
        if not os.access(real, os.W_OK) or not real.stat().st_mode & 0o222:
            return "the file is read-only"
        if not os.access(real.parent, os.W_OK) or not real.parent.stat().st_mode & 0o222:
            return "its folder is read-only"
    except OSError:
        return None
    return None


#: Tables every log has had since version 1: a file without them (and without our application id) is not a log.
_LOG_TABLES = frozenset({"papers", "notes", "tags", "reads", "links", "results", "settings", "meta"})
#: Tables that tell other programs' databases apart, for the one-line refusal.
_KNOWN_FILES = (("moz_places", "Firefox's history and bookmarks (places.sqlite)"),
                ("moz_cookies", "Firefox's cookies"), ("itemAttachments", "a Zotero library (zotero.sqlite)"),
                ("urls", "a Chromium browser's history"), ("ZOBJECT", "a Core Data store"))


def identify(file: Path) -> int:
    """The schema version of the log ``file`` (0 for an empty SQLite file), read without changing a byte.

    Raises:
        NotALog: not an SQLite file, or another program's SQLite database (the message says which, when known).
        NewerSchema: a log written by a newer version of this program.
        sqlite3.DatabaseError: a file SQLite cannot read (damaged).
    """
    with open(file, "rb") as fh:
        head = fh.read(100)
    if not head.startswith(b"SQLite format 3\x00"):
        shown = head[:24].decode("utf-8", "replace").splitlines()[0] if head.strip() else ""
        raise NotALog(f"{file} is not a reading log: it is not an SQLite database"
                      + (f" (it begins {shown!r})" if shown else "") + "; it was left as it is")
    # Read as a guest: without a WAL beside it the file is read as immutable (no lock, no -shm or -wal made next
    # to another program's file); with one, read-only through it (the owner's latest commits are there).
    live_wal = Path(f"{file}-wal").exists()
    for params in (({"mode": "ro"},) if live_wal else ({"mode": "ro", "immutable": "1"}, {"mode": "ro"})):
        try:
            conn = _open(_uri(file, **params), uri=True)
        except sqlite3.OperationalError:
            return _identify_header(file, head)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            break
        except sqlite3.OperationalError as err:
            if "unable to open" not in str(err):
                raise
            return _identify_header(file, head)  # a WAL log in a read-only folder: the header says enough
        except sqlite3.DatabaseError:
            if "immutable" not in params:
                raise
            # read while another process rewrote it (immutable takes no lock): read again, locked
        finally:
            conn.close()
    else:  # pragma: no cover - the last attempt raises or breaks
        raise sqlite3.DatabaseError("cannot read the file")
    return _classify(file, app_id, version, tables)


def _identify_header(file: Path, head: bytes) -> int:
    app_id, version = int.from_bytes(head[68:72], "big"), int.from_bytes(head[60:64], "big")
    return _classify(file, app_id, version, None)


def _classify(file: Path, app_id: int, version: int, tables: set[str] | None) -> int:
    ours = app_id == APPLICATION_ID or (app_id == 0 and version >= 1 and (tables is None or _LOG_TABLES <= tables))
    if ours:
        if version > SCHEMA_VERSION:
            raise NewerSchema(f"the log {file} was written by a newer version of paper-zoo (schema {version}, this "
                              f"one reads up to {SCHEMA_VERSION}): upgrade paper-zoo; the log was left as it is")
        return version
    if app_id == 0 and version == 0 and not tables:
        return 0  # an empty SQLite file: made a log
    what = next((name for table, name in _KNOWN_FILES if tables and table in tables), None)
    if what is None and tables:
        listed = sorted(tables)
        what = "an SQLite database of another program (tables: " + ", ".join(listed[:5]) + (
            ", ..." if len(listed) > 5 else "") + ")"
    raise NotALog(f"{file} is not a reading log: it is {what or 'an SQLite database of another program'}; it was "
                  "left as it is")


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations in one transaction each; safe when two processes open a new file at once."""
    if schema_version(conn) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    with write(conn):
        current = schema_version(conn)  # re-read under the write lock: another process may have migrated
        if current > SCHEMA_VERSION:
            raise NewerSchema(f"the log was written by a newer version (schema {current} > {SCHEMA_VERSION}); "
                              "upgrade paper-zoo")
        for version in range(current, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return SCHEMA_VERSION


def _statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (executescript would commit our transaction)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()


@contextlib.contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction taken up front (BEGIN IMMEDIATE), so reads inside it see a stable log."""
    if conn.in_transaction:  # nested: join the outer transaction
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def snapshot(db_path: Path | str, target: Path | str) -> None:
    """Copy the log at ``db_path`` into the new file ``target`` with SQLite's online backup API: a consistent
    snapshot even while other connections write (the copy is taken in one step, under a read transaction, which
    in WAL mode blocks no writer). The copy is one self-contained file (rollback journal, no -wal)."""
    # read-write (though it only reads): a read-only connection cannot open a WAL file whose -shm is missing
    src = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def snapshot_contents(path: Path | str) -> dict[str, Any]:
    """What a snapshot file holds: ``{"schema": n, "papers": n, "pdfs": [sha256, ...]}`` (read-only)."""
    conn = sqlite3.connect(f"file:{Path(path).resolve().as_posix()}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "papers" not in tables:
            raise sqlite3.DatabaseError("not a reading log (no papers table)")
        return {
            "schema": conn.execute("PRAGMA user_version").fetchone()[0],
            "papers": conn.execute("SELECT count(*) FROM papers").fetchone()[0],
            "pdfs": sorted(r[0] for r in conn.execute("SELECT sha256 FROM pdfs")) if "pdfs" in tables else [],
        }
    finally:
        conn.close()


# --- papers -----------------------------------------------------------------------------------------------------


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _insert_row(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    """INSERT one encoded row (column names come from this module's column lists, never from users)."""
    cols = list(row)
    cur = conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_placeholders(cols)})", list(row.values()))
    return int(cur.lastrowid or 0)  # set by every INSERT


def _update_row(conn: sqlite3.Connection, table: str, row_id: int, row: dict[str, Any]) -> None:
    if row:
        sets = ", ".join(f"{c} = ?" for c in row)
        conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*row.values(), row_id])


def find_paper_id(conn: sqlite3.Connection, *, arxiv_id=None, doi=None, title_norm=None) -> int | None:
    """The id of the paper matching by arXiv id, then DOI, then normalised title."""
    for column, value in (("arxiv_id", arxiv_id), ("doi", doi), ("title_norm", title_norm)):
        if value:
            row = conn.execute(f"SELECT id FROM papers WHERE {column} = ? ORDER BY id LIMIT 1", (value,)).fetchone()
            if row:
                return row[0]
    return None


def similar_title(conn: sqlite3.Connection, title_norm: str, paper_id: int) -> tuple[int, str] | None:
    """``(id, title)`` of another paper whose normalised title begins with this one's, or that this one begins
    with, word for word ("deep residual learning" and "deep residual learning for image recognition")."""
    row = conn.execute(
        "SELECT id, title, title_norm FROM papers WHERE id != ? AND title_norm != '' AND title_norm != ? AND ("
        "substr(title_norm, 1, length(?) + 1) = ? || ' ' OR substr(?, 1, length(title_norm) + 1) = title_norm || ' ')"
        " ORDER BY id LIMIT 1",
        (paper_id, title_norm, title_norm, title_norm, title_norm),
    ).fetchone()
    return (row[0], row[1]) if row else None


def paper_exists(conn: sqlite3.Connection, paper_id: int) -> bool:
    return conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone() is not None


def _encode(fields: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in fields.items():
        if key not in PAPER_COLUMNS:
            raise KeyError(f"unknown paper column {key!r}")
        if key in _JSON_COLUMNS:
            value = json.dumps(list(value or []), ensure_ascii=False)
        elif key == "needs_refresh":
            value = int(bool(value))
        out[key] = value
    return out


def insert_paper(conn: sqlite3.Connection, fields: dict[str, Any]) -> int:
    return _insert_row(conn, "papers", _encode(fields))


def update_paper(conn: sqlite3.Connection, paper_id: int, fields: dict[str, Any]) -> None:
    _update_row(conn, "papers", paper_id, _encode(fields))


def delete_paper(conn: sqlite3.Connection, paper_id: int) -> None:
    conn.execute("DELETE FROM papers WHERE id = ?", (paper_id,))


def paper_rows(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Full paper dicts (tags, notes, reads, linked models, PDFs) for ``ids``, keyed by id."""
    if not ids:
        return {}
    arg = json.dumps(list(ids))
    papers: dict[int, dict[str, Any]] = {}
    for row in conn.execute("SELECT * FROM papers WHERE id IN (SELECT value FROM json_each(?))", (arg,)):
        p = dict(row)
        for key in _JSON_COLUMNS:
            p[key] = json.loads(p[key] or "[]")
        p["needs_refresh"] = bool(p["needs_refresh"])
        p.update(tags=[], notes=[], reads=[], models=[], pdfs=[])
        papers[p["id"]] = p
    sel = "SELECT value FROM json_each(?)"
    for pid, tag in conn.execute(f"SELECT paper_id, tag FROM tags WHERE paper_id IN ({sel}) ORDER BY tag", (arg,)):
        papers[pid]["tags"].append(tag)
    for r in conn.execute(
        f"SELECT id, paper_id, text, created_at FROM notes WHERE paper_id IN ({sel}) ORDER BY id", (arg,)
    ):
        papers[r["paper_id"]]["notes"].append({"id": r["id"], "text": r["text"], "created_at": r["created_at"]})
    for r in conn.execute(
        f"SELECT id, paper_id, read_on, created_at FROM reads WHERE paper_id IN ({sel}) ORDER BY read_on, id", (arg,)
    ):
        papers[r["paper_id"]]["reads"].append({"id": r["id"], "read_on": r["read_on"], "created_at": r["created_at"]})
    for pid, model in conn.execute(
        f"SELECT p.id, l.model FROM links l JOIN papers p ON p.arxiv_id = l.arxiv_id "
        f"WHERE p.id IN ({sel}) ORDER BY l.model",
        (arg,),
    ):
        papers[pid]["models"].append(model)
    for r in conn.execute(
        f"SELECT paper_id, file_name, page_count, sha256 FROM pdfs WHERE paper_id IN ({sel}) ORDER BY added_at, sha256",
        (arg,),
    ):
        papers[r["paper_id"]]["pdfs"].append({"file_name": r["file_name"], "pages": r["page_count"],
                                              "sha256": r["sha256"]})
    return papers


_SORTS = {
    "added": "p.added_at DESC, p.id DESC",
    "read": "last_read DESC NULLS LAST, p.added_at DESC, p.id DESC",
    "title": "p.title COLLATE NOCASE ASC, p.id ASC",
    "year": "p.year DESC NULLS LAST, p.added_at DESC, p.id DESC",
    "rating": "p.rating DESC NULLS LAST, p.added_at DESC, p.id DESC",
}
SORT_KEYS = tuple(_SORTS)


def select_paper_ids(
    conn: sqlite3.Connection,
    *,
    tag: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    read_since: str | None = None,
    read_until: str | None = None,
    ids: Iterable[int] | None = None,
    sort: str = "added",
    limit: int | None = None,
) -> list[int]:
    """Ids of papers matching every given filter, in ``sort`` order.

    ``since``/``until`` (inclusive ``YYYY-MM-DD``) match a paper added or read in the range; ``read_since`` /
    ``read_until`` match read dates only.
    """
    where: list[str] = []
    args: list[Any] = []
    if tag is not None:
        where.append("p.id IN (SELECT paper_id FROM tags WHERE tag = ?)")
        args.append(tag)
    if status is not None:
        where.append("p.status = ?")
        args.append(status)
    if year_min is not None:
        where.append("p.year >= ?")
        args.append(year_min)
    if year_max is not None:
        where.append("p.year <= ?")
        args.append(year_max)
    if since is not None or until is not None:
        lo, hi = since or "0000-00-00", until or "9999-99-99"
        where.append(
            "(substr(p.added_at, 1, 10) BETWEEN ? AND ? OR "
            "p.id IN (SELECT paper_id FROM reads WHERE read_on BETWEEN ? AND ?))"
        )
        args += [lo, hi, lo, hi]
    if read_since is not None or read_until is not None:
        where.append("p.id IN (SELECT paper_id FROM reads WHERE read_on BETWEEN ? AND ?)")
        args += [read_since or "0000-00-00", read_until or "9999-99-99"]
    if ids is not None:
        where.append("p.id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps([int(i) for i in ids]))
    sql = "SELECT p.id, (SELECT max(read_on) FROM reads r WHERE r.paper_id = p.id) AS last_read FROM papers p"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + _SORTS[sort]
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [row[0] for row in conn.execute(sql, args)]


def count_papers(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM papers").fetchone()[0]


def data_version(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]


def candidates_version(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT value FROM meta WHERE key = 'candidates_version'").fetchone()[0]


# --- notes, tags, reads -----------------------------------------------------------------------------------------


def insert_note(conn: sqlite3.Connection, paper_id: int, text: str, created_at: str) -> int:
    cur = conn.execute("INSERT INTO notes (paper_id, text, created_at) VALUES (?, ?, ?)", (paper_id, text, created_at))
    return int(cur.lastrowid or 0)  # set by every INSERT


def has_note(conn: sqlite3.Connection, paper_id: int, text: str) -> bool:
    return conn.execute("SELECT 1 FROM notes WHERE paper_id = ? AND text = ?", (paper_id, text)).fetchone() is not None


def select_note(conn: sqlite3.Connection, note_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, paper_id, text, created_at FROM notes WHERE id = ?", (note_id,)).fetchone()
    return None if row is None else dict(row)


def update_note(conn: sqlite3.Connection, note_id: int, text: str) -> None:
    """Replace a note's text (the notes triggers keep papers_fts and data_version in step)."""
    conn.execute("UPDATE notes SET text = ? WHERE id = ?", (text, note_id))


def delete_note(conn: sqlite3.Connection, note_id: int) -> None:
    conn.execute("DELETE FROM notes WHERE id = ?", (note_id,))


def insert_tags(conn: sqlite3.Connection, paper_id: int, tags: Iterable[str]) -> None:
    conn.executemany("INSERT OR IGNORE INTO tags (paper_id, tag) VALUES (?, ?)", [(paper_id, t) for t in tags])


def delete_tags(conn: sqlite3.Connection, paper_id: int, tags: Iterable[str]) -> None:
    conn.executemany("DELETE FROM tags WHERE paper_id = ? AND tag = ?", [(paper_id, t) for t in tags])


def insert_read(conn: sqlite3.Connection, paper_id: int, read_on: str, created_at: str) -> bool:
    """Record a read; False when this paper already has one on that day."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO reads (paper_id, read_on, created_at) VALUES (?, ?, ?)", (paper_id, read_on, created_at)
    )
    return cur.rowcount > 0


def read_dates(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """(read_on, number of papers read that day), oldest first."""
    return [
        (r[0], r[1])
        for r in conn.execute("SELECT read_on, count(DISTINCT paper_id) FROM reads GROUP BY read_on ORDER BY read_on")
    ]


def tag_counts(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY n DESC, tag")
    return {r[0]: r[1] for r in rows}


# --- search and index feed --------------------------------------------------------------------------------------


def fts_search(
    conn: sqlite3.Connection, match: str, k: int, ids: Iterable[int] | None = None
) -> list[tuple[int, float]]:
    """BM25 over title (weight 2), abstract and notes; scores negated so that higher is better."""
    sql = "SELECT rowid, -bm25(papers_fts, 2.0, 1.0, 1.0) AS score FROM papers_fts WHERE papers_fts MATCH ?"
    args: list[Any] = [match]
    if ids is not None:
        sql += " AND rowid IN (SELECT value FROM json_each(?))"
        args.append(json.dumps([int(i) for i in ids]))
    sql += " ORDER BY bm25(papers_fts, 2.0, 1.0, 1.0) LIMIT ?"
    args.append(int(k))
    return [(r[0], float(r[1])) for r in conn.execute(sql, args)]


def substring_hits(conn: sqlite3.Connection, term: str, ids: Iterable[int] | None = None) -> dict[int, int]:
    """Papers whose title, abstract or notes contain ``term`` verbatim: id -> 2 (title) + 1 (abstract) + 1 (notes)
    for the fields that contain it. A scan, for words the FTS tokenizer cannot isolate (CJK)."""
    sql = (
        "SELECT id, s FROM (SELECT p.id, 2 * (instr(p.title, :t) > 0) + (instr(p.abstract, :t) > 0)"
        " + EXISTS (SELECT 1 FROM notes n WHERE n.paper_id = p.id AND instr(n.text, :t) > 0) AS s FROM papers p"
    )
    args: dict[str, Any] = {"t": term}
    if ids is not None:
        sql += " WHERE p.id IN (SELECT value FROM json_each(:ids))"
        args["ids"] = json.dumps([int(i) for i in ids])
    return {r[0]: r[1] for r in conn.execute(sql + ") WHERE s > 0", args)}


def texts(conn: sqlite3.Connection, ids: Iterable[int] | None = None) -> list[tuple[int, str, str, list[str]]]:
    """(id, title, abstract, notes oldest first) for ``ids`` (all papers when None), by id."""
    sql = "SELECT id, title, abstract FROM papers"
    args: list[Any] = []
    if ids is not None:
        sql += " WHERE id IN (SELECT value FROM json_each(?))"
        args.append(json.dumps([int(i) for i in ids]))
    rows = conn.execute(sql + " ORDER BY id", args).fetchall()
    notes: dict[int, list[str]] = {}
    nsql = "SELECT paper_id, text FROM notes"
    if ids is not None:
        nsql += " WHERE paper_id IN (SELECT value FROM json_each(?))"
    for pid, text in conn.execute(nsql + " ORDER BY id", args):
        notes.setdefault(pid, []).append(text)
    return [(r[0], r[1], r[2], notes.get(r[0], [])) for r in rows]


# --- inbox candidates -------------------------------------------------------------------------------------------

CANDIDATE_COLUMNS = (
    "arxiv_id", "doi", "title", "authors", "abstract", "year", "venue", "categories", "url", "published",
    "fetched_at", "state", "decided_at", "paper_id",
)


def _encode_candidate(fields: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in fields.items():
        if key not in CANDIDATE_COLUMNS:
            raise KeyError(f"unknown candidate column {key!r}")
        out[key] = json.dumps(list(value or []), ensure_ascii=False) if key in ("authors", "categories") else value
    return out


def insert_candidate(conn: sqlite3.Connection, fields: dict[str, Any]) -> int:
    return _insert_row(conn, "candidates", _encode_candidate(fields))


def update_candidate(conn: sqlite3.Connection, cid: int, fields: dict[str, Any]) -> None:
    _update_row(conn, "candidates", cid, _encode_candidate(fields))


def candidate_states(conn: sqlite3.Connection, arxiv_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
    """arXiv id -> (candidate id, state) for those of ``arxiv_ids`` ever fetched into the inbox."""
    rows = conn.execute(
        "SELECT arxiv_id, id, state FROM candidates WHERE arxiv_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(arxiv_ids)),),
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def select_candidates(
    conn: sqlite3.Connection,
    *,
    states: Iterable[str] | None = None,
    ids: Iterable[int] | None = None,
    arxiv_id: str | None = None,
    limit: int | None = None,
    waiting_only: bool = False,
) -> list[dict[str, Any]]:
    """Candidates matching every filter, newest submission first; ``waiting_only`` leaves out those whose paper
    reached the log by another way (``reading add``) since they were fetched."""
    where: list[str] = []
    args: list[Any] = []
    if waiting_only:
        where.append("arxiv_id NOT IN (SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL)")
    if states is not None:
        where.append("state IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(list(states)))
    if ids is not None:
        where.append("id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps([int(i) for i in ids]))
    if arxiv_id is not None:
        where.append("arxiv_id = ?")
        args.append(arxiv_id)
    sql = "SELECT * FROM candidates"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY coalesce(published, substr(fetched_at, 1, 10)) DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    out = []
    for r in conn.execute(sql, args):
        c = dict(r)
        c["authors"] = json.loads(c["authors"] or "[]")
        c["categories"] = json.loads(c["categories"] or "[]")
        out.append(c)
    return out


def delete_candidates_before(conn: sqlite3.Connection, state: str, day: str) -> int:
    """Delete candidates in ``state`` submitted (or, lacking a date, fetched) before ``day``; returns how many."""
    cur = conn.execute(
        "DELETE FROM candidates WHERE state = ? AND coalesce(published, substr(fetched_at, 1, 10)) < ?", (state, day)
    )
    return cur.rowcount


# --- links, results, settings -----------------------------------------------------------------------------------


def upsert_link(conn: sqlite3.Connection, model: str, arxiv_id: str, role: str, created_at: str) -> None:
    conn.execute(
        "INSERT INTO links (model, arxiv_id, role, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (model, arxiv_id) DO UPDATE SET role = excluded.role",
        (model, arxiv_id, role, created_at),
    )


def linked_models(conn: sqlite3.Connection, arxiv_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT model FROM links WHERE arxiv_id = ? ORDER BY model", (arxiv_id,))]


def linked_paper_ids(conn: sqlite3.Connection, model: str) -> list[int]:
    rows = conn.execute(
        "SELECT p.id FROM links l JOIN papers p ON p.arxiv_id = l.arxiv_id WHERE l.model = ? ORDER BY p.id", (model,)
    )
    return [r[0] for r in rows]


def all_links(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute("SELECT model, arxiv_id, role FROM links ORDER BY arxiv_id, model")]


def insert_result(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    cur = conn.execute(
        "INSERT INTO results (model, weights, metric, value, env, source, measured_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (row["model"], row["weights"], row["metric"], row["value"], json.dumps(row["env"], ensure_ascii=False),
         row["source"], row["measured_at"]),
    )
    return int(cur.lastrowid or 0)  # set by every INSERT


def select_results(conn: sqlite3.Connection, model: str | None, metric: str | None) -> list[dict[str, Any]]:
    where: list[str] = []
    args: list[Any] = []
    if model is not None:
        where.append("model = ?")
        args.append(model)
    if metric is not None:
        where.append("metric = ?")
        args.append(metric)
    sql = "SELECT id, model, weights, metric, value, env, source, measured_at FROM results"
    if where:
        sql += " WHERE " + " AND ".join(where)
    out = []
    for r in conn.execute(sql + " ORDER BY measured_at, id", args):
        d = dict(r)
        d["env"] = json.loads(d["env"] or "{}")
        out.append(d)
    return out


def get_setting(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_setting(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


# --- full text: PDFs, their pages, page search ------------------------------------------------------------------

PDF_COLUMNS = ("sha256", "paper_id", "file_name", "size", "page_count", "has_text", "added_at")


def insert_pdf(conn: sqlite3.Connection, row: dict[str, Any], pages: Sequence[str],
               layouts: Sequence[str | None] = (), references: Sequence[tuple[int, str]] = ()) -> None:
    """One PDF, its pages' text and layout (JSON; page numbers from 1) and its reference list (page, entry)."""
    conn.execute(f"INSERT INTO pdfs ({', '.join(PDF_COLUMNS)}) VALUES ({_placeholders(PDF_COLUMNS)})",
                 [row[c] for c in PDF_COLUMNS])
    _insert_pages(conn, row["sha256"], pages, layouts, references)


def _insert_pages(conn: sqlite3.Connection, sha256: str, pages: Sequence[str], layouts: Sequence[str | None],
                  references: Sequence[tuple[int, str]]) -> None:
    conn.executemany("INSERT INTO pages (sha256, page, text, layout) VALUES (?, ?, ?, ?)",
                     [(sha256, n, text, layouts[n - 1] if n <= len(layouts) else None)
                      for n, text in enumerate(pages, start=1)])
    conn.executemany("INSERT INTO pdf_references (sha256, number, page, text) VALUES (?, ?, ?, ?)",
                     [(sha256, n, page, text) for n, (page, text) in enumerate(references, start=1)])


def replace_pages(conn: sqlite3.Connection, sha256: str, pages: Sequence[str], layouts: Sequence[str | None],
                  references: Sequence[tuple[int, str]]) -> None:
    """A stored PDF's pages and reference list read again: new page rows (the passage index sees the old ones
    removed and new ones added), and the pages version moves on."""
    conn.execute("DELETE FROM pages WHERE sha256 = ?", (sha256,))
    conn.execute("DELETE FROM pdf_references WHERE sha256 = ?", (sha256,))
    _insert_pages(conn, sha256, pages, layouts, references)
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'pages_version'")


def settle_layouts(conn: sqlite3.Connection, sha256: str, layout: str) -> None:
    """Give a PDF's pages without a layout this one (a PDF that cannot be read again keeps its text)."""
    conn.execute("UPDATE pages SET layout = ? WHERE sha256 = ? AND layout IS NULL", (layout, sha256))


def pdfs_without_layout(conn: sqlite3.Connection) -> list[str]:
    """The PDFs with a text layer stored before page layouts were (oldest first)."""
    return [r[0] for r in conn.execute(
        "SELECT d.sha256 FROM pdfs d WHERE d.has_text AND EXISTS "
        "(SELECT 1 FROM pages g WHERE g.sha256 = d.sha256 AND g.layout IS NULL) ORDER BY d.added_at, d.sha256")]


def page_layouts(conn: sqlite3.Connection, shas: Iterable[str]) -> dict[str, dict[int, str | None]]:
    """sha256 -> page number -> its layout JSON (None for a page stored before layouts were), for these PDFs."""
    out: dict[str, dict[int, str | None]] = {}
    for r in conn.execute("SELECT sha256, page, layout FROM pages WHERE sha256 IN (SELECT value FROM json_each(?))",
                          (json.dumps(sorted(set(shas))),)):
        out.setdefault(r[0], {})[r[1]] = r[2]
    return out


def select_references(conn: sqlite3.Connection, sha256: str | None = None) -> list[dict[str, Any]]:
    """Reference entries of one PDF (or all), in list order: sha256, paper_id, number, page, text."""
    sql = ("SELECT r.sha256, d.paper_id, r.number, r.page, r.text FROM pdf_references r "
           "JOIN pdfs d ON d.sha256 = r.sha256")
    args: list[Any] = []
    if sha256 is not None:
        sql += " WHERE r.sha256 = ?"
        args.append(sha256)
    return [dict(r) for r in conn.execute(sql + " ORDER BY d.added_at, r.sha256, r.number", args)]


def select_pdfs(conn: sqlite3.Connection, *, paper_id: int | None = None, sha256: str | None = None
                ) -> list[dict[str, Any]]:
    """PDFs of one paper (oldest first), or the one with ``sha256``."""
    where: list[str] = []
    args: list[Any] = []
    if paper_id is not None:
        where.append("paper_id = ?")
        args.append(paper_id)
    if sha256 is not None:
        where.append("sha256 = ?")
        args.append(sha256)
    sql = f"SELECT {', '.join(PDF_COLUMNS)} FROM pdfs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    out = []
    for r in conn.execute(sql + " ORDER BY added_at, sha256", args):
        d = dict(r)
        d["has_text"] = bool(d["has_text"])
        out.append(d)
    return out


def pdf_shas(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT sha256 FROM pdfs")}


def delete_pdf(conn: sqlite3.Connection, sha256: str) -> None:
    conn.execute("DELETE FROM pdfs WHERE sha256 = ?", (sha256,))


def select_pages(conn: sqlite3.Connection, sha256: str, first: int = 1, last: int | None = None) -> list[str]:
    """The text of pages ``first``..``last`` (inclusive, 1-based) of one PDF."""
    rows = conn.execute("SELECT text FROM pages WHERE sha256 = ? AND page BETWEEN ? AND ? ORDER BY page",
                        (sha256, first, last if last is not None else 1 << 30))
    return [r[0] for r in rows]


def page_rows(conn: sqlite3.Connection, page_ids: Iterable[int] | None = None
              ) -> list[tuple[int, int, str, int, str]]:
    """(page row id, paper id, sha256, page number, text) of the given page rows (all when None), by row id."""
    sql = "SELECT g.id, d.paper_id, g.sha256, g.page, g.text FROM pages g JOIN pdfs d ON d.sha256 = g.sha256"
    args: list[Any] = []
    if page_ids is not None:
        sql += " WHERE g.id IN (SELECT value FROM json_each(?))"
        args.append(json.dumps([int(i) for i in page_ids]))
    return [(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(sql + " ORDER BY g.id", args)]


def pages_fts_search(conn: sqlite3.Connection, match: str, k: int, paper_ids: Iterable[int] | None = None
                     ) -> list[tuple[int, float]]:
    """BM25 over page text: (page row id, score), higher is better."""
    sql = "SELECT f.rowid, -bm25(pages_fts) AS score FROM pages_fts f"
    args: list[Any] = []
    if paper_ids is not None:
        sql += " JOIN pages g ON g.id = f.rowid JOIN pdfs d ON d.sha256 = g.sha256"
    sql += " WHERE pages_fts MATCH ?"
    args.append(match)
    if paper_ids is not None:
        sql += " AND d.paper_id IN (SELECT value FROM json_each(?))"
        args.append(json.dumps([int(i) for i in paper_ids]))
    sql += " ORDER BY bm25(pages_fts) LIMIT ?"
    args.append(int(k))
    return [(r[0], float(r[1])) for r in conn.execute(sql, args)]


def integrity_problems(conn: sqlite3.Connection, limit: int = 20) -> list[str]:
    """What ``PRAGMA quick_check`` and ``PRAGMA foreign_key_check`` find (empty when the file is sound)."""
    rows = [r[0] for r in conn.execute(f"PRAGMA quick_check({int(limit)})").fetchall()]
    found = [] if rows == ["ok"] else rows
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()[:limit]:
        found.append(f"row {rowid} of {table} refers to a row of {parent} that does not exist")
    return found


def library_id(conn: sqlite3.Connection) -> int | None:
    """The random id that ties the log to its PDF and index folders (None in a log not yet migrated)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'library_id'").fetchone()
    return None if row is None else int(row[0])


def pages_version(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT value FROM meta WHERE key = 'pages_version'").fetchone()[0]


def page_refs(conn: sqlite3.Connection) -> dict[int, int]:
    """Page row id -> paper id, for every stored page (page rows never change once written)."""
    return {r[0]: r[1] for r in conn.execute(
        "SELECT g.id, d.paper_id FROM pages g JOIN pdfs d ON d.sha256 = g.sha256 WHERE d.has_text")}


def page_keys(conn: sqlite3.Connection) -> dict[int, tuple[str, int]]:
    """Page row id -> (PDF sha256, page number), for every stored page with text: what a row id stands for now
    (row ids of removed pages are given out again, so the passage index checks this before trusting a vector)."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT g.id, g.sha256, g.page FROM pages g JOIN pdfs d ON d.sha256 = g.sha256 WHERE d.has_text")}


def paper_titles(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, str]:
    rows = conn.execute("SELECT id, title FROM papers WHERE id IN (SELECT value FROM json_each(?))",
                        (json.dumps([int(i) for i in ids]),))
    return {r[0]: r[1] for r in rows}


def count_pages(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM pages").fetchone()[0]


def pages_matching(conn: sqlite3.Connection, match: str) -> int:
    """How many pages an FTS5 expression matches (no ranking: a cheap walk of the term's page list)."""
    return conn.execute("SELECT count(*) FROM pages_fts WHERE pages_fts MATCH ?", (match,)).fetchone()[0]


# --- items imported from another reference manager ---------------------------------------------------------------


def imported_items(conn: sqlite3.Connection, source: str) -> dict[str, tuple[str, int | None]]:
    """Item key -> (kind, paper id or None when that paper was removed since) of what came from ``source``."""
    rows = conn.execute("SELECT item_key, kind, paper_id FROM imported_items WHERE source = ?", (source,))
    return {r[0]: (r[1], r[2]) for r in rows}


def record_imported(conn: sqlite3.Connection, source: str, rows: Iterable[tuple[str, str, int | None]],
                    imported_at: str) -> None:
    """Remember ``(item key, kind, paper id)`` rows of ``source`` (a key seen again keeps its first row)."""
    conn.executemany("INSERT OR IGNORE INTO imported_items (source, item_key, kind, paper_id, imported_at) "
                     "VALUES (?, ?, ?, ?, ?)", [(source, k, kind, pid, imported_at) for k, kind, pid in rows])


# --- citations ------------------------------------------------------------------------------------------------

CITATION_COLUMNS = ("sha256", "number", "paper_id", "page", "text", "arxiv_id", "doi", "title", "title_norm",
                    "authors", "year", "cited_id", "work_key", "title_key")


def replace_citations(conn: sqlite3.Connection, sha256: str, rows: Sequence[dict[str, Any]]) -> None:
    """The reference entries of one PDF, parsed and matched (what was stored for it before is replaced).

    Grouping keys stay consistent across the library: an entry with an id (``work_key`` not its ``title_key``)
    moves the entries stored before with the same title key to its key; an entry with a title only joins the key
    that the title was given before."""
    conn.execute("DELETE FROM citations WHERE sha256 = ?", (sha256,))
    for r in rows:
        tk = r.get("title_key")
        if tk and r.get("work_key") and r["work_key"] != tk:
            conn.execute("UPDATE citations SET work_key = ? WHERE title_key = ? AND work_key = title_key",
                         (r["work_key"], tk))
        elif tk:
            row = conn.execute("SELECT work_key FROM citations WHERE title_key = ? AND work_key != title_key LIMIT 1",
                               (tk,)).fetchone()
            if row:
                r = {**r, "work_key": row[0]}
        conn.execute(f"INSERT INTO citations ({', '.join(CITATION_COLUMNS)}) VALUES ({_placeholders(CITATION_COLUMNS)})",
                     [json.dumps(r[c], ensure_ascii=False) if c == "authors" else r.get(c) for c in CITATION_COLUMNS])


def _citation(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    if "authors" in d:
        d["authors"] = json.loads(d["authors"] or "[]")
    return d


def select_citations(conn: sqlite3.Connection, *, paper_id: int | None = None, cited_id: int | None = None
                     ) -> list[dict[str, Any]]:
    """Citation rows of one citing paper (its PDFs' entries, in list order) or to one cited paper, with the other
    side's title (``cited_title`` / ``citing_title``)."""
    sql = ("SELECT c.*, cp.title AS cited_title, gp.title AS citing_title FROM citations c "
           "JOIN papers gp ON gp.id = c.paper_id LEFT JOIN papers cp ON cp.id = c.cited_id")
    if paper_id is not None:
        rows = conn.execute(sql + " WHERE c.paper_id = ? ORDER BY c.sha256, c.number", (paper_id,))
    else:
        rows = conn.execute(sql + " WHERE c.cited_id = ? AND c.paper_id != c.cited_id ORDER BY c.paper_id, c.page, "
                            "c.number", (cited_id,))
    return [_citation(r) for r in rows]


def pending_citations(conn: sqlite3.Connection, words: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Unmatched references: sha256, number, paper_id, text, arxiv_id, doi, title_norm, authors, year; all of them,
    or those whose text holds one of ``words`` (ASCII, any case)."""
    sql = ("SELECT sha256, number, paper_id, text, arxiv_id, doi, title_norm, authors, year FROM citations "
           "WHERE cited_id IS NULL")
    args: list[Any] = []
    if words is not None:
        if not words:
            return []
        sql += " AND (" + " OR ".join("instr(lower(text), ?) > 0" for _ in words) + ")"
        args += [w.lower() for w in words]
    return [_citation(r) for r in conn.execute(sql, args)]


def link_citations(conn: sqlite3.Connection, links: Iterable[tuple[int, str, int]]) -> None:
    """Set (cited paper id, sha256, entry number) edges on pending references."""
    conn.executemany("UPDATE citations SET cited_id = ? WHERE sha256 = ? AND number = ? AND cited_id IS NULL",
                     list(links))


def matching_papers(conn: sqlite3.Connection, min_id: int = 0) -> list[dict[str, Any]]:
    """id, arxiv_id, doi, title_norm, year, authors of the papers with an id above ``min_id``."""
    rows = conn.execute("SELECT id, arxiv_id, doi, title_norm, year, authors FROM papers WHERE id > ? ORDER BY id",
                        (min_id,))
    return [_citation(r) for r in rows]


def max_paper_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM papers").fetchone()[0]


def get_meta(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return 0 if row is None else int(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (key, int(value)))


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def unparsed_reference_shas(conn: sqlite3.Connection) -> list[str]:
    """PDFs whose reference entries (``pdf_references``) have no citation rows yet."""
    if not has_table(conn, "pdf_references"):
        return []
    rows = conn.execute("SELECT p.sha256 FROM pdfs p WHERE NOT EXISTS (SELECT 1 FROM citations c WHERE c.sha256 = "
                        "p.sha256) AND EXISTS (SELECT 1 FROM pdf_references r WHERE r.sha256 = p.sha256)")
    return [r[0] for r in rows]


def _tag_filter(tag: str | None, args: list[Any]) -> str:
    if tag is None:
        return ""
    args.append(tag)
    return " AND c.paper_id IN (SELECT paper_id FROM tags WHERE tag = ?)"


def suggestion_groups(conn: sqlite3.Connection, *, tag: str | None, min_count: int, limit: int
                      ) -> list[dict[str, Any]]:
    """The works (``work_key``) that unmatched references of at least ``min_count`` papers name: ``{work_key,
    count, last_read}``, most citing papers first, then the latest read among them (only papers with ``tag``).

    The pending references are grouped first (walking the pending-work index), the citing papers' last reads looked
    up per group after: per reference, that join cost more than the grouping."""
    args: list[Any] = []
    sql = ("SELECT work_key, count, (SELECT max(r.read_on) FROM reads r WHERE r.paper_id IN (SELECT value FROM "
           "json_each('[' || papers || ']'))) AS last_read FROM (SELECT c.work_key, count(DISTINCT c.paper_id) AS count, "
           "group_concat(DISTINCT c.paper_id) AS papers FROM citations c INDEXED BY citations_pending_work "
           "WHERE c.cited_id IS NULL AND c.work_key IS NOT NULL" + _tag_filter(tag, args)
           + " GROUP BY c.work_key HAVING count(DISTINCT c.paper_id) >= ?) "
           "ORDER BY count DESC, last_read DESC NULLS LAST, work_key LIMIT ?")
    args += [int(min_count), int(limit)]
    return [dict(r) for r in conn.execute(sql, args)]


def work_variants(conn: sqlite3.Connection, work_keys: Sequence[str], tag: str | None = None
                  ) -> list[dict[str, Any]]:
    """How the unmatched references of these works are written: one row per (work_key, title, year, arxiv_id,
    doi) with ``n`` entries written so and ``papers`` (the citing paper ids, comma-separated)."""
    args: list[Any] = [json.dumps(list(work_keys))]
    sql = ("SELECT c.work_key, c.title, c.year, c.arxiv_id, c.doi, count(*) AS n, group_concat(DISTINCT c.paper_id) "
           "AS papers FROM json_each(?) j JOIN citations c INDEXED BY citations_pending_work ON c.work_key = j.value "
           "WHERE c.cited_id IS NULL" + _tag_filter(tag, args) + " GROUP BY c.work_key, c.title, c.year, c.arxiv_id, "
           "c.doi")
    return [dict(r) for r in conn.execute(sql, args)]


def citation_keys(conn: sqlite3.Connection) -> dict[tuple[str, int], str | None]:
    """(sha256, entry number) -> work_key of every unmatched reference (for the benchmark's grouping score)."""
    return {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT sha256, number, work_key FROM citations WHERE cited_id IS NULL")}


def citation_edges(conn: sqlite3.Connection, paper_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(citing, cited) edges within the log that touch any of ``paper_ids``."""
    arg = json.dumps([int(i) for i in paper_ids])
    rows = conn.execute(
        "SELECT DISTINCT paper_id, cited_id FROM citations WHERE cited_id IS NOT NULL AND paper_id != cited_id AND "
        "(paper_id IN (SELECT value FROM json_each(?)) OR cited_id IN (SELECT value FROM json_each(?)))", (arg, arg))
    return [(r[0], r[1]) for r in rows]
