"""megvii's ShuffleNet V1 (g=3, g=8), V2 and SPOS (OneShot) wiring: their checkpoint layout loads strictly and
reproduces the outputs of an independent re-statement of their network, written here from their published
blocks.py/network.py; and their evaluation preprocessing matches OpenCV's pixels (fixtures made once by OpenCV)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import zoo
from zoo._cvresize import center_crop_offset, megvii_resize_size, resize_linear_u8
from zoo._weights import MEGVII_PREPROCESSING, Transform


# ---- re-statement of megvii's ShuffleNet-Series code (their shapes, their forward, their module names) ----------

def _bn_relu(c):
    return [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]


class RefV2Block(nn.Module):
    def __init__(self, inp, oup, mid, stride):
        super().__init__()
        self.stride = stride
        self.branch_main = nn.Sequential(
            nn.Conv2d(inp, mid, 1, 1, 0, bias=False), *_bn_relu(mid),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.Conv2d(mid, oup - inp, 1, 1, 0, bias=False), *_bn_relu(oup - inp))
        if stride == 2:
            self.branch_proj = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, inp, 1, 1, 0, bias=False), *_bn_relu(inp))

    def forward(self, x):
        if self.stride == 2:
            return torch.cat((self.branch_proj(x), self.branch_main(x)), 1)
        b, c, h, w = x.shape  # their channel_shuffle: reshape (b*c/2, 2, hw) -> permute -> two halves
        y = x.reshape(b * c // 2, 2, h * w).permute(1, 0, 2).reshape(2, -1, c // 2, h, w)
        return torch.cat((y[0], self.branch_main(y[1])), 1)


class RefV2(nn.Module):
    CH = {"0_5": [24, 48, 96, 192, 1024], "2_0": [24, 244, 488, 976, 2048]}

    def __init__(self, size):
        super().__init__()
        c = self.CH[size]
        self.first_conv = nn.Sequential(nn.Conv2d(3, c[0], 3, 2, 1, bias=False), *_bn_relu(c[0]))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        feats, inp = [], c[0]
        for reps, out in zip([4, 8, 4], c[1:4]):
            for i in range(reps):
                feats.append(RefV2Block(inp, out, out // 2, 2) if i == 0 else RefV2Block(inp // 2, out, out // 2, 1))
                inp = out
        self.features = nn.Sequential(*feats)
        self.conv_last = nn.Sequential(nn.Conv2d(inp, c[4], 1, 1, 0, bias=False), *_bn_relu(c[4]))
        self.globalpool = nn.AvgPool2d(7)
        self.classifier = nn.Sequential(nn.Linear(c[4], 1000, bias=False))
        self.last = c[4]

    def forward(self, x):
        x = self.conv_last(self.features(self.maxpool(self.first_conv(x))))
        return self.classifier(self.globalpool(x).contiguous().view(-1, self.last))


class RefV1Block(nn.Module):
    def __init__(self, inp, oup, group, first_group, mid, stride):
        super().__init__()
        self.stride, self.group = stride, group
        outputs = oup - inp if stride == 2 else oup
        self.branch_main_1 = nn.Sequential(
            nn.Conv2d(inp, mid, 1, 1, 0, groups=1 if first_group else group, bias=False), *_bn_relu(mid),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid))
        self.branch_main_2 = nn.Sequential(nn.Conv2d(mid, outputs, 1, 1, 0, groups=group, bias=False),
                                           nn.BatchNorm2d(outputs))
        if stride == 2:
            self.branch_proj = nn.AvgPool2d(3, 2, 1)

    def forward(self, x):
        y = self.branch_main_1(x)
        if self.group > 1:
            b, c, h, w = y.shape  # their shuffle: reshape (b, c/g, g) -> permute -> flatten
            y = y.reshape(b, c // self.group, self.group, h, w).permute(0, 2, 1, 3, 4).reshape(b, c, h, w)
        y = self.branch_main_2(y)
        if self.stride == 1:
            return torch.relu(y + x)
        return torch.cat((self.branch_proj(x), torch.relu(y)), 1)


class RefV1(nn.Module):
    CH = {(3, "0_5"): [12, 120, 240, 480], (8, "0_5"): [16, 192, 384, 768], (3, "1_5"): [24, 360, 720, 1440]}

    def __init__(self, group, size):
        super().__init__()
        c = self.CH[(group, size)]
        self.first_conv = nn.Sequential(nn.Conv2d(3, c[0], 3, 2, 1, bias=False), *_bn_relu(c[0]))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        feats, inp = [], c[0]
        for si, (reps, out) in enumerate(zip([4, 8, 4], c[1:])):
            for i in range(reps):
                feats.append(RefV1Block(inp, out, group, si == 0 and i == 0, out // 4, 2 if i == 0 else 1))
                inp = out
        self.features = nn.Sequential(*feats)
        self.globalpool = nn.AvgPool2d(7)
        self.classifier = nn.Sequential(nn.Linear(c[-1], 1000, bias=False))
        self.last = c[-1]

    def forward(self, x):
        x = self.globalpool(self.features(self.maxpool(self.first_conv(x))))
        return self.classifier(x.contiguous().view(-1, self.last))


class RefOneShotBlock(nn.Module):
    """Their SPOS choice blocks: Shufflenet (pw, dw kxk, pw) or Shuffle_Xception ((dw 3x3, pw) x 3) on the odd
    channels (stride 1) or on all of them beside a (dw kxk, pw) projection (stride 2)."""

    def __init__(self, choice, inp, oup, mid, stride, affine=True):
        super().__init__()
        self.stride, out, k = stride, oup - inp, (3, 5, 7, 3)[choice]
        bn = lambda c: nn.BatchNorm2d(c, affine=affine)  # noqa: E731  (their supernet: affine=False)
        dw = lambda c, s=1, kk=k: [nn.Conv2d(c, c, kk, s, kk // 2, groups=c, bias=False), bn(c)]  # noqa: E731
        pw = lambda a, b: [nn.Conv2d(a, b, 1, 1, 0, bias=False), bn(b), nn.ReLU(inplace=True)]  # noqa: E731
        if choice < 3:
            main = [*pw(inp, mid), *dw(mid, stride), *pw(mid, out)]
        else:
            main = [*dw(inp, stride), *pw(inp, mid), *dw(mid), *pw(mid, mid), *dw(mid), *pw(mid, out)]
        self.branch_main = nn.Sequential(*main)
        if stride == 2:
            self.branch_proj = nn.Sequential(*dw(inp, 2), *pw(inp, inp))

    def forward(self, x):
        if self.stride == 2:
            return torch.cat((self.branch_proj(x), self.branch_main(x)), 1)
        b, c, h, w = x.shape
        y = x.reshape(b * c // 2, 2, h * w).permute(1, 0, 2).reshape(2, -1, c // 2, h, w)
        return torch.cat((y[0], self.branch_main(y[1])), 1)


class RefOneShot(nn.Module):
    """Their ShuffleNetV2_OneShot: mid width = int(out // 2 * scale) per block."""

    def __init__(self, blocks, scales, n_class=1000):
        super().__init__()
        self.first_conv = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), *_bn_relu(16))
        feats, inp, i = [], 16, 0
        for reps, out in zip([4, 4, 8, 4], [64, 160, 320, 640]):
            for r in range(reps):
                cin, stride = (inp, 2) if r == 0 else (inp // 2, 1)
                feats.append(RefOneShotBlock(blocks[i], cin, out, int(out // 2 * scales[i]), stride))
                inp, i = out, i + 1
        self.features = nn.Sequential(*feats)
        self.conv_last = nn.Sequential(nn.Conv2d(640, 1024, 1, 1, 0, bias=False), *_bn_relu(1024))
        self.globalpool = nn.AvgPool2d(7)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Sequential(nn.Linear(1024, n_class, bias=False))

    def forward(self, x):
        x = self.dropout(self.globalpool(self.conv_last(self.features(self.first_conv(x)))))
        return self.classifier(x.contiguous().view(-1, 1024))


_SPOS_A = [2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3]
_SPOS_AC = [0, 0, 3, 1, 1, 1, 0, 0, 2, 0, 2, 1, 1, 0, 2, 0, 2, 1, 3, 2]
_AC_SCALES = [0.2 * (1 + i) for i in (6, 5, 3, 5, 2, 6, 3, 4, 2, 5, 7, 5, 4, 6, 7, 4, 4, 5, 4, 3)]


def _randomise(model: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.4 + 0.4)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            elif isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.0 / fan_in) ** 0.5)
    return model.eval()


CASES = [
    ("shufflenet_v1_g3_x0_5_megvii", lambda: RefV1(3, "0_5")),
    ("shufflenet_v1_g8_x0_5_megvii", lambda: RefV1(8, "0_5")),
    ("shufflenet_v1_g3_x1_5_megvii", lambda: RefV1(3, "1_5")),
    ("shufflenet_v2_x0_5_megvii", lambda: RefV2("0_5")),
    ("shufflenet_v2_x2_0_megvii", lambda: RefV2("2_0")),
    ("spos_a", lambda: RefOneShot(_SPOS_A, [1.0] * 20)),
    ("spos_ac", lambda: RefOneShot(_SPOS_AC, _AC_SCALES)),
]


@pytest.mark.parametrize("name,make_ref", CASES, ids=[c[0] for c in CASES])
def test_megvii_checkpoint_loads_strictly_and_reproduces_their_outputs(tmp_path, name, make_ref):
    torch.manual_seed(0)
    ref = _randomise(make_ref(), seed=1)
    path = tmp_path / zoo.info(name).weights[0].file_name
    assert path.name.endswith(".pth.tar")
    torch.save({"epoch": 240, "state_dict": {"module." + k: v for k, v in ref.state_dict().items()}}, path)

    model = zoo.load(name, weights=str(path)).eval()
    assert model.weights.source.startswith("megvii") and model.weights.preprocessing.channel_order == "BGR"
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters())
    x = torch.rand(2, 3, 224, 224) * 255  # their pipeline: BGR, 0-255, no mean/std
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), atol=1e-4, rtol=1e-4)


def test_megvii_wiring_is_not_torchvision_wiring():
    """Same state_dict shapes would not make the models interchangeable: the split and the head differ."""
    tv, mg = zoo.load("shufflenet_v2_x0_5"), zoo.load("shufflenet_v2_x0_5_megvii")
    assert "fc.bias" in tv.state_dict() and not any(k.endswith("bias") and "classifier" in k for k in mg.state_dict())
    assert set(tv.state_dict()).isdisjoint(mg.state_dict())


def test_megvii_weights_ask_for_a_manual_download(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    w = zoo.info("shufflenet_v1_g3_x1_0_megvii").weights[0]
    with pytest.raises(zoo.WeightsError) as e:
        zoo.load("shufflenet_v1_g3_x1_0_megvii", weights="DEFAULT")
    msg = str(e.value)
    assert "\n" not in msg and "1drv.ms" in msg and str(tmp_path / w.file_name) in msg

    # dropped into the cache under the entry's file name, it is found
    ref = _randomise(RefV1(3, "0_5"), seed=2)
    w05 = zoo.info("shufflenet_v1_g3_x0_5_megvii").weights[0]
    torch.save({"state_dict": {"module." + k: v for k, v in ref.state_dict().items()}}, tmp_path / w05.file_name)
    model = zoo.load("shufflenet_v1_g3_x0_5_megvii", weights="MEGVII").eval()
    x = torch.rand(1, 3, 224, 224) * 255
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), atol=1e-4, rtol=1e-4)


def test_spos_release_filter_names_what_does_not_fit(tmp_path):
    """A OneShot checkpoint of another architecture fails strict loading with the offending keys, in one line."""
    ref = _randomise(RefOneShot(_SPOS_AC, _AC_SCALES), seed=3)
    path = tmp_path / "other.pth.tar"
    torch.save({"state_dict": {"module." + k: v for k, v in ref.state_dict().items()}}, path)
    with pytest.raises(zoo.WeightsError) as e:
        zoo.load("spos_a", weights=str(path))
    msg = str(e.value)
    assert "\n" not in msg and "mis-shaped" in msg and "blocks.0." in msg
    # and a checkpoint this package wrote (its own keys) passes through the filter untouched
    mine = zoo.load("spos_ac")
    torch.save(mine.state_dict(), tmp_path / "mine.pth")
    again = zoo.load("spos_ac", weights=str(tmp_path / "mine.pth"))
    for (k, a), b in zip(mine.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k


# ---- megvii's evaluation preprocessing (OpencvResize(256) + CenterCrop(224) + ToBGRTensor) ------------------------
# The fixtures are OpenCV's output for the images of photo_rule.py, made once by make_fixtures.py in a venv with
# opencv-python-headless; OpenCV is not a dependency of the project or of the tests.

_PRE = Path(__file__).resolve().parent / "fixtures" / "zoo" / "megvii_preproc"


def _rule():
    spec = importlib.util.spec_from_file_location("megvii_photo_rule", _PRE / "photo_rule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_PHOTOS = _rule()
_MANIFEST = json.loads((_PRE / "manifest.json").read_text(encoding="utf-8"))


def _expected(name: str) -> torch.Tensor:
    """OpenCV's crop as megvii's ToBGRTensor gives it: BGR, CHW, float 0-255."""
    rgb = np.array(Image.open(_PRE / f"{name}.png").convert("RGB"))
    return torch.from_numpy(rgb).permute(2, 0, 1).flip(0).float()


def _megvii_entries():
    return [(name, w) for name in zoo.list_models() for w in zoo.info(name).weights if w.source.startswith("megvii")]


def test_every_megvii_entry_uses_the_opencv_pipeline_and_torchvision_entries_do_not():
    entries = _megvii_entries()
    assert len(entries) >= 15  # V1 g3/g8 x4, V2 x4, spos_a, spos_ac, spos_supernet
    for name, w in entries:
        p = w.preprocessing
        assert (p.resampling, p.channel_order, p.pixel_scale, p.mean, p.std, p.resize, p.crop) == (
            "opencv", "BGR", 255.0, None, None, 256, 224), name
    tv = [w for name in zoo.list_models() for w in zoo.info(name).weights if w.source == "torchvision"]
    assert tv and all(w.preprocessing.resampling == "antialias" for w in tv)


@pytest.mark.parametrize("case", sorted(_MANIFEST["cases"]))
def test_megvii_preprocessing_matches_opencv_to_one_level(case):
    info = _MANIFEST["cases"][case]
    h, w = info["size"]
    assert megvii_resize_size(h, w, 256) == tuple(info["resized"])
    assert tuple(center_crop_offset(s, 224) for s in info["resized"]) == tuple(info["offset"])
    rgb = _PHOTOS.synth_photo(h, w)
    expected = _expected(case)
    for name, weights in _megvii_entries()[:1] + _megvii_entries()[-1:]:
        t = weights.transforms()
        out = t(Image.fromarray(rgb))
        assert out.shape == (3, 224, 224) and out.dtype == torch.float32
        assert (out - expected).abs().max() <= 1.0, name
        assert torch.equal(out, out.round())  # whole uint8 levels, as ToBGRTensor gives them
        # a uint8 tensor, a float tensor in [0, 1] and a batch give the same pixels as the PIL image
        u8 = torch.from_numpy(rgb).permute(2, 0, 1).contiguous()
        assert torch.equal(t(u8), out) and torch.equal(t(u8.float() / 255), out)
        assert torch.equal(t(u8[None].expand(2, -1, -1, -1))[1], out)


def test_the_fixtures_tell_the_antialiased_resize_apart():
    """The old preprocessing (antialiased bilinear, round(), (size - crop) // 2) misses the fixtures by far, so
    the check above can fail."""
    import dataclasses

    old = Transform(dataclasses.replace(MEGVII_PREPROCESSING, resampling="antialias"))
    worst = max(float((old(Image.fromarray(_PHOTOS.synth_photo(*info["size"]))) - _expected(case)).abs().max())
                for case, info in _MANIFEST["cases"].items())
    assert worst > 50


def test_opencv_resize_rules_in_isolation():
    # identity, the exact 2x shrink (OpenCV's area average, rounded half up), and a constant image stays constant
    x = torch.arange(48, dtype=torch.uint8).view(1, 4, 12)
    assert torch.equal(resize_linear_u8(x, 4, 12), x)
    two = torch.tensor([[[0, 1], [1, 1]]], dtype=torch.uint8)
    assert resize_linear_u8(two, 1, 1).item() == 1  # (3 + 2) >> 2
    flat = torch.full((3, 37, 53), 200, dtype=torch.uint8)
    assert torch.equal(resize_linear_u8(flat, 256, 367), torch.full((3, 256, 367), 200, dtype=torch.uint8))
    with pytest.raises(TypeError):
        resize_linear_u8(flat.float(), 10, 10)
    # megvii's long side is int(x + 0.5): 1024x1114 -> 279 where round() gives 278; offsets round halves to even
    assert megvii_resize_size(1114, 1024, 256) == (279, 256) and round(256 / 1024 * 1114) == 278
    assert center_crop_offset(383, 224) == 80 and center_crop_offset(381, 224) == 78


def test_zoo_eval_gives_the_top5_of_megvii_pipeline(tmp_path):
    """A random-weights checkpoint in megvii's layout: ``zoo.evaluate`` ranks every image's classes as megvii's
    network (re-stated above) does on OpenCV's pixels. Each image is filed under its reference top-6 classes: the
    rank-1 copy must count in top-1, ranks 1-5 in top-5, and rank 6 in neither."""
    from zoo._evaluate import imagenet_synsets

    torch.manual_seed(0)
    ref = _randomise(RefV2("0_5"), seed=5)
    # BN statistics of the fixture images, so the random network's ranking depends on the pixels
    for m in ref.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    with torch.no_grad():
        ref.train()(torch.stack([_expected(c) for c in sorted(_MANIFEST["cases"])]))
    ref.eval()
    ckpt = tmp_path / zoo.info("shufflenet_v2_x0_5_megvii").weights[0].file_name
    torch.save({"state_dict": {"module." + k: v for k, v in ref.state_dict().items()}}, ckpt)
    syn = imagenet_synsets()
    cases = ["landscape_334x500", "portrait_1114x1024", "odd_375x499"]
    with torch.no_grad():
        ranks = ref(torch.stack([_expected(c) for c in cases])).argsort(dim=1, descending=True)[:, :6]
    for c, order in zip(cases, ranks.tolist()):
        for r, cls in enumerate(order):
            (tmp_path / "val" / syn[cls]).mkdir(parents=True, exist_ok=True)
            Image.fromarray(_PHOTOS.synth_photo(*_MANIFEST["cases"][c]["size"])).save(
                tmp_path / "val" / syn[cls] / f"{c}_rank{r}.png")
    result = zoo.evaluate("shufflenet_v2_x0_5_megvii", tmp_path / "val", weights=str(ckpt), workers=0,
                          batch_size=4, progress=False)
    assert (result.images, result.correct1, result.correct5) == (18, 3, 15)
    # the antialiased resize ranks them differently: this test can fail
    import dataclasses

    w = zoo.info("shufflenet_v2_x0_5_megvii").weights[0]
    old = dataclasses.replace(w, preprocessing=dataclasses.replace(w.preprocessing, resampling="antialias"))
    model = zoo.load("shufflenet_v2_x0_5_megvii", weights=str(ckpt))
    model.weights = old
    other = zoo.evaluate(model, tmp_path / "val", workers=0, batch_size=4, progress=False)
    assert (other.correct1, other.correct5) != (3, 15)


# ---- megvii's trained supernet (SinglePathOneShot src/Supernet, checkpoint-150000.pth.tar) ------------------------

class RefSupernet(nn.Module):
    """Their supernet's module structure: ``features[N]`` is a module list of the four choices (Shufflenet 3/5/7,
    Shuffle_Xception) at the default middle width ``out // 2``, every BatchNorm ``affine=False``."""

    def __init__(self, n_class=1000):
        super().__init__()
        self.first_conv = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16, affine=False),
                                        nn.ReLU(inplace=True))
        self.features, inp = nn.ModuleList(), 16
        for reps, out in zip([4, 4, 8, 4], [64, 160, 320, 640]):
            for r in range(reps):
                cin, stride = (inp, 2) if r == 0 else (inp // 2, 1)
                self.features.append(nn.ModuleList(
                    RefOneShotBlock(c, cin, out, out // 2, stride, affine=False) for c in range(4)))
                inp = out
        self.conv_last = nn.Sequential(nn.Conv2d(640, 1024, 1, 1, 0, bias=False), nn.BatchNorm2d(1024, affine=False),
                                       nn.ReLU(inplace=True))
        self.globalpool = nn.AvgPool2d(7)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Sequential(nn.Linear(1024, n_class, bias=False))

    def forward(self, x, architecture):
        x = self.first_conv(x)
        for choices, c in zip(self.features, architecture):
            x = choices[c](x)
        x = self.dropout(self.globalpool(self.conv_last(x)))
        return self.classifier(x.contiguous().view(-1, 1024))


@pytest.fixture(scope="module")
def megvii_supernet(tmp_path_factory):
    """Their supernet with random weights, saved as their train.py saves it (DataParallel keys, 'state_dict')."""
    torch.manual_seed(0)
    ref = _randomise(RefSupernet(), seed=7)
    path = tmp_path_factory.mktemp("megvii") / "checkpoint-150000.pth.tar"
    torch.save({"state_dict": {"module." + k: v for k, v in ref.state_dict().items()}}, path)
    return ref, path


_OTHER_PATH = [3, 0, 1, 2] * 5


def test_megvii_supernet_loads_strictly_and_runs_their_paths(megvii_supernet):
    from zoo.spos import Layout, SuperNet, load_supernet, read_checkpoint

    ref, path = megvii_supernet
    assert len(ref.state_dict()) == len(SuperNet().state_dict())  # every key maps, none left over
    model = zoo.load("spos_supernet", weights=str(path)).eval()
    assert model.weights.source == "megvii_spos" and model.weights.preprocessing.resampling == "opencv"
    net = load_supernet(path)
    ckpt = read_checkpoint(path)
    assert Layout.from_dict(ckpt["layout"]) == Layout() and ckpt["config"]["input_size"] == 224
    x = torch.rand(2, 3, 224, 224) * 255
    with torch.no_grad():
        for arch in (_SPOS_A, _OTHER_PATH):
            want = ref(x, arch)
            torch.testing.assert_close(model(x, arch), want, atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(net(x, arch), want, atol=1e-4, rtol=1e-4)


def test_megvii_supernet_is_an_entry_with_its_page():
    (w,) = zoo.info("spos_supernet").weights
    assert (w.file_name, w.source, w.paper, w.url) == ("checkpoint-150000.pth.tar", "megvii_spos", "1904.00420", None)
    assert "SinglePathOneShot" in w.page and "Supernet" in w.page and w.metrics == {}


def test_cli_search_and_extract_take_the_official_file(megvii_supernet, tmp_path):
    from click.testing import CliRunner

    from paperzoo.zoo_cli import cli

    ref, path = megvii_supernet
    arch = "".join(map(str, _OTHER_PATH))
    runner = CliRunner()
    r = runner.invoke(cli, ["supernet", "extract", "--supernet", str(path), "--arch", arch,
                            "--out", str(tmp_path / "sub.pth")])
    assert r.exit_code == 0, r.output
    sub = zoo.load("spos", arch=arch, weights=str(tmp_path / "sub.pth")).eval()
    x = torch.rand(1, 3, 224, 224) * 255
    with torch.no_grad():
        torch.testing.assert_close(sub(x), ref(x, _OTHER_PATH), atol=1e-4, rtol=1e-4)
    r = runner.invoke(cli, ["supernet", "search", "--supernet", str(path), "--data", "tiny:4:16", "--input-size", "64",
                            "--iterations", "1", "--population", "4", "--top-k", "2", "--mutations", "1",
                            "--crossovers", "1", "--batch-size", "4", "--calib-batches", "1", "--val-batches", "1",
                            "--max-macs", "400M", "--out", str(tmp_path / "search.json"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "search.json").read_text())["top"]
    # training into the released file would need an optimiser state it does not have: refused, file untouched
    before = path.stat().st_mtime_ns
    r = runner.invoke(cli, ["supernet", "train", "--out", str(path), "--steps", "1", "--batch-size", "2",
                            "--input-size", "32", "--quiet"])
    assert r.exit_code != 0 and "weights only" in r.output and path.stat().st_mtime_ns == before


def test_searching_their_supernet_feeds_it_their_pixels(megvii_supernet, tmp_path):
    """Their supernet was trained on BGR 0-255: ``read_checkpoint`` says so, and the search's image folders then
    give megvii's evaluation crops (OpenCV's pixels) and BGR 0-255 training crops."""
    from zoo.spos import read_checkpoint
    from zoo.spos.data import open_dataset

    _, path = megvii_supernet
    assert read_checkpoint(path)["pixels"] == "megvii"
    case = "landscape_334x500"
    for split in ("train", "val"):
        (tmp_path / split / "n01440764").mkdir(parents=True)
        Image.fromarray(_PHOTOS.synth_photo(*_MANIFEST["cases"][case]["size"])).save(
            tmp_path / split / "n01440764" / "a.png")
    val = open_dataset(str(tmp_path), size=224, train=False, pixels="megvii")
    x, label = val[0]
    assert label == 0 and torch.equal(x, _expected(case))
    train = open_dataset(str(tmp_path), size=224, train=True, pixels="megvii")
    x, _ = train[(0, 3)]
    assert x.shape == (3, 224, 224) and torch.equal(x, x.round()) and x.max() > 1.5 and x.min() >= 0
    assert open_dataset(str(tmp_path), size=224, train=False)[0][0].min() < 0  # the default: ImageNet mean/std
