"""Conformance with torchvision without torchvision: keys, shapes and logits recorded by
tests/fixtures/zoo/make_golden.py (torch 2.14.1 + torchvision 0.29.1) under regenerated deterministic weights."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

import zoo

FIXTURES = Path(__file__).parent / "fixtures" / "zoo"
GOLDEN = json.loads((FIXTURES / "golden.json").read_text(encoding="utf-8"))


def _rule():
    spec = importlib.util.spec_from_file_location("zoo_golden_rule", FIXTURES / "golden_rule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RULE = _rule()


def test_golden_covers_every_torchvision_layout_model():
    expected = set(zoo.list_models("resnet*")) - set(zoo.list_models("*_v1")) | {
        n for n in zoo.list_models("shufflenet_v2_x*") if not n.endswith("_megvii")}
    assert set(GOLDEN["models"]) == expected


@pytest.mark.parametrize("name", sorted(GOLDEN["models"]))
def test_same_keys_shapes_and_logits_as_torchvision(name):
    golden = GOLDEN["models"][name]
    model = zoo.load(name).eval()
    ours = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    assert ours == golden["keys"]  # same keys, same shapes, same order
    model.load_state_dict(RULE.deterministic_state({k: tuple(s) for k, s in golden["keys"]}))
    with torch.no_grad():
        logits = model(RULE.golden_input(GOLDEN["input"][0], size=GOLDEN["input"][2]))
    expected = torch.tensor(golden["logits"])
    assert logits.shape == expected.shape
    torch.testing.assert_close(logits, expected, atol=1e-4, rtol=0)


def test_golden_logits_are_sensitive_to_the_weights():
    """A broken block would show: perturbing one stage-3 conv moves the logits far beyond the tolerance."""
    name = "shufflenet_v2_x1_0"
    golden = GOLDEN["models"][name]
    state = RULE.deterministic_state({k: tuple(s) for k, s in golden["keys"]})
    state["stage3.2.branch2.0.weight"] = state["stage3.2.branch2.0.weight"] * 1.5
    model = zoo.load(name).eval()
    model.load_state_dict(state)
    with torch.no_grad():
        logits = model(RULE.golden_input(GOLDEN["input"][0], size=GOLDEN["input"][2]))
    assert (logits - torch.tensor(golden["logits"])).abs().max() > 1e-2
