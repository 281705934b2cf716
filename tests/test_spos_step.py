"""The supernet training step's speed options: NHWC with two-pass BatchNorm statistics, fused SGD, width-slice
restore, and opt-in bf16 / fp16 autocast (the CUDA code paths, run here on CPU)."""
from __future__ import annotations

import copy
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.spos import Arch, SuperNet, TrainConfig, read_checkpoint, train_supernet
from zoo.spos.blocks import ConvBN
from zoo.spos.step import KeepUntouched, TrainStep, make_sgd

LAYOUT = dict(stem_channels=4, stage_channels=(8, 16, 24, 32), last_channels=32, num_classes=2)
CL = torch.channels_last


def _rel(a, b):
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("mid", [None, 12])
def test_nhwc_training_batchnorm_is_as_accurate_as_nchw(mid):
    """After a ReLU a channel's mean is large against its spread: the statistics must not cancel."""
    torch.manual_seed(0)
    op = ConvBN(16, 16, 1, affine=False, slice_out=mid is not None).train()
    with torch.no_grad():
        op.conv.weight.copy_(torch.eye(16).view(16, 16, 1, 1) + 0.01 * torch.randn(16, 16, 1, 1))
    x = torch.rand(8, 16, 12, 12) * 0.02 + 3.0
    gy = torch.randn(8, mid or 16, 12, 12)
    runs = {}
    for name, fmt, dtype in (("exact", torch.contiguous_format, torch.float64), ("nchw", torch.contiguous_format,
                             torch.float32), ("nhwc", CL, torch.float32)):
        o = copy.deepcopy(op).to(dtype).to(memory_format=fmt)
        t = x.clone().to(dtype).contiguous(memory_format=fmt).requires_grad_(True)
        out = o(t, mid)
        out.backward(gy.to(dtype).contiguous(memory_format=fmt))
        runs[name] = (out, t.grad, o.conv.weight.grad, o.bn.running_mean, o.bn.running_var, o.bn.num_batches_tracked)
    assert runs["nhwc"][0].is_contiguous(memory_format=CL)
    # outputs, input gradients, running statistics (the weight gradient, a sum of x * g with g summing to zero per
    # channel, is ill-conditioned in float32 whatever the layout)
    for k in (0, 1, 3, 4):
        err_nhwc = _rel(runs["nhwc"][k], runs["exact"][k])
        err_nchw = _rel(runs["nchw"][k], runs["exact"][k])
        assert err_nhwc <= max(1e-5, 2 * err_nchw), (k, err_nhwc, err_nchw)
    assert int(runs["nhwc"][5]) == int(runs["nchw"][5]) == 1
    if mid is not None:  # the unused channels' statistics stay as they were
        assert torch.equal(runs["nhwc"][3][mid:], torch.zeros(16 - mid)) and torch.equal(runs["nhwc"][4][mid:],
                                                                                        torch.ones(16 - mid))


def _step(net, *, channels_last=False, fused=False, amp=None, lr=0.1, wd=0.1):
    net = copy.deepcopy(net)
    if channels_last:
        net = net.to(memory_format=CL)
    opt = make_sgd(net, lr=lr, momentum=0.9, weight_decay=wd, fused=fused)
    return TrainStep(net, net, opt, nn.CrossEntropyLoss(label_smoothing=0.1), channels_last=channels_last, amp=amp)


@pytest.mark.parametrize("channel_search", [False, True])
def test_channels_last_and_fused_steps_are_as_exact_as_the_plain_step(channel_search):
    """Three steps (a new path, momentum met, another path) of the fast step and of the plain one, each against the
    same steps in float64: the fast one is as close to exact arithmetic, and moves the same weights."""
    torch.manual_seed(0)
    base = SuperNet(**LAYOUT, channel_search=channel_search, stage_strides=(1, 2, 2, 1)).train()
    x, y = torch.randn(8, 3, 32, 32), torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    rng = random.Random(3)
    archs = [Arch.random(rng, channel_search=channel_search) for _ in range(3)]
    exact, plain, fast = _step(copy.deepcopy(base).double(), lr=0.01), _step(base, lr=0.01), _step(
        base, channels_last=True, fused=True, lr=0.01)
    for arch in archs:
        for s, inp in ((exact, x.double()), (plain, x), (fast, x)):
            torch.manual_seed(1)
            assert torch.isfinite(s(inp, y, arch))
    e, a, b = (dict(s.net.named_parameters()) for s in (exact, plain, fast))
    untouched = dict(base.named_parameters())
    for k in a:
        assert torch.equal(a[k], untouched[k]) == torch.equal(b[k], untouched[k]), k  # the same weights moved
    eb, ab, bb = (dict(s.net.named_buffers()) for s in (exact, plain, fast))
    err_fast = sorted(_rel(b[k], e[k]) for k in e)
    err_plain = sorted(_rel(a[k], e[k]) for k in e)
    # worst and median tensor: as close to float64 as the plain step (rounding is not the same per tensor)
    assert err_fast[-1] <= 2 * err_plain[-1] + 1e-6 and err_fast[len(e) // 2] <= 2 * err_plain[len(e) // 2] + 1e-6
    for k, buf in bb.items():  # the same BatchNorms counted the same batches
        if not buf.dtype.is_floating_point:
            assert torch.equal(buf, ab[k]), k


def test_width_restore_saves_only_the_unused_slices():
    torch.manual_seed(0)
    net = SuperNet(**LAYOUT, channel_search=True).train()
    arch = Arch([0] * 20, [0] * 20)  # the narrowest widths: most of each sliced weight is off the path
    opt = make_sgd(net, lr=0.1, momentum=0.9, weight_decay=0.1)
    keep = KeepUntouched(net, arch, opt)
    assert keep.items
    for w, regions, saved, saved_buf in keep.items:
        assert sum(s.numel() for s in saved) < w.numel() and saved_buf is None
    before = {id(w): w.detach().clone() for w, *_ in keep.items}
    net(torch.randn(2, 3, 32, 32), arch).sum().backward()
    opt.step()
    keep.restore(opt)
    for w, regions, _, _ in keep.items:
        buf = opt.state[w]["momentum_buffer"]
        for r in regions:
            assert torch.equal(w[r], before[id(w)][r]) and not buf[r].any()
        assert not torch.equal(w, before[id(w)])  # the used slice did move


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_autocast_steps_train_and_resume_exactly(tmp_path, amp):
    """bf16 / fp16 autocast (fp16 with its gradient scaler, saved in the checkpoint) on the CPU code path."""
    cfg = dict(data="tiny:2:32", steps=4, batch_size=8, lr=0.1, input_size=32, layout=dict(LAYOUT), seed=1,
               checkpoint_every=2, amp=amp)
    straight = train_supernet(TrainConfig(out=tmp_path / "a.pt", **cfg), progress=False)
    assert straight.step == 4 and torch.isfinite(torch.tensor(straight.last_loss))
    stop = {"at": 2}

    def interrupt(step, loss, arch):
        if step == stop["at"]:
            import os
            import signal

            os.kill(os.getpid(), signal.SIGINT)

    first = train_supernet(TrainConfig(out=tmp_path / "b.pt", **cfg), progress=False, on_step=interrupt)
    assert first.interrupted
    stop["at"] = -1
    train_supernet(TrainConfig(out=tmp_path / "b.pt", **cfg), progress=False)
    a, b = read_checkpoint(tmp_path / "a.pt"), read_checkpoint(tmp_path / "b.pt")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert ("scaler" in a) == (amp == "fp16")
    if amp == "fp16":
        assert a["scaler"]["scale"] == b["scaler"]["scale"]


def test_autocast_changes_the_numbers_and_bad_values_are_refused(tmp_path):
    torch.manual_seed(0)
    base = SuperNet(**LAYOUT).train()
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 1, 0])
    plain, half = _step(base), _step(base, amp="bf16")
    with half.autocast():
        assert half.net(x).dtype == torch.bfloat16
    assert F.cross_entropy(plain.net(x), y).dtype == torch.float32
    with pytest.raises(ValueError, match="amp"):
        _step(base, amp="fp8")
    with pytest.raises(ValueError, match="amp"):
        train_supernet(TrainConfig(out=tmp_path / "x.pt", data="tiny:2:8", steps=1, batch_size=2, input_size=32,
                                   layout=dict(LAYOUT), amp="int8"), progress=False)
    assert not (tmp_path / "x.pt").exists()


def test_cli_train_takes_the_speed_options(tmp_path):
    from click.testing import CliRunner

    from paperzoo.zoo_cli import cli

    out = tmp_path / "s.pt"
    r = CliRunner().invoke(cli, ["supernet", "train", "--data", "tiny:2:8", "--out", str(out), "--steps", "2",
                                 "--batch-size", "4", "--input-size", "32", "--stem-channels", "4", "--stage-channels",
                                 "8,16,24,32", "--last-channels", "32", "--amp", "bf16", "--nchw", "--fused-sgd",
                                 "--quiet"])
    assert r.exit_code == 0, r.output
    config = read_checkpoint(out)["config"]
    assert (config["amp"], config["channels_last"], config["fused_sgd"]) == ("bf16", False, True)
    # fused SGD keeps a momentum buffer for every parameter, zeros off the paths taken
    state = read_checkpoint(out)["optimizer"]["state"]
    assert len(state) == len(read_checkpoint(out)["model"]) - sum(
        1 for k in read_checkpoint(out)["model"] if k.endswith(("running_mean", "running_var", "num_batches_tracked")))
