"""SPOS supernet training: exact resume after an interrupt, untouched paths, FLOPs-uniform sampling, DDP, data."""
from __future__ import annotations

import os
import random
import signal
import socket

import pytest
import torch
import torch.multiprocessing as mp

from zoo.spos import CheckpointError, TrainConfig, flops_table, read_checkpoint, train_supernet
from zoo.spos.data import ImageFolder, StepBatches
from zoo.spos.train import FlopsUniformSampler

LAYOUT = dict(stem_channels=4, stage_channels=[8, 16, 24, 32], last_channels=32)



def _config(out, **kw):
    base = dict(out=out, data="tiny:2:32", steps=6, batch_size=8, lr=0.1, input_size=32,
                layout={**LAYOUT, "channel_search": True}, checkpoint_every=2, seed=1)
    return TrainConfig(**{**base, **kw})


def test_interrupted_and_resumed_run_equals_the_straight_run(tmp_path):
    straight = train_supernet(_config(tmp_path / "a.pt", sampler="flops"), progress=False)
    assert straight.step == 6 and not straight.interrupted

    def interrupt(step, loss, arch):
        if step == 3:  # a real SIGINT: the step finishes, a checkpoint is saved, the run returns
            os.kill(os.getpid(), signal.SIGINT)

    first = train_supernet(_config(tmp_path / "b.pt", sampler="flops"), progress=False, on_step=interrupt)
    assert first.interrupted and first.step == 3 and read_checkpoint(tmp_path / "b.pt")["step"] == 3
    resumed = train_supernet(_config(tmp_path / "b.pt", sampler="flops"), progress=False)
    assert resumed.step == 6 and not resumed.interrupted
    a, b = read_checkpoint(tmp_path / "a.pt"), read_checkpoint(tmp_path / "b.pt")
    assert a["model"].keys() == b["model"].keys()
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["scheduler"] == b["scheduler"] and a["sampler"] == b["sampler"]
    mom_a = [s["momentum_buffer"] for s in a["optimizer"]["state"].values()]
    mom_b = [s["momentum_buffer"] for s in b["optimizer"]["state"].values()]
    assert len(mom_a) == len(mom_b) and all(torch.equal(x, y) for x, y in zip(mom_a, mom_b))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("channel_search", [False, True])
def test_paths_not_taken_are_not_updated(tmp_path, monkeypatch, channel_search):
    import zoo.spos.train as train_mod

    nets, snaps, archs = [], [], []

    class Spy(train_mod.SuperNet):  # hands the live supernet to the test
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            nets.append(self)

    def record(step, loss, arch):
        archs.append(arch)
        snaps.append({k: v.detach().clone() for k, v in nets[0].state_dict().items()})

    monkeypatch.setattr(train_mod, "SuperNet", Spy)
    cfg = _config(tmp_path / "c.pt", steps=4, weight_decay=0.1, layout={**LAYOUT, "channel_search": channel_search})
    train_supernet(cfg, progress=False, on_step=record)
    net = nets[0]
    checked = 0
    for prev, cur, arch in zip(snaps, snaps[1:], archs[1:]):
        mids = net.layout.mids(arch)
        for i, (choice, mid) in enumerate(zip(arch.blocks, mids)):
            for c in range(4):
                prefix = f"blocks.{i}.choices.{c}."
                names = [k for k in cur if k.startswith(prefix) and k.endswith("conv.weight")]
                if c != choice:  # another choice: nothing moved (no momentum, no weight decay)
                    assert all(torch.equal(prev[k], cur[k]) for k in names)
                    checked += len(names)
                elif channel_search and mid < net.blocks[i].max_mid:
                    k = prefix + "main.1.conv.weight"  # the k x k (or first pw) conv of the middle width
                    w0, w1 = prev[k], cur[k]
                    if choice == 3:
                        k = prefix + "main.2.conv.weight"
                        w0, w1 = prev[k], cur[k]
                    assert torch.equal(w0[mid:], w1[mid:]) and not torch.equal(w0[:mid], w1[:mid])
                    checked += 1
    assert checked > 100


def test_flops_uniform_sampler_fills_every_bin():
    table = flops_table(channel_search=False, input_size=32, **{**LAYOUT, "stage_channels": (8, 16, 24, 32)})
    sampler = FlopsUniformSampler(random.Random(0), False, table)
    macs = [table.macs(sampler()) for _ in range(140)]
    counts = [sum(lo <= m <= hi for m in macs) for lo, hi in sampler.bins]
    assert len(sampler.bins) == 7 and min(counts) >= 8  # ~20 expected per bin; plain uniform sampling starves the edges
    with pytest.raises(ValueError, match="low < high"):
        FlopsUniformSampler(random.Random(0), False, table, bins=(5, 1, 1))


def test_checkpoint_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        train_supernet(_config(bad), progress=False)
    assert bad.read_bytes() == b"not a checkpoint"  # nothing lost
    train_supernet(_config(tmp_path / "ok.pt", steps=2), progress=False)
    with pytest.raises(CheckpointError, match="another layout"):
        train_supernet(_config(tmp_path / "ok.pt", layout={**LAYOUT, "last_channels": 64}), progress=False)
    with pytest.raises(ValueError, match="cannot fill one batch"):
        train_supernet(_config(tmp_path / "x.pt", data="tiny:2:4"), progress=False)


def test_batch_order_is_a_function_of_the_step_and_shards_by_rank():
    full = iter(StepBatches(40, 4, seed=3))
    straight = [next(full) for _ in range(25)]
    resumed = iter(StepBatches(40, 4, seed=3, start=17))
    assert [next(resumed) for _ in range(8)] == straight[17:]
    r0, r1 = iter(StepBatches(40, 4, seed=3, rank=0, world=2)), iter(StepBatches(40, 4, seed=3, rank=1, world=2))
    a, b = [i for _ in range(5) for i, _ in next(r0)], [i for _ in range(5) for i, _ in next(r1)]
    assert sorted(a + b) == list(range(40))


def test_trains_from_an_image_folder(tmp_path):
    from PIL import Image

    for k, color in enumerate([(250, 10, 10), (10, 10, 250)]):
        (tmp_path / "data" / f"c{k}").mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (40 + 3 * i, 36), color).save(tmp_path / "data" / f"c{k}" / f"{i}.png")
    ds = ImageFolder(tmp_path / "data", 32)
    x, y = ds[(5, 7)]
    assert x.shape == (3, 32, 32) and y == 1 and torch.equal(ds[(5, 7)][0], x)  # same key, same crop
    result = train_supernet(_config(tmp_path / "f.pt", data=str(tmp_path / "data"), steps=2, batch_size=4),
                            progress=False)
    assert result.step == 2 and read_checkpoint(tmp_path / "f.pt")["layout"]["num_classes"] == 2


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    import torch.distributed as dist

    try:
        result = train_supernet(_config(os.path.join(out, "ddp.pt"), steps=3, checkpoint_every=3, device="cpu"),
                                progress=False)
        torch.save({k: v for k, v in result.supernet.state_dict().items()}, os.path.join(out, f"rank{rank}.pt"))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_cpu_processes_end_with_identical_weights(tmp_path):
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    ckpt = read_checkpoint(tmp_path / "ddp.pt")
    assert ckpt["step"] == 3 and len(ckpt["rng"]) == 2
    init = train_supernet(_config(tmp_path / "init.pt", steps=1, lr=0.0), progress=False).supernet.state_dict()
    assert any(not torch.equal(init[k], r0[k]) for k in r0 if k.endswith("conv.weight"))  # it did train
