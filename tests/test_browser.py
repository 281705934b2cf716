"""End to end in a real browser: `streamlit run app.py` on a free localhost port with a temporary log, driven by
headless Chromium through Playwright. Log a paper by hand, search for it, open the zoo page; screenshots go to the
test's tmp dir. CI installs Debian's chromium (.ci/run), so this runs there; it is skipped only where no chromium is
installed and CI is not set.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytestmark.append(pytest.mark.skip(reason=f"no {CHROMIUM} (apt-get install chromium; CI installs it)"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The app, started as a user would, on a temporary log; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "READING_DB": str(tmp_path / "log.db"), "INDEX_MODEL": "hash-bow-64",
           "ZOO_CACHE": str(tmp_path / "weights"), "XDG_DATA_HOME": str(tmp_path / "data")}
    out = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


def test_log_a_paper_search_for_it_and_open_the_zoo(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)

    import reading

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)

        page.goto(server)
        expect(page.get_by_role("button", name="Load the starter set")).to_be_visible()
        page.screenshot(path=tmp_path / "1-empty-library.png", full_page=True)

        page.goto(f"{server}/log")
        page.get_by_role("tab", name="By hand").click()
        form = page.get_by_test_id("stForm").filter(has_text="Title *")
        form.get_by_role("textbox", name="Title *", exact=True).fill("Squeeze-and-Excitation Networks")
        form.get_by_role("textbox", name="Authors (separated by ;)").fill("Jie Hu; Li Shen; Gang Sun")
        form.get_by_role("textbox", name="Year", exact=True).fill("2018")
        form.get_by_role("textbox", name="Abstract", exact=True).fill("Channel attention recalibrates feature responses of convolutional "
                                           "networks by squeeze and excitation.")
        form.get_by_role("textbox", name="Tags (comma-separated)").fill("attention")
        form.get_by_role("button", name="Log", exact=True).click()
        expect(page.get_by_text("Logged “Squeeze-and-Excitation Networks”")).to_be_visible()
        page.screenshot(path=tmp_path / "2-logged.png", full_page=True)

        with reading.open_log(tmp_path / "log.db") as log:
            assert [p["title"] for p in log.papers()] == ["Squeeze-and-Excitation Networks"]

        page.goto(f"{server}/search")
        box = page.get_by_role("textbox", name="Search your library")
        box.fill("channel attention squeeze")
        box.press("Enter")
        expect(page.get_by_role("link", name="1. Squeeze-and-Excitation Networks (2018)")).to_be_visible()
        page.screenshot(path=tmp_path / "3-search.png", full_page=True)

        page.get_by_role("link", name="1. Squeeze-and-Excitation Networks (2018)").click()
        expect(page.get_by_role("heading", name="Squeeze-and-Excitation Networks")).to_be_visible()
        page.screenshot(path=tmp_path / "4-paper.png", full_page=True)

        page.goto(f"{server}/zoo")
        expect(page.get_by_role("heading", name="Zoo", exact=True)).to_be_visible()
        expect(page.get_by_text("Claimed vs ours")).to_be_visible()
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        page.wait_for_timeout(1500)  # let the data grids paint before the screenshot
        page.screenshot(path=tmp_path / "5-zoo.png", full_page=True)

        page.goto(f"{server}/stats")
        expect(page.get_by_text("Longest streak")).to_be_visible()
        page.wait_for_timeout(1500)
        page.screenshot(path=tmp_path / "6-stats.png", full_page=True)
        browser.close()
    for name in ("1-empty-library", "2-logged", "3-search", "4-paper", "5-zoo", "6-stats"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


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
