"""zoo.optimize's torch path (BN folding, channels_last, eval) and the zoo CLI (list, info) through CliRunner.
The ONNX engines behind zoo.optimize's default are tested in test_zoo_engines.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import zoo
from paperzoo.zoo_cli import cli


@pytest.mark.parametrize("name", ["resnet18", "shufflenet_v2_x0_5", "shufflenet_v1_g8_x0_5_megvii"])
def test_optimize_folds_every_bn_and_keeps_outputs(name, trained_like):
    torch.manual_seed(0)
    model = trained_like(zoo.load(name, num_classes=10)).train()
    fast = zoo.optimize(model, engine="torch")
    assert model.training, "the original is left alone"
    assert not fast.training and not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    conv = next(m for m in fast.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and conv.bias is not None
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model.eval()(x), atol=1e-4, rtol=1e-4)
    assert fast.weights is None


def test_optimize_untraceable_model_folds_inside_sequential_and_warns(trained_like):
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())

        def forward(self, x):
            return self.body(x) if x.sum() > -1e9 else x  # data-dependent: fx cannot trace it

    model = trained_like(Branchy()).eval()
    with pytest.warns(UserWarning, match="not traceable"):
        fast = zoo.optimize(model, engine="torch")
    assert isinstance(fast.body[1], nn.Identity)
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), atol=1e-5, rtol=1e-5)


def test_cli_list_and_patterns():
    r = CliRunner().invoke(cli, ["list", "shufflenet_v2*", "--json"])
    assert r.exit_code == 0 and json.loads(r.output) == zoo.list_models("shufflenet_v2*")
    r = CliRunner().invoke(cli, ["list", "resnet*", "--pretrained"])
    assert r.exit_code == 0
    assert [line.split()[0] for line in r.output.splitlines()] == zoo.list_models("resnet*", pretrained=True)
    assert "IMAGENET1K_V2" in r.output
    r = CliRunner().invoke(cli, ["list", "nope*"])
    assert r.exit_code == 1 and "no model matches" in r.output and "Traceback" not in r.output


def test_cli_info_alias_and_json():
    r = CliRunner().invoke(cli, ["info", "shufflenet_v1"])
    assert r.exit_code == 0 and r.output.startswith("shufflenet_v1_g3_x1_0")
    assert "arXiv:1707.01083" in r.output and "Table 1" in r.output
    r = CliRunner().invoke(cli, ["info", "shufflenet_v2", "--json"])
    card = json.loads(r.output)
    assert card == json.loads(json.dumps(zoo.info("shufflenet_v2_x1_0").to_dict()))
    assert card["macs"] == 144_907_992 and card["weights"][0]["metrics"]["top1"] == 69.362


def test_cli_unknown_model_is_one_line():
    r = CliRunner().invoke(cli, ["info", "shufflenet_v3"])
    assert r.exit_code == 1 and "did you mean" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_every_zoo_command_has_help_and_appears_in_the_readme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Model zoo", 1)[1].split("\n## ", 1)[0]
    for name in ("list", "info"):
        r = CliRunner().invoke(cli, [name, "--help"])
        assert r.exit_code == 0 and "Example:" in r.output
        assert re.search(rf"python -m zoo {name}\b", section), name
