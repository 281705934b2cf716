"""Reading a Zotero data folder as a guest: ``zotero.sqlite`` is never opened in place.

Zotero holds an exclusive lock on its database while it runs, so the file (with its ``-wal`` or ``-journal`` when
present) is copied into a private temporary folder and the copy is read; the user's folder is only ever read, byte
for byte, and nothing is written beside it. A copy taken while Zotero writes is detected (size or modification time
changed during the copy) and taken again.

Everything is read by Zotero's own names (``itemTypes.typeName``, ``fields.fieldName``, ``creatorTypes.creatorType``,
``libraries.type``), never by numeric ids, which differ between installations and schema versions.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import InvalidInput

DB_NAME = "zotero.sqlite"
#: Tables a Zotero database has (``resource/schema/userdata.sql``); checked before anything is read.
REQUIRED_TABLES = ("items", "itemTypes", "fields", "itemData", "itemDataValues", "creators", "itemCreators",
                   "creatorTypes", "tags", "itemTags", "collections", "collectionItems", "itemAttachments", "itemNotes",
                   "deletedItems")
# itemAttachments.linkMode (Zotero.Attachments.LINK_MODE_*)
IMPORTED_FILE, IMPORTED_URL, LINKED_FILE, LINKED_URL, EMBEDDED_IMAGE = range(5)
# itemAnnotations.type (Zotero.Annotations.ANNOTATION_TYPE_*)
ANNOTATION_TYPES = {1: "highlight", 2: "note", 3: "image", 4: "ink", 5: "underline", 6: "text"}
NOT_PAPERS = {"note", "attachment", "annotation"}


@dataclass
class Attachment:
    item_id: int
    key: str
    parent: int | None
    link_mode: int | None
    content_type: str
    path: str
    title: str
    date_added: str


@dataclass
class Annotation:
    item_id: int
    key: str
    attachment: int
    kind: str
    text: str
    comment: str
    page_label: str
    sort_index: str
    date_added: str


@dataclass
class ZItem:
    """A regular Zotero item (a would-be paper): its fields by name, creators in order, tags, collection paths."""

    item_id: int
    key: str
    library: str
    type_name: str
    date_added: str
    fields: dict[str, str] = field(default_factory=dict)
    creators: list[tuple[str, str]] = field(default_factory=list)  # (creatorType, "First Last")
    tags: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    primary_creator: str | None = None


@dataclass
class Library:
    """What an import needs from a Zotero database, read in one pass."""

    items: dict[int, ZItem] = field(default_factory=dict)
    notes: list[tuple[int, str, int | None, str, str]] = field(default_factory=list)  # id, key, parent, html, added
    attachments: dict[int, Attachment] = field(default_factory=dict)
    annotations: list[Annotation] = field(default_factory=list)
    keys: dict[int, tuple[str, str]] = field(default_factory=dict)  # item id -> (library, key)
    attachment_collections: dict[int, list[str]] = field(default_factory=dict)
    trashed: int = 0
    other_types: int = 0


def find_database(folder: str | Path) -> Path:
    """``zotero.sqlite`` in a Zotero data folder (or the file itself).

    Raises:
        InvalidInput: no such folder or no Zotero database in it.
    """
    path = Path(folder).expanduser()
    if path.is_file() and path.name.endswith(".sqlite"):
        return path
    if not path.is_dir():
        raise InvalidInput(f"no Zotero data folder {str(path)!r} (Zotero shows it under Settings > Advanced > Files "
                           "and Folders)")
    db = path / DB_NAME
    if not db.is_file():
        raise InvalidInput(f"no {DB_NAME} in {path}: is it a Zotero data folder?")
    return db


_BASE_PREF = re.compile(r'user_pref\("extensions\.zotero\.baseAttachmentPath",\s*("(?:[^"\\]|\\.)*")\);')


def linked_files_base() -> Path | None:
    """Zotero's base folder for linked files, from its profile's ``prefs.js`` (read only), or None."""
    home = Path.home()
    roots = [home / ".zotero" / "zotero", home / "Library" / "Application Support" / "Zotero" / "Profiles"]
    if os.environ.get("APPDATA"):
        roots.append(Path(os.environ["APPDATA"]) / "Zotero" / "Zotero" / "Profiles")
    for root in roots:
        for prefs in sorted(root.glob("*/prefs.js")) if root.is_dir() else []:
            try:
                m = _BASE_PREF.search(prefs.read_text(encoding="utf-8", errors="replace"))
                if m:
                    return Path(json.loads(m.group(1)))
            except (OSError, ValueError):
                continue
    return None


def _stamp(db: Path) -> tuple[tuple[int, int] | None, ...]:
    out: list[tuple[int, int] | None] = []
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-journal")):
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


@contextlib.contextmanager
def snapshot(db: Path, *, tries: int = 5) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a private, consistent copy of the Zotero database ``db``.

    The copy (and a copied ``-wal`` / ``-journal``) is opened by SQLite as a normal database so that committed WAL
    frames are applied and a half-written transaction is rolled back, as Zotero itself would see the file; then
    ``query_only`` is set. The copy is deleted on exit; ``db`` and its folder are never written.

    Raises:
        InvalidInput: the file cannot be read, is not SQLite, or is not a Zotero database.
    """
    with tempfile.TemporaryDirectory(prefix="paper-zoo-zotero-") as tmp:
        copy = Path(tmp) / DB_NAME
        for attempt in range(tries):
            before = _stamp(db)
            try:
                shutil.copyfile(db, copy)
                for suffix in ("-wal", "-journal"):
                    side = db.with_name(db.name + suffix)
                    target = copy.with_name(copy.name + suffix)
                    target.unlink(missing_ok=True)
                    if side.is_file():
                        shutil.copyfile(side, target)
            except OSError as err:
                raise InvalidInput(f"cannot read {db}: {err.strerror or err}") from None
            if _stamp(db) == before:
                break
            time.sleep(0.2 * (attempt + 1))  # Zotero was writing: take the copy again
        conn = sqlite3.connect(str(copy), isolation_level=None)
        try:
            try:
                conn.execute("PRAGMA query_only = 1")
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            except sqlite3.DatabaseError as err:
                raise InvalidInput(f"{db} is not a readable SQLite database: {err}") from None
            missing = [t for t in REQUIRED_TABLES if t not in tables]
            if missing:
                raise InvalidInput(f"{db} is not a Zotero database (no {', '.join(missing[:4])} table)")
            yield conn
        finally:
            conn.close()


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _names(conn: sqlite3.Connection, tables: set[str], base: str, id_col: str, name_col: str) -> dict[int, str]:
    """id -> name from ``base`` and Zotero's ``…Combined`` copy of it (custom types and fields live only there)."""
    out: dict[int, str] = {}
    for table in (base, base + "Combined"):
        if table in tables:
            out.update({r[0]: r[1] for r in conn.execute(f"SELECT {id_col}, {name_col} FROM {table}")})
    return out


def _libraries(conn: sqlite3.Connection, tables: set[str]) -> dict[int, str | None]:
    """libraryID -> a stable name for it (``user``, ``group:<groupID>``); None for feeds (not the user's items)."""
    if "libraries" not in tables:
        return {}
    cols = {r[1] for r in conn.execute("PRAGMA table_info(libraries)")}
    type_col = "type" if "type" in cols else "libraryType" if "libraryType" in cols else None
    groups = {}
    if "groups" in tables:
        groups = {r[0]: r[1] for r in conn.execute("SELECT libraryID, groupID FROM groups")}
    out: dict[int, str | None] = {}
    for row in conn.execute(f"SELECT libraryID, {type_col or 'NULL'} FROM libraries"):
        kind = row[1] or "user"
        out[row[0]] = None if kind == "feed" else f"group:{groups[row[0]]}" if row[0] in groups else kind
    return out


def read_library(conn: sqlite3.Connection) -> Library:
    """Every item of the user's and group libraries (feeds left out) that is not in the trash, with its data."""
    tables = _tables(conn)
    types = _names(conn, tables, "itemTypes", "itemTypeID", "typeName")
    fields = _names(conn, tables, "fields", "fieldID", "fieldName")
    libraries = _libraries(conn, tables)
    deleted = {r[0] for r in conn.execute("SELECT itemID FROM deletedItems")}
    lib = Library()
    kinds: dict[int, str] = {}
    added: dict[int, str] = {}
    titles: dict[int, str] = {}  # of attachments
    for item_id, type_id, date_added, library_id, key in conn.execute(
            "SELECT itemID, itemTypeID, dateAdded, libraryID, key FROM items"):
        library = libraries.get(library_id, "user") if libraries else "user"
        if library is None:
            continue  # a feed's item: not in the user's library
        type_name = types.get(type_id, "")
        kinds[item_id] = type_name
        added[item_id] = str(date_added or "")
        lib.keys[item_id] = (library, str(key))
        if item_id in deleted:
            if type_name not in NOT_PAPERS:
                lib.trashed += 1
            continue
        if type_name not in NOT_PAPERS:
            lib.items[item_id] = ZItem(item_id, str(key), library, type_name, str(date_added or ""))
    live = {i for i in lib.keys if i not in deleted}

    for item_id, field_id, value in conn.execute(
            "SELECT d.itemID, d.fieldID, v.value FROM itemData d JOIN itemDataValues v ON v.valueID = d.valueID"):
        name = fields.get(field_id)
        if name is None or value is None:
            continue
        if item_id in lib.items:
            lib.items[item_id].fields[name] = str(value)
        elif name == "title" and kinds.get(item_id) == "attachment":
            titles[item_id] = str(value)

    creator_types = _names(conn, tables, "creatorTypes", "creatorTypeID", "creatorType")
    for item_id, first, last, mode, type_id in conn.execute(
            "SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ic.creatorTypeID FROM itemCreators ic "
            "JOIN creators c ON c.creatorID = ic.creatorID ORDER BY ic.itemID, ic.orderIndex"):
        if item_id in lib.items:
            name = (last or "") if mode == 1 else " ".join(p for p in (first, last) if p)
            if name.strip():
                lib.items[item_id].creators.append((creator_types.get(type_id, "author"), " ".join(name.split())))
    if "itemTypeCreatorTypes" in tables:
        primary = {types.get(t): creator_types.get(c) for t, c in conn.execute(
            "SELECT itemTypeID, creatorTypeID FROM itemTypeCreatorTypes WHERE primaryField = 1")}
        for item in lib.items.values():
            item.primary_creator = primary.get(item.type_name)

    for item_id, name in conn.execute(
            "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID ORDER BY t.name"):
        if item_id in lib.items and name and name.strip():
            lib.items[item_id].tags.append(name.strip())

    paths = _collection_paths(conn, tables)
    for coll_id, item_id in conn.execute("SELECT collectionID, itemID FROM collectionItems"):
        path = paths.get(coll_id)
        if path is None:
            continue
        if item_id in lib.items:
            lib.items[item_id].collections.append(path)
        elif kinds.get(item_id) == "attachment":
            lib.attachment_collections.setdefault(item_id, []).append(path)

    for item_id, parent, note in conn.execute("SELECT itemID, parentItemID, note FROM itemNotes"):
        if item_id in live and kinds.get(item_id) == "note" and (parent is None or parent in live):
            lib.notes.append((item_id, lib.keys[item_id][1], parent, str(note or ""), added.get(item_id, "")))

    for item_id, parent, mode, ctype, path in conn.execute(
            "SELECT itemID, parentItemID, linkMode, contentType, path FROM itemAttachments"):
        if item_id in live and (parent is None or parent in live):
            lib.attachments[item_id] = Attachment(item_id, lib.keys[item_id][1], parent, mode, str(ctype or ""),
                                                  str(path or ""), titles.get(item_id, ""), added.get(item_id, ""))

    if "itemAnnotations" in tables:
        for row in conn.execute("SELECT itemID, parentItemID, type, text, comment, pageLabel, sortIndex "
                                "FROM itemAnnotations ORDER BY parentItemID, sortIndex"):
            item_id, parent, kind = row[0], row[1], row[2]
            if item_id in live and parent in lib.attachments:
                lib.annotations.append(Annotation(item_id, lib.keys[item_id][1], parent,
                                                  ANNOTATION_TYPES.get(kind, "annotation"), str(row[3] or ""),
                                                  str(row[4] or ""), str(row[5] or ""), str(row[6] or ""),
                                                  added.get(item_id, "")))
    return lib


def _collection_paths(conn: sqlite3.Connection, tables: set[str]) -> dict[int, str]:
    """collectionID -> "Parent/Child" path of every collection not in the trash (nor under one that is)."""
    rows: dict[int, tuple[str, Any]] = {
        r[0]: (str(r[1]), r[2]) for r in conn.execute(
            "SELECT collectionID, collectionName, parentCollectionID FROM collections")}
    trashed = set()
    if "deletedCollections" in tables:
        trashed = {r[0] for r in conn.execute("SELECT collectionID FROM deletedCollections")}
    out: dict[int, str] = {}
    for cid in rows:
        parts: list[str] = []
        cur, seen = cid, set()
        while cur is not None and cur in rows and cur not in seen:
            if cur in trashed:
                parts = []
                break
            seen.add(cur)
            parts.append(rows[cur][0].replace("/", "∕").strip())  # a slash inside a name is not a level
            cur = rows[cur][1]
        if parts:
            out[cid] = "/".join(reversed(parts))
    return out
