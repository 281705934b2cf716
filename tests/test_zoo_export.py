"""zoo.export: every registered model (SPOS subnets and the supernet included) exports to ONNX that computes what the
eager model computes; a file that does not is refused with one line naming the output, and nothing is written.

Models export at 32x32 (the check runs at batch 2 through the dynamic batch axis): the whole registry takes well
under a minute of CPU time."""
from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import zoo
from paperzoo.zoo_cli import cli

onnx = pytest.importorskip("onnx")  # installed by requirements.txt; its absence is not what is tested here

SMALL = (1, 3, 32, 32)


def _run_onnx(path, x):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [torch.from_numpy(y) for y in session.run(None, {"input": x.numpy()})]


def _bn_like_trained(model: nn.Module) -> nn.Module:
    """Running statistics (and affine parameters, where the BN has them: the supernet's have not) drawn like a
    trained net's, so that an export that mishandles BN cannot pass as identity."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                if m.affine:
                    m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                if m.track_running_stats:
                    m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                    m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.list_models())
def test_every_registered_model_exports_and_matches_eager(name, tmp_path):
    torch.manual_seed(0)
    model = _bn_like_trained(zoo.load(name))
    path = zoo.export(model, tmp_path / f"{name}.onnx", input_size=SMALL)
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["input"] and graph.output[0].name == "logits"
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    x = torch.randn(3, 3, 32, 32)
    (got,) = _run_onnx(path, x)
    with torch.no_grad():
        ref = model(x)
    assert (got - ref).abs().max().item() <= 1e-4 * ref.abs().max().item()


def test_export_by_name_with_weights_and_a_fixed_batch(tmp_path, trained_like):
    torch.manual_seed(1)
    source = trained_like(zoo.load("shufflenet_v2_x0_5", num_classes=7))
    ckpt = tmp_path / "mine.pth"
    torch.save(source.state_dict(), ckpt)
    path = zoo.export("shufflenet_v2_x0_5", tmp_path / "out" / "v2.onnx", weights=str(ckpt), input_size=(2, 3, 32, 32),
                      dynamic_batch=False)
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 3, 32, 32]
    x = torch.randn(2, 3, 32, 32)
    (got,) = _run_onnx(path, x)
    with torch.no_grad():
        torch.testing.assert_close(got, source(x), atol=1e-5, rtol=1e-4)  # the checkpoint's weights, 7 classes


class Drifts(nn.Module):
    """Traces to a constant factor but changes it on every call: the exported file cannot match eager."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.conv(x).mean((2, 3)) * self.calls


def test_a_diverging_export_is_one_line_naming_the_output_and_writes_nothing(tmp_path):
    target = tmp_path / "drift.onnx"
    with pytest.raises(zoo.ExportError) as err:
        zoo.export(Drifts(), target, input_size=SMALL)
    message = str(err.value)
    assert "\n" not in message and "'logits'" in message and "relative" in message and "Drifts" in message
    assert list(tmp_path.iterdir()) == [], "no file, no temp file left behind"


def test_a_model_that_cannot_be_traced_is_an_export_error(tmp_path):
    class Dict(nn.Module):
        def forward(self, x):
            return {"out": x.mean()}

    with pytest.raises(zoo.ExportError, match="tensor or a tuple|export failed"):
        zoo.export(Dict(), tmp_path / "d.onnx", input_size=SMALL)
    with pytest.raises(zoo.ExportError, match="input_size"):
        zoo.export(Drifts(), tmp_path / "d.onnx", input_size=(0, 3, 8, 8))
    assert list(tmp_path.iterdir()) == []


def test_export_leaves_the_model_as_it_was(tmp_path):
    model = zoo.load("resnet18", num_classes=3).train().double()
    zoo.export(model, tmp_path / "r.onnx", input_size=SMALL)
    assert model.training and next(model.parameters()).dtype == torch.float64


def test_cli_export_writes_a_checked_file(tmp_path):
    out = tmp_path / "v2.onnx"
    r = CliRunner().invoke(cli, ["export", "shufflenet_v2_x0_5", "-o", str(out), "--input-size", "32"])
    assert r.exit_code == 0, r.output
    assert out.is_file() and str(out) in r.output and "within 1e-4 relative of eager" in r.output
    assert onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim[2].dim_value == 32
    r = CliRunner().invoke(cli, ["export", "shufflenet_v3", "-o", str(tmp_path / "x.onnx")])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1 and not (tmp_path / "x.onnx").exists()
