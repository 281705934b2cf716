"""Every command of both command lines has help text and is shown in README.md (sqlite-utils' test_docs habit).

Commands are collected by walking the click groups, so the check grows as engineers add commands.
"""
from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path

import click
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _walk(group: click.Group, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        out.append((path, command))
        if isinstance(command, click.Group):
            out += _walk(command, path)
    return out


def _commands() -> list[tuple[str, tuple[str, ...], click.Command]]:
    found = []
    for program, target in (("reading", "paperzoo.reading_cli:cli"), ("zoo", "paperzoo.zoo_cli:cli")):
        module, attr = target.split(":")
        try:
            group = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue  # not written yet: becomes strict as soon as it exists
        found += [(program, path, command) for path, command in _walk(group, ())]
    return found


COMMANDS = _commands()


def test_the_reading_cli_is_covered():
    assert any(program == "reading" for program, _, _ in COMMANDS)


@pytest.mark.parametrize("program, path, command", COMMANDS, ids=[f"{p} {' '.join(c)}" for p, c, _ in COMMANDS])
def test_command_has_help(program, path, command):
    assert (command.help or "").strip(), f"`{program} {' '.join(path)}` has no help text"
    assert (command.get_short_help_str() or "").strip()


@pytest.mark.parametrize("program, path, command", COMMANDS, ids=[f"{p} {' '.join(c)}" for p, c, _ in COMMANDS])
def test_command_appears_in_readme(program, path, command):
    words = r"\s+".join(re.escape(w) for w in path)
    forms = [rf"(?<![\w-]){program}\s+{words}(?![\w-])"]
    if program == "zoo":
        forms.append(rf"python\s+-m\s+zoo\s+{words}(?![\w-])")
    assert any(re.search(f, README) for f in forms), f"README.md shows no `{program} {' '.join(path)}` example"


# --- the README's `reading` examples, run in order against a starter log (offline) ----------------------------------


def _readme_commands(program: str) -> list[list[str]]:
    """Every ``program …`` line of the README's ```bash blocks, in order, as its words (shell quoting and the
    trailing comment removed)."""
    return [shlex.split(line, comments=True) for block in re.findall(r"```bash\n(.*?)```", README, re.S)
            for line in block.splitlines() if line.startswith(program + " ")]


READING_EXAMPLES = _readme_commands("reading")

#: Examples that need arXiv: offline they must end in one line that says so, nothing else.
NEEDS_NETWORK = ("reading inbox fetch",)
#: Examples that act on what an earlier example would have fetched (inbox candidates): offline there is none, and
#: the one line must say which id is unknown.
NEEDS_FETCHED = ("reading inbox keep", "reading inbox skip")
#: What a sensible answer contains, for the examples whose output we can predict on the starter set.
EXPECT = {
    "reading search channel shuffle -k 5 --mode keyword --tag efficient --json": "ShuffleNet",
    "reading show 1512.03385": "Deep Residual Learning for Image Recognition",
    "reading related 1707.01083 -k 5": "ShuffleNet V2",
    "reading import --starter": "merged 23",
    "reading stats --window 7": "papers in the log",
}


def test_the_readme_shows_the_reading_examples():
    assert len(READING_EXAMPLES) > 30 and ["reading", "import", "--starter"] in READING_EXAMPLES


def test_every_readme_reading_example_runs_on_a_starter_log(tmp_path, monkeypatch, arxiv_replay):
    """The README's `reading` lines, in order, on a log holding the starter set, with arXiv unreachable: each exits
    0 with non-empty output, or (needing the network) fails with one line saying why."""
    import shutil

    from click.testing import CliRunner

    from reading import normalise_title, open_log

    cli = importlib.import_module("paperzoo.reading_cli").cli
    arxiv_replay.mode = "offline"
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")  # a tiny embedder: this checks the commands, not the model
    monkeypatch.chdir(tmp_path)
    shutil.copy(Path(__file__).parent / "fixtures" / "bibtex" / "zotero_export.bib", tmp_path / "refs.bib")
    pdfs = Path(__file__).parent / "fixtures" / "pdf"  # the "Full text" examples' files
    from bench.fulltext_pdfgen import make_paper_pdf

    # ShuffleNet V2's own PDF (its title agrees with the starter paper's, so it joins that paper)
    make_paper_pdf(tmp_path / "1807.11164v2.pdf", title="ShuffleNet V2: Practical Guidelines for Efficient CNN "
                   "Architecture Design", body="we drop the shuffle in the ablation " * 200, min_pages=2)
    (tmp_path / "papers").mkdir()
    shutil.copy(pdfs / "onecolumn.pdf", tmp_path / "papers" / "onecolumn.pdf")

    make_paper_pdf(tmp_path / "resnet.pdf", title="Deep Residual Learning", body="residual shortcuts " * 80)
    from bench.zotero_fixture import sample_library  # "Bring your library": ~/Zotero and a RIS file

    monkeypatch.setenv("HOME", str(tmp_path))
    sample_library(tmp_path / "Zotero", tmp_path)
    (tmp_path / "library.ris").write_text("TY  - JOUR\nAU  - He, Kaiming\nTI  - A RIS paper\nPY  - 2016\nER  - \n",
                                          encoding="utf-8")
    snapshot = {"id": "1605.08386", "title": "Heat-bath random walks with Markov bases", "authors": "C. Stanley",
                "abstract": "Graphs on lattice points.", "categories": "math.CO", "versions": []}
    (tmp_path / "arxiv-metadata-oai-snapshot.jsonl").write_text(json.dumps(snapshot) + "\n", encoding="utf-8")
    db = tmp_path / "reading.db"
    with open_log(db) as log:
        log.import_starter()

    runner = CliRunner()
    last_note = None
    for words in READING_EXAMPLES:  # as printed: a note id is the one the README's `reading note` gets
        command, args = " ".join(words), words[1:]
        result = runner.invoke(cli, ["--db", str(db), *args])
        out = (result.output or "").strip()
        if command.startswith(NEEDS_NETWORK) or command.startswith(NEEDS_FETCHED):
            assert result.exit_code == 1 and len(out.splitlines()) == 1, (command, out)
            assert re.search(r"arXiv|offline|reach|network|connect" if command.startswith(NEEDS_NETWORK)
                             else r"\b1[234]\b", out, re.I), (command, out)
            continue
        assert result.exit_code == 0, (command, out, result.exception)
        assert out, f"`{command}` printed nothing"
        assert "Traceback" not in out
        if command in EXPECT:
            assert EXPECT[command] in out, (command, out)
        assert "warning:" not in out, (command, out)  # e.g. a near-duplicate made by hand
        found = re.search(r"noted \(note (\d+)\)", out)
        if found:
            last_note = found.group(1)
        if ("--edit" in args or "--delete" in args) and last_note is not None:
            assert args[args.index("--edit" if "--edit" in args else "--delete") + 1] == last_note, command
    assert last_note is not None
    with open_log(db) as log:  # the starter papers the examples work on are still the starter's, not copies
        from reading._intake import starter_papers

        for paper in starter_papers()["papers"]:
            if paper.get("arxiv_id"):
                kept = log.get(paper["arxiv_id"])
                assert kept["source"] == "starter" and set(paper.get("tags", [])) <= set(kept["tags"]), kept["title"]
        titles = sorted(normalise_title(p["title"]) for p in log.papers())
        assert not [(a, b) for a in titles for b in titles if a != b and b.startswith(a + " ")]
    assert (tmp_path / "library.bib").read_text(encoding="utf-8").count("@") >= 20
