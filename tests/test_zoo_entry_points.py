"""The zoo's catalogue is data a reader can find: every registered model is a named entry point in its model file
(grep-able, as timm and torchvision write them), and a checkpoint's filter travels with its frozen ``Weights``."""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

import pytest

import zoo
from zoo import _weights
from zoo._registry import get_entry
from zoo.spos.release import filter_release

NAMES = zoo.list_models()


@pytest.mark.parametrize("name", NAMES)
def test_every_model_is_a_named_entry_point_in_its_file(name):
    entry = get_entry(name)
    source = inspect.getsource(importlib.import_module(entry.module))
    assert re.search(rf"^def {re.escape(name)}\(", source, re.M), f"{name} is not a `def {name}(` in {entry.module}"
    assert entry.builder.__name__ == name


def test_the_checkpoint_filter_is_a_field_of_the_frozen_weights():
    assert not hasattr(_weights, "FILTERS")  # no registry of filters to mutate at import time
    field = {f.name: f for f in dataclasses.fields(zoo.Weights)}["checkpoint_filter"]
    assert field.default is None and not field.compare
    for name in ("spos_a", "spos_ac", "spos_supernet"):
        for w in zoo.info(name).weights:
            assert w.checkpoint_filter is filter_release, (name, w.tag)
            assert w.to_dict()["checkpoint_filter"] == "zoo.spos.release.filter_release"
    w = zoo.info("resnet18").weights[0]
    assert w.checkpoint_filter is None and w.to_dict()["checkpoint_filter"] == "zoo._weights.filter_generic"
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.checkpoint_filter = filter_release  # type: ignore[misc]


def test_read_state_dict_runs_the_given_filter(tmp_path):
    import torch

    path = tmp_path / "ckpt.pth"
    torch.save({"state_dict": {"module.fc.weight": torch.zeros(2, 2)}}, path)
    assert list(_weights.read_state_dict(path)) == ["fc.weight"]
    assert list(_weights.read_state_dict(path, lambda obj: {"renamed": obj["state_dict"]["module.fc.weight"]})) == [
        "renamed"]
