"""Hostile inputs, round 3 (issue 27, items F, G, I, J, K): tracebacks become one line and lose nothing, the encoder
cache checks what it loads, memory follows bounds rather than what a file claims, log text never renders as
Markdown in the app, and arXiv ids in text need a boundary.

PDFs here are written byte by byte (`_pdf_bytes`), so a test can make exactly the hostile object it needs: a lone
UTF-16 surrogate in the metadata, a Flate stream of a gigabyte of zeros, a page of a million words.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from paperzoo import reading_cli, zoo_cli
from reading import PdfError, library_dir, open_log

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "pdf"


# --- PDFs made byte by byte -------------------------------------------------------------------------------------


def _pdf_bytes(content: bytes = b"BT /F1 12 Tf 72 700 Td (Hello hostile world of text) Tj ET", *,
               info_title: bytes | None = None, mediabox: bytes = b"[0 0 612 792]", flate: bytes | None = None,
               pad: int = 0, dict_pad: int = 0) -> bytes:
    """A one-page PDF with a correct xref: ``content`` as its page (or ``flate``, already deflated, as a Flate
    stream), optionally a /Title in its Info dictionary and ``pad`` bytes of comment (a bigger file)."""
    if flate is not None:
        padding = b" /Pad [" + b"0 " * dict_pad + b"]" if dict_pad else b""
        stream = (b"<< /Filter /FlateDecode%s /Length %d >>\nstream\n" % (padding, len(flate)) + flate
                  + b"\nendstream")
    else:
        stream = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox " + mediabox
            + b" /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            stream, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    if info_title is not None:
        objs.append(b"<< /Title " + info_title + b" >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if pad:
        out += b"%" + b"x" * pad + b"\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    info = b" /Info %d 0 R" % len(objs) if info_title is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, info, xref)
    return bytes(out)


def _zeros_deflated(mib: int) -> bytes:
    z = zlib.compressobj(9)
    block = bytes(1 << 20)
    return b"".join(z.compress(block) for _ in range(mib)) + z.flush()


def _run(args: list[str], *, mem: int | None = None, fsize: int | None = None, **env: str
         ) -> subprocess.CompletedProcess[str]:
    """A command line in a child process, optionally under an address-space or file-size limit."""
    def limits() -> None:
        if mem is not None:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, *args], capture_output=True, text=True, preexec_fn=limits, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def _one_line_error(out: str) -> None:
    assert "Traceback" not in out, out
    errors = [ln for ln in out.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1, out


# --- K: arXiv ids and DOIs in text need a boundary --------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("arXiv:1512.033851", None),  # not ResNet's 1512.03385
    ("arXiv:1512.03385v2x", None),
    ("arXiv: hep-th/99010011", None),
    ("arXiv:1512.03385.", "1512.03385"),
    ("arXiv:1512.03385v2, cs.CV", "1512.03385"),
    ("(arXiv:hep-th/9901001v3)", "hep-th/9901001"),
    ("arXiv:math.GT/0309136;", "math/0309136"),
])
def test_an_arxiv_id_in_text_ends_at_a_boundary(text, expected):
    from reading._intake import _bib_arxiv_id
    from reading._pdf import _arxiv_from

    assert _arxiv_from(text) == expected
    assert _bib_arxiv_id({"note": text}) == expected


@pytest.mark.parametrize("text, expected", [
    ("doi:10.1000/abc).", "10.1000/abc"),
    ("(see 10.1016/0002-9149(77)90123-4)", "10.1016/0002-9149(77)90123-4"),
    ("“10.1145/3290605.3300001”,", "10.1145/3290605.3300001"),
    ("10.1000/xyz'.", "10.1000/xyz"),
])
def test_a_doi_in_text_loses_the_punctuation_after_it(text, expected):
    from reading import parse_doi
    from reading._pdf import _doi_from

    assert _doi_from(text) == expected
    assert parse_doi(expected + ").") == parse_doi(expected) == expected  # typed or pasted with a sentence's end


def test_a_pdf_citing_a_longer_id_is_not_attached_to_resnet(tmp_path):
    from bench.fulltext_pdfgen import make_paper_pdf

    pdf = make_paper_pdf(tmp_path / "paper.pdf", title="Something Else Entirely Here",
                         header="arXiv:1512.033851 [cs.CV] 10 Dec 2015", body="Words of the body. " * 40)
    with open_log(tmp_path / "log.db") as log:
        resnet = log.add("1512.03385", title="Deep Residual Learning", fetch=False).paper
        result = log.add_pdf(pdf, fetch=False)
        assert result.created and result.paper["id"] != resnet["id"] and result.paper["arxiv_id"] is None
        assert log.pdfs(resnet["id"]) == []


# --- F: tracebacks become one line; one bad file never stops a folder import --------------------------------------


def test_a_lone_surrogate_in_the_metadata_is_read(tmp_path):
    from reading._pdf import extract

    bad = tmp_path / "surrogate.pdf"
    bad.write_bytes(_pdf_bytes(info_title=b"<FEFFD800>"))
    doc = extract(bad)
    assert doc.title != "\ud800" and "Hello hostile world" in doc.pages[0]


def test_a_folder_import_goes_past_every_kind_of_bad_file(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "onecolumn.pdf", folder / "a.pdf")
    (folder / "b-surrogate.pdf").write_bytes(_pdf_bytes(info_title=b"<FEFFD800>"))
    (folder / "c-crash.pdf").write_bytes(_pdf_bytes(b"BT /F1 12 Tf 72 700 Td (Crash me please now) Tj ET"))
    (folder / os.fsdecode(b"d-caf\xe9.pdf")).write_bytes(_pdf_bytes(b"BT /F1 9 Tf 72 700 Td (Latin one name) Tj ET"))
    shutil.copy(FIXTURES / "twocolumn.pdf", folder / "z.pdf")
    from reading import _pdf

    real = _pdf.extract

    def extract(path: Any, **kw: Any) -> Any:
        if Path(path).name == "c-crash.pdf":
            raise RuntimeError("an error nobody expected\nwith a second line")
        return real(path, **kw)

    monkeypatch.setattr(_pdf, "extract", extract)
    db = tmp_path / "log.db"
    for _ in range(2):  # a rerun does not stop at the bad file either
        result = CliRunner().invoke(reading_cli.cli, ["--db", str(db), "import", str(folder)])
        assert result.exit_code == 0 and result.exception is None, result.output
        assert "Traceback" not in result.output
    assert "c-crash.pdf cannot be read (RuntimeError: an error nobody expected)" in result.output
    with open_log(db) as log:
        names = sorted(row["file_name"] for p in log.papers() for row in log.pdfs(p["id"]))
    assert names == ["a.pdf", "b-surrogate.pdf", "d-caf\ufffd.pdf", "z.pdf"]


def test_every_importer_gets_an_unforeseen_pdf_failure_as_a_reading_error(tmp_path, monkeypatch):
    """Zotero's and BibTeX's file fields attach PDFs one by one and go on past a ReadingError: the intake turns any
    failure of the PDF reader into one (a lone surrogate once raised UnicodeDecodeError and stopped them)."""
    from reading import ReadingError, _pdf

    def extract(path: Any, **kw: Any) -> Any:
        raise UnicodeDecodeError("utf-16-le", b"\x00\xd8", 0, 2, "unexpected end of data")

    monkeypatch.setattr(_pdf, "extract", extract)
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(_pdf_bytes())
    with open_log(tmp_path / "log.db") as log:
        pid = log.add(None, title="Host paper", fetch=False).paper["id"]
        with pytest.raises(ReadingError, match=r"x.pdf cannot be read \(UnicodeDecodeError"):
            log.attach_pdf(pid, pdf)
        with pytest.raises(ReadingError, match="cannot be read"):
            log.add_pdf(pdf, fetch=False)
        assert log.pdfs(pid) == [] and len(log.papers()) == 1


def test_unreadable_files_are_one_line(tmp_path, monkeypatch):
    db = tmp_path / "log.db"
    mem = tmp_path / "mem.pdf"
    mem.symlink_to("/proc/self/mem")  # a regular file that no one, root included, can read from its start
    result = CliRunner().invoke(reading_cli.cli, ["--db", str(db), "add", str(mem)])
    assert result.exit_code == 1 and result.exception is not None and "cannot read mem.pdf" in result.output
    _one_line_error(result.output)
    # the same, whoever runs the tests: a PermissionError while hashing
    from reading import _fulltext

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    ok = tmp_path / "ok.pdf"
    ok.write_bytes(_pdf_bytes())
    monkeypatch.setattr(_fulltext, "open", denied, raising=False)
    result = CliRunner().invoke(reading_cli.cli, ["--db", str(db), "add", str(ok)])
    assert result.exit_code == 1 and "cannot read ok.pdf: Permission denied" in result.output
    _one_line_error(result.output)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 000 (the monkeypatched case above runs)")
def test_a_file_of_mode_000_is_one_line(tmp_path):
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(_pdf_bytes())
    locked.chmod(0)
    result = CliRunner().invoke(reading_cli.cli, ["--db", str(tmp_path / "log.db"), "add", str(locked)])
    assert result.exit_code == 1 and "cannot read locked.pdf" in result.output


def test_a_file_past_the_file_size_limit_is_one_line(tmp_path):
    db = tmp_path / "log.db"
    with open_log(db) as log:
        log.add(None, title="Already here", fetch=False)
    big = tmp_path / "big.pdf"
    big.write_bytes(_pdf_bytes(pad=3 << 20))  # the log stays far below the limit; storing the copy passes it
    done = _run(["-m", "reading", "--db", str(db), "add", str(big)], fsize=2 << 20)
    assert done.returncode == 1, done.stderr
    _one_line_error(done.stderr)
    assert "cannot store big.pdf" in done.stderr and "too large" in done.stderr.lower()
    with open_log(db) as log:
        assert [p["title"] for p in log.papers()] == ["Already here"]
    assert not list(library_dir(db).rglob("*.pdf"))  # no copy, no .incoming-* temp file left


@pytest.mark.parametrize("cli, args, says", [
    (zoo_cli.cli, ["bench", "shufflenet_v2_x0_5", "--input-size", "0"], "--input-size"),
    (zoo_cli.cli, ["bench", "shufflenet_v2_x0_5", "-b", "100000"], "--batch"),
    (zoo_cli.cli, ["bench", "shufflenet_v2_x0_5", "--input-size", "100000"], "--input-size"),
    (zoo_cli.cli, ["bench", "shufflenet_v2_x0_5", "--input-size", "3x99999x2"], "--input-size"),
    (zoo_cli.cli, ["bench", "shufflenet_v2_x0_5", "--max-time", "nan"], "finite"),
    (zoo_cli.cli, ["export", "shufflenet_v2_x0_5", "-o", "{tmp}/m.onnx", "--input-size", "0x5"], "--input-size"),
    (zoo_cli.cli, ["supernet", "latency-table", "--out", "{tmp}/t.json", "--repeats", "0"], "--repeats"),
    (zoo_cli.cli, ["supernet", "train", "--out", "{tmp}/s.pt", "--lr", "nan"], "finite"),
    (zoo_cli.cli, ["supernet", "train", "--out", "{tmp}/s.pt", "--lr", "-1"], "--lr"),
    (zoo_cli.cli, ["supernet", "train", "--out", "{tmp}/s.pt", "--stage-channels", "8,8,8,99999999"], "width"),
    (zoo_cli.cli, ["supernet", "search", "--supernet", "x.pt", "--out", "{tmp}/o.json", "--max-macs", "1e999"],
     "MACs"),
    (reading_cli.cli, ["search", "x", "--year-min", "99999999999999999999"], "--year-min"),
    (reading_cli.cli, ["list", "--limit", "99999999999999999999"], "--limit"),
    (reading_cli.cli, ["add", "--title", "T", "--year", "99999999999999999999", "--no-fetch"], "--year"),
    (reading_cli.cli, ["note", "1", "x", "--edit", "99999999999999999999"], "--edit"),
], ids=lambda v: " ".join(a for a in v if "{tmp}" not in a)[:60] if isinstance(v, list) else "")
def test_absurd_numbers_are_refused_when_parsed(tmp_path, cli, args, says):
    db = tmp_path / "log.db"
    args = [a.format(tmp=tmp_path) for a in args]
    result = CliRunner().invoke(cli, (["--db", str(db)] if cli is reading_cli.cli else []) + args)
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output
    _one_line_error(result.output)
    assert not db.exists() and sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


def _numeric_options() -> list[tuple[str, click.Option]]:
    out = []

    def walk(cmd: click.Command, path: str) -> None:
        for p in cmd.params:
            if isinstance(p, click.Option) and isinstance(p.type, (click.types.IntParamType,
                                                                 click.types.FloatParamType)):
                out.append((f"{path} {p.opts[0]}", p))
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}")

    walk(reading_cli.cli, "reading")
    walk(zoo_cli.cli, "zoo")
    return out


@pytest.mark.parametrize("where, option", _numeric_options(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_numeric_option_is_bounded(where, option):
    """A convention test: a numeric option added without bounds (``type=int``) fails here."""
    for value in ("nan", "inf", "-inf", "1e309", "99999999999999999999", "-99999999999999999999"):
        with pytest.raises(click.BadParameter):
            option.type.convert(value, option, None)


def test_a_damaged_index_model_name_is_one_line(tmp_path):
    db = tmp_path / "log.db"
    with open_log(db) as log:
        log.add(None, title="A paper on things", fetch=False)
    for name in ("hash-bow-0", "hash-bow-99999999999"):
        result = CliRunner().invoke(reading_cli.cli, ["--db", str(db), "search", "things"], env={"INDEX_MODEL": name})
        assert result.exit_code == 1 and "hash-bow dimension" in result.output, result.output
        _one_line_error(result.output)


def test_a_loss_that_becomes_nan_stops_training(tmp_path, monkeypatch):
    from zoo.spos import TrainConfig, train
    from zoo import InvalidOption

    with pytest.raises(InvalidOption, match="lr"):
        train.train_supernet(TrainConfig(out=tmp_path / "a.pt", lr=float("nan"), steps=2, batch_size=4,
                                         input_size=32, data="tiny"), progress=False)
    real = train.TrainStep.__call__

    def exploding(self: Any, *args: Any) -> Any:
        return real(self, *args) * float("inf")

    monkeypatch.setattr(train.TrainStep, "__call__", exploding)
    with pytest.raises(InvalidOption, match="the loss became"):
        train.train_supernet(TrainConfig(out=tmp_path / "b.pt", steps=3, batch_size=4, input_size=32, data="tiny",
                                         layout={"stage_channels": [8, 16, 24, 32], "stem_channels": 4,
                                                 "last_channels": 32}), progress=False)


# --- G: the encoder cache ---------------------------------------------------------------------------------------


def _entry(folder: Path, source: Path) -> None:
    from index import _onnx

    folder.mkdir(parents=True)
    (folder / _onnx.MODEL_FILE).write_bytes(b"onnx bytes")
    (folder / _onnx.TOKENIZER_FILE).write_text("{}")
    # what the first check records (the file's stat, the tokenizer's hash) is left to it
    _onnx.write_meta(folder, {"dim": 4, "max_seq_length": 8, "onnx_size": (folder / _onnx.MODEL_FILE).stat().st_size,
                              "onnx_sha256": _onnx.file_sha256(folder / _onnx.MODEL_FILE),
                              "source_hash": _onnx.source_hash(source),
                              "source_signature": _onnx.source_signature(source)})


@pytest.fixture
def entry(tmp_path):
    from index import _onnx

    source, folder = tmp_path / "model", tmp_path / "cache" / "entry"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"w1")
    _entry(folder, source)
    assert _onnx.check(folder, source)["dim"] == 4
    return folder, source


def test_a_model_file_swapped_for_one_of_the_same_size_and_mtime_is_noticed(entry):
    from index import _onnx

    folder, source = entry
    onnx = folder / _onnx.MODEL_FILE
    st = onnx.stat()
    swapped = folder / "other.onnx"
    swapped.write_bytes(b"onnx bytez")
    os.utime(swapped, ns=(st.st_atime_ns, st.st_mtime_ns))
    swapped.replace(onnx)
    assert onnx.stat().st_size == st.st_size and onnx.stat().st_mtime_ns == st.st_mtime_ns
    with pytest.raises(_onnx.StaleEncoder, match="replaced"):
        _onnx.check(folder, source)


def test_a_model_file_rewritten_in_place_with_its_mtime_set_back_is_noticed(entry):
    from index import _onnx

    folder, source = entry
    onnx = folder / _onnx.MODEL_FILE
    st = onnx.stat()
    with open(onnx, "r+b") as fh:
        fh.write(b"ONNX")
    os.utime(onnx, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(_onnx.StaleEncoder, match="damaged"):
        _onnx.check(folder, source)


@pytest.mark.parametrize("damage, says", [
    (lambda f: (f / "tokenizer.json").write_text('{"x": 1}'), "tokenizer is damaged"),
    (lambda f: (f / "tokenizer.json").unlink(), "tokenizer is missing"),
    (lambda f: (f / "meta.json").write_text(json.dumps({**json.loads((f / "meta.json").read_text()), "dim": "four"})),
     "meta.json is damaged"),
    (lambda f: (f / "meta.json").write_text("[" * 100_000), "unreadable"),
])
def test_a_damaged_tokenizer_or_meta_is_stale(entry, damage, says):
    from index import _onnx

    folder, source = entry
    damage(folder)
    with pytest.raises(_onnx.StaleEncoder, match=says):
        _onnx.load(folder, source)


def test_a_tokenizer_that_cannot_be_parsed_is_stale_not_a_traceback(entry):
    from index import _onnx

    folder, source = entry
    meta = _onnx.read_meta(folder)
    assert meta is not None
    (folder / _onnx.TOKENIZER_FILE).write_text("not json at all")
    meta.pop("tokenizer_sha256", None)  # a cache made before tokenizers had a checksum
    _onnx.write_meta(folder, meta)
    with pytest.raises(_onnx.StaleEncoder, match="tokenizer cannot be read"):
        _onnx.load(folder, source)


@pytest.mark.parametrize("damage, why", [
    (lambda f: (f / "tokenizer.json").write_bytes((f / "tokenizer.json").read_bytes()[:-100]), "tokenizer is damaged"),
    (lambda f: (f / "meta.json").write_text(json.dumps({**json.loads((f / "meta.json").read_text()),
                                                        "max_seq_length": None})), "meta.json is damaged"),
])
def test_a_damaged_encoder_cache_is_made_again_with_a_message(tmp_path, monkeypatch, caplog, damage, why):
    import logging

    import index
    from index import _embed, _onnx, _onnx_export

    good = _embed.OnnxEmbedder(index.DEFAULT_MODEL)  # the session's cache (exported once per test session)
    want = good.encode(["channel shuffle"])
    source = _onnx.entry_dir(index.DEFAULT_MODEL)
    folder = _onnx.entry_dir(index.DEFAULT_MODEL, tmp_path)
    shutil.copytree(source, folder)
    damage(folder)
    made = []

    def export_again(name: str, src: Path, target: Path, *, model_path: str) -> dict[str, Any]:
        made.append(name)  # a copy of the good export stands in for the ~20 s export
        shutil.rmtree(target)
        shutil.copytree(source, target)
        meta = _onnx.check(target, src)
        return meta

    monkeypatch.setattr(_onnx_export, "export", export_again)
    with caplog.at_level(logging.WARNING, logger="index"):
        fresh = _embed.OnnxEmbedder(index.DEFAULT_MODEL, cache=tmp_path)
        got = fresh.encode(["channel shuffle"])
    assert made and fresh.encoder == "onnx" and abs(float((got * want).sum()) - 1) < 1e-5
    assert any(why in r.getMessage() and "again" in r.getMessage() for r in caplog.records)


def test_a_transient_failure_recorded_by_an_older_version_is_retried(entry):
    from index import _onnx

    folder, source = entry
    meta = _onnx.read_meta(folder)
    assert meta is not None
    _onnx.write_meta(folder, {**meta, "failed": "cannot load it (MemoryError())"})
    with pytest.raises(_onnx.StaleEncoder, match="trying again"):
        _onnx.check(folder, source)
    _onnx.write_meta(folder, {**meta, "failed": "its ONNX export does not reproduce its vectors (cosine 0.9000)"})
    assert _onnx.check(folder, source)["failed"]  # a verdict about the model stands


def test_a_transient_export_failure_is_not_recorded(tmp_path, monkeypatch):
    import index
    from index import _embed, _onnx, _onnx_export

    calls = []

    def out_of_memory(path: str, device: str = "cpu") -> Any:
        calls.append(path)
        raise MemoryError()

    class Fallback:
        def __init__(self, name: str, **kwargs: Any) -> None:
            self.name, self.dim = name, 384

    monkeypatch.setattr(_onnx_export, "_load", out_of_memory)
    monkeypatch.setattr(_embed, "SentenceTransformerEmbedder", Fallback)
    emb = _embed.OnnxEmbedder(index.DEFAULT_MODEL, cache=tmp_path)
    assert emb.encoder == "sentence-transformers"  # this process falls back ...
    meta = _onnx.read_meta(_onnx.entry_dir(index.DEFAULT_MODEL, tmp_path))
    assert meta is None or not meta.get("failed")  # ... but no verdict is written
    again = _embed.OnnxEmbedder(index.DEFAULT_MODEL, cache=tmp_path)
    assert again.encoder == "sentence-transformers" and len(calls) == 2  # the next one tries again


# --- I: memory follows bounds, not what a file claims -----------------------------------------------------------


def test_a_deflate_bomb_pdf_is_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(_pdf_bytes(flate=_zeros_deflated(1024)))  # 1 MB on disk, 1 GiB inflated
    assert bomb.stat().st_size < 2 << 20
    db = tmp_path / "log.db"
    done = _run(["-m", "reading", "--db", str(db), "add", str(bomb)], mem=1 << 30)
    assert done.returncode == 1, done.stderr
    _one_line_error(done.stderr)
    assert "decompression bomb" in done.stderr


def test_a_bomb_behind_a_padded_dictionary_is_found(tmp_path):
    from reading._pdf import extract

    bomb = tmp_path / "padded.pdf"
    bomb.write_bytes(_pdf_bytes(flate=_zeros_deflated(300), dict_pad=5_000))  # /FlateDecode 10 KB before "stream"
    with pytest.raises(PdfError, match="decompression bomb"):
        extract(bomb)


def test_many_content_streams_under_the_per_stream_bound_are_bounded_in_all(tmp_path):
    from reading._pdf import MAX_CONTENT_BYTES, MAX_CONTENT_STREAM_BYTES, check_streams

    n = MAX_CONTENT_BYTES // MAX_CONTENT_STREAM_BYTES + 1
    piece = _zeros_deflated((MAX_CONTENT_STREAM_BYTES >> 20) - 1)
    body = b"".join(b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (i, len(piece)) + piece
                    + b"\nendstream\nendobj\n" for i in range(1, n + 1))
    many = tmp_path / "many.pdf"
    many.write_bytes(b"%PDF-1.4\n" + body + b"%%EOF\n")
    with pytest.raises(PdfError, match="page content in all"):
        check_streams(many)


def test_a_page_of_a_million_words_is_refused(tmp_path):
    words = b"[" + b" ".join(b"(word%d )" % (i % 100) for i in range(600_000)) + b"] TJ"
    page = tmp_path / "words.pdf"
    page.write_bytes(_pdf_bytes(flate=zlib.compress(b"BT /F1 1 Tf 0 0 Td " + words + b" ET")))
    done = _run(["-m", "reading", "--db", str(tmp_path / "log.db"), "add", str(page)], mem=1 << 30)
    assert done.returncode == 1, done.stderr
    _one_line_error(done.stderr)
    assert "bytes of text" in done.stderr


def test_a_huge_page_renders_within_the_pixel_bound(tmp_path):
    from reading._pdf import MAX_RENDER_PIXELS, render_page

    big = tmp_path / "big.pdf"
    big.write_bytes(_pdf_bytes(mediabox=b"[0 0 14400 14400]"))
    image = render_page(big, 1, scale=1.5)
    assert image.size[0] * image.size[1] <= MAX_RENDER_PIXELS
    normal = tmp_path / "letter.pdf"
    normal.write_bytes(_pdf_bytes())
    assert render_page(normal, 1, scale=1.5).size == (918, 1188)  # ordinary pages keep their scale


def test_the_apps_render_cache_is_bounded_by_bytes(tmp_path, monkeypatch):
    from ui import _fulltext

    db = tmp_path / "log.db"
    with open_log(db) as log:
        sha = log.add_pdf(FIXTURES / "twocolumn.pdf", fetch=False).pdf["sha256"]
    monkeypatch.setattr(_fulltext, "_RENDERS", type(_fulltext._RENDERS)())
    one = len(_fulltext._rendered(str(db), sha, 1, 1.0))
    monkeypatch.setattr(_fulltext, "RENDER_CACHE_BYTES", int(2.5 * one))
    for scale in (1.0, 1.01, 1.02, 1.03, 1.04):
        data = _fulltext._rendered(str(db), sha, 1, scale)
        assert data.startswith(b"\x89PNG")
        assert sum(len(v) for v in _fulltext._RENDERS.values()) <= _fulltext.RENDER_CACHE_BYTES
    assert 1 <= len(_fulltext._RENDERS) <= 2


def test_a_deflate_bomb_checkpoint_is_refused_before_loading(tmp_path, monkeypatch):
    import torch

    import zoo
    from zoo.spos import CheckpointError, read_checkpoint

    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        with z.open("archive/data/0", "w", force_zip64=True) as fh:
            block = bytes(1 << 20)
            for _ in range(2048):  # 2 GiB of zeros, ~2 MB on disk
                fh.write(block)
    assert bomb.stat().st_size < 4 << 20

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("torch.load was reached")

    monkeypatch.setattr(torch, "load", never)
    with pytest.raises(CheckpointError, match="zip bomb"):
        read_checkpoint(bomb)
    with pytest.raises(zoo.WeightsError, match="zip bomb"):
        zoo.load("shufflenet_v2_x0_5", weights=str(bomb))


# --- J: log text never renders as Markdown in the app -----------------------------------------------------------

TRACKER = "![t](http://host.invalid/track.png)"


def test_a_pdf_title_with_markdown_is_shown_escaped(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from bench.fulltext_pdfgen import make_paper_pdf

    db = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-32")
    pdf = make_paper_pdf(tmp_path / "t.pdf", title="Ordinary first page title", meta_title=f"Tracked {TRACKER} here",
                         header="arXiv:1807.11164", body="Words of the body. " * 40)
    with open_log(db) as log:
        result = log.add_pdf(pdf, fetch=False)
        assert TRACKER in result.paper["title"] and result.paper["needs_refresh"]

    # the upload outcome line, as Log a paper shows it after an upload
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.session_state["lp_outcome"] = [("warning", f"t.pdf: logged “{result.paper['title']}” (1 pages) — note", 1),
                                      ("success", f"{TRACKER}.pdf: logged “{result.paper['title']}”", 1)]
    at.switch_page("ui/pages/log_paper.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for e in (*at.warning, *at.success)]
    assert any("Tracked" in v for v in shown), shown
    assert not any("![" in v for v in shown), shown

    # the Library's "logged offline" warning
    at.switch_page("ui/pages/library.py").run()
    assert not at.exception, [e.value for e in at.exception]
    offline = [e.value for e in at.warning if "logged offline" in e.value]
    assert offline and "Tracked" in offline[0] and "![" not in offline[0], offline

    # a DOI read from a PDF may hold Markdown too: the paper page's links show it disarmed
    with open_log(db) as log:
        pid = log.add(None, title="Doi holder", doi=f"10.1000/a{TRACKER}", fetch=False).paper["id"]
    at.query_params["id"] = str(pid)
    at.switch_page("ui/pages/paper.py").run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [m.value for m in at.markdown]
    assert any("doi:10.1000/a" in t for t in texts), texts
    assert not any("![" in t for t in texts), texts


def test_a_file_name_with_markdown_is_shown_escaped_in_full_text_hits(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "log.db"
    monkeypatch.setenv("READING_DB", str(db))
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    with open_log(db) as log:
        log.add_pdf(FIXTURES / "twocolumn.pdf", name=f"a`{TRACKER}`b.pdf", fetch=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/pages/search.py").run()
    at.text_input(key="s_query").set_value("Charlie cosine schedule epochs")
    at.session_state["s_scope"] = "Full text"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [m.value for m in at.markdown]
    assert any("track.png" in t for t in texts), texts
    assert not any("![" in t for t in texts), texts
