"""zoo.benchmark, zoo.format_results, paperzoo.compare and the `zoo bench` / `zoo compare` / `zoo sync-links` commands.

Models run at 32x32 with a couple of iterations: these tests check what is measured and recorded, not speed."""
from __future__ import annotations

import csv
import io
import json
import time

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import paperzoo
import zoo
from zoo._bench import _timed
from paperzoo.zoo_cli import cli

FAST = dict(input_size=32, iters=2, warmup=1, progress=False)


def test_benchmark_measures_and_records_the_environment():
    results = zoo.benchmark("resnet18", batch_sizes=(1, 2), **FAST)
    assert [(r.optimized, r.batch) for r in results] == [(False, 1), (False, 2), (True, 1), (True, 2)]
    counts = zoo.count("resnet18", input_size=(1, 3, 32, 32))
    for r in results:
        assert r.model == "resnet18" and r.weights is None and r.dtype == "fp32" and r.skipped is None
        assert (r.params, r.macs, r.input_size, r.iters) == (counts.params, counts.macs, (3, 32, 32), 2)
        assert 0 < r.latency_ms <= r.latency_p90_ms
        assert r.throughput_ips == pytest.approx(r.batch / (r.latency_ms / 1e3))
        onnx_engine = r.env.get("engine_picked") in ("onnxruntime", "openvino")
        if onnx_engine:  # not measurable per call: "—", never a 0.0 that reads as "no memory"
            assert r.peak_memory_mb is None and r.memory_method.startswith("not measured")
        else:
            assert r.peak_memory_mb is not None and r.peak_memory_mb >= 0 and r.memory_method
        env = r.env
        assert env["torch"] == torch.__version__ and env["threads"] == torch.get_num_threads()
        assert env["device"] == "cpu" and env["device_name"] and env["dtype"] == "fp32"
        assert env["batch"] == r.batch and env["input_size"] == [3, 32, 32] and env["optimized"] == r.optimized
        assert set(r.metrics()) == {"latency_ms", "latency_p90_ms", "throughput_ips", "params", "macs",
                                    *(() if onnx_engine else ("peak_memory_mb",))}


def test_patterns_expand_over_the_registry():
    results = zoo.benchmark("resnet18*", batch_sizes=(1,), optimized=(True,), memory=False, **FAST)
    assert [r.model for r in results] == zoo.list_models("resnet18*") == ["resnet18", "resnet18_v1"]
    assert all(r.peak_memory_mb is None for r in results)


class HalfShy(nn.Module):
    """A model that fails in fp16 the way CPU kernels without a Half implementation do."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        if x.dtype == torch.float16:
            raise RuntimeError('"slow_conv2d_cpu" not implemented for \'Half\'\nmore details')
        return self.conv(x).mean((2, 3))


def test_unsupported_dtypes_are_skipped_with_a_reason():
    results = zoo.benchmark(HalfShy(), dtypes=("fp32", "fp16", "bf16"), batch_sizes=(1, 2), optimized=(False,),
                            **FAST)
    by = {(r.dtype, r.batch): r for r in results}
    assert by[("fp16", 1)].skipped == by[("fp16", 2)].skipped
    assert "not implemented for 'Half'" in by[("fp16", 1)].skipped and "\n" not in by[("fp16", 1)].skipped
    assert by[("fp16", 1)].latency_ms is None and by[("fp16", 1)].metrics() == {}
    assert by[("fp32", 2)].latency_ms > 0 and by[("bf16", 1)].latency_ms > 0 and by[("bf16", 1)].skipped is None
    assert by[("fp32", 1)].model == "HalfShy" and by[("fp32", 1)].params == 3 * 4 * 9 + 4


def test_bad_arguments_raise_zoo_errors():
    with pytest.raises(zoo.UnknownModelError, match="resnet18"):
        zoo.benchmark("resnet81", **FAST)
    with pytest.raises(zoo.ZooError, match="no model matches"):
        zoo.benchmark("vgg*", **FAST)
    with pytest.raises(zoo.ZooError, match="unknown dtype"):
        zoo.benchmark("resnet18", dtypes=("fp8",), **FAST)
    with pytest.raises(zoo.ZooError, match="device"):
        zoo.benchmark("resnet18", device="tpu", **FAST)
    with pytest.raises(zoo.ZooError, match="batch sizes"):
        zoo.benchmark("resnet18", batch_sizes=(0,), **FAST)


def test_timing_loop_counts_calls_and_honours_max_time():
    calls = []

    def fn(x):
        calls.append(x)
        time.sleep(0.01)

    times = _timed(fn, 0, warmup=2, iters=5, sync=lambda: None, max_time=None)
    assert len(calls) == 7 and len(times) == 5 and all(t >= 0.009 for t in times)
    calls.clear()
    times = _timed(fn, 0, warmup=0, iters=100, sync=lambda: None, max_time=0.02)
    assert 2 <= len(times) < 10


def test_output_formats():
    results = zoo.benchmark("resnet18", batch_sizes=(1,), optimized=(False,), **FAST)
    results += zoo.benchmark(HalfShy(), dtypes=("fp16",), batch_sizes=(1,), optimized=(False,), **FAST)
    table = zoo.format_results(results, "table")
    lines = table.splitlines()
    assert lines[0].startswith(f"torch {torch.__version__}") and "threads" in lines[0]
    header = next(line for line in lines if line.startswith("| model"))
    assert "median_ms" in header and "img_per_s" in header and "peak_MiB" in header
    assert any(line.startswith("| resnet18 ") for line in lines) and "skipped: RuntimeError" in table
    data = json.loads(zoo.format_results(results, "json"))
    assert data[0]["latency_ms"] == results[0].latency_ms and data[0]["env"]["batch"] == 1
    rows = list(csv.DictReader(io.StringIO(zoo.format_results(results, "csv"))))
    assert rows[0]["model"] == "resnet18" and float(rows[0]["latency_ms"]) == pytest.approx(results[0].latency_ms)
    assert json.loads(rows[0]["env"])["torch"] == torch.__version__ and rows[1]["skipped"]
    with pytest.raises(zoo.ZooError, match="unknown format"):
        zoo.format_results(results, "xml")


def _res(metric, value, weights=None, at="2026-11-01T00:00:00", env=None):
    return {"model": "resnet18", "weights": weights, "metric": metric, "value": value, "env": env or {},
            "source": "measured", "measured_at": at}


def test_compare_claims_with_the_latest_measurements():
    measured = [
        _res("top1", 69.0, "IMAGENET1K_V1", at="2026-11-01T00:00:00"),
        _res("top1", 69.5, "IMAGENET1K_V1", at="2026-11-02T00:00:00"),  # latest wins
        _res("macs", 99e9, env={"input_size": [3, 32, 32]}),  # another input size: not the paper's figure
        {**_res("top1", 10.0), "model": "resnet34"},
    ]
    rows = paperzoo.compare("resnet18", measured)
    by = {(r.metric, r.source.split()[0]): r for r in rows}
    v1 = by[("top1", "weights")]
    assert v1.claimed == 69.758 and v1.measured == 69.5 and v1.difference == pytest.approx(69.5 - 69.758)
    assert v1.weights == "IMAGENET1K_V1" and v1.origin == "measured" and v1.measured_at.startswith("2026-11-02")
    err = by[("top1_err", "arXiv:1512.03385")]
    assert err.claimed == 27.88 and err.measured == pytest.approx(30.5) and err.unit == "%"
    macs = by[("macs", "arXiv:1512.03385")]
    assert macs.origin == "counted" and macs.measured == pytest.approx(1.814073344) and macs.unit == "G"
    top5 = by[("top5", "weights")]
    assert top5.measured is None and top5.difference is None and top5.to_dict()["difference"] is None
    assert {r.metric for r in paperzoo.compare("resnet18")} == {"macs", "top1_err", "top1", "top5"}


def test_cli_bench_stores_results_in_the_log(tmp_path, log):
    runner = CliRunner()
    out = tmp_path / "out" / "r.csv"
    args = ["bench", "resnet18", "--input-size", "32", "--batch", "1", "--batch", "2", "--iters", "2", "--warmup",
            "1", "--mode", "eager", "--store", "--db", str(log.path)]
    res = runner.invoke(cli, [*args, "--format", "csv", "--output", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert [r["batch"] for r in rows] == ["1", "2"] and rows[0]["optimized"] == "False"
    stored = log.results("resnet18")
    metrics = sorted(r["metric"] for r in stored)
    assert metrics.count("latency_ms") == 2 and metrics.count("params") == 1 and metrics.count("macs") == 1
    lat = [r for r in stored if r["metric"] == "latency_ms"]
    assert {r["env"]["batch"] for r in lat} == {1, 2} and all(r["env"]["torch"] == torch.__version__ for r in lat)
    assert lat[0]["value"] == pytest.approx(float(rows[0]["latency_ms"]))

    res = runner.invoke(cli, ["bench", "resnet18", "--input-size", "32", "--batch", "1", "--iters", "1",
                              "--mode", "optimized", "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["optimized"] is True


@pytest.mark.parametrize("args, message", [
    (["bench", "resnet81"], "Error: unknown model 'resnet81'; did you mean"),
    (["bench", "resnet18", "--input-size", "big"], "Invalid value for --input-size"),
    (["bench", "resnet18", "--device", "tpu"], "Error: unknown device 'tpu'"),
    (["compare", "nosuch"], "Error: unknown model 'nosuch'"),
])
def test_cli_errors_are_one_line(args, message):
    res = CliRunner().invoke(cli, args)
    assert res.exit_code in (1, 2) and message in res.output and "Traceback" not in res.output


def test_cli_compare_without_measurements(log):
    res = CliRunner().invoke(cli, ["compare", "shufflenet_v2", "--db", str(log.path)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("shufflenet_v2_x1_0: claimed vs measured")
    assert "(counted)" in res.output and "Table 8" in res.output and "IMAGENET1K_V1" in res.output


def test_cli_sync_links_is_idempotent(log):
    log.add("1512.03385", title="Deep Residual Learning for Image Recognition", fetch=False)
    runner = CliRunner()
    pairs = {(m, p) for m in zoo.list_models() for p in zoo.info(m).papers}
    for _ in range(2):
        res = runner.invoke(cli, ["sync-links", "--db", str(log.path)])
        assert res.exit_code == 0, res.output
        assert f"({len(pairs)} links)" in res.output
    resnets = {m for m, p in pairs if p == "1512.03385"}
    assert set(log.models_for("1512.03385")) == resnets and "resnet18" in resnets
    assert [p["arxiv_id"] for p in log.papers_for_model("resnet50")] == ["1512.03385"]


def test_onnx_engine_rows_show_a_dash_for_peak_memory_not_zero():
    pytest.importorskip("onnxruntime")
    results = zoo.benchmark("resnet18", batch_sizes=(1,), engines=("eager", "onnxruntime"), **FAST)
    eager, engine = results
    assert eager.peak_memory_mb is not None and engine.peak_memory_mb is None
    table = zoo.format_results(results)
    row = next(line for line in table.splitlines() if "| onnxruntime" in line)
    assert "—" in row and " 0.0 " not in row
    assert "peak memory —: not measured for ONNX engines" in table
