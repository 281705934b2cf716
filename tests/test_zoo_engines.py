"""The CPU engines behind zoo.optimize (ONNX Runtime, OpenVINO), the engines of zoo.benchmark and `zoo bench
--engine`: outputs equal eager's, the fastest engine is kept per input shape, threads are set alike, versions are
recorded, and a missing engine package is a skipped row or a one-line error with the install command."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import zoo
from paperzoo.zoo_cli import cli
from zoo import _engines

pytest.importorskip("onnxruntime")

SMALL = (1, 3, 32, 32)
FAST = dict(input_size=32, iters=2, warmup=1, progress=False, memory=False)


@pytest.fixture(scope="module")
def shufflenet(trained_like):
    torch.manual_seed(0)
    return trained_like(zoo.load("shufflenet_v2_x0_5", num_classes=10))


@pytest.fixture(scope="module")
def onnx_file(shufflenet, tmp_path_factory):
    return zoo.export(shufflenet, tmp_path_factory.mktemp("onnx") / "v2.onnx", input_size=SMALL)


def _installed(engine):
    if _engines.engine_missing(engine):
        pytest.skip(f"{engine} not installed")  # CI installs both (requirements-dev.txt)


@pytest.mark.parametrize("engine", ["onnxruntime", "openvino"])
def test_each_engine_matches_eager_at_any_batch(engine, shufflenet, onnx_file):
    _installed(engine)
    module = zoo.load_engine(onnx_file, engine, threads=1)
    assert module.engines == (engine,) and module.threads == 1 and module.versions[engine] == zoo.engine_version(engine)
    for batch in (1, 3, 1):
        x = torch.randn(batch, 3, 32, 32)
        with torch.no_grad():
            ref = shufflenet(x)
        got = module(x)
        assert isinstance(got, torch.Tensor) and got.shape == ref.shape
        assert (got - ref).abs().max() <= 1e-4 * ref.abs().max()
    # a channels_last or non-contiguous input is the same image
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(module(x.contiguous(memory_format=torch.channels_last)), module(x))


def test_optimize_auto_keeps_the_faster_engine_per_shape(shufflenet, monkeypatch):
    _installed("openvino")
    fast = zoo.optimize(shufflenet, input_size=SMALL, threads=1)
    assert isinstance(fast, zoo.EngineModule) and fast.engines == ("onnxruntime", "openvino")
    # make openvino slow: the chooser must notice and keep onnxruntime for this shape
    ov = fast._runners["openvino"]
    calls = []

    def slow(x):
        calls.append(x.shape)
        import time

        time.sleep(0.05)
        return ov(x)

    monkeypatch.setitem(fast._runners, "openvino", slow)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = shufflenet(x)
    assert (fast(x) - ref).abs().max() <= 1e-4 * ref.abs().max()
    assert fast.choices == {(2, 3, 32, 32): "onnxruntime"} and len(calls) >= 2
    n = len(calls)
    fast(x)
    assert len(calls) == n, "a known shape runs the chosen engine only"
    with pytest.raises(zoo.ZooError, match="CPU float32"):
        fast(x.double())


def test_optimize_takes_the_torch_path_off_cpu_float32_and_without_engines(shufflenet, monkeypatch):
    wide = zoo.optimize(shufflenet.double(), input_size=SMALL)
    shufflenet.float()
    assert not isinstance(wide, zoo.EngineModule) and not any(isinstance(m, nn.BatchNorm2d) for m in wide.modules())
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(wide(x).float(), shufflenet(x.float()), atol=1e-4, rtol=1e-4)
    monkeypatch.setattr(_engines, "engine_version", lambda e: None if e in ("onnxruntime", "openvino") else "x")
    plain = zoo.optimize(shufflenet, input_size=SMALL)
    assert not isinstance(plain, zoo.EngineModule)
    with pytest.raises(zoo.ZooError, match=r"onnxruntime is not installed \(pip install onnxruntime\)"):
        zoo.optimize(shufflenet, engine="onnxruntime")
    with pytest.raises(zoo.ZooError, match=r"pip install openvino"):
        zoo.optimize(shufflenet, engine="openvino")
    with pytest.raises(zoo.ZooError, match="unknown engine"):
        zoo.optimize(shufflenet, engine="tensorrt")


def test_benchmark_engines_record_engine_version_and_threads(monkeypatch):
    real = _engines.engine_version
    monkeypatch.setattr(_engines, "engine_version", lambda e: None if e == "openvino" else real(e))
    torch_threads = torch.get_num_threads()
    results = zoo.benchmark("resnet18", batch_sizes=(1, 2), engines=("eager", "onnxruntime", "openvino", "optimized"),
                            threads=1, **FAST)
    assert torch.get_num_threads() == torch_threads, "torch's threads are restored"
    assert [(r.engine, r.batch) for r in results] == [(e, b) for e in ("eager", "onnxruntime", "openvino", "optimized")
                                                      for b in (1, 2)]
    for r in results:
        assert r.env["engine"] == r.engine and r.env["threads"] == 1 and r.mode == r.engine
    by = {(r.engine, r.batch): r for r in results}
    assert by[("openvino", 1)].skipped == "openvino is not installed (pip install openvino)"
    assert by[("openvino", 2)].latency_ms is None and by[("openvino", 1)].metrics() == {}
    assert by[("onnxruntime", 2)].latency_ms > 0 and by[("onnxruntime", 2)].env["engine_version"] == real("onnxruntime")
    assert by[("eager", 1)].env["engine_version"] == torch.__version__ and not by[("eager", 1)].optimized
    opt = by[("optimized", 2)]
    assert opt.optimized and opt.env["engine_picked"] == "onnxruntime"  # the only engine left installed
    assert opt.env["engine_version"] == real("onnxruntime")
    rows = json.loads(zoo.format_results(results, "json"))
    assert [row["engine"] for row in rows] == [r.engine for r in results]
    assert "| onnxruntime" in zoo.format_results(results, "table")


def test_onnx_engines_skip_other_dtypes_with_a_reason():
    results = zoo.benchmark("resnet18", batch_sizes=(1,), dtypes=("bf16",), engines=("onnxruntime",), **FAST)
    assert results[0].skipped == "onnxruntime runs the fp32 ONNX export on CPU"
    with pytest.raises(zoo.ZooError, match="unknown engine"):
        zoo.benchmark("resnet18", engines=("tvm",), **FAST)


def test_cli_bench_engine_is_repeatable(tmp_path):
    r = CliRunner().invoke(cli, ["bench", "resnet18", "--engine", "onnxruntime", "--engine", "eager", "-b", "1",
                                 "--input-size", "32", "--iters", "1", "--warmup", "0", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)  # the progress bar goes to stderr
    assert [row["engine"] for row in rows] == ["onnxruntime", "eager"]
    assert rows[0]["env"]["engine_version"] == zoo.engine_version("onnxruntime")
    r = CliRunner().invoke(cli, ["bench", "resnet18", "--engine", "tvm"])
    assert r.exit_code == 2 and "tvm" in r.output


def test_import_zoo_does_not_import_the_engines():
    code = ("import sys, zoo; zoo.engine_version('onnxruntime'); zoo.engine_version('openvino'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnxruntime', 'openvino', 'onnx')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


TINY_SPOS = dict(stem_channels=4, stage_channels=(8, 16, 24, 32), last_channels=32, num_classes=3)


@pytest.mark.slow
def test_spos_latency_table_in_a_deployment_engine_records_it(tmp_path):
    engine = "openvino"  # onnxruntime: through the CLI below
    _installed(engine)
    from zoo.spos import SPOS_A, LatencyTable, measure_latency_table

    table = measure_latency_table(input_size=32, repeats=1, warmup=0, progress=False, engine=engine, **TINY_SPOS)
    assert table.device["engine"] == engine and table.device["engine_version"] == zoo.engine_version(engine)
    assert table.latency_ms(SPOS_A) > 0 and all(v > 0 for row in table.blocks for cell in row for v in cell if v)
    back = LatencyTable.load(table.save(tmp_path / "t.json"))
    assert back.device["engine"] == engine and back.latency_ms(SPOS_A) == pytest.approx(table.latency_ms(SPOS_A))


@pytest.mark.slow
def test_spos_latency_table_engine_errors_and_cli(tmp_path):
    from zoo.spos import LatencyTable, measure_latency_table

    with pytest.raises(zoo.ZooError, match="unknown engine"):
        measure_latency_table(input_size=32, repeats=1, progress=False, engine="tvm", **TINY_SPOS)
    eager = measure_latency_table(input_size=32, repeats=1, warmup=0, progress=False, **TINY_SPOS)
    assert eager.device["engine"] == "eager" and eager.device["engine_version"] == torch.__version__
    out = tmp_path / "t.json"
    r = CliRunner().invoke(cli, ["supernet", "latency-table", "--out", str(out), "--input-size", "32", "--repeats",
                                 "1", "--stem-channels", "4", "--stage-channels", "8,16,24,32", "--last-channels",
                                 "32", "--engine", "onnxruntime", "--quiet"])
    assert r.exit_code == 0, r.output
    assert f"onnxruntime {zoo.engine_version('onnxruntime')}" in r.output
    assert LatencyTable.load(out).device["engine"] == "onnxruntime"
