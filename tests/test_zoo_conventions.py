"""Convention tests over the whole registry (STYLE row 10): every registered model counts as its card says, runs a
tiny forward, and every weights entry passes the metadata schema."""
from __future__ import annotations

import math
import re

import pytest
import torch

import zoo

MODELS = zoo.list_models()


@pytest.mark.parametrize("name", MODELS)
def test_counted_params_and_macs_equal_the_card(name):
    card = zoo.info(name)
    counted = zoo.count(name, input_size=card.input_size)
    assert card.params is not None and card.macs is not None, f"{name}: the card declares no params/macs"
    assert (counted.params, counted.macs) == (card.params, card.macs)


@pytest.mark.parametrize("name", MODELS)
def test_tiny_forward_and_backward(name):
    torch.manual_seed(0)
    model = zoo.load(name, num_classes=2)
    x = torch.randn(2, 3, 32, 32)
    out = model(x)
    assert out.shape == (2, 2) and torch.isfinite(out).all()
    out.sum().backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)  # a supernet only trains its sampled path


@pytest.mark.parametrize("name", MODELS)
def test_card_schema(name):
    card = zoo.info(name)
    assert card.name == name and card.family and card.description
    assert card.papers and all(re.fullmatch(r"\d{4}\.\d{4,5}", p) for p in card.papers)
    for c in card.claims:
        assert c.metric in {"top1", "top5", "top1_err", "top5_err", "macs", "params"} and c.source
        assert c.unit in {"%", "M", "G", ""} and math.isfinite(c.value)
    d = card.to_dict()
    assert d["name"] == name and d["params"] == card.params and len(d["weights"]) == len(card.weights)


WEIGHTS = [(n, w) for n in zoo.list_models(pretrained=True) for w in zoo.info(n).weights]


@pytest.mark.parametrize("name,w", WEIGHTS, ids=[f"{n}.{w.tag}" for n, w in WEIGHTS])
def test_weights_schema(name, w):
    card = zoo.info(name)
    assert re.fullmatch(r"[A-Z0-9_]+", w.tag)
    assert w.num_params == card.params, "weights must fit the model they are listed under"
    assert w.file_name.endswith((".pth", ".pth.tar", ".safetensors"))
    assert w.url is None or (w.url.startswith("https://") and w.url.endswith(w.file_name))
    assert w.url is not None or w.page, "a manual download needs its release page"
    assert w.url is None or (w.sha256 and re.fullmatch(r"[0-9a-f]{8,64}", w.sha256))
    # a supernet's checkpoint has no accuracy of its own (each path has one): only a supernet may publish none
    assert {"top1", "top5"} <= set(w.metrics) or (name.endswith("_supernet") and not w.metrics)
    assert all(0 < v < 100 for v in w.metrics.values())
    assert w.source and w.paper in card.papers and w.licence
    p = w.preprocessing
    assert p.channel_order in {"RGB", "BGR"} and p.pixel_scale in {1.0, 255.0} and p.crop <= p.resize
    assert (p.mean is None) == (p.std is None)
    assert w.transforms()(torch.rand(3, 300, 260)).shape == (3, p.crop, p.crop)
