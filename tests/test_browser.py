"""End to end in a real browser: `streamlit run app.py` on a free localhost port with a temporary log, driven by
headless Chromium through Playwright. Every page is opened (and screenshotted) on an empty log and on a starter log,
and no request may leave the machine; then a paper is logged by hand, searched for and opened. Screenshots go to
the test's tmp dir, or to $SCREENSHOT_DIR when set. CI installs Debian's chromium (.ci/run), so this runs there; it
is skipped only where no chromium is installed (`apt-get install -y chromium`) and CI is not set.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
WIDTH = 1400

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytestmark.append(pytest.mark.skip(reason=f"no {CHROMIUM} (apt-get install chromium; CI installs it)"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path: Path, db: Path):
    """The app, started as a user would (`streamlit run app.py`, the repository's config) on log ``db``."""
    port = _free_port()
    env = {**os.environ, "READING_DB": str(db), "INDEX_MODEL": "hash-bow-64",
           "ZOO_CACHE": str(tmp_path / "weights"), "XDG_DATA_HOME": str(tmp_path / "data")}
    out = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return proc, out, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out.close()
            raise RuntimeError("streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:])
        time.sleep(0.3)


@pytest.fixture
def serve(tmp_path):
    """``serve(db)`` starts the app on that log and returns its base URL; stopped after the test."""
    running = []

    def start(db: Path) -> str:
        proc, out, url = _start(tmp_path, db)
        running.append((proc, out))
        return url

    yield start
    for proc, out in running:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Watch:
    """Every request the page makes and every console warning or error it prints."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.console: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.console.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("warning", "error")
                else None)

    def off_machine(self) -> list[str]:
        return [u for u in self.requests if urlparse(u).scheme not in ("data", "blob", "about")
                and urlparse(u).hostname not in LOCAL_HOSTS]


def _browser(pw):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    page.set_default_timeout(60_000)
    return browser, page


def _settle(page) -> None:
    """Wait until the script has finished and charts and grids have painted."""
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=60_000)
    page.wait_for_timeout(1500)


def _shoot(page, path: Path) -> None:
    """A screenshot of the whole page: the viewport is stretched to the app's scrolling height first (Streamlit
    scrolls inside its main area, which a full-page screenshot alone would cut at the window's height)."""
    height = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return m ? m.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": WIDTH, "height": min(max(int(height), 1000), 12_000)})
    page.wait_for_timeout(800)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": 1000})


def _grid_fits(page) -> bool:
    """The first data grid on the page shows all its columns without scrolling sideways."""
    return page.evaluate("""() => {
        const s = document.querySelector('[data-testid="stDataFrame"] .dvn-scroller');
        return !!s && s.scrollWidth <= s.clientWidth + 1; }""")


PAGES = ["library", "search", "inbox", "log", "stats", "suggestions", "zoo", "supernet", "paper"]
PATHS = {"library": ""}  # the default page lives at the root


def _starter_log(path: Path, tmp_path: Path) -> Path:
    import reading

    with reading.open_log(path) as log:
        log.import_starter()
        log.add_read("1807.11164", "2026-11-02")
        log.add_read("1707.01083", "2026-10-15")
        log.add_result("shufflenet_v2_x1_0", "latency_ms", 3598.362491, env={"batch": 1})
        log.add("1905.11946", tags=["efficient"], status="to-read", fetch=False)  # as if logged offline
        search = {"top": [{"arch": "0" * 20, "macs": 300_000_000, "latency_ms": None, "score": 60.0},
                          {"arch": "1" * 20, "macs": 330_000_000, "latency_ms": None, "score": 55.0}],
                  "pareto": [{"arch": "0" * 20, "macs": 300_000_000, "latency_ms": None, "score": 60.0}],
                  "evaluated": 2, "rejected": 0, "iterations": 3, "history": [52.0, 58.5, 60.0]}
        (tmp_path / "search.json").write_text(json.dumps(search), encoding="utf-8")
        log.set_setting("ui.spos_search_result", str(tmp_path / "search.json"))
    return path


@pytest.mark.parametrize("state", ["empty", "starter"])
def test_every_page_renders_and_nothing_leaves_the_machine(serve, shots, tmp_path, state):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    db = tmp_path / "log.db"
    if state == "starter":
        _starter_log(db, tmp_path)
    url = serve(db)
    with sync_playwright() as pw:
        browser, page = _browser(pw)
        watch = Watch(page)
        for name in PAGES:
            query = "?id=7" if name == "paper" and state == "starter" else ""
            page.goto(f"{url}/{PATHS.get(name, name)}{query}")
            _settle(page)
            if name == "library" and state == "empty":
                expect(page.get_by_role("button", name="Load the starter set")).to_be_visible()
            if name == "library" and state == "starter":
                assert _grid_fits(page), "the Library table scrolls sideways at 1,400 px"
            if name == "search" and state == "starter":
                box = page.get_by_role("textbox", name="Search your library")
                box.fill("channel shuffle")
                box.press("Enter")
                expect(page.get_by_role("link", name="1. ShuffleNet").first).to_be_visible()
                _settle(page)
            if name == "stats" and state == "starter":
                page.get_by_text("Draw the map").click()
                _settle(page)
            if name == "paper" and state == "starter":
                expect(page.get_by_role("heading", name="ShuffleNet V2: Practical Guidelines")).to_be_visible()
            _shoot(page, shots / f"{state}-{name}.png")
        expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
        browser.close()
    assert not watch.off_machine(), watch.off_machine()[:5]
    assert not [m for m in watch.console if "Infinite extent" in m], watch.console
    for name in PAGES:
        assert (shots / f"{state}-{name}.png").stat().st_size > 10_000


def test_log_a_paper_search_for_it_and_open_the_zoo(serve, shots, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)

    import reading

    url = serve(tmp_path / "log.db")
    with sync_playwright() as pw:
        browser, page = _browser(pw)
        watch = Watch(page)

        page.goto(f"{url}/log")
        page.get_by_role("tab", name="By hand").click()
        form = page.get_by_test_id("stForm").filter(has_text="Title *")
        form.get_by_role("textbox", name="Title *", exact=True).fill("Squeeze-and-Excitation Networks")
        form.get_by_role("textbox", name="Authors (separated by ;)").fill("Jie Hu; Li Shen; Gang Sun")
        form.get_by_role("textbox", name="Year", exact=True).fill("2018")
        form.get_by_role("textbox", name="Abstract", exact=True).fill(
            "Channel attention recalibrates feature responses of convolutional networks by squeeze and excitation.")
        form.get_by_role("textbox", name="Tags (comma-separated)").fill("attention")
        form.get_by_role("button", name="Log", exact=True).click()
        expect(page.get_by_text("Logged “Squeeze-and-Excitation Networks”")).to_be_visible()
        page.get_by_role("tab", name="By hand").click()
        expect(form.get_by_role("textbox", name="Title *", exact=True)).to_have_value("")  # cleared for the next
        _shoot(page, shots / "flow-logged.png")

        with reading.open_log(tmp_path / "log.db") as log:
            assert [p["title"] for p in log.papers()] == ["Squeeze-and-Excitation Networks"]

        page.goto(f"{url}/search")
        box = page.get_by_role("textbox", name="Search your library")
        box.fill("channel attention squeeze")
        box.press("Enter")
        result = page.get_by_role("link", name="1. Squeeze-and-Excitation Networks (2018)")
        expect(result).to_be_visible()
        size = result.evaluate("a => parseFloat(getComputedStyle(a.querySelector('p')).fontSize)")
        assert size > 16, "a result title reads as a link, larger than body text"
        _shoot(page, shots / "flow-search.png")

        result.click()
        expect(page.get_by_role("heading", name="Squeeze-and-Excitation Networks")).to_be_visible()
        _shoot(page, shots / "flow-paper.png")

        page.goto(f"{url}/zoo")
        expect(page.get_by_role("heading", name="Zoo", exact=True)).to_be_visible()
        expect(page.get_by_text("Claimed vs ours")).to_be_visible()
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        browser.close()
    assert not watch.off_machine(), watch.off_machine()[:5]


def test_upload_pdfs_search_their_full_text_and_open_a_page(serve, shots, tmp_path):
    """Full text (issue 17): two PDFs uploaded on "Log a paper", a passage found with the "Full text" scope, and
    "Open at page 2" shows that page rendered, with the file to download."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    fixtures = Path(__file__).parent / "fixtures" / "pdf"
    url = serve(tmp_path / "log.db")
    with sync_playwright() as pw:
        browser, page = _browser(pw)
        watch = Watch(page)
        page.goto(f"{url}/log")
        page.get_by_role("tab", name="PDF").click()
        form = page.get_by_test_id("stForm").filter(has_text="PDF files")
        form.locator('input[type="file"]').set_input_files([fixtures / "twocolumn.pdf", fixtures / "onecolumn.pdf"])
        form.get_by_text("Complete papers with an arXiv id").click()  # offline here: log from the PDFs
        form.get_by_role("button", name="Log from PDFs").click()
        expect(page.get_by_text("twocolumn.pdf: logged “Efficient Shuffling Networks")).to_be_visible()
        expect(page.get_by_text("onecolumn.pdf: logged “Reading Order of Scientific Documents")).to_be_visible()
        _shoot(page, shots / "fulltext-uploaded.png")

        page.goto(f"{url}/search")
        page.get_by_text("Full text", exact=True).click()
        _settle(page)
        box = page.get_by_role("textbox", name="Search your library")
        box.fill("Charlie cosine schedule")
        box.press("Enter")
        opener = page.get_by_role("link", name="Open at page 2").first
        expect(opener).to_be_visible()
        _shoot(page, shots / "fulltext-search.png")
        opener.click()
        expect(page.get_by_role("heading", name="Efficient Shuffling Networks for Affine Flow Estimation")).to_be_visible()
        _settle(page)
        image = page.get_by_test_id("stImage").first
        expect(image).to_be_visible()
        expect(page.get_by_text("page 2 of 2")).to_be_visible()
        assert image.locator("img").evaluate("i => i.naturalWidth") > 400
        expect(page.get_by_role("button", name="Download the PDF")).to_be_visible()
        _shoot(page, shots / "fulltext-page.png")
        browser.close()
    assert not watch.off_machine(), watch.off_machine()[:5]


def test_the_citation_graph_draws_offline(serve, shots, tmp_path):
    """A paper cited by another: its page lists "Cited by" and draws the neighbourhood graph (st-link-analysis: its
    Cytoscape.js comes from the wheel, served by Streamlit), and nothing leaves the machine."""
    from playwright.sync_api import expect, sync_playwright

    import reading
    from bench.fulltext_pdfgen import make_paper_pdf

    expect.set_options(timeout=60_000)
    db = tmp_path / "log.db"
    with reading.open_log(db) as log:
        cited = log.add("1512.03385", title="Deep Residual Learning for Image Recognition", authors="Kaiming He",
                        year=2015, fetch=False).paper["id"]
        pdf = make_paper_pdf(tmp_path / "citing.pdf", title="A Paper That Cites ResNet", body="words " * 60)
        sha = log.add_pdf(pdf, fetch=False).pdf["sha256"]
        log.store_references(sha, [(2, "[1] K. He, X. Zhang, S. Ren, and J. Sun. Deep residual learning for image "
                                       "recognition. In CVPR, 2016.")])
    url = serve(db)
    with sync_playwright() as pw:
        browser, page = _browser(pw)
        watch = Watch(page)
        page.goto(f"{url}/paper?id={cited}")
        _settle(page)
        expect(page.get_by_text("Cited by (in your library)")).to_be_visible()
        frame = page.frame_locator('iframe[title*="st_link_analysis"]')
        expect(frame.locator("canvas").first).to_be_attached()
        _shoot(page, shots / "citation-graph.png")
        browser.close()
    assert not watch.off_machine(), watch.off_machine()[:5]
