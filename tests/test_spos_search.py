"""SPOS evolutionary search: budgets (never evaluated when violated), resume, Pareto front, scoring; the CLI."""
from __future__ import annotations

import json
import random
import statistics

import pytest
import torch
from click.testing import CliRunner

from paperzoo.zoo_cli import cli
from zoo.spos import (
    Arch,
    Candidate,
    LatencyTable,
    SearchConfig,
    SearchError,
    SuperNet,
    evolution_search,
    flops_table,
    load_supernet,
    make_scorer,
    pareto_front,
    read_checkpoint,
)

TABLE = flops_table()  # the paper's supernet at 224
SMALL = SearchConfig(population=12, top_k=4, mutations=6, crossovers=6, iterations=3, seed=5)



class Spy:
    """A deterministic score that prefers 5x5 / 7x7 blocks, recording every call."""

    def __init__(self):
        self.calls: list[Arch] = []

    def __call__(self, arch: Arch) -> float:
        self.calls.append(arch)
        return sum(b in (1, 2) for b in arch.blocks) + 0.01 * arch.blocks[0]


def test_candidates_over_the_flops_budget_are_never_evaluated():
    budget = statistics.median(TABLE.macs(Arch.random(random.Random(i))) for i in range(200))
    spy = Spy()
    result = evolution_search(spy, TABLE, SearchConfig(**{**SMALL.__dict__, "max_macs": budget}), progress=False)
    assert spy.calls and all(TABLE.macs(a) <= budget for a in spy.calls)
    assert result.rejected > 0 and result.evaluated == len(spy.calls) == len(set(map(str, spy.calls)))
    assert all(c.macs <= budget for c in result.top) and len(result.top) == 4
    assert [c.score for c in result.top] == sorted((c.score for c in result.top), reverse=True)
    assert result.history == sorted(result.history)  # the best never gets worse


def test_latency_budget_uses_the_table_and_needs_one():
    spy = Spy()
    lat = LatencyTable((224, 224), 1, {"type": "cpu"}, 1.0, 1.0,
                       [[[float(c + 1)] * 8 for c in range(4)] for _ in range(20)])
    cfg = SearchConfig(**{**SMALL.__dict__, "max_latency_ms": 45.0})
    result = evolution_search(spy, TABLE, cfg, latency=lat, progress=False)
    assert all(lat.latency_ms(a) <= 45.0 for a in spy.calls) and result.rejected > 0
    assert all(c.latency_ms <= 45.0 for c in result.pareto)
    with pytest.raises(SearchError, match="needs a latency table"):
        evolution_search(spy, TABLE, cfg, progress=False)
    with pytest.raises(SearchError, match="no random architecture meets the budget"):
        evolution_search(spy, TABLE, SearchConfig(max_macs=1e6), progress=False)


def test_search_resumes_from_its_state_file(tmp_path):
    straight = evolution_search(Spy(), TABLE, SMALL, state_path=tmp_path / "a.json", progress=False)

    def stop(it, top):
        if it == 1:
            raise KeyboardInterrupt

    spy1 = Spy()
    with pytest.raises(KeyboardInterrupt):
        evolution_search(spy1, TABLE, SMALL, state_path=tmp_path / "b.json", progress=False, on_iteration=stop)
    assert json.loads((tmp_path / "b.json").read_text())["iteration"] == 1
    spy2 = Spy()
    resumed = evolution_search(spy2, TABLE, SMALL, state_path=tmp_path / "b.json", progress=False)
    assert resumed.to_dict() == straight.to_dict()
    assert not {str(a) for a in spy1.calls} & {str(a) for a in spy2.calls}  # nothing scored twice
    with pytest.raises(SearchError, match="other settings"):
        evolution_search(Spy(), TABLE, SearchConfig(population=3), state_path=tmp_path / "b.json", progress=False)


def test_pareto_front():
    a = Arch((0,) * 20)
    cands = [Candidate(a, m, None, s) for m, s in [(10, 50.0), (20, 40.0), (30, 60.0), (30, 55.0), (5, 10.0)]]
    assert [(c.macs, c.score) for c in pareto_front(cands)] == [(5, 10.0), (10, 50.0), (30, 60.0)]


def test_scorer_recalibrates_and_scores_top1():
    torch.manual_seed(0)
    net = SuperNet(stem_channels=4, stage_channels=(8, 16, 24, 32), last_channels=32, num_classes=2)
    x, y = torch.randn(8, 3, 32, 32), torch.tensor([0, 1] * 4)
    score = make_scorer(net, [(x, y)], [(x, y)])
    arch = Arch.random(random.Random(0))
    s = score(arch)
    net.eval()
    assert s == 100.0 * float((net(x, arch).argmax(1) == y).float().mean())
    assert score(arch) == s


# -- command line --------------------------------------------------------------------------------------------------

TRAIN = ["supernet", "train", "--data", "tiny:2:32", "--steps", "4", "--batch-size", "8", "--lr", "0.05",
         "--input-size", "32", "--stem-channels", "4", "--stage-channels", "8,16,24,32", "--last-channels", "32",
         "--checkpoint-every", "2", "--quiet"]


def test_cli_train_search_extract(tmp_path):
    runner = CliRunner()
    ckpt = tmp_path / "supernet.pt"
    r = runner.invoke(cli, [*TRAIN, "--out", str(ckpt)])
    assert r.exit_code == 0, r.output
    assert read_checkpoint(ckpt)["step"] == 4 and "done at step 4/4" in r.output
    r = runner.invoke(cli, [*TRAIN, "--out", str(ckpt), "--steps", "6"])  # same command, more steps: resumes
    assert r.exit_code == 0 and read_checkpoint(ckpt)["step"] == 6

    out = tmp_path / "search.json"
    r = runner.invoke(cli, ["supernet", "search", "--supernet", str(ckpt), "--data", "tiny:2:32", "--max-macs", "0.3M",
                            "--population", "6", "--top-k", "2", "--mutations", "3", "--crossovers", "3",
                            "--iterations", "1", "--batch-size", "8", "--calib-batches", "1", "--val-batches", "1",
                            "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    result = json.loads(out.read_text())
    table = flops_table(stem_channels=4, stage_channels=(8, 16, 24, 32), last_channels=32, num_classes=2, input_size=32)
    assert len(result["top"]) == 2 and all(table.macs(c["arch"]) == c["macs"] <= 0.3e6 for c in result["top"])
    assert (tmp_path / "search.json.state").exists()

    best = result["top"][0]["arch"]
    r = runner.invoke(cli, ["supernet", "extract", "--supernet", str(ckpt), "--arch", best, "--out",
                            str(tmp_path / "sub.pth")])
    assert r.exit_code == 0, r.output
    assert set(torch.load(tmp_path / "sub.pth")) >= {"stem.conv.weight", "classifier.weight"}


@pytest.mark.parametrize("args,msg", [
    (["supernet", "extract", "--supernet", "missing.pt", "--arch", "0" * 20, "--out", "x.pth"], "not found"),
    (["supernet", "search", "--supernet", "missing.pt", "--max-macs", "lots", "--out", "x.json"], "not a MACs figure"),
    (["supernet", "train", "--out", "x.pt", "--stage-channels", "8,16"], "stage_channels must be 4"),
    (["supernet", "latency-table", "--out", "t.json", "--stage-channels", "a,b"], "4 comma-separated ints"),
    (["supernet", "train", "--out", "x.pt", "--stage-strides", "1,2,x,1"], "4 comma-separated strides"),
    (["supernet", "train", "--out", "x.pt", "--stage-strides", "1,2,2"], "stage_strides must be 4 values"),
])
def test_cli_bad_input_is_one_clear_line(tmp_path, args, msg):
    r = CliRunner().invoke(cli, args)
    assert r.exit_code != 0 and msg in r.output and "Traceback" not in r.output


def test_cli_extract_rejects_a_bad_arch(tmp_path):
    runner = CliRunner()
    ckpt = tmp_path / "s.pt"
    assert runner.invoke(cli, [*TRAIN, "--out", str(ckpt), "--steps", "2"]).exit_code == 0
    r = runner.invoke(cli, ["supernet", "extract", "--supernet", str(ckpt), "--arch", "0123", "--out", "x.pth"])
    assert r.exit_code == 1 and "20 block choices" in r.output and "Traceback" not in r.output


def test_cli_train_with_stage_strides_stores_them_in_the_checkpoint(tmp_path):
    ckpt = tmp_path / "s.pt"
    r = CliRunner().invoke(cli, [*TRAIN, "--out", str(ckpt), "--steps", "2", "--stage-strides", "1,2,2,1"])
    assert r.exit_code == 0, r.output
    net = load_supernet(ckpt)
    assert net.layout.stage_strides == (1, 2, 2, 1) and [b.stride for b in net.blocks].count(2) == 2


def test_cli_latency_table(tmp_path):
    r = CliRunner().invoke(cli, ["supernet", "latency-table", "--out", str(tmp_path / "t.json"), "--input-size", "32",
                                 "--repeats", "1", "--stem-channels", "4", "--stage-channels", "8,16,24,32",
                                 "--last-channels", "32", "--quiet"])
    assert r.exit_code == 0, r.output
    table = LatencyTable.load(tmp_path / "t.json")
    assert table.latency_ms(Arch((1,) * 20)) > 0 and table.device["type"] == "cpu"
