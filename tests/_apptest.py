"""One way for the app tests to open a page of the app headless (AppTest), with query parameters."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def open_page(script: str, **query: str) -> AppTest:
    """`ui/pages/<script>.py` run through `app.py`'s navigation with `query` set; no exception raised on it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.query_params.update(query)
    at.switch_page(f"ui/pages/{script}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at
