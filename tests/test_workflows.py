"""The application layer (paperzoo): each workflow that spans the libraries gives the same result from the CLI and
from the app, because both call the one function."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

import index
import paperzoo
import reading
import zoo
from paperzoo.zoo_cli import cli as zoo_cli

ROOT = Path(__file__).resolve().parents[1]
ENV = {"torch": "2.13.0", "python": "3.12", "device": "cpu", "device_name": "test cpu", "threads": 2}


def _canned(names, *, batch_sizes=(1, 32), optimized=(False, True), engines=None, **_ignored):
    """zoo.benchmark's stand-in: fixed numbers per configuration, so two runs store comparable rows."""
    optimized = optimized if engines is None else [e != "eager" for e in engines]
    names = [names] if isinstance(names, str) else list(names)
    out = []
    for name in names:
        for opt in optimized:
            for batch in batch_sizes:
                env = {**ENV, "dtype": "fp32", "batch": batch, "input_size": [3, 224, 224], "optimized": opt,
                       "compiled": False, "mode": "optimized" if opt else "eager"}
                latency = 10.0 * batch + (1.0 if opt else 2.0)
                out.append(zoo.BenchResult(name, None, "cpu", "fp32", batch, (3, 224, 224), opt, False, params=1_000,
                                           macs=50_000, iters=2, latency_ms=latency, latency_p90_ms=latency + 1,
                                           throughput_ips=batch / latency * 1e3, env=env))
    return out


def _rows(db: Path) -> list[tuple]:
    with reading.open_log(db) as log:
        return sorted((r["model"], r["weights"], r["metric"], r["value"], sorted(r["env"].items()), r["source"])
                      for r in log.results())


def test_a_benchmark_stored_from_the_cli_and_from_the_app_gives_identical_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "benchmark", _canned)
    monkeypatch.setenv("INDEX_MODEL", "hash-bow-64")
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "weights"))

    cli_db = tmp_path / "cli.db"
    res = CliRunner().invoke(zoo_cli, ["bench", "resnet18", "--batch", "1", "--batch", "8", "--mode", "eager",
                                       "--store", "--db", str(cli_db)])
    assert res.exit_code == 0, res.output

    app_db = tmp_path / "app.db"
    monkeypatch.setenv("READING_DB", str(app_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/pages/zoo.py").run()
    at.multiselect(key="zb_models").set_value(["resnet18"])
    at.multiselect(key="zb_batches").set_value([1, 8])
    at.selectbox(key="zb_engine").set_value("eager")
    next(b for b in at.button if b.label == "Benchmark on this machine").click().run()
    assert not at.exception, [e.value for e in at.exception]

    cli_rows, app_rows = _rows(cli_db), _rows(app_db)
    assert cli_rows == app_rows
    metrics = [r[2] for r in cli_rows]
    # the one rule: timings per configuration, the counts once per model and input, with a trimmed environment
    assert metrics.count("latency_ms") == 2 and metrics.count("params") == 1 and metrics.count("macs") == 1
    params = next(r for r in cli_rows if r[2] == "params")
    assert dict(params[4]) == {"torch": "2.13.0", "input_size": [3, 224, 224]}


def test_claimed_vs_measured_is_one_rule_for_the_cli_and_the_pages(tmp_path):
    db = tmp_path / "log.db"
    with reading.open_log(db) as log:
        log.add_result("resnet18", "top1", 69.0, weights="IMAGENET1K_V1", measured_at="2026-11-01T00:00:00")
        log.add_result("resnet18", "top1", 69.5, weights="IMAGENET1K_V1", measured_at="2026-11-02T00:00:00")
        log.add_result("resnet18", "latency_ms", 30.0, env={"batch": 8, "dtype": "fp32"},
                       measured_at="2026-11-03T00:00:00")
        log.add_result("resnet18", "latency_ms", 4.0, env={"batch": 1, "dtype": "fp32"},
                       measured_at="2026-11-02T00:00:00")
        results = log.results("resnet18")
    res = CliRunner().invoke(zoo_cli, ["compare", "resnet18", "--json", "--db", str(db)])
    assert res.exit_code == 0, res.output
    cli_rows = json.loads(res.stdout)
    assert cli_rows == [c.to_dict() for c in paperzoo.compare("resnet18", results)]
    top1 = next(r for r in cli_rows if r["metric"] == "top1" and r["weights"] == "IMAGENET1K_V1")
    assert top1["measured"] == 69.5
    # the Zoo table and the paper page read the same latest result
    assert paperzoo.latest(results, paperzoo.ACCURACY)["value"] == 69.5
    assert paperzoo.latest(results, paperzoo.LATENCY)["value"] == 4.0  # batch 1 fp32 stands for latency


def test_model_links_and_the_starter_set_agree_with_the_registry(tmp_path):
    with reading.open_log(tmp_path / "log.db") as log:
        paperzoo.load_starter(log)
        links = {(l["model"], l["arxiv_id"]) for l in log.links()}
        registry = set(paperzoo.registry_links())
        assert registry <= links
        shipped = json.loads(resources.files("reading").joinpath("data/starter_papers.json").read_text("utf-8"))
        starter = {(m, p["arxiv_id"]) for p in shipped["papers"] for m in p.get("zoo_models", [])}
        assert starter <= registry, sorted(starter - registry)[:5]
        before = len(log.links())
        report = paperzoo.sync_model_links(log)
        assert len(log.links()) == before and report.links == len(registry)


@pytest.mark.parametrize("error", [reading.InvalidInput("bad rating 7"), zoo.UnknownModelError("unknown model 'x'"),
                                   index.SearchError("empty query; give some words to search for")])
def test_the_cli_error_policy_turns_each_library_base_into_one_line(error):
    import click

    from paperzoo._cli import Group

    @click.group(cls=Group)
    def grp() -> None:
        """A group."""

    @grp.command()
    def boom() -> None:
        """Raise."""
        raise error

    res = CliRunner().invoke(grp, ["boom"])
    assert res.exit_code == 1 and res.output == f"Error: {error}\n"


def test_other_errors_are_not_swallowed():
    import click

    from paperzoo._cli import Group

    @click.group(cls=Group)
    def grp() -> None:
        """A group."""

    @grp.command()
    def boom() -> None:
        """Raise."""
        raise KeyError("a bug")

    res = CliRunner().invoke(grp, ["boom"])
    assert isinstance(res.exception, KeyError)
