"""zoo.optimize's oneDNN fusion: conv [+ residual add] [+ ReLU] as one prepacked kernel on CPU float32.

Every test compares against the unoptimised model in eval mode, so a fused graph that drops, reorders or misplaces
an add or a ReLU fails; the fallback paths (other dtype, gradients, pickling, state_dict) are checked the same way.
"""
from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch import nn

import zoo
from zoo import _onednn
from zoo._onednn import FusedConv2d, onednn_available

pytestmark = pytest.mark.skipif(not onednn_available(), reason="this torch build has no oneDNN")

SMALL = (1, 3, 32, 32)


def _fused(model: nn.Module) -> list[FusedConv2d]:
    return [m for m in model.modules() if isinstance(m, FusedConv2d)]


@pytest.fixture(scope="module")
def resnet18(trained_like):
    torch.manual_seed(0)
    model = trained_like(zoo.load("resnet18", num_classes=5))
    return model, zoo.optimize(model, input_size=SMALL)


def test_resnet_convs_fused_with_their_relu_and_residual_add(resnet18):
    model, fast = resnet18
    fused = _fused(fast)
    assert len(fused) == sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 20
    assert all(f._packed is not None and f._packed.is_mkldnn for f in fused)
    # each of the 8 basic blocks ends in conv2 + add + relu; conv1s and the stem carry a ReLU; downsamples neither
    assert sum(f.add and f.relu for f in fused) == 8
    assert sum(f.relu and not f.add for f in fused) == 9
    assert sum(not f.relu and not f.add for f in fused) == 3
    assert not any(isinstance(m, (nn.ReLU, nn.BatchNorm2d)) for m in fast.modules())
    assert fused[0].input_size == list(SMALL), "weights are packed for the probe's shape"


@pytest.mark.parametrize("shape", [SMALL, (3, 3, 32, 32), (2, 3, 48, 40)])
def test_fused_outputs_match_eager_at_any_shape(resnet18, shape):
    model, fast = resnet18
    x = torch.randn(shape)
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), model(x), atol=1e-5, rtol=1e-4)


def test_fallbacks_keep_outputs_float64_grad_and_moves(resnet18):
    model, fast = resnet18
    x = torch.randn(2, 3, 32, 32)
    # float64: the packed copy is dropped on cast and F.conv2d runs instead
    wide = copy.deepcopy(fast).double()
    assert all(f._packed is None for f in _fused(wide))
    with torch.no_grad():
        # (BN was folded in float32, so the two agree to float32 rounding, not float64's)
        torch.testing.assert_close(wide(x.double()), copy.deepcopy(model).double()(x.double()),
                                   atol=1e-5, rtol=1e-4)
    # gradients w.r.t. the input (saliency maps) flow through the reference path
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    fast(xa).sum().backward()
    model(xb).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, atol=1e-5, rtol=1e-4)
    # a round trip through another dtype repacks on the way back
    back = copy.deepcopy(fast).double().float()
    assert all(f._packed is not None for f in _fused(back))
    with torch.no_grad():
        torch.testing.assert_close(back(x), model(x), atol=1e-5, rtol=1e-4)


def test_pickle_deepcopy_and_state_dict_repack(resnet18, trained_like):
    model, fast = resnet18
    x = torch.randn(1, 3, 32, 32)
    clone = copy.deepcopy(fast)
    assert all(f._packed is not None for f in _fused(clone))
    with torch.no_grad():
        torch.testing.assert_close(clone(x), fast(x), atol=0, rtol=0)
        # a single fused conv pickles (the opaque packed tensor is rebuilt, not serialised)
        conv = _fused(fast)[0]
        again = pickle.loads(pickle.dumps(conv))
        assert again._packed is not None and again.input_size == conv.input_size
        torch.testing.assert_close(again(x), conv(x), atol=0, rtol=0)
    # loading other weights must repack: the outputs follow the new weights
    torch.manual_seed(1)
    other = trained_like(zoo.load("resnet18", num_classes=5), seed=1)
    mine = copy.deepcopy(fast)
    mine.load_state_dict(zoo.optimize(other, input_size=SMALL).state_dict())
    with torch.no_grad():
        torch.testing.assert_close(mine(x), other(x), atol=1e-5, rtol=1e-4)
        assert not torch.allclose(mine(x), fast(x))


def test_weights_changed_in_place_are_repacked_and_training_gets_gradients(resnet18):
    model, fast = resnet18
    mine = copy.deepcopy(fast)
    first = _fused(mine)[0]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        before = mine(x)
        first.weight.mul_(1.5)  # what an optimiser step or a manual edit does
        after = mine(x)
        reference = copy.deepcopy(mine).double()(x.double()).float()  # F.conv2d on the new weights
    assert not torch.allclose(after, before)
    torch.testing.assert_close(after, reference, atol=1e-4, rtol=1e-4)
    # parameters that need gradients take the autograd path: the weights get their gradients
    for p in mine.parameters():
        p.requires_grad_(True)
    mine(x).sum().backward()
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0


def test_shufflenets_fuse_grouped_convs_and_keep_outputs(trained_like):
    for name in ("shufflenet_v2_x0_5", "shufflenet_v1_g3_x0_5"):
        torch.manual_seed(0)
        model = trained_like(zoo.load(name, num_classes=4))
        fast = zoo.optimize(model, input_size=SMALL)
        fused = _fused(fast)
        assert fused and any(f.groups > 1 for f in fused), name
        x = torch.randn(2, 3, 32, 32)
        with torch.inference_mode():
            torch.testing.assert_close(fast(x), model(x), atol=1e-5, rtol=1e-4)


class _Residualish(nn.Module):
    """An add with a broadcast operand (not fusable) next to a same-shaped residual add (fusable)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)
        self.c = nn.Conv2d(8, 8, 1)
        self.shift = nn.Parameter(torch.randn(1, 8, 1, 1))

    def forward(self, x):
        y = torch.relu(self.a(x) + self.shift)  # broadcast: left to eager
        z = self.b(y) + y  # residual, no ReLU after it
        return self.c(z).relu() * 2


def test_only_same_shaped_adds_are_fused_and_method_relu_is_seen():
    torch.manual_seed(0)
    model = _Residualish().eval()
    fast = zoo.optimize(model, input_size=(1, 3, 16, 16))
    (a,) = [f for f in _fused(fast) if f.in_channels == 3]
    assert not a.add and not a.relu, "the broadcast add (and so its ReLU) stays outside the kernel"
    b, c = [f for f in _fused(fast) if f.in_channels == 8]
    assert (b.add, b.relu) == (True, False) and (c.add, c.relu) == (False, True)
    x = torch.randn(2, 3, 20, 12)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), atol=1e-5, rtol=1e-4)


def test_onednn_off_unavailable_or_probe_failure_falls_back(monkeypatch, trained_like):
    model = trained_like(zoo.load("resnet18", num_classes=3))
    assert not _fused(zoo.optimize(model, onednn=False))
    one_channel = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()).eval()
    # the default probe shape has 3 channels: silently unfused, and a warning when fusion was asked for
    assert not _fused(zoo.optimize(one_channel))
    with pytest.warns(UserWarning, match="oneDNN fusion skipped: probe at"):
        zoo.optimize(one_channel, onednn=True)
    assert _fused(zoo.optimize(one_channel, input_size=(1, 1, 8, 8)))
    with pytest.warns(UserWarning, match="only CPU float32"):
        zoo.optimize(copy.deepcopy(one_channel).double(), onednn=True, input_size=(1, 1, 8, 8))
    monkeypatch.setattr(_onednn.torch.backends.mkldnn, "is_available", lambda: False)
    monkeypatch.setattr("zoo._optimize.onednn_available", lambda: False)
    with pytest.warns(UserWarning, match="no oneDNN"):
        fast = zoo.optimize(model, onednn=True, input_size=SMALL)
    assert not _fused(fast)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), atol=1e-5, rtol=1e-4)


def test_probe_disagreement_rejects_fusion(monkeypatch, trained_like):
    model = trained_like(zoo.load("resnet18", num_classes=3))
    real = FusedConv2d.forward

    def off_by_a_bit(self, x, other=None):
        return real(self, x, other) + 1e-2

    monkeypatch.setattr(FusedConv2d, "forward", off_by_a_bit)
    with pytest.warns(UserWarning, match="fused outputs differ"):
        fast = zoo.optimize(model, onednn=True, input_size=SMALL)
    assert not _fused(fast)


def test_count_sees_the_fused_convolutions(resnet18):
    model, fast = resnet18
    assert all(f._packed is not None for f in _fused(fast)), "the fused kernel is what gets counted"
    for size in (SMALL, (2, 3, 48, 48)):
        assert zoo.count(fast, input_size=size).macs == zoo.count(model, input_size=size).macs > 0
