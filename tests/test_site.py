"""The website as readers see it: every page of the built book, opened in headless Chromium.

This test builds nothing. It serves the site that ``jupyter-book build .`` left in
``_build/html`` (or in ``$SITE_DIR``) on localhost and opens every page of ``_toc.yml``
in Debian's Chromium, driven by Selenium through Debian's ``chromedriver``. On each page:

* the browser console shows no error (a missing file, a script that throws);
* every image in the article has loaded, has a size, and is not blank;
* every formula was typeset by MathJax (which the site serves itself);
* no code or output block scrolls sideways in a 1280-pixel window;
* on a chapter, the Colab button opens that chapter's notebook in the repository;
* in the dark theme, every figure still has an opaque or light background.

On the solutions page, no solution is visible until the reader opens its dropdown.

It also checks that the search page finds each chapter by a word of its title, and
that the API reference documents every module of ``course_utils``. It saves a
screenshot of each page, in the light and the dark theme, under
``artifacts/screenshots/`` (kept by CI as an artifact; git ignores the folder).

The browser tests skip, saying why, when Chromium is not installed (``apt-get install
chromium chromium-driver``; ``.ci/run`` installs it), when no site has been built, or
when ``_build/html`` is older than the book's sources. ``.ci/run`` runs this file again
after its build with ``REQUIRE_SITE=1``, which turns a missing or stale site into a failure.
"""

from __future__ import annotations

import html
import importlib
import json
import os
import pkgutil
import re
import shutil
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from sitetools import BUILD_COMMAND, book_pages, serve, site_problem

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
REQUIRED = os.environ.get("REQUIRE_SITE") == "1"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
PAGE_TIMEOUT_S = 30
WINDOW = (1280, 900)  # a laptop screen, in CSS pixels
WINDOW_CHROME_PX = 150  # the headless window's height minus its page area
MAX_SCREENSHOT_HEIGHT_PX = 16000  # very long pages are cut here; that is enough to judge them


PAGES = book_pages()
CHAPTERS = [page for page in PAGES if page.startswith("notebooks/")]


def colab_url(page: str) -> str:
    """Where the Colab button of a chapter must point: the notebook in the configured repository."""
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{CONFIG['repository']['branch']}/{page}.ipynb"


def not_available(reason: str):
    """Skip, or fail where the site is required (CI, after its build)."""
    if REQUIRED:
        pytest.fail(f"{reason} (REQUIRE_SITE=1)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------
# The API reference: no site needed.


def test_api_reference_documents_every_module():
    import course_utils

    api = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. automodule:: (course_utils\.\w+)", api, re.MULTILINE))
    modules = {
        f"course_utils.{m.name}"
        for m in pkgutil.iter_modules(course_utils.__path__)
        if not m.name.startswith("_")
    }
    missing = sorted(modules - documented)
    assert not missing, f"book/api.md has no '.. automodule::' section for {missing}"
    for name in documented:
        importlib.import_module(name)  # a section for a module that no longer exists


# ---------------------------------------------------------------------------
# Fixtures: the site, a server for it, a browser.


@pytest.fixture(scope="module")
def site() -> Path:
    if reason := site_problem(SITE):
        not_available(reason)
    missing = [p for p in PAGES if not (SITE / f"{p}.html").is_file()]
    if missing:
        pytest.fail(
            f"the site in {SITE} has no page for {missing}: rebuild it with {BUILD_COMMAND}"
        )
    return SITE


@pytest.fixture(scope="module")
def base_url(site):
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no Chromium here: install it with `apt-get install chromium chromium-driver`")
    webdriver = pytest.importorskip("selenium.webdriver")

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    driver.set_script_timeout(PAGE_TIMEOUT_S)
    yield driver
    driver.quit()


# ---------------------------------------------------------------------------
# What the browser is asked, in JavaScript.

# Resolves once the page's scripts have run, its images have loaded and MathJax (if the
# page loads it) has typeset every formula.
WAIT_FOR_PAGE = """
const done = arguments[arguments.length - 1];
const images = [...document.images].map(img => img.complete ? null :
    new Promise(resolve => { img.onload = img.onerror = resolve; }));
const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || null;
Promise.all([...images, math]).then(() => done("ok"), error => done(String(error)));
"""

# For each image of the article: its size, whether it is blank (one colour), and whether
# its corners are opaque (a transparent figure would vanish on the dark theme).
DESCRIBE_IMAGES = """
const article = document.querySelector("article.bd-article") || document.body;
return [...article.querySelectorAll("img")].map(img => {
  const rect = img.getBoundingClientRect();
  const info = {src: img.getAttribute("src"), alt: img.getAttribute("alt") || "",
                width: img.naturalWidth, height: img.naturalHeight,
                shownWidth: rect.width, shownHeight: rect.height,
                caption: !!(img.closest("figure") && img.closest("figure").querySelector("figcaption")),
                background: getComputedStyle(img).backgroundColor};
  if (img.naturalWidth > 0) {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let min = 255, max = 0;
    for (let i = 0; i < data.length; i += 4 * 97) {
      const grey = (data[i] + data[i + 1] + data[i + 2]) / 3;
      min = Math.min(min, grey); max = Math.max(max, grey);
    }
    info.contrast = max - min;
    const w = canvas.width, h = canvas.height;
    info.cornerAlpha = Math.min(...[[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]].map(
        ([x, y]) => ctx.getImageData(x, y, 1, 1).data[3]));
  }
  return info;
});
"""

# Formulas in the page, and how many MathJax typeset (or failed on).
DESCRIBE_MATH = """
const article = document.querySelector("article.bd-article") || document.body;
const formulas = [...article.querySelectorAll(".math")];
return {formulas: formulas.length,
        typeset: formulas.filter(f => f.querySelector("mjx-container")).length,
        errors: article.querySelectorAll("mjx-merror").length,
        mathjaxLoaded: !!window.MathJax};
"""


def slug(page: str) -> str:
    return page.replace("/", "__")


def open_page(browser, url: str, theme: str) -> None:
    """Load url in the given theme ("light" or "dark"), waiting for images and MathJax."""
    browser.get(url)
    browser.execute_script(
        "localStorage.setItem('mode', arguments[0]); localStorage.setItem('theme', arguments[0]);",
        theme,
    )
    browser.refresh()
    state = browser.execute_async_script(WAIT_FOR_PAGE)
    assert state == "ok", f"{url}: the page did not finish loading: {state}"
    shown = browser.execute_script("return document.documentElement.dataset.theme")
    assert shown == theme, f"{url}: asked for the {theme} theme, the page shows {shown!r}"


def console_errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(browser, path: Path) -> None:
    """A PNG of the whole page: the window is made as tall as the page, then put back.

    (Chrome's "capture beyond viewport" would be simpler, but it scrolls the book theme's
    layout sideways on long pages.)
    """
    page_height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(
        WINDOW[0], min(page_height + WINDOW_CHROME_PX, MAX_SCREENSHOT_HEIGHT_PX)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(path))
    browser.set_window_size(*WINDOW)


#: The first line of every code or output block of a cell that is wider than its box
#: (the reader would have to scroll sideways to read it).
WIDE_CODE_BLOCKS = """
return [...document.querySelectorAll('.cell pre')]
  .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), ''))
  .map(line => line.slice(0, 100));
"""


# ---------------------------------------------------------------------------
# The tests.


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_in_the_browser(page, browser, base_url):
    url = urllib.parse.urljoin(base_url, f"{page}.html")
    problems = []

    open_page(browser, url, "light")
    problems += [f"console error: {message}" for message in console_errors(browser)]
    images = browser.execute_script(DESCRIBE_IMAGES)
    for img in images:
        if img["width"] == 0 or img["shownWidth"] == 0 or img["shownHeight"] == 0:
            problems.append(f"image {img['src']} did not load or is not shown")
        elif img["contrast"] < 16:
            problems.append(f"image {img['src']} is blank (one colour)")
        if not img["alt"].strip() and not img["caption"]:
            problems.append(f"image {img['src']} has neither alt text nor a caption")
    math = browser.execute_script(DESCRIBE_MATH)
    if math["formulas"] and not math["mathjaxLoaded"]:
        problems.append(f"{math['formulas']} formulas but MathJax was not loaded")
    if math["typeset"] < math["formulas"] or math["errors"]:
        problems.append(
            f"MathJax typeset {math['typeset']} of {math['formulas']} formulas, "
            f"with {math['errors']} errors"
        )
    for block in browser.execute_script(WIDE_CODE_BLOCKS):
        problems.append(f"a code or output block scrolls sideways at {WINDOW[0]} px: {block!r}")
    if page in CHAPTERS:
        links = browser.execute_script(
            "return [...document.querySelectorAll('a[href*=\"colab.research.google.com\"]')]"
            ".map(a => a.href)"
        )
        if links != [colab_url(page)]:
            problems.append(f"Colab links {links}, expected exactly [{colab_url(page)}]")
    screenshot(browser, SCREENSHOTS / f"{slug(page)}.png")

    open_page(browser, url, "dark")
    problems += [f"console error (dark theme): {message}" for message in console_errors(browser)]
    for img in browser.execute_script(DESCRIBE_IMAGES):
        background = [int(c) for c in re.findall(r"\d+", img["background"])[:3]] or [0, 0, 0]
        light_background = min(background) >= 180 and not img["background"].endswith(", 0)")
        if img.get("cornerAlpha", 255) < 255 and not light_background:
            problems.append(
                f"image {img['src']} is transparent on a dark background: illegible in the dark theme"
            )
    screenshot(browser, SCREENSHOTS / f"{slug(page)}-dark.png")

    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def test_the_landing_page_has_math_so_the_math_check_is_exercised(site):
    assert 'class="math' in (site / f"{PAGES[0]}.html").read_text(encoding="utf-8"), (
        "the landing page should show the top-5 error as a formula"
    )


# A code cell that draws (unconditionally: the call is not indented under an `if`) must
# show its figure on the page. (With the environment variable MPLBACKEND=Agg, for
# instance, the notebooks draw into nothing and the site silently loses every figure.)
DRAWS = re.compile(r"\b(?:plt\.(?:subplots|figure|imshow|plot)|show_images|plot_\w+)\(")
CELL = re.compile(r'<div class="cell(?: [^"]*)? docutils container"')


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_cell_that_draws_shows_its_figure(page, site):
    cells = CELL.split((site / f"{page}.html").read_text(encoding="utf-8"))[1:]
    assert cells, f"{page}: no code cells found in the page (has the theme's markup changed?)"
    missing = []
    for cell in cells:
        code = re.search(r"cell_input.*?<pre>(.*?)</pre>", cell, re.DOTALL)
        source = html.unescape(re.sub(r"<[^>]+>", "", code.group(1))) if code else ""
        draws = any(DRAWS.search(line) for line in source.splitlines() if line[:1].strip())
        if draws and "<img" not in cell:
            missing.append(source.strip().splitlines()[-1])
    assert not missing, (
        f"{page}: cells that draw a figure show none (is MPLBACKEND set?): {missing}"
    )


class _Figures(HTMLParser):
    """The images of a page: (src, alt, inside a <figure> with a caption)."""

    def __init__(self):
        super().__init__()
        self.images: list[tuple[str, str, bool]] = []
        self._figures: list[list] = []  # open <figure>s: their images, and whether captioned

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self._figures.append([[], False])
        elif tag == "figcaption" and self._figures:
            self._figures[-1][1] = True
        elif tag == "img":
            src, alt = attrs.get("src") or "", (attrs.get("alt") or "").strip()
            if self._figures:
                self._figures[-1][0].append((src, alt))
            else:
                self.images.append((src, alt, False))

    def handle_endtag(self, tag):
        if tag == "figure" and self._figures:
            images, captioned = self._figures.pop()
            self.images += [(src, alt, captioned) for src, alt in images]


# Chapters whose figures still have myst-nb's default alt text (the image's file name).
# Give each figure cell `"mystnb": {"image": {"alt": "..."}}` metadata (or
# `{"figure": {"caption": "..."}}`), then take the chapter off this list.
ALT_TEXT_TO_DO: set[str] = set()


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(
            page,
            marks=pytest.mark.xfail(
                page in ALT_TEXT_TO_DO,
                reason="figures need alt text (ALT_TEXT_TO_DO)",
                strict=False,
            ),
        )
        for page in CHAPTERS
    ],
)
def test_every_chapter_figure_has_alt_text_or_a_caption(page, site):
    parser = _Figures()
    parser.feed((site / f"{page}.html").read_text(encoding="utf-8"))
    nameless = [
        src
        for src, alt, captioned in parser.images
        if "_images/" in src and not captioned and (not alt or alt == src)
    ]
    assert not nameless, f"{page}: figures with neither alt text nor a caption: {nameless}"


def search_word(page: str) -> str:
    """The longest word of a chapter's title: what a reader might type to find it."""
    path = ROOT / f"{page}.ipynb"
    import json

    first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    title = "".join(first["source"]).splitlines()[0].lstrip("# ")
    return max(re.findall(r"[A-Za-z]{4,}", title), key=len)


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTERS)
def test_search_finds_the_chapter(page, browser, base_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    word = search_word(page)
    browser.get(urllib.parse.urljoin(base_url, f"search.html?q={urllib.parse.quote(word)}"))
    summary = WebDriverWait(browser, PAGE_TIMEOUT_S).until(
        lambda d: (
            "Search finished"
            in d.execute_script(
                "const s = document.querySelector('#search-results p.search-summary');"
                "return s ? s.innerText : '';"
            )
            and d.find_element(By.CSS_SELECTOR, "#search-results p.search-summary")
        )
    )
    hits = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "ul.search a")]
    assert any(h.split("#")[0].split("?")[0].endswith(f"{page}.html") for h in hits), (
        f"searching for {word!r} does not find {page}; results: {hits} ({summary.text})"
    )
    assert not console_errors(browser)


@pytest.mark.slow
def test_the_site_root_opens_the_landing_page(browser, base_url):
    """The address the site is published at (its index.html) leads to the landing page."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(base_url)
    landing = urllib.parse.urljoin(base_url, f"{PAGES[0]}.html")
    WebDriverWait(browser, PAGE_TIMEOUT_S).until(lambda d: d.current_url == landing)
    assert browser.title.startswith("Inside ILSVRC")
    assert not console_errors(browser)


# ---------------------------------------------------------------------------
# The solutions page: nothing of a solution shows until the reader opens it.

SOLUTIONS_PAGE = "book/solutions"

# Each dropdown of the article: whether it is open, whether the browser renders its body
# (checkVisibility: the body of a closed <details> keeps a layout box, but is not drawn),
# and its text; and the text of the article as the reader sees it (innerText leaves out
# what is not rendered).
DESCRIBE_DROPDOWNS = """
const article = document.querySelector("article.bd-article") || document.body;
const dropdowns = [...article.querySelectorAll("details.sd-dropdown")].map(d => {
  const body = d.querySelector(".sd-summary-content");
  return {open: d.open, title: d.querySelector("summary").innerText.trim(),
          shown: !!body && body.checkVisibility(),
          text: body ? body.textContent : ""};
});
const wide = [...article.querySelectorAll("pre")]
  .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.split("\\n")[0].slice(0, 80));
return {dropdowns, visible: article.innerText, wide};
"""


@pytest.mark.slow
def test_solutions_are_hidden_until_the_reader_opens_one(browser, base_url):
    from selenium.webdriver.common.by import By

    exercises = json.loads((ROOT / "course_utils" / "_data" / "exercises.json").read_text("utf-8"))
    open_page(browser, urllib.parse.urljoin(base_url, f"{SOLUTIONS_PAGE}.html"), "light")
    state = browser.execute_script(DESCRIBE_DROPDOWNS)
    dropdowns = state["dropdowns"]
    assert len(dropdowns) == len(exercises), "one folded solution per exercise"
    assert all(d["title"] == "Solution" for d in dropdowns), "a title must not give the answer"
    assert not [d["text"][:60] for d in dropdowns if d["open"] or d["shown"]], "open by default"
    first = dropdowns[0]["text"]
    assert "Answer: 10.9" in first  # timeline-1: a known answer, there but not shown
    visible = state["visible"]
    assert "Answer:" not in visible and "cu.check(" not in visible, "solution text is visible"

    browser.find_elements(By.CSS_SELECTOR, "details.sd-dropdown > summary")[0].click()
    state = browser.execute_script(DESCRIBE_DROPDOWNS)
    assert state["dropdowns"][0]["open"] and state["dropdowns"][0]["shown"]
    assert "Answer: 10.9" in state["visible"] and 'cu.check("timeline-1"' in state["visible"]
    assert not any(d["shown"] for d in state["dropdowns"][1:]), "one click opened others"
    assert state["visible"].count("Answer:") == 1

    for summary in browser.find_elements(By.CSS_SELECTOR, "details.sd-dropdown > summary")[1:]:
        browser.execute_script("arguments[0].click();", summary)
    state = browser.execute_script(DESCRIBE_DROPDOWNS)
    assert all(d["shown"] for d in state["dropdowns"])
    assert state["visible"].count("Answer:") == sum("Answer:" in d["text"] for d in dropdowns)
    assert not state["wide"], f"solution code scrolls sideways at {WINDOW[0]} px: {state['wide']}"
    assert not console_errors(browser)
