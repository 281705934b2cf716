"""Weights: download through a local HTTP server (hash check, atomic rename, nothing corrupt left behind), offline
message, the three file formats, strict loading messages, num_classes head re-initialisation, preprocessing."""
from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
import warnings
from pathlib import Path

import pytest
import torch

import zoo
from zoo import Weights
from zoo._weights import IMAGENET_MEAN, IMAGENET_STD

NAME = "shufflenet_v2_x0_5"  # the smallest torchvision-layout model with released weights


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = zoo.load(NAME)
    path = tmp_path_factory.mktemp("ckpt") / "snet.pth"
    torch.save(model.state_dict(), path)
    return path, model.state_dict()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("ZOO_CACHE", str(root))
    return root


class _Server:
    def __init__(self, files: dict[str, bytes], truncate: bool = False):
        files_, truncate_ = files, truncate

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = files_.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if truncate_ else body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(checkpoint):
    servers = []

    def start(truncate=False):
        s = _Server({"snet-abc.pth": checkpoint[0].read_bytes()}, truncate=truncate)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


class _Hook:
    """An arbitrary object: unpickling it would run code, so weights_only loading must refuse it."""


def _entry(url: str, sha256: str | None) -> Weights:
    base = zoo.info(NAME).weights[0]
    return dataclasses.replace(base, tag="TEST", url=url + "snet-abc.pth", file_name="snet-abc.pth", sha256=sha256)


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_download_verifies_hash_and_renames_into_the_cache(cache, server, checkpoint):
    srv = server()
    digest = hashlib.sha256(checkpoint[0].read_bytes()).hexdigest()
    w = _entry(srv.url, digest[:10])
    model = zoo.load(NAME, weights=w, progress=False)
    assert _leftovers(cache) == ["snet-abc.pth"] and model.weights is w
    for k, v in checkpoint[1].items():
        assert torch.equal(model.state_dict()[k], v)
    srv.close()  # a cached file needs no network
    assert zoo.load(NAME, weights=w, progress=False).weights is w


def test_wrong_hash_leaves_nothing_in_the_cache(cache, server):
    w = _entry(server().url, "deadbeef")
    with pytest.raises(zoo.WeightsError, match="expected deadbeef") as e:
        zoo.load(NAME, weights=w, progress=False)
    assert "\n" not in str(e.value) and _leftovers(cache) == []


def test_interrupted_download_leaves_nothing_in_the_cache(cache, server):
    w = _entry(server(truncate=True).url, None)
    with pytest.raises(zoo.WeightsError, match="cannot download"):
        zoo.load(NAME, weights=w, progress=False)
    assert _leftovers(cache) == []


def test_offline_names_the_url_and_the_exact_cache_path(cache):
    w = zoo.info(NAME).weights[0]
    offline = dataclasses.replace(w, url="http://127.0.0.1:9/" + w.file_name)  # discard port: refused
    with pytest.raises(zoo.WeightsError) as e:
        zoo.load(NAME, weights=offline, progress=False)
    msg = str(e.value)
    assert "\n" not in msg and offline.url in msg and f"put the file at {cache / w.file_name}" in msg
    assert _leftovers(cache) == []


def test_file_url_download(cache, checkpoint):
    w = _entry(checkpoint[0].parent.as_uri() + "/", None)
    w = dataclasses.replace(w, url=checkpoint[0].as_uri(), file_name="snet.pth")
    assert zoo.load(NAME, weights=w, progress=False).weights is w
    assert _leftovers(cache) == ["snet.pth"]


@pytest.mark.parametrize("fmt", [".pth", ".pth.tar", ".safetensors"])
def test_three_formats_load_strictly(tmp_path, checkpoint, fmt):
    sd = checkpoint[1]
    path = tmp_path / f"w{fmt}"
    if fmt == ".pth.tar":
        torch.save({"epoch": 3, "state_dict": {"module." + k: v for k, v in sd.items()}}, path)
    elif fmt == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    else:
        torch.save(sd, path)
    model = zoo.load(NAME, weights=path)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in sd.items())
    assert model.weights.tag == "file" and model.weights.transforms()(torch.rand(3, 40, 50)).shape == (3, 224, 224)


def test_mismatched_keys_are_named(tmp_path, checkpoint):
    sd = dict(checkpoint[1])
    sd.pop("conv1.0.weight")
    sd["extra.weight"] = torch.zeros(1)
    sd["conv5.0.weight"] = torch.zeros(3, 3, 1, 1)
    path = tmp_path / "bad.pth"
    torch.save(sd, path)
    with pytest.raises(zoo.WeightsError) as e:
        zoo.load(NAME, weights=path)
    msg = str(e.value)
    assert "missing 1: conv1.0.weight" in msg and "unexpected 1: extra.weight" in msg
    assert "mis-shaped 1: conv5.0.weight (3, 3, 1, 1)" in msg and "\n" not in msg


def test_unreadable_and_unsafe_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(zoo.WeightsError, match="not a readable checkpoint"):
        zoo.load(NAME, weights=garbage)
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": _Hook()}, unsafe)
    with pytest.raises(zoo.WeightsError, match="not a readable checkpoint"):  # weights_only=True refuses objects
        zoo.load(NAME, weights=unsafe)
    with pytest.raises(zoo.WeightsError, match="not found"):
        zoo.load(NAME, weights=tmp_path / "missing.pth")


def test_num_classes_reinitialises_the_head_and_says_so(tmp_path, checkpoint):
    path = tmp_path / "w.pth"
    torch.save(checkpoint[1], path)
    with pytest.warns(UserWarning, match="re-initialised for 7 classes") as record:
        model = zoo.load(NAME, weights=path, num_classes=7)
    assert len(record) == 1 and model.fc.out_features == 7
    assert torch.equal(model.conv5[0].weight, checkpoint[1]["conv5.0.weight"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert zoo.load(NAME, weights=path, num_classes=1000).fc.out_features == 1000


def test_tags_default_and_unknown(cache):
    with pytest.raises(zoo.WeightsError, match="no weights 'V9'.*DEFAULT, IMAGENET1K_V1, IMAGENET1K_V2"):
        zoo.load("resnet50", weights="V9")
    with pytest.raises(zoo.WeightsError, match="no released weights"):
        zoo.load("resnet50_v1", weights="DEFAULT")
    # name.TAG selects an entry; without network the message names the entry's file
    with pytest.raises(zoo.WeightsError, match="resnet50-11ad3fa6.pth"):
        zoo.load("resnet50.IMAGENET1K_V2", progress=False)


def test_transforms_follow_the_weights():
    v2 = zoo.info("resnet50").weights[1]
    assert (v2.preprocessing.resize, v2.preprocessing.crop) == (232, 224)
    t = v2.transforms()
    img = torch.full((3, 300, 400), 0.5)
    out = t(img)
    assert out.shape == (3, 224, 224)
    torch.testing.assert_close(out[:, 0, 0], (0.5 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD))

    mg = zoo.info("shufflenet_v2_x1_0_megvii").weights[0].transforms()
    rgb = torch.zeros(3, 256, 256, dtype=torch.uint8)
    rgb[0] = 255  # pure red
    out = mg(rgb)
    assert out.shape == (3, 224, 224)
    assert out[2].min() == 255 and out[0].max() == 0  # BGR order, 0-255, no mean/std

    from PIL import Image

    pil = Image.new("RGB", (320, 240), (255, 0, 0))
    torch.testing.assert_close(mg(pil), out)
    assert mg(rgb.unsqueeze(0).repeat(2, 1, 1, 1)).shape == (2, 3, 224, 224)
    with pytest.raises(TypeError):
        mg("not an image")


def test_category_names_and_hashable_entries():
    w = zoo.info("resnet18").weights[0]
    names = w.category_names()
    assert len(names) == w.num_classes == 1000 and names[0] == "tench" and len(set(names)) > 990
    assert hash(w) == hash(dataclasses.replace(w)) and w in {w}


def test_cache_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "c"))
    assert zoo.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ZOO_CACHE")
    assert zoo.cache_dir() == Path.home() / ".cache" / "paper-zoo" / "weights"


# --- what is verified on load (issue 13) ------------------------------------------------------------------------


def test_a_wrong_file_at_the_cache_path_is_refused_with_both_hashes(cache, checkpoint):
    """The offline message names the exact cache path; a different file put there must not load as the entry."""
    right = hashlib.sha256(checkpoint[0].read_bytes()).hexdigest()
    w = _entry("http://127.0.0.1:9/", right[:10])
    cache.mkdir()
    wrong = dict(checkpoint[1])
    wrong["fc.bias"] = wrong["fc.bias"] + 1
    torch.save(wrong, cache / w.file_name)
    found = hashlib.sha256((cache / w.file_name).read_bytes()).hexdigest()
    with pytest.raises(zoo.WeightsError) as e:
        zoo.load(NAME, weights=w, progress=False)
    msg = str(e.value)
    assert "\n" not in msg and found in msg and f"expected {right[:10]}" in msg and str(cache / w.file_name) in msg


def test_a_verified_file_is_hashed_once_until_it_changes(cache, checkpoint, monkeypatch):
    import zoo._weights as zw

    digest = hashlib.sha256(checkpoint[0].read_bytes()).hexdigest()
    w = dataclasses.replace(_entry("http://127.0.0.1:9/", digest), file_name="snet.pth")
    cache.mkdir()
    (cache / "snet.pth").write_bytes(checkpoint[0].read_bytes())
    calls = []
    real = zw.sha256_of
    monkeypatch.setattr(zw, "sha256_of", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    for _ in range(3):
        assert zoo.load(NAME, weights=w, progress=False).weights is w
    assert len(calls) == 1  # size + mtime remembered in the cache's record
    data = bytearray((cache / "snet.pth").read_bytes())
    data[-1] ^= 1  # same size, new content (and a new mtime)
    (cache / "snet.pth").write_bytes(bytes(data))
    with pytest.raises(zoo.WeightsError, match="SHA-256"):
        zoo.load(NAME, weights=w, progress=False)
    assert len(calls) == 2


def test_a_local_file_named_like_an_entry_is_that_entry_only_when_its_hash_matches(tmp_path, checkpoint):
    entry = zoo.info(NAME).weights[0]  # torchvision's IMAGENET1K_V1, with a published hash prefix
    impostor = tmp_path / entry.file_name
    impostor.write_bytes(checkpoint[0].read_bytes())
    model = zoo.load(NAME, weights=impostor)
    assert model.weights.tag == "file" and dict(model.weights.metrics) == {} and model.weights.sha256 is None
    # the matching rule itself: same name and a matching hash
    digest = hashlib.sha256(impostor.read_bytes()).hexdigest()
    genuine = dataclasses.replace(entry, sha256=digest[:10])
    assert zoo._weights.matching_entry([genuine], impostor) is genuine
    assert zoo._weights.matching_entry([dataclasses.replace(entry, sha256=None)], impostor) is None


@pytest.mark.parametrize("text", ["DEFAULT", "default", "IMAGENET1K_V1"])
def test_a_tag_is_a_tag_even_when_a_file_has_its_name(tmp_path, monkeypatch, checkpoint, text):
    from zoo._factory import _select
    from zoo._registry import get_entry

    monkeypatch.chdir(tmp_path)
    (tmp_path / text).write_bytes(checkpoint[0].read_bytes())
    w, path = _select(get_entry(NAME), text)
    assert path is None and w is zoo.info(NAME).weights[0]


def test_a_text_file_as_weights_says_it_is_text(tmp_path):
    notes = tmp_path / "weights.pth"
    notes.write_text("hello, these are my notes\n")
    with pytest.raises(zoo.WeightsError) as e:
        zoo.load(NAME, weights=notes)
    assert "text file" in str(e.value) and "hello" in str(e.value) and "(101)" not in str(e.value)


def test_torch_advice_to_drop_weights_only_never_reaches_the_user(tmp_path):
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": _Hook()}, unsafe)
    with pytest.raises(zoo.WeightsError) as e:
        zoo.load(NAME, weights=unsafe)
    msg = str(e.value)
    assert "weights_only" not in msg and "False" not in msg and "\x1b" not in msg and "\n" not in msg
    assert "_Hook" in msg and "could run code" in msg
