"""The registry: names, aliases, patterns, duplicates, unknown names, builder options and num_classes."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo import _registry


@pytest.fixture
def scratch_registry(monkeypatch):
    """Register test models without leaking them into the real registry."""
    monkeypatch.setattr(_registry, "_MODELS", dict(_registry._MODELS))
    monkeypatch.setattr(_registry, "_ALIASES", dict(_registry._ALIASES))


def test_list_models_is_sorted_and_takes_shell_patterns():
    names = zoo.list_models()
    assert names == sorted(names) and len(names) == len(set(names))
    assert zoo.list_models("resnet1*") == ["resnet101", "resnet101_v1", "resnet152", "resnet152_v1", "resnet18",
                                           "resnet18_v1"]
    assert zoo.list_models("resnet??_v1") == ["resnet18_v1", "resnet34_v1", "resnet50_v1"]
    assert zoo.list_models(["resnet18", "resnet34"]) == ["resnet18", "resnet34"]
    assert zoo.list_models("nothing*") == []


def test_pretrained_filter_lists_only_models_with_weights():
    pre = zoo.list_models("resnet*", pretrained=True)
    assert pre == ["resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]
    assert all(zoo.info(n).weights for n in pre)


def test_unknown_name_lists_close_matches():
    with pytest.raises(zoo.UnknownModelError, match=r"unknown model 'resnet5'.*resnet50"):
        zoo.resolve("resnet5")
    with pytest.raises(zoo.ZooError):
        zoo.load("not_a_model_at_all")


def test_register_model_bare_and_with_arguments_and_duplicates_raise(scratch_registry):
    @zoo.register_model
    def tiny_a(*, num_classes: int = 3) -> nn.Module:
        """A tiny test model."""
        return nn.Sequential(nn.Flatten(), nn.Linear(12, num_classes))

    @zoo.register_model(family="test", aliases=("tiny",), papers=("1512.03385",), params=39, macs=36,
                        classifier="1")
    def tiny_b(*, num_classes: int = 3) -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(12, num_classes))

    assert zoo.resolve("tiny") == "tiny_b" and zoo.info("tiny").family == "test"
    assert zoo.info("tiny_a").description == "A tiny test model."
    assert "tiny_a" in zoo.list_models("tiny*") and "tiny_b" in zoo.list_models("tiny")
    assert zoo.count("tiny", input_size=(1, 3, 2, 2)) == zoo.Counts(params=39, macs=36)
    with pytest.raises(zoo.ZooError, match="already registered"):
        zoo.register_model(name="tiny_a")(lambda **kw: nn.Identity())
    with pytest.raises(zoo.ZooError, match="already registered"):
        zoo.register_model(name="other", aliases=("tiny",))(lambda **kw: nn.Identity())
    with pytest.raises(zoo.ZooError, match="no dots"):
        zoo.register_model(name="a.b")(lambda **kw: nn.Identity())


def test_builder_options_are_keyword_only_and_none_is_dropped():
    m = zoo.load("resnet18", num_classes=None, act=None)
    assert m.fc.out_features == 1000 and m.weights is None
    p = zoo.load("resnet18", num_classes=5, act="prelu")
    assert p.fc.out_features == 5 and isinstance(p.layer1[0].act1, nn.PReLU)
    assert sum(t.numel() for t in p.parameters()) > sum(t.numel() for t in m.parameters()) - 995 * 513
    with pytest.raises(ValueError, match="act must be"):
        zoo.load("resnet18", act="gelu")
    with pytest.raises(TypeError):
        zoo.load("resnet18", 5)  # type: ignore[misc]


def test_he_init_statistics():
    """He init (1502.01852): conv weights ~ N(0, 2 / fan_out); BN starts as identity."""
    torch.manual_seed(0)
    m = zoo.load("resnet50")
    w = m.layer3[0].conv2.weight  # 256 -> 256, 3x3: fan_out = 256 * 9
    assert w.std().item() == pytest.approx((2 / (256 * 9)) ** 0.5, rel=0.02)
    assert torch.all(m.bn1.weight == 1) and torch.all(m.bn1.bias == 0)
    p = zoo.load("resnet50", act="prelu")
    wp = p.layer3[0].conv2.weight  # PReLU gain sqrt(2 / (1 + 0.25^2))
    assert wp.std().item() == pytest.approx((2 / (1 + 0.25**2) / (256 * 9)) ** 0.5, rel=0.02)
    assert torch.allclose(p.layer1[0].act1.weight, torch.full((64,), 0.25))


def test_v1_layout_moves_the_stride_to_the_first_1x1():
    v15, v1 = zoo.load("resnet50"), zoo.load("resnet50_v1")
    assert v15.layer2[0].conv1.stride == (1, 1) and v15.layer2[0].conv2.stride == (2, 2)
    assert v1.layer2[0].conv1.stride == (2, 2) and v1.layer2[0].conv2.stride == (1, 1)
    assert {k: v.shape for k, v in v1.state_dict().items()} == {k: v.shape for k, v in v15.state_dict().items()}
    assert zoo.info("resnet50_v1").macs < zoo.info("resnet50").macs
