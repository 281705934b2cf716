"""Zotero libraries for the tests and the bench: a ``zotero.sqlite`` with Zotero's table and column names (as in
Zotero's ``resource/schema/userdata.sql``, schema of Zotero 7) and a ``storage/<KEY>/`` folder per stored file.

Type, field and creator-type ids are deliberately not Zotero's own numbers (they are assigned here from a shuffled
order), so a reader that joins by number instead of by name fails on these libraries.
"""
from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT, display INT DEFAULT 1);
CREATE TABLE itemTypesCombined (itemTypeID INT NOT NULL, typeName TEXT NOT NULL, display INT DEFAULT 1 NOT NULL,
    custom INT NOT NULL, PRIMARY KEY (itemTypeID));
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT);
CREATE TABLE fieldsCombined (fieldID INT NOT NULL, fieldName TEXT NOT NULL, label TEXT, fieldFormatID INT,
    custom INT NOT NULL, PRIMARY KEY (fieldID));
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE itemTypeCreatorTypes (itemTypeID INT, creatorTypeID INT, primaryField INT,
    PRIMARY KEY (itemTypeID, creatorTypeID));
CREATE TABLE version (schema TEXT PRIMARY KEY, version INT NOT NULL);
CREATE TABLE settings (setting TEXT, key TEXT, value, PRIMARY KEY (setting, key));
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL,
    filesEditable INT NOT NULL, version INT NOT NULL DEFAULT 0, clientVersion INT NOT NULL DEFAULT 0,
    storageVersion INT NOT NULL DEFAULT 0, lastSync INT NOT NULL DEFAULT 0, archived INT NOT NULL DEFAULT 0);
CREATE TABLE groups (groupID INTEGER PRIMARY KEY, libraryID INT NOT NULL UNIQUE, name TEXT NOT NULL,
    description TEXT NOT NULL, version INT NOT NULL);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, clientVersion INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0,
    UNIQUE (libraryID, key));
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE, valueNormalized TEXT);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT, title TEXT);
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT,
    charsetID INT, path TEXT, syncState INT DEFAULT 0, storageModTime INT, storageHash TEXT,
    lastProcessedModificationTime INT, lastRead INT);
CREATE TABLE itemAnnotations (itemID INTEGER PRIMARY KEY, parentItemID INT NOT NULL, type INTEGER NOT NULL,
    authorName TEXT, text TEXT, textNormalized TEXT, comment TEXT, commentNormalized TEXT, color TEXT, pageLabel TEXT,
    sortIndex TEXT NOT NULL, position TEXT NOT NULL, isExternal INT NOT NULL);
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, nameNormalized TEXT);
CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL, PRIMARY KEY (itemID, tagID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT,
    firstNameNormalized TEXT, lastNameNormalized TEXT, UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex),
    UNIQUE (itemID, orderIndex));
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL,
    parentCollectionID INT DEFAULT NULL, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0, clientVersion INT NOT NULL DEFAULT 0,
    synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (collectionID, itemID));
CREATE TABLE deletedCollections (collectionID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
CREATE TABLE feeds (libraryID INTEGER PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL UNIQUE);
CREATE TABLE feedItems (itemID INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, readTime TIMESTAMP);
"""

ITEM_TYPES = ("annotation", "artwork", "attachment", "book", "bookSection", "conferencePaper", "document",
              "journalArticle", "note", "preprint", "report", "thesis", "webpage", "patent")
FIELDS = ("title", "abstractNote", "date", "url", "extra", "DOI", "publicationTitle", "proceedingsTitle",
          "conferenceName", "repository", "archiveID", "volume", "pages", "bookTitle", "publisher", "shortTitle",
          "accessDate", "language", "ISSN", "university", "websiteTitle", "libraryCatalog")
CREATOR_TYPES = ("author", "contributor", "editor", "translator", "seriesEditor", "bookAuthor", "inventor",
                 "reviewedAuthor", "artist")
PRIMARY = {"patent": "inventor", "artwork": "artist"}  # every other type here: author
HIGHLIGHT, NOTE, IMAGE, INK, UNDERLINE, TEXT = 1, 2, 3, 4, 5, 6
IMPORTED_FILE, IMPORTED_URL, LINKED_FILE, LINKED_URL = 0, 1, 2, 3
_KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


class ZoteroLibrary:
    """Build a Zotero data folder (``zotero.sqlite`` + ``storage/``) item by item. Call :meth:`close` when done."""

    def __init__(self, folder: str | Path, *, seed: int = 0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "storage").mkdir(exist_ok=True)
        self.rng = random.Random(seed)
        self.conn = sqlite3.connect(str(self.folder / "zotero.sqlite"), isolation_level=None)
        self.conn.executescript(SCHEMA)
        self.conn.execute("BEGIN")
        self.types = self._ids("itemTypes", "itemTypeID", "typeName", ITEM_TYPES, combined="itemTypesCombined")
        self.fields = self._ids("fields", "fieldID", "fieldName", FIELDS, combined="fieldsCombined")
        self.creator_types = self._ids("creatorTypes", "creatorTypeID", "creatorType", CREATOR_TYPES)
        for t, tid in self.types.items():
            if t not in ("note", "attachment", "annotation"):
                self.conn.execute("INSERT INTO itemTypeCreatorTypes VALUES (?, ?, 1)",
                                  (tid, self.creator_types[PRIMARY.get(t, "author")]))
        self.conn.execute("INSERT INTO version VALUES ('userdata', 120)")
        self.conn.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (1, 'user', 1, 1)")
        self.conn.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (2, 'feed', 0, 0)")
        self.conn.execute("INSERT INTO feeds VALUES (2, 'arXiv cs.CV', 'https://export.arxiv.org/rss/cs.CV')")
        self.used_keys: set[str] = set()
        self._sort = 0

    @classmethod
    def reopen(cls, folder: str | Path, *, seed: int = 1) -> ZoteroLibrary:
        """A library made earlier, to add to it (as Zotero does between two imports)."""
        self = cls.__new__(cls)
        self.folder = Path(folder)
        self.rng = random.Random(seed)
        self.conn = sqlite3.connect(str(self.folder / "zotero.sqlite"), isolation_level=None)
        self.conn.execute("BEGIN")
        self.types = dict(self.conn.execute("SELECT typeName, itemTypeID FROM itemTypes").fetchall())
        self.fields = dict(self.conn.execute("SELECT fieldName, fieldID FROM fields").fetchall())
        self.creator_types = dict(self.conn.execute("SELECT creatorType, creatorTypeID FROM creatorTypes").fetchall())
        self.used_keys = {r[0] for r in self.conn.execute("SELECT key FROM items")}
        self._sort = 1000
        return self

    def item_id(self, key: str) -> int:
        return int(self.conn.execute("SELECT itemID FROM items WHERE key = ?", (key,)).fetchone()[0])

    def add_tag(self, item_id: int, name: str, kind: int = 0) -> None:
        self.conn.execute("INSERT INTO itemTags VALUES (?, ?, ?)", (item_id, self._tag(name), kind))

    def _ids(self, table: str, id_col: str, name_col: str, names: Sequence[str], combined: str | None = None
             ) -> dict[str, int]:
        ids = list(range(3, 3 + 2 * len(names), 2))
        self.rng.shuffle(ids)
        out = dict(zip(names, ids))
        for name, i in out.items():
            self.conn.execute(f"INSERT INTO {table} ({id_col}, {name_col}) VALUES (?, ?)", (i, name))
            if combined:
                cols = "(itemTypeID, typeName, display, custom)" if table == "itemTypes" else \
                    "(fieldID, fieldName, label, custom)"
                self.conn.execute(f"INSERT INTO {combined} {cols} VALUES (?, ?, ?, 0)",
                                  (i, name, 1 if table == "itemTypes" else name))
        return out

    def key(self) -> str:
        while True:
            k = "".join(self.rng.choice(_KEY_CHARS) for _ in range(8))
            if k not in self.used_keys:
                self.used_keys.add(k)
                return k

    def _item(self, type_name: str, date_added: str, library: int = 1) -> tuple[int, str]:
        key = self.key()
        cur = self.conn.execute("INSERT INTO items (itemTypeID, dateAdded, dateModified, clientDateModified, "
                                "libraryID, key) VALUES (?, ?, ?, ?, ?, ?)",
                                (self.types[type_name], date_added, date_added, date_added, library, key))
        return int(cur.lastrowid or 0), key

    def _value(self, value: Any) -> int:
        row = self.conn.execute("SELECT valueID FROM itemDataValues WHERE value = ?", (value,)).fetchone()
        if row:
            return int(row[0])
        return int(self.conn.execute("INSERT INTO itemDataValues (value) VALUES (?)", (value,)).lastrowid or 0)

    def _set(self, item_id: int, name: str, value: Any) -> None:
        self.conn.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, self.fields[name], self._value(value)))

    def _tag(self, name: str) -> int:
        row = self.conn.execute("SELECT tagID FROM tags WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else int(self.conn.execute("INSERT INTO tags (name) VALUES (?)", (name,)).lastrowid
                                            or 0)

    def add_item(self, type_name: str = "journalArticle", *, fields: dict[str, str] | None = None,
                 creators: Sequence[tuple[str, str, str]] = (), tags: Sequence[str | tuple[str, int]] = (),
                 collections: Sequence[int] = (), date_added: str = "2021-03-04 05:06:07", library: int = 1
                 ) -> tuple[int, str]:
        """A regular item. ``creators``: (creatorType, firstName, lastName); an empty firstName stores the name as
        one field (fieldMode 1). ``tags``: names (manual) or (name, type) with type 1 for automatic."""
        item_id, key = self._item(type_name, date_added, library)
        for name, value in (fields or {}).items():
            self._set(item_id, name, value)
        for n, (ctype, first, last) in enumerate(creators):
            mode = 1 if not first else 0
            row = self.conn.execute("SELECT creatorID FROM creators WHERE lastName = ? AND firstName IS ? AND "
                                    "fieldMode = ?", (last, first or None, mode)).fetchone()
            cid = row[0] if row else self.conn.execute(
                "INSERT INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                (first or None, last, mode)).lastrowid
            self.conn.execute("INSERT INTO itemCreators VALUES (?, ?, ?, ?)",
                              (item_id, cid, self.creator_types[ctype], n))
        for tag in tags:
            name, kind = (tag, 0) if isinstance(tag, str) else tag
            self.add_tag(item_id, name, kind)
        for cid in collections:
            self.add_to_collection(cid, item_id)
        return item_id, key

    def add_collection(self, name: str, parent: int | None = None, library: int = 1) -> int:
        return int(self.conn.execute("INSERT INTO collections (collectionName, parentCollectionID, libraryID, key) "
                                     "VALUES (?, ?, ?, ?)", (name, parent, library, self.key())).lastrowid or 0)

    def add_to_collection(self, collection: int, item_id: int) -> None:
        self.conn.execute("INSERT INTO collectionItems (collectionID, itemID) VALUES (?, ?)", (collection, item_id))

    def add_note(self, parent: int | None, html: str, *, date_added: str = "2021-03-05 10:00:00") -> tuple[int, str]:
        item_id, key = self._item("note", date_added)
        title = html.split("<", 1)[0][:80]
        self.conn.execute("INSERT INTO itemNotes VALUES (?, ?, ?, ?)", (item_id, parent, html, title))
        return item_id, key

    def add_attachment(self, parent: int | None, source: str | Path | None = None, *, link_mode: int = IMPORTED_FILE,
                       content_type: str = "application/pdf", name: str | None = None, path: str | None = None,
                       title: str = "Full Text PDF", date_added: str = "2021-03-04 05:06:08") -> tuple[int, str]:
        """An attachment. Stored files (linkMode 0/1) are copied to ``storage/<KEY>/<name>`` and recorded as
        ``storage:<name>``; a linked file records ``path`` (default: ``source``'s absolute path)."""
        item_id, key = self._item("attachment", date_added)
        self._set(item_id, "title", title)
        stored: str | None
        if link_mode in (IMPORTED_FILE, IMPORTED_URL):
            fname = name or (Path(source).name if source else "missing.pdf")
            if source is not None:
                (self.folder / "storage" / key).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, self.folder / "storage" / key / fname)
            stored = f"storage:{fname}"
        elif link_mode == LINKED_FILE:
            stored = path if path is not None else str(Path(source).resolve()) if source else None
        else:
            stored = None
            self._set(item_id, "url", path or "https://example.org/")
        self.conn.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
                          "VALUES (?, ?, ?, ?, ?)", (item_id, parent, link_mode, content_type, stored))
        return item_id, key

    def add_annotation(self, attachment: int, kind: int = HIGHLIGHT, *, text: str = "", comment: str = "",
                       page_label: str = "1", page_index: int = 0, color: str = "#ffd400",
                       date_added: str = "2021-03-06 11:00:00") -> tuple[int, str]:
        item_id, key = self._item("annotation", date_added)
        self._sort += 1
        position = json.dumps({"pageIndex": page_index, "rects": [[100.0, 500.0, 300.0, 512.0]]})
        self.conn.execute(
            "INSERT INTO itemAnnotations (itemID, parentItemID, type, text, comment, color, pageLabel, sortIndex, "
            "position, isExternal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (item_id, attachment, kind, text or None, comment or None, color, page_label,
             f"{page_index:05d}|{self._sort:06d}|00000", position))
        return item_id, key

    def trash(self, item_id: int) -> None:
        self.conn.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (item_id,))

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def close(self) -> Path:
        self.conn.execute("COMMIT")
        self.conn.close()
        return self.folder / "zotero.sqlite"


def _pdf(folder: Path, name: str, title: str, words: str) -> Path:
    from bench.fulltext_pdfgen import make_paper_pdf

    return make_paper_pdf(folder / name, title=title, authors=["A. Author"], body=[(words + " ") * 40])


def sample_library(folder: Path, pdfs: Path) -> dict[str, Any]:
    """A small library with one item per case of the Zotero import (tests and README examples read it); the PDFs
    are made in ``pdfs``. Returns the ids and keys the tests look up."""
    z = ZoteroLibrary(folder)
    ids: dict[str, Any] = {}
    nets = z.add_collection("Efficient nets")
    shuffle = z.add_collection("ShuffleNet", nets)
    trashed_coll = z.add_collection("Old stuff")
    z.conn.execute("INSERT INTO deletedCollections (collectionID) VALUES (?)", (trashed_coll,))
    ids["shufflenet"], ids["shufflenet_key"] = z.add_item(
        "journalArticle", date_added="2019-05-01 08:30:00",
        fields={"title": "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
                "date": "2018-06-00 June 2018", "publicationTitle": "IEEE TPAMI", "DOI": "10.1109/CVPR.2018.00716",
                "abstractNote": "We introduce an extremely computation-efficient CNN architecture.",
                "url": "https://example.org/shufflenet", "extra": "arXiv: 1707.01083\nPublisher: IEEE"},
        creators=[("author", "Xiangyu", "Zhang"), ("editor", "Ed", "Editor"), ("author", "Xinyu", "Zhou"),
                  ("author", "", "Megvii Research")],
        tags=["efficient", ("Computer Science - Computer Vision", 1)], collections=[shuffle, trashed_coll])
    z.add_note(ids["shufflenet"], '<div data-schema-version="9"><h1>Key idea</h1><p>Channel <strong>shuffle</strong> '
                                  "lets group convolutions talk.</p><ul><li>pointwise group conv</li></ul>"
                                  "<p>中文笔记：通道混洗</p></div>", date_added="2019-05-02 09:00:00")
    pdf = _pdf(pdfs, "shufflenet.pdf", "ShuffleNet", "channel shuffle pointwise group convolution")
    att, _ = z.add_attachment(ids["shufflenet"], pdf, name="Zhang et al. - 2018 - ShuffleNet.pdf")
    z.add_annotation(att, HIGHLIGHT, text="channel shuffle operation helps the information flowing",
                     comment="the trick of the paper", page_label="3")
    z.add_annotation(att, UNDERLINE, text="pointwise group convolutions", page_label="4")
    z.add_annotation(att, NOTE, comment="compare with MobileNet v2", page_label="5")
    z.add_annotation(att, IMAGE, page_label="6")  # a bare image region: nothing to say, skipped
    z.add_attachment(ids["shufflenet"], None, content_type="text/html", name="snapshot.html", title="Snapshot")

    ids["resnet"], _ = z.add_item(
        "conferencePaper", date_added="2018-01-10 12:00:00",
        fields={"title": "Deep Residual Learning for Image Recognition", "date": "2016", "proceedingsTitle":
                "Proceedings of CVPR", "conferenceName": "CVPR 2016", "url": "https://arxiv.org/abs/1512.03385v1"},
        creators=[("author", "Kaiming", "He"), ("author", "Xiangyu", "Zhang")], collections=[nets])
    linked = _pdf(pdfs, "linked resnet.pdf", "ResNet", "residual learning identity shortcut")
    z.add_attachment(ids["resnet"], linked, link_mode=LINKED_FILE, title="resnet")
    z.add_attachment(ids["resnet"], None, link_mode=LINKED_URL, content_type="text/html", path="https://x.org")
    ids["preprint"], _ = z.add_item(
        "preprint", fields={"title": "A preprint", "date": "2023-02-01", "repository": "arXiv",
                            "archiveID": "arXiv:2302.00001"}, creators=[("author", "Ann", "Author")])
    ids["conf_name_only"], _ = z.add_item("conferencePaper", fields={"title": "Only a conference name",
                                                                     "conferenceName": "ICLR 2020"})
    ids["missing"], _ = z.add_item("journalArticle", fields={"title": "A paper whose PDF is gone"})
    z.add_attachment(ids["missing"], None, name="gone.pdf")
    ids["epub"], _ = z.add_item("book", fields={"title": "A book", "publisher": "P"},
                                creators=[("editor", "Only", "Editor")])
    z.add_attachment(ids["epub"], None, content_type="application/epub+zip", name="book.epub")
    ids["patent"], _ = z.add_item("patent", fields={"title": "A patent"}, creators=[("inventor", "In", "Ventor")])
    ids["broken"], _ = z.add_item("journalArticle", fields={"abstractNote": "no title at all"})
    ids["dup"], _ = z.add_item("journalArticle", fields={"title": "ShuffleNet (a second copy)",
                                                         "DOI": "https://doi.org/10.1109/cvpr.2018.00716"},
                               tags=["duplicate-tag"])
    ids["trashed"], _ = z.add_item("journalArticle", fields={"title": "In the trash"})
    z.trash(ids["trashed"])
    trashed_note, _ = z.add_note(ids["shufflenet"], "<p>a trashed note</p>")
    z.trash(trashed_note)
    z.add_note(None, "<p>a standalone note</p>")
    z._item("journalArticle", "2020-01-01 00:00:00", library=2)  # a feed's item: not the user's
    standalone = _pdf(pdfs, "standalone.pdf", "A Standalone Paper On Pruning", "magnitude pruning sparse")
    ids["standalone_att"], _ = z.add_attachment(None, standalone, title="A Standalone Paper On Pruning")
    z.add_annotation(ids["standalone_att"], HIGHLIGHT, text="magnitude pruning", page_label="1")
    z.close()
    return ids
