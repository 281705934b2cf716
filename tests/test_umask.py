"""Every file we create honours the umask (0644 under umask 022), temporary-file-and-rename included: `mkstemp`
makes 0600 files, so each package's one atomic writer sets the mode a plain ``open`` would have given."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

PDF = Path(__file__).parent / "fixtures" / "pdf" / "onecolumn.pdf"


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reading_export_and_stored_pdf(tmp_path, umask_022):
    from reading import open_log, write_atomic

    with open_log(tmp_path / "log.db") as log:
        log.add_pdf(PDF, fetch=False)
        write_atomic(tmp_path / "out.json", log.export("json"))
        assert _mode(tmp_path / "out.json") == 0o644
        sha = log.pdfs(1)[0]["sha256"]
        assert _mode(log.pdf_file(sha)) == 0o644


def test_index_files(tmp_path, umask_022):
    from index import _store

    _store.atomic_write(tmp_path / "idx" / "manifest.json", b"{}")
    assert _mode(tmp_path / "idx" / "manifest.json") == 0o644


def test_zoo_writer_weights_cache_and_onnx_export(tmp_path, umask_022):
    import zoo

    zoo.atomic_write_bytes(tmp_path / "weights.pth", b"x")  # the weights cache and checkpoints write through it
    assert _mode(tmp_path / "weights.pth") == 0o644
    pytest.importorskip("onnx")
    zoo.export("shufflenet_v2_x0_5", tmp_path / "x.onnx", input_size=(1, 3, 32, 32))
    assert _mode(tmp_path / "x.onnx") == 0o644


def test_a_stricter_umask_and_a_replaced_file_keep_theirs(tmp_path):
    import zoo
    from index import _store

    old = os.umask(0o077)
    try:
        zoo.atomic_write_text(tmp_path / "private.txt", "x")
        _store.atomic_write(tmp_path / "private.bin", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "private.txt") == _mode(tmp_path / "private.bin") == 0o600
    os.chmod(tmp_path / "private.txt", 0o640)
    zoo.atomic_write_text(tmp_path / "private.txt", "y")
    assert _mode(tmp_path / "private.txt") == 0o640
