"""``pamphleteer serve`` in a real browser: the system's chromium, driven by Playwright.

These must run in CI: without chromium they fail there (``CI`` set) and are skipped, with
the reason, only on a machine that lacks it. ``scripts/system-deps`` installs it.
"""

from __future__ import annotations

import os
import shutil

import pytest

from helpers import SERVE_FILES, edit_file, serving

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WAIT_MS = 60_000


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path, missing = None, "the playwright package (pip install --group dev)"
    else:
        missing = "chromium (apt-get install chromium, or bash scripts/system-deps)"
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need {missing}; CI must not skip them")
        pytest.skip(f"needs {missing}")
    return path


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("serve-browser")) as served:
        yield served


@pytest.fixture
def page(browser, served):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(WAIT_MS)
    page.goto(served.url)
    page.wait_for_function(f"document.querySelectorAll('.output').length == {len(SERVE_FILES)}")
    yield page
    page.close()


def thumbnail(file: str, number: int) -> str:
    return f".output[data-file='{file}'] img[data-page='{number - 1}']"


def test_the_page_lists_every_output(page):
    listed = page.eval_on_selector_all(".output", "cards => cards.map(c => c.dataset.file)")
    assert sorted(listed) == sorted(SERVE_FILES)
    assert page.locator(".layout > h2").all_inner_texts() == ["PLACARD", "POSTER", "FLYER"]
    assert page.is_hidden("#error")


def test_a_page_opens_large_with_overlays(page):
    page.click(thumbnail("poster-a3-press.pdf", 1))
    assert page.is_visible("#viewer")
    page.wait_for_function("document.getElementById('viewer-img').complete")
    trim = page.locator("#box-trim").bounding_box()
    bleed = page.locator("#box-bleed").bounding_box()
    safe = page.locator("#box-safe").bounding_box()
    # The bleed is outside the trim, the safe zone inside it.
    assert bleed["width"] > trim["width"] > safe["width"] > 0, (bleed, trim, safe)
    page.uncheck("#show-trim")
    assert page.is_hidden("#box-trim")
    page.keyboard.press("Escape")
    assert page.is_hidden("#viewer")


def test_a_slogan_edit_updates_the_placard_thumbnail(page, served):
    served.idle()
    image = thumbnail("placard-a3-landscape-press.pdf", 1)
    before = page.get_attribute(image, "src")
    edit_file(served.project / "content" / "aleppo" / "slogans.md", "Down with Assad!",
              "Down with the dictator!")
    page.wait_for_function(f"document.querySelector(\"{image}\").getAttribute('src') != "
                           f"{before!r}")
    page.wait_for_function(f"document.querySelector(\"{image}\").complete")
    assert page.evaluate(f"document.querySelector(\"{image}\").naturalWidth") > 0
    served.idle()


def test_a_broken_template_shows_the_error_and_recovers(page, served):
    served.idle()
    template = served.project / "layouts" / "placard" / "main.html.j2"
    good = template.read_text(encoding="utf-8")
    thumbnails = page.locator(".thumb img").count()
    template.write_text(good + "{% if %}\n", encoding="utf-8")
    try:
        page.wait_for_selector("#error", state="visible")
        assert "main.html.j2" in page.inner_text("#error")
        assert page.locator(".thumb img").count() == thumbnails, "the last proofs stay"
    finally:
        template.write_text(good, encoding="utf-8")
    page.wait_for_selector("#error", state="hidden")
    served.idle()
