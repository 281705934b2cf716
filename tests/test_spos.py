"""SPOS supernet: architecture values, blocks, subnet extraction, exact FLOPs table, latency table, registry."""
from __future__ import annotations

import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.spos import (
    NUM_BLOCKS,
    SPOS_A,
    SPOS_AC,
    Arch,
    ArchError,
    LatencyTable,
    SPOSNet,
    SuperNet,
    extract_subnet,
    flops_table,
    measure_latency_table,
    recalibrate_bn,
)
from zoo.spos.checkpoint import FORMAT, save_atomic

TINY = dict(stem_channels=4, stage_channels=(8, 16, 24, 32), last_channels=32, num_classes=3)



archs = st.builds(
    Arch,
    st.lists(st.integers(0, 3), min_size=NUM_BLOCKS, max_size=NUM_BLOCKS).map(tuple),
    st.one_of(st.none(), st.lists(st.integers(0, 7), min_size=NUM_BLOCKS, max_size=NUM_BLOCKS).map(tuple)),
)


# -- the architecture value -------------------------------------------------------------------------------------

@given(archs)
def test_arch_string_form_round_trips(arch):
    assert Arch.parse(str(arch)) == arch
    assert Arch.coerce(arch.to_dict()) == arch
    assert Arch.parse(",".join(map(str, arch.blocks))).blocks == arch.blocks


def test_arch_forms_and_normalisation():
    assert str(SPOS_A) == "21012020202300003233"
    assert str(SPOS_AC) == "00311100202110202132:65352634257546744543"
    assert Arch.parse("[2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3]") == SPOS_A
    assert Arch.coerce(list(SPOS_A.blocks)) == SPOS_A
    assert Arch(SPOS_A.blocks, (4,) * 20) == SPOS_A and Arch(SPOS_A.blocks, (4,) * 20).scales is None
    assert SPOS_AC.describe().startswith("shuffle3x3@1.4, shuffle3x3@1.2, xception@0.8")


@pytest.mark.parametrize("bad,msg", [
    ("2101", "20 block choices"),
    ("21012020202300003234", "block choices must be 0..3"),
    ("21012020202300003233:1", "20 width choices"),
    ("21012020202300003233:88888888888888888888", "width choices must be 0..7"),
    ("shuffle everything", "not an architecture"),
    ("1:2:3", "not an architecture"),
    ([0.5] * 20, "must be ints"),
])
def test_bad_architectures_have_clear_errors(bad, msg):
    with pytest.raises(ArchError, match=msg):
        Arch.coerce(bad)
    assert issubclass(ArchError, zoo.ZooError)


def test_mutation_and_crossover():
    rng = random.Random(0)
    assert SPOS_A.mutate(rng, 0.0) == SPOS_A
    changed = sum(a != b for a, b in zip(SPOS_A.mutate(rng, 1.0).blocks, SPOS_A.blocks))
    assert changed > 8  # every gene redrawn: about 3/4 of them differ
    other = Arch.random(rng)
    child = SPOS_A.crossover(other, rng)
    assert all(c in (a, b) for c, a, b in zip(child.blocks, SPOS_A.blocks, other.blocks))
    assert SPOS_AC.mutate(rng, 1.0, channel_search=True).scales is not None


# -- supernet and subnets -----------------------------------------------------------------------------------------

def test_supernet_matches_the_paper_layout():
    net = zoo.load("spos_supernet")
    assert isinstance(net, SuperNet)
    assert all(not m.affine for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert net.stem.conv.out_channels == 16 and net.head.conv.out_channels == 1024
    assert [b.cout for b in net.blocks] == [64] * 4 + [160] * 4 + [320] * 8 + [640] * 4
    assert [b.stride for b in net.blocks].count(2) == 4 and net.classifier.bias is None
    assert net.dropout.p == 0.1 and len(net.blocks[0].choices) == 4
    assert [c.kernel for c in net.blocks[0].choices] == [3, 5, 7, 3]
    # the stride-2 projection branch uses the choice's kernel too
    assert [c.proj[0].kernel for c in net.blocks[0].choices] == [3, 5, 7, 3]


@pytest.mark.parametrize("size", [32, 48, 71])
def test_head_adapts_to_the_input_size(size):
    net = SuperNet(**TINY).eval()
    assert net(torch.randn(2, 3, size, size), SPOS_A).shape == (2, 3)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(archs, st.booleans(), st.sampled_from([(2, 2, 2, 2), (1, 2, 2, 1)]))
def test_extracted_subnet_equals_the_supernet_path_after_recalibration(arch, channel_search, strides):
    if arch.scales is not None and not channel_search:
        arch = Arch(arch.blocks)
    torch.manual_seed(0)
    net = SuperNet(channel_search=channel_search, stage_strides=strides, **TINY)
    x = torch.randn(4, 3, 32, 32)
    batches = [torch.randn(8, 3, 32, 32) for _ in range(3)]
    recalibrate_bn(net, batches, arch=arch)
    sub = extract_subnet(net, arch).eval()
    assert isinstance(sub, SPOSNet) and not any(isinstance(m, torch.nn.ModuleList) and len(m) == 4
                                                 for m in sub.modules())
    assert torch.equal(sub(x), net(x, arch))
    # or extract first and recalibrate the standalone subnet on the same batches
    fresh = SuperNet(channel_search=channel_search, stage_strides=strides, **TINY)
    fresh.load_state_dict(net.state_dict())
    for m in fresh.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
    sub2 = recalibrate_bn(extract_subnet(fresh, arch), batches)
    assert torch.equal(sub2(x), net(x, arch))


def test_recalibration_touches_only_the_path():
    net = SuperNet(**TINY)
    other = Arch(tuple((b + 1) % 4 for b in SPOS_A.blocks))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    recalibrate_bn(net, [torch.randn(4, 3, 32, 32)], arch=SPOS_A)
    after = net.state_dict()
    on_path = {name for name, _ in net.path(SPOS_A)}
    assert all(torch.equal(before[k], after[k]) for k in before if not any(k.startswith(p) for p in on_path))
    assert not torch.equal(before["blocks.0.choices.2.main.0.bn.running_mean"],
                           after["blocks.0.choices.2.main.0.bn.running_mean"])
    assert torch.equal(before[f"blocks.0.choices.{other.blocks[0]}.main.0.bn.running_mean"],
                       after[f"blocks.0.choices.{other.blocks[0]}.main.0.bn.running_mean"])


def test_stage_strides_keep_small_inputs_at_resolution():
    net = SuperNet(stage_strides=(1, 2, 2, 1), **TINY).eval()
    assert [b.stride for b in net.blocks].count(2) == 2
    assert all(c.proj is None for c in net.blocks[0].choices)  # stride 1: half of the stem passes on unchanged
    feats = {}
    net.head.register_forward_hook(lambda m, i, o: feats.update(head=o.shape))
    assert net(torch.randn(2, 3, 32, 32), SPOS_A).shape == (2, 3)
    assert feats["head"][-2:] == (4, 4)  # 32 -> stem 16 -> 16 -> 8 -> 4 -> 4, not 1x1 as with the paper's strides
    with pytest.raises(ValueError, match="stage_strides"):
        SuperNet(stage_strides=(1, 3, 2, 2), **TINY)
    with pytest.raises(ValueError, match="stem_channels must be even"):
        SuperNet(stage_strides=(1, 2, 2, 2), **{**TINY, "stem_channels": 5})


def test_checkpoints_written_before_stage_strides_still_load(tmp_path):
    net = SuperNet(**TINY)
    layout = net.layout.to_dict()
    del layout["stage_strides"]  # the layout dict of a checkpoint from before the option existed
    save_atomic({"format": FORMAT, "layout": layout, "model": net.state_dict()}, tmp_path / "old.pt")
    loaded = zoo.load("spos", arch=SPOS_A, supernet=tmp_path / "old.pt")
    assert [m.stride for m in loaded.blocks].count(2) == 4


def test_supernet_without_channel_search_refuses_widths():
    with pytest.raises(ArchError, match="without channel search"):
        SuperNet(**TINY)(torch.randn(1, 3, 32, 32), SPOS_AC)


# -- FLOPs and latency tables --------------------------------------------------------------------------------------

@settings(max_examples=12, deadline=None)
@given(archs, st.sampled_from([32, 40, 57]), st.sampled_from([(2, 2, 2, 2), (1, 2, 2, 1), (2, 1, 2, 1)]))
def test_flops_table_sum_equals_zoo_count_of_the_subnet(arch, size, strides):
    table = flops_table(channel_search=True, input_size=size, stage_strides=strides, **TINY)
    sub = SPOSNet(arch, stage_strides=strides, **TINY)
    assert table.macs(arch) == zoo.count(sub, input_size=(1, 3, size, size)).macs


def test_flops_table_matches_the_released_figures():
    table = flops_table()
    assert table.macs(SPOS_A) == zoo.info("spos").macs == 322_918_720  # released: 323M
    assert table.macs(SPOS_AC) == zoo.info("spos_ac").macs == 327_857_920  # released: 328M
    lo, hi = table.bounds()
    assert lo < table.macs(SPOS_A) < hi


def test_latency_table_measures_saves_and_predicts(tmp_path):
    table = measure_latency_table(input_size=32, repeats=1, warmup=0, progress=False, **TINY)
    assert table.device["type"] == "cpu" and table.device["name"] and table.device["torch"] == torch.__version__
    expected = table.stem + table.head + sum(table.blocks[i][c][4] for i, c in enumerate(SPOS_A.blocks))
    assert table.latency_ms(SPOS_A) == pytest.approx(expected) and expected > 0
    with pytest.raises(ValueError, match="no entry"):
        table.latency_ms(SPOS_AC)  # widths were not measured without channel search
    back = LatencyTable.load(table.save(tmp_path / "t.json"))
    assert back.latency_ms(SPOS_A) == pytest.approx(table.latency_ms(SPOS_A)) and back.device == table.device
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not an SPOS latency table"):
        LatencyTable.load(tmp_path / "bad.json")


# -- registry ----------------------------------------------------------------------------------------------------

def test_registry_names_and_cards():
    assert zoo.resolve("spos") == "spos_a"
    assert {"spos_supernet", "spos_a", "spos_ac"} <= set(zoo.list_models("spos*"))
    claims = {c.metric: c.value for c in zoo.info("spos").claims}
    assert claims == {"macs": 323, "params": 3.5, "top1_err": 25.6, "top5_err": 8.0, "top1": 74.4}
    # spos_ac: the release README's 25.1% error (74.9 top-1) and the paper's 74.7, both on the card
    ac = zoo.info("spos_ac")
    assert {(c.value, c.paper) for c in ac.claims if c.metric == "top1"} == {(74.9, None), (74.7, "1904.00420")}
    assert {c.value for c in ac.claims if c.metric == "top1_err"} == {25.1}
    assert ac.weights[0].metrics == {"top1": 74.9, "top5": 92.0}
    assert zoo.info("spos_a").papers == ("1904.00420",)


def test_zoo_load_extracts_a_subnet_from_a_checkpoint(tmp_path):
    torch.manual_seed(0)
    net = SuperNet(channel_search=True, **TINY)
    path = save_atomic({"format": FORMAT, "layout": net.layout.to_dict(), "model": net.state_dict()},
                       tmp_path / "supernet.pt")
    arch = Arch.random(random.Random(3), channel_search=True)
    calib = [torch.randn(4, 3, 32, 32) for _ in range(2)]
    sub = zoo.load("spos", arch=str(arch), supernet=str(path), calib=calib).eval()
    ref = zoo.load("spos_supernet", channel_search=True, **TINY)
    ref.load_state_dict(net.state_dict())
    recalibrate_bn(ref, calib, arch=arch)
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(sub(x), ref(x, arch))
    # the subnet is an ordinary model: it trains, and its weights round-trip through zoo.load
    sub.train()
    sub(x).sum().backward()
    assert all(p.grad is not None for p in sub.parameters())
    save_atomic(sub.state_dict(), tmp_path / "sub.pth")
    again = zoo.load("spos", arch=arch, weights=str(tmp_path / "sub.pth"), **TINY).eval()
    assert torch.equal(again(x), sub.eval()(x))
    with pytest.raises(zoo.ZooError, match="3 classes, not 10"):
        zoo.load("spos", arch=arch, supernet=path, num_classes=10)
    with pytest.raises(zoo.ZooError, match="without channel search"):
        zoo.load("spos", arch=SPOS_AC, supernet=SuperNet(**TINY))
