"""zoo.evaluate and `zoo eval`: a tiny generated ImageFolder, a real ResNet-18 whose classifier is set so that the
predicted class follows the image's colour (so the right answers are known), custom weights entries with their own
categories and preprocessing, unreadable images, bad folders, and resuming after an interrupt."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import zoo
import zoo._evaluate as ev
from zoo import Preprocessing, Weights
from paperzoo.zoo_cli import cli

RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)
SYN = ev.imagenet_synsets()
SMALL = Preprocessing(resize=32, crop=32)


def colour_head(model, transform, classes):
    """Set ``model.fc`` so that an image of colour ``rgb`` is predicted as class ``k`` for ``{k: rgb}``; an entry
    ``{k: (ref, factor)}`` gives class ``k`` ``factor`` times the logit of class ``ref`` (a runner-up)."""
    feats = {}
    hook = model.fc.register_forward_pre_hook(lambda m, a: feats.__setitem__("f", a[0].detach()))
    base = {}
    with torch.no_grad():
        for k, rgb in classes.items():
            if len(rgb) == 3:
                img = torch.tensor(rgb, dtype=torch.uint8).view(3, 1, 1).expand(3, 32, 32)
                model.eval()(transform(img)[None])
                base[k] = feats["f"][0]
    hook.remove()
    fbar = torch.stack(list(base.values())).mean(0)
    w, b = torch.zeros_like(model.fc.weight), torch.zeros_like(model.fc.bias)
    for k, f in base.items():
        u = (f - fbar) / (f - fbar).norm()
        w[k], b[k] = u, -(u @ fbar)
    for k, v in classes.items():
        if k not in base:
            ref, factor = v
            w[k], b[k] = factor * w[ref], factor * b[ref]
    with torch.no_grad():
        model.fc.weight.copy_(w)
        model.fc.bias.copy_(b)
    return model


def image(path, rgb, seed):
    rng = np.random.default_rng(seed)
    arr = np.clip(np.array(rgb)[None, None, :] + rng.integers(-12, 13, (32, 32, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)


def image_folder(root, folders, per_class=2):
    """``{folder name: rgb}`` -> ``root/<folder>/img_<i>.png`` (32x32 PNG, a little noise)."""
    for j, (folder, rgb) in enumerate(folders.items()):
        (root / folder).mkdir(parents=True)
        for i in range(per_class):
            image(root / folder / f"img_{i}.png", rgb, seed=100 * j + i)
    return root


def colour_weights(cache, tag, num_classes, classes, *, categories="imagenet-1k", preprocessing=SMALL):
    """A ResNet-18 checkpoint with a colour classifier, saved in the cache, and its ``Weights`` entry."""
    torch.manual_seed(0)
    model = zoo.load("resnet18", num_classes=num_classes)
    colour_head(model, zoo._weights.Transform(preprocessing), classes)
    w = Weights(tag=tag, file_name=f"resnet18-{tag.lower()}.pth", num_params=sum(p.numel() for p in model.parameters()),
                metrics={"top1": 50.0, "top5": 90.0}, preprocessing=preprocessing, num_classes=num_classes,
                categories=categories, source="test", paper="1512.03385", licence="MIT")
    cache.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), cache / w.file_name)
    return w


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def imagenet_case(tmp_path, cache):
    """1000-class colour weights; red -> class 7, green -> 999; class 300 is red's runner-up (top-5, not top-1)."""
    w = colour_weights(cache, "COLOUR", 1000, {7: RED, 999: GREEN, 300: (7, 0.5)})
    data = image_folder(tmp_path / "val", {SYN[7]: RED, SYN[999]: GREEN, SYN[300]: RED})
    return w, data


def test_imagenet_layout_synsets_map_to_class_indices(imagenet_case):
    w, data = imagenet_case
    (data / SYN[7] / "broken.JPEG").write_bytes(b"not a jpeg at all")
    (data / SYN[7] / "notes.txt").write_text("ignored: not an image suffix")
    r = zoo.evaluate("resnet18", data, weights=w, workers=0, progress=False)
    assert (r.images, r.skipped, r.correct1, r.correct5) == (6, 1, 4, 6)
    assert r.top1 == pytest.approx(100 * 4 / 6) and r.top5 == 100.0
    assert r.model == "resnet18" and r.weights == "COLOUR" and not r.resumed
    assert r.metrics() == {"top1": r.top1, "top5": r.top5}
    assert r.env["preprocessing"]["crop"] == 32 and r.env["images"] == 6


def test_synset_list_is_the_standard_sorted_one():
    assert len(SYN) == 1000 == len(set(SYN)) and list(SYN) == sorted(SYN)
    assert SYN[0] == "n01440764" and SYN[-1] == "n15075141"


def test_custom_categories_and_megvii_bgr_preprocessing(tmp_path, cache):
    bgr = Preprocessing(resize=32, crop=32, channel_order="BGR", pixel_scale=255.0, mean=None, std=None)
    w = colour_weights(cache, "BGR", 2, {0: RED, 1: BLUE}, categories=("reds", "blues"), preprocessing=bgr)
    data = image_folder(tmp_path / "val", {"reds": RED, "blues": BLUE})
    r = zoo.evaluate("resnet18", data, weights=w, workers=1, batch_size=3, progress=False)
    assert (r.images, r.correct1, r.top1) == (4, 4, 100.0)
    # the same checkpoint read as RGB sees red where BGR sees blue: every answer flips, so the weights'
    # preprocessing is what evaluate used
    as_rgb = Weights(**{**w.__dict__, "preprocessing": Preprocessing(**{**bgr.__dict__, "channel_order": "RGB"})})
    assert zoo.evaluate("resnet18", data, weights=as_rgb, workers=0, progress=False).top1 == 0.0


def test_limit_takes_images_from_every_class_first(imagenet_case):
    w, data = imagenet_case
    r = zoo.evaluate("resnet18", data, weights=w, limit=3, workers=0, progress=False)
    assert r.images == 3 and r.correct5 == 3 and r.correct1 == 2  # one image of each of the three classes


def test_a_loaded_module_can_be_evaluated(imagenet_case):
    w, data = imagenet_case
    model = zoo.load("resnet18", weights=w)
    r = zoo.evaluate(model, data, workers=0, progress=False)
    assert r.correct1 == 4 and r.weights == "COLOUR"
    with pytest.raises(zoo.ZooError, match="no weights"):
        zoo.evaluate(zoo.load("resnet18", num_classes=2), data, workers=0, progress=False)


def test_bad_folders_give_clear_errors(tmp_path, imagenet_case):
    w, data = imagenet_case
    with pytest.raises(zoo.ZooError, match="data directory not found"):
        zoo.evaluate("resnet18", tmp_path / "nope", weights=w, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(zoo.ZooError, match="no class folders"):
        zoo.evaluate("resnet18", tmp_path / "empty", weights=w, progress=False)
    (data / "cats").mkdir()
    with pytest.raises(zoo.ZooError, match=r"do not match the weights' categories: cats; expected names like n01"):
        zoo.evaluate("resnet18", data, weights=w, progress=False)
    bad = tmp_path / "bad" / SYN[7]
    bad.mkdir(parents=True)
    (bad / "a.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(zoo.ZooError, match=r"no readable image .* \(1 unreadable\)"):
        zoo.evaluate("resnet18", tmp_path / "bad", weights=w, workers=0, progress=False)
    with pytest.raises(zoo.ZooError, match="needs weights"):
        zoo.evaluate("resnet18", data, weights=None, progress=False)


def test_outputs_that_do_not_fit_the_categories(tmp_path, cache):
    w = colour_weights(cache, "TWO", 2, {0: RED, 1: GREEN}, categories=("r", "g", "b"))
    data = image_folder(tmp_path / "val", {"r": RED, "g": GREEN})
    with pytest.raises(zoo.ZooError, match="2 outputs but the categories list 3"):
        zoo.evaluate("resnet18", data, weights=w, workers=0, progress=False)


def test_interrupt_and_resume_without_recounting(tmp_path, imagenet_case, monkeypatch):
    w, data = imagenet_case
    state = tmp_path / "state" / "eval.json"
    real = ev._load_image
    calls, interrupt_at = [], [5]

    def flaky(path):
        calls.append(path)
        if len(calls) == interrupt_at[0]:
            raise KeyboardInterrupt
        return real(path)

    monkeypatch.setattr(ev, "_load_image", flaky)
    with pytest.raises(KeyboardInterrupt):
        zoo.evaluate("resnet18", data, weights=w, batch_size=2, workers=0, state_file=state, progress=False)
    saved = json.loads(state.read_text())
    assert saved["done"] == 4 and saved["images"] == 4  # two whole batches, nothing of the third

    calls.clear()
    interrupt_at[0] = None
    r = zoo.evaluate("resnet18", data, weights=w, batch_size=2, workers=0, state_file=state, progress=False)
    assert len(calls) == 2 and r.resumed  # only the images not yet counted were read
    assert (r.images, r.correct1, r.correct5) == (6, 4, 6)  # as in one uninterrupted run (first test)

    calls.clear()
    again = zoo.evaluate("resnet18", data, weights=w, batch_size=2, workers=0, state_file=state, progress=False)
    assert calls == [] and again.top1 == r.top1
    with pytest.raises(zoo.ZooError, match="state of another evaluation"):
        zoo.evaluate("resnet18", data, weights=w, limit=2, workers=0, state_file=state, progress=False)
    state.write_text("{ half a file")
    with pytest.raises(zoo.ZooError, match="not an evaluation state file"):
        zoo.evaluate("resnet18", data, weights=w, workers=0, state_file=state, progress=False)


def test_cli_eval_store_and_compare(tmp_path, cache, log):
    # a checkpoint file passed by path keeps the card's preprocessing (resize 256, crop 224) and ImageNet categories
    torch.manual_seed(0)
    model = colour_head(zoo.load("resnet18"), zoo.info("resnet18").weights[0].transforms(), {1: RED, 998: GREEN})
    ckpt = tmp_path / "mine.pth"
    torch.save(model.state_dict(), ckpt)
    data = image_folder(tmp_path / "val", {SYN[1]: RED, SYN[998]: GREEN, SYN[2]: GREEN}, per_class=1)
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", "resnet18", "--data", str(data), "--weights", str(ckpt), "--workers", "0",
                              "--store", "--db", str(log.path)])
    assert res.exit_code == 0, res.output
    assert "top-1 66.667%" in res.output and "3 images" in res.output
    stored = {r["metric"]: r for r in log.results("resnet18")}
    assert stored["top1"]["value"] == pytest.approx(200 / 3) and stored["top1"]["weights"] == "file"
    assert stored["top5"]["value"] == pytest.approx(200 / 3) and stored["top1"]["env"]["images"] == 3

    res = runner.invoke(cli, ["compare", "resnet18", "--db", str(log.path), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    err = next(r for r in rows if r["metric"] == "top1_err")
    assert err["claimed"] == 27.88 and err["measured"] == pytest.approx(100 - 200 / 3)
    assert err["difference"] == pytest.approx(100 - 200 / 3 - 27.88) and err["weights"] == "file"
    res = runner.invoke(cli, ["compare", "resnet18", "--db", str(log.path)])
    assert res.exit_code == 0 and "top1_err" in res.output and "33.33%" in res.output

    res = runner.invoke(cli, ["eval", "resnet18", "--data", str(tmp_path / "missing"), "--weights", str(ckpt)])
    assert res.exit_code == 1 and res.output.startswith("Error: data directory not found")
    assert "Traceback" not in res.output
