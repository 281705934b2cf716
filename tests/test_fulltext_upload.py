"""Uploading a PDF in the app (issue 25, item 4): the status defaults to none (a new paper is to-read, no read is
logged), and a PDF that joins a paper already in the log changes neither its status nor its reads."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import reading

ROOT = Path(__file__).resolve().parents[1]
TWO = Path(__file__).parent / "fixtures" / "pdf" / "twocolumn.pdf"


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(path))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    reading.open_log(path).close()
    return path


def _log_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/pages/log_paper.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload_fields(at: AppTest) -> dict:
    """What the PDF tab's form sends to `add_uploads` as drawn with its defaults."""
    return {"status": at.selectbox(key="lp_status").value, "rating": at.selectbox(key="lp_rating").value,
            "tags": [], "note": None}


def test_upload_status_defaults_to_unset(db):
    at = _log_page()
    assert at.selectbox(key="lp_status").value is None
    assert at.selectbox(key="la_status").value == "read"  # the other forms keep theirs


def test_default_upload_logs_a_to_read_paper_and_no_read(db):
    from tests.test_fulltext_app import _Upload
    from ui import _fulltext

    at = _log_page()
    with reading.open_log(db) as log:
        [(level, _, pid)] = _fulltext.add_uploads(log, [_Upload(TWO)], fetch=False, password=None,
                                                  **_upload_fields(at))
        paper = log.get(pid)
        assert level == "success" and paper["status"] == "to-read" and paper["reads"] == []


def test_default_upload_joining_a_paper_changes_neither_status_nor_reads(db):
    from tests.test_fulltext_app import _Upload
    from ui import _fulltext

    at = _log_page()
    with reading.open_log(db) as log:
        pid = log.add("1807.11164", title="Efficient Shuffling Networks", fetch=False, status="reading").paper["id"]
        [(level, line, joined)] = _fulltext.add_uploads(log, [_Upload(TWO)], fetch=False, password=None,
                                                        **_upload_fields(at))
        paper = log.get(pid)
        assert joined == pid and "added to" in line
        assert paper["status"] == "reading" and paper["reads"] == [] and len(log.pdfs(pid)) == 1
